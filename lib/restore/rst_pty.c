/* SPDX-License-Identifier: MIT */
/*
 * Restore step 3, before the child exists: the ptys whose both ends the
 * process held, made again here with the numbers they had (devpts gives
 * the lowest free one: the ptys below it are opened and closed again; one
 * in use here refuses the restore with one line), their settings, packet
 * mode and lock; each master and slave fd then is the new process's
 * (r->src), and the controlling terminal its slave again (step 4, once
 * its session is its own). What was in flight between the two ends is
 * not in the image: the pty starts empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

/* How many ptys below the one wanted a restore opens at most to get its number. */
#define PTY_SKIP_MAX 4096u

/* The flags open() takes of @d's (the rest: F_SETFL, sd_rst_restore_fd_flags). */
static int open_flags(const struct fd_state *d)
{
	return (int)(d->flags & (O_ACCMODE | O_NONBLOCK)) | O_NOCTTY | O_CLOEXEC;
}

/* A new master of the number @index, opened with @flags. */
static int open_master(struct rst *r, const struct fd_state *d, int *ret_fd)
{
	int *below = calloc(PTY_SKIP_MAX, sizeof(int)), fd = -1, n = -1, e = 0;
	size_t nbelow = 0;

	if (!below)
		return sd_err(r->ctx, -ENOMEM, "cannot restore pid %d", r->pid);
	for (;;) {
		fd = open("/dev/ptmx", open_flags(d));
		if (fd < 0 || ioctl(fd, TIOCGPTN, &n) < 0) {
			e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot open a pty (/dev/ptmx)", r->pid);
			break;
		}
		if ((uint32_t)n == d->pty.index)
			break;
		if ((uint32_t)n > d->pty.index || nbelow == PTY_SKIP_MAX) {
			e = sd_errx(r->ctx, -EBUSY,
				    "cannot restore pid %d: its pty /dev/pts/%u (fd %d) is in use here%s",
				    r->pid, d->pty.index, d->fd,
				    (uint32_t)n > d->pty.index ? "" : " (too many ptys below it to open)");
			break;
		}
		below[nbelow++] = fd;
		fd = -1;
	}
	for (size_t k = 0; k < nbelow; k++)
		(void)close(below[k]);
	free(below);
	if (e < 0) {
		if (fd >= 0)
			(void)close(fd);
		return e;
	}
	*ret_fd = fd;
	return 0;
}

static int set_tty(struct rst *r, int fd, const struct fd_state *d, bool winsize)
{
	struct winsize ws = { .ws_row = d->tty.rows, .ws_col = d->tty.cols,
			      .ws_xpixel = d->tty.xpixel, .ws_ypixel = d->tty.ypixel };
	struct termios t;
	int e;

	if (!d->has_tty)
		return 0;
	if (tcgetattr(fd, &t) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: the pty of fd %d", r->pid, d->fd);
	e = sd_rst_termios_of(r, &d->tty, &t);
	if (e == 0 && (tcsetattr(fd, TCSANOW, &t) < 0 || (winsize && ioctl(fd, TIOCSWINSZ, &ws) < 0)))
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: the settings of the pty of fd %d", r->pid,
			   d->fd);
	return e;
}

/* The index in r->fs of the master of pty @index, or -1 (one shared with an earlier member is that member's). */
static long master_of(const struct rst *r, uint32_t index)
{
	for (size_t i = 0; i < r->fs.n; i++)
		if (r->fs.fds[i].kind == FDK_PTMX && r->fs.fds[i].pty.index == index && !r->fs.fds[i].has_dup_of &&
		    !r->fs.fds[i].has_shared)
			return (long)i;
	return -1;
}

/*
 * Slave fd @i of the pty of our @master; one without O_LARGEFILE (which
 * open() always adds) was opened by TIOCGPTPEER on its master (glibc's
 * openpty(), forkpty()), and is so again.
 */
static int open_slave(struct rst *r, size_t i, int master)
{
	const struct fd_state *d = &r->fs.fds[i];
	char path[64];
	int fd, e;

	(void)snprintf(path, sizeof(path), "/dev/pts/%u", d->pty.index);
	/* (the ioctl keeps O_CLOEXEC in the file's flags, which open() does not) */
	if (!(d->flags & O_LARGEFILE_KERNEL)) {
		fd = ioctl(master, TIOCGPTPEER, open_flags(d) & ~O_CLOEXEC);
		if (fd >= 0)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	} else
		fd = open(path, open_flags(d));
	if (fd < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot open its pty slave %s (fd %d)", r->pid,
			      path, d->fd);
	r->pty_fds[i] = r->src[i] = fd;
	e = set_tty(r, fd, d, true);
	return e;
}

