/* base/array.h: the growable array helper. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "array.h"
#include "unit.h"

static void test_reserve_grows(void)
{
	int *a = NULL;
	size_t cap = 0;

	ASSERT_OK(ARRAY_RESERVE(a, cap, 1, 16));
	ASSERT_EQ(cap, 16);
	for (int i = 0; i < 16; i++)
		a[i] = i;
	/* enough room: nothing moves */
	ASSERT_OK(ARRAY_RESERVE(a, cap, 16, 16));
	ASSERT_EQ(cap, 16);
	/* doubling until @want fits, contents kept */
	ASSERT_OK(ARRAY_RESERVE(a, cap, 100, 16));
	ASSERT_EQ(cap, 128);
	for (int i = 0; i < 16; i++)
		ASSERT_EQ(a[i], i);
	a[127] = 7;
	free(a);
}

static void test_reserve_first_zero(void)
{
	char *a = NULL;
	size_t cap = 0;

	ASSERT_OK(ARRAY_RESERVE(a, cap, 3, 0));
	ASSERT_EQ(cap, 4);
	free(a);
}

static void test_reserve_overflow(void)
{
	uint64_t *a = NULL;
	size_t cap = 0;

	ASSERT_EQ(ARRAY_RESERVE(a, cap, SIZE_MAX / 4, 16), -EOVERFLOW);
	ASSERT_EQ(cap, 0);
	ASSERT_EQ(a == NULL, 1);
	ASSERT_OK(ARRAY_RESERVE(a, cap, 2, 16));
	ASSERT_EQ(ARRAY_RESERVE(a, cap, SIZE_MAX, 16), -EOVERFLOW);
	ASSERT_EQ(cap, 16);
	free(a);
}

int main(void)
{
	RUN(test_reserve_grows);
	RUN(test_reserve_first_zero);
	RUN(test_reserve_overflow);
	return unit_summary();
}
