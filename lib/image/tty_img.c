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

void sd_ttyimg_pty_to_pb(const struct fd_state *d, Fd *fd)
{
	bool master = d->has_pty && d->kind == FDK_PTMX;

	fd->has_pty_index = d->has_pty;
	fd->pty_index = d->pty.index;
	fd->has_pty_packet = fd->has_pty_locked = master;
	fd->pty_packet = d->pty.packet;
	fd->pty_locked = d->pty.locked;
	fd->has_pts_mode = fd->has_pts_uid = fd->has_pts_gid = master && d->pty.has_owner;
	fd->pts_mode = d->pty.mode;
	fd->pts_uid = d->pty.uid;
	fd->pts_gid = d->pty.gid;
}

int sd_ttyimg_pty_from_pb(const Fd *s, struct fd_state *d)
{
	bool master = s->kind == FD_KIND__FD_PTMX;

	/* a pty's number on its ends only, and always; its mode, lock and slave's owner on the master */
	if ((master || s->kind == FD_KIND__FD_PTS) != s->has_pty_index ||
	    (s->has_pty_index && s->pty_index >= PTY_INDEX_MAX) ||
	    ((s->has_pty_packet || s->has_pty_locked) && !master) ||
	    (s->has_pts_mode != s->has_pts_uid || s->has_pts_uid != s->has_pts_gid) ||
	    (s->has_pts_mode && (!master || s->pts_mode > 07777)))
		return -EBADMSG;
	d->has_pty = s->has_pty_index;
	d->pty = (struct pty_state){ .index = s->pty_index, .packet = s->pty_packet, .locked = s->pty_locked,
				     .has_owner = s->has_pts_mode, .mode = s->pts_mode, .uid = s->pts_uid,
				     .gid = s->pts_gid };
	return 0;
}