/*
 * The permissions and owner its slave had (grantpt(), a chmod or chown of
 * it): the new slave is ours, with devpts's mode. The owner first: a chown
 * clears set-id bits.
 */
static int set_slave_owner(struct rst *r, int master, const struct fd_state *d)
{
	int slave, e = 0;

	if (!d->pty.has_owner)
		return 0;
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (slave < 0 || fchown(slave, d->pty.uid, d->pty.gid) < 0 || fchmod(slave, d->pty.mode) < 0)
		e = sd_err(r->ctx, -errno,
			   "cannot restore pid %d: cannot give its pty slave /dev/pts/%u its owner (uid %u, gid %u) and mode %o",
			   r->pid, d->pty.index, d->pty.uid, d->pty.gid, d->pty.mode);
	if (slave >= 0)
		(void)close(slave);
	return e;
}

int sd_rst_prepare_ptys(struct rst *r)
{
	int zero = 0, one = 1, e = 0;

	r->pty_fds = malloc((r->fs.n ? r->fs.n : 1) * sizeof(*r->pty_fds));
	if (!r->pty_fds)
		return sd_err(r->ctx, -ENOMEM, "cannot restore pid %d", r->pid);
	for (size_t i = 0; i < r->fs.n; i++)
		r->pty_fds[i] = -1;
	/* the masters, unlocked while their slaves are opened */
	for (size_t i = 0; i < r->fs.n && e == 0; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (d->kind != FDK_PTMX || d->has_dup_of || d->has_shared || r->src[i] >= 0)
			continue;
		if (master_of(r, d->pty.index) != (long)i)
			return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: two masters of pty %u",
				       r->chain.p[0].dir.path, d->pty.index);
		e = open_master(r, d, &r->pty_fds[i]);
		if (e == 0 && ioctl(r->pty_fds[i], TIOCSPTLCK, &zero) < 0)
			e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot unlock its pty", r->pid);
		if (e == 0)
			e = set_tty(r, r->pty_fds[i], d, false);
		if (e == 0)
			e = set_slave_owner(r, r->pty_fds[i], d);
		if (e == 0)
			r->src[i] = r->pty_fds[i];
	}
	for (size_t i = 0; i < r->fs.n && e == 0; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (d->kind != FDK_PTS || d->has_dup_of || d->has_shared || r->src[i] >= 0)
			continue;
		/* a tree's: its master is another member's (sd_rst_tree_ptys) */
		if (master_of(r, d->pty.index) < 0 && r->tree)
			continue;
		if (master_of(r, d->pty.index) < 0)
			return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: fd %d is a slave of pty %u, whose master it does not have",
				       r->chain.p[0].dir.path, d->fd, d->pty.index);
		e = open_slave(r, i, r->pty_fds[master_of(r, d->pty.index)]);
	}
	/* a master's window size is its slave's: given once more where no slave fd gave it */
	for (size_t i = 0; i < r->fs.n && e == 0; i++) {
		const struct fd_state *d = &r->fs.fds[i];
		int packet = d->pty.packet;
		bool slave = false;

		if (d->kind != FDK_PTMX || r->pty_fds[i] < 0)
			continue;
		for (size_t k = 0; k < r->fs.n; k++)
			slave |= r->fs.fds[k].kind == FDK_PTS && r->fs.fds[k].pty.index == d->pty.index;
		if (!slave && d->has_tty) {
			struct winsize ws = { .ws_row = d->tty.rows, .ws_col = d->tty.cols,
					      .ws_xpixel = d->tty.xpixel, .ws_ypixel = d->tty.ypixel };

			if (ioctl(r->pty_fds[i], TIOCSWINSZ, &ws) < 0)
				e = sd_err(r->ctx, -errno, "cannot restore pid %d: the window size of its pty", r->pid);
		}
		if (e == 0 && (ioctl(r->pty_fds[i], TIOCPKT, &packet) < 0 ||
			       (d->pty.locked && ioctl(r->pty_fds[i], TIOCSPTLCK, &one) < 0)))
			e = sd_err(r->ctx, -errno, "cannot restore pid %d: the packet mode or lock of its pty",
				   r->pid);
	}
	return e;
}

