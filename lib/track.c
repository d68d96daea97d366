/* SPDX-License-Identifier: MIT */
/* Tracking backends: names. */
#include <errno.h>
#include <string.h>

#include "sdump.h"
#include "util.h"

static const char *const names[] = {
	[SDUMP_TRACK_AUTO] = "auto",
	[SDUMP_TRACK_SOFT_DIRTY] = "soft-dirty",
	[SDUMP_TRACK_UFFD_WP] = "uffd-wp",
	[SDUMP_TRACK_NONE] = "none",
};

SDUMP_API const char *sdump_track_name(enum sdump_track track)
{
	if ((unsigned int)track >= ARRAY_SIZE(names))
		return NULL;
	return names[track];
}

SDUMP_API int sdump_track_parse(const char *name, enum sdump_track *ret_track)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(name, names[i])) {
			*ret_track = (enum sdump_track)i;
			return 0;
		}
	}
	return -EINVAL;
}
