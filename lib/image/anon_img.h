/* SPDX-License-Identifier: MIT */
/*
 * The state of the anonymous-inode fds (proc/pstate_anon.h) in files.img:
 * Fd's fields 30-49, for state_img.c.
 */
#ifndef SDUMP_ANON_IMG_H
#define SDUMP_ANON_IMG_H

#include "files.pb-c.h"
#include "pstate.h"

/*
 * Fill the anonymous-inode fields of @out from @d. What it allocates
 * sd_anonimg_free() frees; @out points into @d, which must outlive it.
 * -ENOMEM.
 */
int sd_anonimg_to_pb(const struct fd_state *d, Fd *out);
void sd_anonimg_free(Fd *out);
/*
 * Fill d->anon from @in, whose kind is d->kind's; -EBADMSG for values no
 * dump writes (a field of another kind, a counter out of range), -ENOMEM.
 */
int sd_anonimg_from_pb(const Fd *in, struct fd_state *d);

/*
 * The whole table @fs once read: each epoll watch names an fd of it other
 * than the epoll, and they are no more than EPOLL_MAX_WATCHES. -EBADMSG.
 */
int sd_anonimg_check_table(const struct files_state *fs);

#endif /* SDUMP_ANON_IMG_H */