int sd_rst_pty_ctty_fd(const struct rst *r)
{
	for (size_t i = 0; r->ps.ctty && i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (d->kind == FDK_PTS && d->rdev == r->ps.ctty)
			return d->fd;
	}
	return -1;
}

/* The number of the pty of slave device @rdev (major << 32 | minor), or -1. */
static long pts_index(uint64_t rdev)
{
	unsigned int maj = (unsigned int)(rdev >> 32), min = (unsigned int)rdev;

	return maj >= 136 && maj <= 143 ? (long)((maj - 136) * 256 + min) : -1;
}

bool sd_rst_pty_ctty_here(const struct rst *r)
{
	long index = pts_index(r->ps.ctty);

	if (index < 0 || r->opts->shell_job)
		return false;
	/* a tree's session leader: its pty is some member's (sd_rst_pty_ctty_early checks) */
	if (r->tree && (r->ps.sid == r->pid || sd_rst_pty_leader_makes(r)))
		return true;
	for (size_t i = 0; r->ps.sid == r->pid && i < r->fs.n; i++)
		if ((r->fs.fds[i].kind == FDK_PTS || r->fs.fds[i].kind == FDK_PTMX) &&
		    r->fs.fds[i].pty.index == (uint32_t)index)
			return true;
	return false;
}

/* Our fd on the pty of device @rdev (major << 32 | minor) some member made, or -1; its master's in *ret_master. */
static int tree_pty(const struct rst *r, uint64_t rdev, uint32_t index, int *ret_master)
{
	int slave = -1;

	*ret_master = -1;
	for (size_t m = 0; m < (r->tree ? sd_rst_tree_count(r->tree) : 1); m++) {
		const struct rst *o = r->tree ? sd_rst_tree_member(r->tree, m) : r;

		for (size_t i = 0; o->pty_fds && i < o->fs.n; i++) {
			const struct fd_state *d = &o->fs.fds[i];

			if (o->pty_fds[i] < 0 || d->pty.index != index)
				continue;
			if (d->kind == FDK_PTMX)
				*ret_master = o->pty_fds[i];
			else if (d->kind == FDK_PTS && (!rdev || d->rdev == rdev))
				slave = o->pty_fds[i];
		}
	}
	return slave;
}

int sd_rst_tree_ptys(struct rst *r)
{
	int zero = 0, one = 1, e = 0;

	for (size_t i = 0; i < r->fs.n && e == 0; i++) {
		const struct fd_state *d = &r->fs.fds[i];
		int master;

		if (d->kind != FDK_PTS || d->has_dup_of || d->has_shared || r->src[i] >= 0)
			continue;
		(void)tree_pty(r, 0, d->pty.index, &master);
		if (master < 0)
			return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: fd %d is a slave of pty %u, whose master no member of the tree has",
				       r->chain.p[0].dir.path, d->fd, d->pty.index);
		/* a locked master's slave opens only while it is unlocked again */
		if (ioctl(master, TIOCSPTLCK, &zero) < 0)
			return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot unlock its pty", r->pid);
		e = open_slave(r, i, master);
		for (size_t m = 0; m < sd_rst_tree_count(r->tree); m++) {
			const struct rst *o = sd_rst_tree_member(r->tree, m);

			for (size_t k = 0; o->pty_fds && k < o->fs.n; k++)
				if (o->pty_fds[k] == master && o->fs.fds[k].pty.locked)
					(void)ioctl(master, TIOCSPTLCK, &one);
		}
	}
	return e;
}

bool sd_rst_pty_leader_makes(const struct rst *r)
{
	for (size_t m = 0; r->tree && r->ps.ctty && m < sd_rst_tree_count(r->tree); m++) {
		const struct rst *o = sd_rst_tree_member(r->tree, m);

		if (o != r && o->pid == r->ps.sid && !o->member->zombie)
			return o->ps.ctty == r->ps.ctty;
	}
	return false;
}

/*
 * A new slave fd of ours on the pty of @master (unlocked meanwhile if it
 * was locked), for a controlling terminal that no fd held: the ctty keeps
 * no fd open, and the slave's close after TIOCSCTTY leaves it the session's.
 */
