/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every module: cleanup attributes, time, checked I/O. */
#ifndef SDUMP_UTIL_H
#define SDUMP_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void zfree(void *pp)
{
	void **p = pp;

	free(*p);
	*p = NULL;
}

static inline void zclose(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

/* Little-endian fields of the image files. */
static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static inline uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* CPU time (user and system, every thread) this process has used so far, in µs. */
static inline uint64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A size for people: "512 B", "10.2 MiB", "1.0 GiB" (binary units, one decimal). */
void sd_fmt_size(char *buf, size_t size, uint64_t bytes);
/* A duration for people: "2.1 ms" under a second, else "1.25 s". */
void sd_fmt_duration(char *buf, size_t size, uint64_t us);
/*
 * The end of an error whose fix is a capability @what ("sdump", "restore"):
 * "run sdump as root" for a user; for root that lacks it here (a user
 * namespace, a bounding set without it), that it does, and where to go.
 */
const char *sd_root_advice(const char *what);

/* Write all of @buf; -errno on failure (a short write of 0 is -EIO). */
int sd_write_all(int fd, const void *buf, size_t len);
/* pread all of @len at @off; returns bytes read (< len only at EOF) or -errno. */
ssize_t sd_pread_all(int fd, void *buf, size_t len, off_t off);
/* pwrite all of @buf at @off; -errno on failure (a write of 0 is -EIO). */
int sd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* Read a whole small file (e.g. under /proc) into a NUL-terminated buffer. */
int sd_read_file(int dirfd, const char *path, char **ret_buf, size_t *ret_len);
/*
 * readlink(2) into @buf, NUL-terminated, cut to @size - 1 bytes: the length,
 * or -errno.
 */
ssize_t sd_readlink_str(const char *path, char *buf, size_t size);

/* Whether a page (or any run of whole pages, @page_size their length) is all zeros. */
bool sd_page_is_zero(const void *page, size_t page_size);

#endif /* SDUMP_UTIL_H */
