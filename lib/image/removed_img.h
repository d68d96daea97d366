/* SPDX-License-Identifier: MIT */
/* Removed directories (proc/pstate.h struct removed_dir) in process.img and files.img, for state_img.c. */
#ifndef SDUMP_REMOVED_IMG_H
#define SDUMP_REMOVED_IMG_H

#include "files.pb-c.h"
#include "process.pb-c.h"
#include "pstate.h"

/* A removed cwd's or root's directories, to their records (@msg and @ptr hold REMOVED_DIRS_MAX). */
void sd_removedimg_encode(const struct removed_dir *d, size_t n, RemovedDir *msg, RemovedDir **ptr);
/*
 * And back; -EBADMSG for more than an image may hold, a mode with more
 * than permission bits, or a @link that does not name that many removed
 * directories.
 */
int sd_removedimg_decode(RemovedDir *const *msg, size_t n, const char *link, struct removed_dir *d,
			 size_t *ret_n);
/* An fd of a removed directory: which removed directory of the cwd or root it is, or its removed parents. */
void sd_removedimg_fd_to_pb(const struct fd_state *d, Fd *fd);
/* And back (s->path and s->mode already checked by the caller's read); -EBADMSG, -ENOMEM. */
int sd_removedimg_fd_from_pb(const Fd *s, struct fd_state *d);

#endif /* SDUMP_REMOVED_IMG_H */
