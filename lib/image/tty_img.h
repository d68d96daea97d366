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

#endif /* SDUMP_TTY_IMG_H */