static int peer_of(struct rst *r, int master)
{
	int locked = 0, zero = 0, one = 1, fd;

	(void)ioctl(master, TIOCGPTLCK, &locked);
	if (locked)
		(void)ioctl(master, TIOCSPTLCK, &zero);
	fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		fd = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot open the slave of its controlling terminal",
			    r->pid);
	else
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (locked)
		(void)ioctl(master, TIOCSPTLCK, &one);
	return fd;
}

/*
 * A slave of ours on @r's controlling terminal given to it for
 * TIOCSCTTY (@make) and TIOCSPGRP of its foreground group (when that
 * group exists: its own, or with @make false any, once all are made).
 */
static int ctty_ioctls(struct rst *r, bool make)
{
	long index = pts_index(r->ps.ctty), tmp = -1;
	int32_t pg = r->ps.ctty_fg_pgrp;
	int master, slave, ours = -1;
	uint64_t a;
	char name[64];
	int e = 0;

	slave = tree_pty(r, r->ps.ctty, (uint32_t)index, &master);
	if (slave < 0 && master >= 0)
		slave = ours = peer_of(r, master);
	if (slave < 0 && master < 0) {
		(void)snprintf(name, sizeof(name), "/dev/pts/%ld", index);
		return sd_errx(r->ctx, -EOPNOTSUPP,
			       "cannot restore pid %d: it had a controlling terminal (%s), whose master no process of the dump held; only --shell-job gives it one (this terminal standing in)",
			       r->pid, name);
	}
	if (slave < 0)
		return slave;
	e = sd_rst_tree_give(r, slave, &tmp);
	if (e == 0 && make)
		e = sd_rst_call(r, SYS_ioctl, tmp, TIOCSCTTY, 0, 0, 0, 0, NULL);
	if (e == 0 && pg && (!make || pg == r->ps.pgid)) {
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, &pg, sizeof(pg), &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_ioctl, tmp, TIOCSPGRP, (long)a, 0, 0, 0, NULL);
	}
	if (tmp >= 0)
		(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
	if (ours >= 0)
		(void)close(ours);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot restore pid %d: cannot make its pty its controlling terminal again, with its foreground group %d",
			       r->pid, pg);
	return 0;
}

int sd_rst_pty_ctty_early(struct rst *r)
{
	/* (with --shell-job the root is in our session, and has our terminal) */
	if (pts_index(r->ps.ctty) < 0 || r->ps.sid != r->pid || getsid(r->pid) != r->pid)
		return 0;
	return ctty_ioctls(r, true);
}

int sd_rst_pty_ctty(struct rst *r)
{
	int fd = sd_rst_pty_ctty_fd(r), e;

	if (!r->ps.ctty || r->opts->shell_job)
		return 0;
	/* a tree's session leader has it since its fork: its foreground group, which exists now */
	if (r->tree && r->ps.sid == r->pid)
		return pts_index(r->ps.ctty) < 0 || r->ps.ctty_fg_pgrp == r->ps.pgid || !r->ps.ctty_fg_pgrp ?
			       0 : ctty_ioctls(r, false);
	if (fd >= 0 && r->ps.sid != r->ps.pid && !sd_rst_pty_leader_makes(r))
		return sd_errx(r->ctx, -EOPNOTSUPP,
			       "cannot restore pid %d: its controlling terminal, its own pty's slave (fd %d), is its session leader's, which is not in the image",
			       r->pid, fd);
	if (r->tree || r->ps.sid != r->ps.pid)
		return 0;
	/* a process alone: its session first, then the terminal, which a /dev/tty fd opens */
	e = r->session_done ? 0 : sd_rst_restore_session(r);
	return e < 0 ? e : sd_rst_pty_ctty_early(r);
}

int sd_rst_pty_open(struct rst *r, size_t i, long *ret_tmp)
{
	(void)ret_tmp;
	return sd_errx(r->ctx, -EBADMSG, "cannot restore pid %d: fd %d (a pty) was not made", r->pid,
		       r->fs.fds[i].fd);
}

void sd_rst_ptys_release(struct rst *r)
{
	for (size_t i = 0; r->pty_fds && i < r->fs.n; i++)
		zclose(&r->pty_fds[i]);
	zfree(&r->pty_fds);
}
