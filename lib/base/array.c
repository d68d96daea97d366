/* Growable arrays (see array.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "array.h"

int sd_array_reserve(void **arr, size_t *cap, size_t want, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap : first ? first : 1;
	void *p;

	if (want <= *cap)
		return 0;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2)
			return -EOVERFLOW;
		ncap *= 2;
	}
	if (elem && ncap > SIZE_MAX / elem)
		return -EOVERFLOW;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}
