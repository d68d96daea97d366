/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#include "fault.h"
#include "util.h"

static const char *const kind_names[FAULT_NKINDS] = {
	[FAULT_WRITE] = "write",
	[FAULT_PROCREAD] = "procread",
	[FAULT_PTRACE] = "ptrace",
	[FAULT_INJECT] = "inject",
	[FAULT_OPEN] = "open",
	[FAULT_NET] = "net",
	[FAULT_DIE] = "die",
	[FAULT_NETKILL] = "netkill",
};

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "EIO", EIO },		{ "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT }, { "EPERM", EPERM },
	{ "EACCES", EACCES },	{ "ENOMEM", ENOMEM }, { "ESRCH", ESRCH },   { "EFAULT", EFAULT },
	{ "EINVAL", EINVAL },	{ "EROFS", EROFS },   { "EFBIG", EFBIG },   { "EAGAIN", EAGAIN },
	{ "EBUSY", EBUSY },	{ "EMFILE", EMFILE }, { "ECONNRESET", ECONNRESET },
	{ "EPIPE", EPIPE },
};

/* The plan: no kind (-1), or the nth call of one kind fails with -err. */
static int plan_kind = -1;
static uint64_t plan_nth;
static int plan_err;
static _Atomic uint64_t counts[FAULT_NKINDS];

int sd_fault_check(enum fault_kind kind)
{
	uint64_t n = atomic_fetch_add_explicit(&counts[kind], 1, memory_order_relaxed) + 1;

	if ((int)kind == plan_kind && n == plan_nth)
		return -plan_err;
	return 0;
}

static int parse_errno(const char *s, int *ret)
{
	char *end;
	long v;

	for (size_t i = 0; i < ARRAY_SIZE(errnos); i++) {
		if (!strcmp(s, errnos[i].name)) {
			*ret = errnos[i].err;
			return 0;
		}
	}
	v = strtol(s, &end, 10);
	if (!*s || *end || v <= 0 || v >= 4096)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

SDUMP_API int sdump_fault_set(const char *spec)
{
	char kind[32], err[32] = "EIO";
	unsigned long long nth;
	int k = -1, e, n = 0;

	if (!spec || !*spec) {
		plan_kind = -1;
		return 0;
	}
	if (sscanf(spec, "%31[a-z]:%llu%n:%31[A-Z0-9]%n", kind, &nth, &n, err, &n) < 2 ||
	    spec[n] || nth == 0)
		return -EINVAL;
	for (int i = 0; i < FAULT_NKINDS; i++)
		if (!strcmp(kind, kind_names[i]))
			k = i;
	if (k < 0 || parse_errno(err, &e) < 0)
		return -EINVAL;
	plan_nth = nth;
	plan_err = e;
	plan_kind = k;
	return 0;
}

SDUMP_API void sdump_fault_format_counts(char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < FAULT_NKINDS && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s=%" PRIu64, i ? " " : "",
					kind_names[i],
					atomic_load_explicit(&counts[i], memory_order_relaxed));
}
