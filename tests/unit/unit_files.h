/* SPDX-License-Identifier: MIT */
/*
 * Files for unit tests that need real ones: a temporary directory made by
 * unit_tmp_make() and removed by unit_tmp_remove(), paths inside it, and
 * the two ways the tests damage a file (a flipped byte, a new size).
 */
#ifndef SDUMP_UNIT_FILES_H
#define SDUMP_UNIT_FILES_H

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static char tmp[256];

static int unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static inline void rm_rf(const char *path)
{
	(void)nftw(path, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under $TMPDIR (or /tmp) as tmp: 0, or -1 said on stderr. */
static inline int unit_tmp_make(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmp, sizeof(tmp), "%s/sdump-unit-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return -1;
	}
	return 0;
}

static inline void unit_tmp_remove(void)
{
	rm_rf(tmp);
}

static inline void path_of(char *out, size_t size, const char *rel)
{
	snprintf(out, size, "%s/%s", tmp, rel);
}

static inline bool exists(const char *rel)
{
	char p[512];
	struct stat st;

	path_of(p, sizeof(p), rel);
	return lstat(p, &st) == 0;
}

static inline void flip_byte(const char *rel, uint64_t off)
{
	char p[512];
	uint8_t b;
	int fd;

	path_of(p, sizeof(p), rel);
	fd = open(p, O_RDWR);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x20;
	ASSERT_EQ(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static inline void set_size(const char *rel, uint64_t size)
{
	char p[512];

	path_of(p, sizeof(p), rel);
	ASSERT_OK(truncate(p, (off_t)size));
}

#endif /* SDUMP_UNIT_FILES_H */
