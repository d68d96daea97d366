/* SPDX-License-Identifier: MIT */
/*
 * A minimal unit test harness. A test is a `static void test_x(void)`; an
 * ASSERT_* that fails prints file:line and both values, then returns from
 * the test. main() runs each with RUN(test_x) and ends with
 * `return unit_summary();`, which prints "N passed, M failed" and returns 1
 * if any test failed.
 */
#ifndef SDUMP_UNIT_H
#define SDUMP_UNIT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_passed, unit_failed;	/* test cases */
static int unit_cur_failed;		/* the running test has failed */

static inline void unit_fail(void)
{
	unit_cur_failed = 1;
}

#define ASSERT_EQ(a, b)                                                                      \
	do {                                                                                 \
		unsigned long long _ua = (unsigned long long)(a);                            \
		unsigned long long _ub = (unsigned long long)(b);                            \
		if (_ua != _ub) {                                                            \
			fprintf(stderr,                                                      \
				"%s:%d: ASSERT_EQ(%s, %s) failed: %lld (%#llx) != %lld (%#llx)\n", \
				__FILE__, __LINE__, #a, #b, (long long)_ua, _ua,             \
				(long long)_ub, _ub);                                        \
			unit_fail();                                                         \
			return;                                                              \
		}                                                                            \
	} while (0)

/* Expects a non-negative result (our functions return -errno on failure). */
#define ASSERT_OK(expr)                                                                      \
	do {                                                                                 \
		long long _v = (long long)(expr);                                            \
		if (_v < 0) {                                                                \
			fprintf(stderr, "%s:%d: ASSERT_OK(%s) failed: %lld (%s)\n", __FILE__, \
				__LINE__, #expr, _v,                                         \
				_v >= -4095 ? strerror((int)-_v) : "?");                     \
			unit_fail();                                                         \
			return;                                                              \
		}                                                                            \
	} while (0)

#define ASSERT_TRUE(x)                                                                       \
	do {                                                                                 \
		if (!(x)) {                                                                  \
			fprintf(stderr, "%s:%d: ASSERT_TRUE(%s) failed\n", __FILE__,         \
				__LINE__, #x);                                               \
			unit_fail();                                                         \
			return;                                                              \
		}                                                                            \
	} while (0)

/* NULL equals only NULL. */
#define ASSERT_STREQ(a, b)                                                                   \
	do {                                                                                 \
		const char *_sa = (a), *_sb = (b);                                           \
		if ((!_sa || !_sb) ? _sa != _sb : strcmp(_sa, _sb) != 0) {                   \
			fprintf(stderr,                                                      \
				"%s:%d: ASSERT_STREQ(%s, %s) failed: \"%s\" != \"%s\"\n",    \
				__FILE__, __LINE__, #a, #b, _sa ? _sa : "(null)",            \
				_sb ? _sb : "(null)");                                       \
			unit_fail();                                                         \
			return;                                                              \
		}                                                                            \
	} while (0)

/* The offset of the first difference, or @len. */
static inline size_t unit_memdiff(const unsigned char *a, const unsigned char *b, size_t len)
{
	size_t i = 0;

	while (i < len && a[i] == b[i])
		i++;
	return i;
}

#define ASSERT_MEMEQ(a, b, len)                                                              \
	do {                                                                                 \
		const unsigned char *_ma = (const void *)(a), *_mb = (const void *)(b);      \
		size_t _ml = (len), _i = unit_memdiff(_ma, _mb, _ml);                        \
		if (_i < _ml) {                                                              \
			fprintf(stderr,                                                      \
				"%s:%d: ASSERT_MEMEQ(%s, %s, %s) failed: byte %zu: %#x != %#x\n", \
				__FILE__, __LINE__, #a, #b, #len, _i, _ma[_i], _mb[_i]);     \
			unit_fail();                                                         \
			return;                                                              \
		}                                                                            \
	} while (0)

static inline void unit_run(const char *name, void (*fn)(void))
{
	unit_cur_failed = 0;
	fn();
	if (unit_cur_failed) {
		unit_failed++;
		fprintf(stderr, "FAIL %s\n", name);
	} else {
		unit_passed++;
		printf("ok   %s\n", name);
	}
	fflush(stdout);
}

#define RUN(fn) unit_run(#fn, fn)

static inline int unit_summary(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif /* SDUMP_UNIT_H */
