/* SPDX-License-Identifier: MIT */
/* A socket fd's own state (proc/pstate_sock.h) in files.img: Fd.sk, a Socket, for state_img.c. */
#ifndef SDUMP_SOCK_IMG_H
#define SDUMP_SOCK_IMG_H

#include "files.pb-c.h"
#include "pstate.h"

/*
 * Fill out->sk from d->sk (nothing for an fd of another kind). What it
 * allocates sd_sockimg_free() frees; @out points into @d, which must
 * outlive it. -ENOMEM.
 */
int sd_sockimg_to_pb(const struct fd_state *d, Fd *out);
void sd_sockimg_free(Fd *out);
/*
 * Fill d->sk from @in: a socket fd has one, no other fd has. -EBADMSG for
 * values no dump writes, -ENOMEM.
 */
int sd_sockimg_from_pb(const Fd *in, struct fd_state *d);

#endif /* SDUMP_SOCK_IMG_H */
