/* SPDX-License-Identifier: MIT */
/*
 * Growable arrays: the one realloc loop of the library. An array is a
 * pointer, a count the caller keeps, and a capacity this helper keeps.
 */
#ifndef SDUMP_ARRAY_H
#define SDUMP_ARRAY_H

#include <stddef.h>

/*
 * Make room in *@arr for at least @want elements of @elem bytes: *@cap
 * doubles (from @first when the array is empty) until it holds @want. On
 * failure, -ENOMEM or -EOVERFLOW, and the array and *@cap are as they were.
 */
int sd_array_reserve(void **arr, size_t *cap, size_t want, size_t elem, size_t first);

/* sd_array_reserve() for a typed pointer: ARRAY_RESERVE(l->v, l->cap, l->n + 1, 64). */
#define ARRAY_RESERVE(arr, cap, want, first)                                              \
	({                                                                                \
		void *arr_p_ = (arr);                                                     \
		int arr_r_ = sd_array_reserve(&arr_p_, &(cap), (want), sizeof(*(arr)), (first)); \
		(arr) = arr_p_;                                                           \
		arr_r_;                                                                   \
	})

#endif /* SDUMP_ARRAY_H */
