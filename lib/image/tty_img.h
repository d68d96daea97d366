/* SPDX-License-Identifier: MIT */
/* A terminal's settings (proc/pstate.h struct tty_state) in files.img: TtyState, for state_img.c. */
#ifndef SDUMP_TTY_IMG_H
#define SDUMP_TTY_IMG_H

#include "files.pb-c.h"
#include "pstate.h"

/* Fill @out from @t; @out points into @t, which must outlive it. */
void sd_ttyimg_to_pb(const struct tty_state *t, TtyState *out);
/* Fill @t from a record read; -EBADMSG for values no dump writes. */
int sd_ttyimg_from_pb(const TtyState *in, struct tty_state *t);

/* A pty end's fields of @d (number; a master's packet mode, lock and slave's owner) into @fd. */
void sd_ttyimg_pty_to_pb(const struct fd_state *d, Fd *fd);
/* And back; -EBADMSG where they are not on a pty's end, or not always. */
int sd_ttyimg_pty_from_pb(const Fd *s, struct fd_state *d);

#endif /* SDUMP_TTY_IMG_H */
