/* SPDX-License-Identifier: MIT */
/*
 * POSIX timers (Process.posix_timers, process.img) and a thread's security
 * state (ThreadCore.sec, core-<tid>.img) in the image: proc/psec.h to
 * sec.proto and back, for state_img.c.
 */
#ifndef SDUMP_SEC_IMG_H
#define SDUMP_SEC_IMG_H

#include "core.pb-c.h"
#include "process.pb-c.h"
#include "psec.h"

/* What an encoding allocates, freed by sd_secimg_buf_release (NULL-safe on a zeroed one). */
struct secimg_buf {
	void *a, *b;
};
void sd_secimg_buf_release(struct secimg_buf *b);

/* @out's timers from @t (@n of them); they point into @t, which must outlive @out. -ENOMEM. */
int sd_secimg_timers_to_pb(const struct posix_timer *t, size_t n, struct secimg_buf *b, Process *out);
/* @out from @s; it points into @s. -ENOMEM. */
int sd_secimg_thread_to_pb(const struct sec_thread *s, struct secimg_buf *b, ThreadSec *out);
/* The same read back, checked: -EBADMSG for values no dump writes, -ENOMEM. */
int sd_secimg_timers_from_pb(const Process *in, struct posix_timer **ret, size_t *ret_n);
int sd_secimg_thread_from_pb(const ThreadSec *in, struct sec_thread *s);

#endif /* SDUMP_SEC_IMG_H */
