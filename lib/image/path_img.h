/* SPDX-License-Identifier: MIT */
/*
 * The fields of the fds opened again by path, or made again at it, in
 * files.img (FD_NODE, FD_PATH, FD_BLK, FD_NS; a linked file's other name, a
 * file of another process's /proc, a pidfd of an exited process): for
 * state_img.c.
 */
#ifndef SDUMP_PATH_IMG_H
#define SDUMP_PATH_IMG_H

#include "files.pb-c.h"
#include "pstate.h"

/* Fill those fields of @out from @d; @out points into @d, which must outlive it. */
void sd_pathimg_to_pb(const struct fd_state *d, Fd *out);
/* Fill @d from a record read; -EBADMSG for values no dump writes, -ENOMEM. */
int sd_pathimg_from_pb(const Fd *in, struct fd_state *d);

#endif /* SDUMP_PATH_IMG_H */
