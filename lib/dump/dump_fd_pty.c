/* SPDX-License-Identifier: MIT */
/*
 * ptys whose both ends the process holds (openpty() in one process): the
 * master's number, packet mode, lock and settings, and its slaves found
 * among the process's terminals (see dump_fd_kinds.h).
 *
 * A pty holding bytes in flight between the two ends (written and not
 * read yet) is refused: they cannot be read without taking them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "compat.h"
#include "dump_fd_kinds.h"
#include "dump_mapped_files.h"
#include "dump_state.h"
#include "procfs.h"
#include "util.h"

/* The number of the pty of slave device @rdev (major << 32 | minor), or -1. */
static long pts_index(uint64_t rdev)
{
	unsigned int maj = (unsigned int)(rdev >> 32), min = (unsigned int)rdev;

	return maj >= 136 && maj <= 143 ? (long)((maj - 136) * 256 + min) : -1;
}

/*
 * Its slave, /dev/pts/@index (looked at, never opened: a slave's last
 * close hangs the master up), open by another process: the pty would be
 * split in two at restore, unless that process is a member of the same
 * tree (its slave fds are paired with this master then, dump_tree.c).
 * Whether the process holds it itself, in *@ret_held.
 */
static int slave_elsewhere(struct sdump_ctx *ctx, const struct fd_probe *p, int index, bool *ret_held)
{
	char path[64];
	struct stat st;
	pid_t other = 0;
	int r;

	*ret_held = false;
	(void)snprintf(path, sizeof(path), "/dev/pts/%d", index);
	if (stat(path, &st) < 0)
		return 0;
	*ret_held = sd_proc_fds_have(p->pid, st.st_dev, st.st_ino);
	/* a tree's members (among them the process itself) may hold it */
	r = sd_proc_find_holder_outside(st.st_dev, st.st_ino, p->tree ? p->tree->members : &p->pid,
					p->tree ? p->tree->nmembers : 1, &other);
	if (r < 0)
		return sd_err(ctx, r, "cannot look for other users of the pty of fd %d of pid %d", p->fd, p->pid);
	if (r > 0)
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a pty master whose slave pid %d holds, outside the dump; dump the tree they share",
				 p->pid, p->fd, other);
	return 0;
}

/*
 * The bytes written to one end and not read from the other yet: a tty's
 * queue cannot be read without taking them (there is no peek), and a dump
 * must leave the process as it was, so a pty holding any is refused (a
 * restored pty would start empty: a reader of what was queued would wait
 * for ever). @held: the process or a member of its tree holds the slave.
 * In canonical mode the slave's count is of whole lines: a line not ended
 * yet is not seen.
 */
static int refuse_in_flight(struct sdump_ctx *ctx, const struct fd_probe *p, int master, int index,
			    bool held)
{
	/* an open of our own only beside the process's: its close hangs up nothing */
	int slave = held ? ioctl(master, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK) : -1;
	int to_master = 0, to_slave = 0;

	(void)ioctl(master, FIONREAD, &to_master);
	if (slave >= 0) {
		(void)ioctl(slave, FIONREAD, &to_slave);
		(void)close(slave);
	}
	if (to_master + to_slave == 0)
		return 0;
	return sd_refuse(ctx, -EOPNOTSUPP,
			 "cannot dump pid %d: fd %d is a pty master whose pty /dev/pts/%d holds %d bytes not read yet (%d for the master, %d for the slave), which sdump cannot save without taking them; dump it once they are read",
			 p->pid, p->fd, index, to_master + to_slave, to_master, to_slave);
}

/* Whether a member of @p's tree other than the process holds /dev/pts/@index. */
static bool tree_holds(const struct fd_probe *p, int index)
{
	char path[64];
	struct stat st;

	(void)snprintf(path, sizeof(path), "/dev/pts/%d", index);
	if (!p->tree || stat(path, &st) < 0)
		return false;
	for (size_t i = 0; i < p->tree->nmembers; i++)
		if (p->tree->members[i] != p->pid && sd_proc_fds_have(p->tree->members[i], st.st_dev, st.st_ino))
			return true;
	return false;
}

int sd_dump_ptmx(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		 struct fd_state *d)
{
	int copy, index = -1, packet = 0, locked = 0, r = 0;
	bool held = false;
	struct termios t;
	struct winsize ws;

	(void)done;
	if (d->flags & O_PATH)
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is an O_PATH fd of a pty master, not supported",
				 p->pid, p->fd);
	copy = sd_fd_probe_take(ctx, p);
	if (copy < 0)
		return copy;
	if (ioctl(copy, TIOCGPTN, &index) < 0 || ioctl(copy, TIOCGPKT, &packet) < 0 ||
	    ioctl(copy, TIOCGPTLCK, &locked) < 0 || tcgetattr(copy, &t) < 0 || ioctl(copy, TIOCGWINSZ, &ws) < 0)
		r = sd_err(ctx, -errno, "cannot read the pty of fd %d of pid %d (%s)", p->fd, p->pid, p->path);
	if (r == 0 && ((unsigned int)index >= PTY_INDEX_MAX))
		r = sd_errx(ctx, -ERANGE, "cannot dump pid %d: fd %d is pty %d, above %u", p->pid, p->fd, index,
			    PTY_INDEX_MAX);
	if (r == 0)
		r = slave_elsewhere(ctx, p, index, &held);
	if (r == 0)
		r = refuse_in_flight(ctx, p, copy, index, held || tree_holds(p, index));
	(void)close(copy);
	if (r < 0)
		return r;
	sd_tty_state_from(&t, &ws, &d->tty);
	d->has_tty = true;
	d->has_pty = true;
	d->pty = (struct pty_state){ .index = (uint32_t)index, .packet = packet != 0, .locked = locked != 0 };
	/* its slave's inode, as the process's root shows it (grantpt(), chmod and chown of the slave) */
	{
		char path[PROC_PATH_MAX];
		struct stat st;

		if (stat(sd_proc_path(path, p->pid, "root/dev/pts/%d", index), &st) < 0 ||
		    !S_ISCHR(st.st_mode))
			return sd_refuse(ctx, -EOPNOTSUPP,
					 "cannot dump pid %d: the slave of its pty of fd %d is not at /dev/pts/%d in its root (%s), not supported yet",
					 p->pid, p->fd, index, path);
		d->pty.has_owner = true;
		d->pty.mode = st.st_mode & 07777;
		d->pty.uid = st.st_uid;
		d->pty.gid = st.st_gid;
	}
	return 0;
}

void sd_dump_pty_pairs_with(struct files_state *fs, const struct files_state *masters)
{
	for (size_t i = 0; i < fs->n; i++) {
		struct fd_state *d = &fs->fds[i];
		long index = d->kind == FDK_TTY ? pts_index(d->rdev) : -1;

		for (size_t k = 0; index >= 0 && k < masters->n; k++) {
			if (masters->fds[k].kind != FDK_PTMX || masters->fds[k].pty.index != (uint32_t)index)
				continue;
			d->kind = FDK_PTS;
			d->has_pty = true;
			d->pty = (struct pty_state){ .index = (uint32_t)index };
			break;
		}
	}
}

int sd_dump_pty_pairs(struct files_state *fs)
{
	sd_dump_pty_pairs_with(fs, fs);
	return 0;
}
