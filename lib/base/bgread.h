/* SPDX-License-Identifier: MIT */
/*
 * A small file read on a thread of its own, started early and taken when
 * needed: for a read that sleeps rather than works (/proc/locks waits for
 * an RCU grace period, 7-16 ms here, with 0.05 ms of CPU), so that a frozen
 * target does not wait for it in line with everything else.
 */
#ifndef SDUMP_BGREAD_H
#define SDUMP_BGREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct bg_read {
	pthread_t thread;
	bool started;		/* the thread runs or ran, and is not joined yet */
	char path[128];
	char *text;		/* what sd_read_file() gave it */
	size_t len;
	int err;		/* its result */
};

/*
 * Start reading @path. A thread that cannot be started (or a path too long
 * for @b) leaves @b not started: sd_bg_read_take() then reads in line. The thread has every signal blocked (sdump's own calls into a
 * target must not be cut by one landing there).
 */
void sd_bg_read_start(struct bg_read *b, const char *path);
/*
 * The file's contents as sd_read_file() gives them (the caller frees
 * them), waiting for the thread if it is still reading; read in line if it
 * was never started, or started for another path (@b may be NULL). 0 or
 * -errno.
 */
int sd_bg_read_take(struct bg_read *b, const char *path, char **ret_buf, size_t *ret_len);
/* Wait for the thread if it runs, and free what it read: for a read never taken. */
void sd_bg_read_release(struct bg_read *b);

#endif /* SDUMP_BGREAD_H */
