/* SPDX-License-Identifier: MIT */
/* TtyState: to and from struct tty_state. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tty_img.h"

void sd_ttyimg_to_pb(const struct tty_state *t, TtyState *out)
{
	tty_state__init(out);
	out->iflag = t->iflag;
	out->oflag = t->oflag;
	out->cflag = t->cflag;
	out->lflag = t->lflag;
	out->line = t->line;
	out->cc = (ProtobufCBinaryData){ t->ncc, (uint8_t *)t->cc };
	out->ispeed = t->ispeed;
	out->ospeed = t->ospeed;
	out->rows = t->rows;
	out->cols = t->cols;
	out->xpixel = t->xpixel;
	out->ypixel = t->ypixel;
}

int sd_ttyimg_from_pb(const TtyState *in, struct tty_state *t)
{
	/* a line discipline is a byte (c_line), a window size four 16-bit numbers */
	if (in->cc.len > TTY_NCC_MAX || in->line > UINT8_MAX || in->rows > UINT16_MAX ||
	    in->cols > UINT16_MAX || in->xpixel > UINT16_MAX || in->ypixel > UINT16_MAX)
		return -EBADMSG;
	t->iflag = in->iflag;
	t->oflag = in->oflag;
	t->cflag = in->cflag;
	t->lflag = in->lflag;
	t->line = in->line;
	memcpy(t->cc, in->cc.data, in->cc.len);
	t->ncc = in->cc.len;
	t->ispeed = in->ispeed;
	t->ospeed = in->ospeed;
	t->rows = (uint16_t)in->rows;
	t->cols = (uint16_t)in->cols;
	t->xpixel = (uint16_t)in->xpixel;
	t->ypixel = (uint16_t)in->ypixel;
	return 0;
}
