/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4, first part: the fd table. Our fds that fds of the image
 * are to be dups of (--inherit-fd, a pipe to the outside we hold, our
 * terminal with --shell-job) are moved above every number of the image,
 * every other fd of ours goes, then each saved fd is opened (or created) in
 * the new process, or dup'ed from ours, and moved to its number.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "proc.h"
#include "pstate.h"
#include "restore.h"
#include "rst_fd_anon.h"
#include "rst_sock.h"
#include "util.h"

/* A time as "2026-12-03 10:00:01.250 UTC". */
static void fmt_mtime(char *buf, size_t size, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		(void)snprintf(buf, size, "?");
	else
		(void)snprintf(buf + strlen(buf), size - strlen(buf), ".%03u UTC",
			       (unsigned int)(ns / 1000000u % 1000u));
}

/* What differs between the file @d had open and @st, now at its path; "" if nothing. */
static void what_changed(const struct fd_state *d, const struct stat *st, char *buf, size_t size)
{
	uint64_t mt = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
	char then[48], now[48];
	size_t n = 0;

	buf[0] = '\0';
	if (st->st_ino != d->ino || ((uint64_t)major(st->st_dev) << 32 | minor(st->st_dev)) != d->dev) {
		(void)snprintf(buf, size, "another file is at its path (inode %" PRIu64 " then, %" PRIu64 " now)",
			       d->ino, (uint64_t)st->st_ino);
		return;
	}
	if ((uint64_t)st->st_size != d->size)
		n += (size_t)snprintf(buf, size, "size %" PRIu64 " bytes then, %" PRIu64 " now", d->size,
				      (uint64_t)st->st_size);
	if (d->mtime_ns && mt != d->mtime_ns && n < size) {
		fmt_mtime(then, sizeof(then), d->mtime_ns);
		fmt_mtime(now, sizeof(now), mt);
		(void)snprintf(buf + n, size - n, "%smodified %s then, %s now", n ? "; " : "", then, now);
	}
}

/*
 * A file of the process's own /proc/PID (or, in a tree, of a member's):
 * it exists only once the process does, with the same pid, and its size
 * and time are the kernel's of the moment; opened again as it is then.
 */
static bool own_proc_file(const struct rst *r, const char *path)
{
	char *end;
	long pid;

	if (strncmp(path, "/proc/", 6) != 0)
		return false;
	pid = strtol(path + 6, &end, 10);
	if (end == path + 6 || *end != '/')
		return false;
	return pid == r->pid || r->tree;
}

/*
 * A file of /proc/PID of a process outside the dump: that process must
 * still be there, the same one (its start time), for the file to be its.
 */
static int check_proc_other(struct rst *r, const struct fd_state *d)
{
	long pid = strtol(d->path + strlen("/proc/"), NULL, 10);
	_cleanup_free_ char *buf = NULL;
	char path[64], state;
	uint64_t start;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (sd_read_file(AT_FDCWD, path, &buf, NULL) < 0 || sd_proc_parse_stat(buf, &state, &start) < 0)
		return sd_errx(r->ctx, -ESTALE,
			       "cannot restore pid %d: fd %d is a file of /proc/%ld (%s), and that process has exited since the dump",
			       r->pid, d->fd, pid, d->path);
	if (start != d->proc_start)
		return sd_errx(r->ctx, -ESTALE,
			       "cannot restore pid %d: fd %d is a file of /proc/%ld (%s), and pid %ld is another process now (started at tick %" PRIu64 ", not %" PRIu64 ")",
			       r->pid, d->fd, pid, d->path, pid, start, d->proc_start);
	return 0;
}

/* An O_PATH fd of a symlink or a socket file: the same file at its path (not followed). */
static int check_path(struct rst *r, const struct fd_state *d)
{
	struct stat st;

	if (lstat(d->path, &st) < 0)
		return sd_errx(r->ctx, -ESTALE,
			       "cannot restore pid %d: '%s' (fd %d) changed since the dump: it cannot be found now (%s)",
			       r->pid, d->path, d->fd, strerror(errno));
	if (st.st_ino != d->ino || ((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) != d->dev ||
	    (st.st_mode & S_IFMT) != (d->mode & S_IFMT))
		return sd_errx(r->ctx, -ESTALE,
			       "cannot restore pid %d: '%s' (fd %d) changed since the dump: another file is at its path (inode %" PRIu64 " then, %" PRIu64 " now)",
			       r->pid, d->path, d->fd, d->ino, (uint64_t)st.st_ino);
	return 0;
}

/*
 * Before anything starts: every regular file an fd has open must be as it
 * was; with file_changed_allow one that changed is taken as it is now.
 */
int sd_rst_check_files(struct rst *r)
{
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];
		char what[256];
		struct stat st;
		int e = 0;

		if (r->src[i] >= 0)
			continue;
		if (d->has_proc_start)
			e = check_proc_other(r, d);
		else if (d->kind == FDK_PATH)
			e = check_path(r, d);
		if (e < 0)
			return e;
		/* an inherited one is the caller's; a deleted one that keeps another name: by that name */
		if (d->kind != FDK_FILE || own_proc_file(r, d->path) || d->has_proc_start)
			continue;
		if (stat(d->link_target ? d->link_target : d->path, &st) < 0)
			return sd_errx(r->ctx, -ESTALE,
				       "cannot restore pid %d: file '%s' (fd %d) changed since the dump: it cannot be found now (%s)",
				       r->pid, d->path, d->fd, strerror(errno));
		what_changed(d, &st, what, sizeof(what));
		if (!what[0])
			continue;
		if (!r->opts->file_changed_allow)
			return sd_errx(r->ctx, -ESTALE,
				       "cannot restore pid %d: file '%s' (fd %d) changed since the dump: %s; --file-changed=allow opens it as it is now, at offset %" PRIu64,
				       r->pid, d->path, d->fd, what, d->pos);
		pr_warn(r->ctx, "pid %d: file '%s' (fd %d) changed since the dump (%s): opened as it is now, at offset %" PRIu64,
			r->pid, d->path, d->fd, what, d->pos);
	}
	return 0;
}

/* One fd: opened (or created) in the child, moved to its number. */
static int place_fd(struct rst *r, long tmp, const struct fd_state *d)
{
	int e = 0;

	if (tmp != d->fd) {
		e = sd_rst_call(r, SYS_dup3, tmp, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0, 0, 0, 0,
			     NULL);
		(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
	}
	return e;
}

/*
 * The flags an fd is opened again with, of those it had (O_CLOEXEC
 * included). O_ASYNC only where F_SETFL cannot set it, on regular files and
 * directories: elsewhere open() would set the flag without arming the
 * signals, and sd_rst_restore_fd_flags() sets it.
 */
static int fd_open_flags(const struct fd_state *d)
{
	uint32_t drop = O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY;

	if (d->kind != FDK_FILE && d->kind != FDK_DIR)
		drop |= O_ASYNC;
	return (int)(d->flags & ~drop);
}

/* Opened with @flags, at the offset it had. */
static int seekable_open(struct rst *r, const struct fd_state *d, int flags, long *ret_tmp)
{
	long tmp, ign;
	int e;

	e = sd_rst_open_in_child(r, d->path, flags, &tmp);
	/* an O_PATH fd has no offset */
	if (e == 0 && !(flags & O_PATH))
		e = sd_rst_call(r, SYS_lseek, tmp, (long)d->pos, SEEK_SET, 0, 0, 0, &ign);
	if (e == 0)
		*ret_tmp = tmp;
	return e;
}

static int file_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];

	return seekable_open(r, d, fd_open_flags(d), ret_tmp);
}

static int dir_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	struct stat st;

	/* opened without O_DIRECTORY: that it is one still is checked here */
	if (!(d->flags & O_DIRECTORY) && (stat(d->path, &st) < 0 || !S_ISDIR(st.st_mode)))
		return sd_errx(r->ctx, -ENOTDIR, "cannot restore pid %d: '%s' (fd %d) is no directory any more",
			       r->pid, d->path, d->fd);
	return seekable_open(r, d, fd_open_flags(d), ret_tmp);
}

/*
 * A character device other than a terminal (/dev/null, ...), a block
 * device; an O_PATH fd of a symlink (O_NOFOLLOW among its flags) or of a
 * socket file: opened by path.
 */
static int chr_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];

	return sd_rst_open_in_child(r, d->path, fd_open_flags(d), ret_tmp);
}

/*
 * A namespace fd of one of the process's namespaces: the one it is in now,
 * from its own /proc/self/ns (opened by the new process itself).
 */
static int ns_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/self/ns/%s", d->ns);
	return sd_rst_open_in_child(r, path, fd_open_flags(d), ret_tmp);
}

/*
 * A pipe's capacity (F_SETPIPE_SZ, when the image has one) and its bytes,
 * through @wfd, an fd of the new process on its write end: the bytes
 * written by us on our copy of that end (sd_rst_take_fd), not through the
 * trampoline's data area, which is smaller than a pipe can hold.
 */
static int pipe_fill(struct rst *r, long wfd, uint32_t size, const uint8_t *data, size_t len)
{
	int copy, e = 0;

	if (size)
		e = sd_rst_call(r, SYS_fcntl, wfd, F_SETPIPE_SZ, size, 0, 0, 0, NULL);
	if (e < 0 || !len)
		return e;
	copy = sd_rst_take_fd(r, wfd);
	if (copy < 0)
		return sd_err(r->ctx, copy, "cannot take fd %ld of the restored pid %d", wfd, r->pid);
	e = sd_write_all(copy, data, len);
	(void)close(copy);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot put %zu bytes back in a pipe of pid %d", len, r->pid);
	return 0;
}

/* A FIFO, with the bytes that were in it. */
static int fifo_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	int flags = fd_open_flags(d);
	long keep, tmp;
	int e;

	/* an O_PATH fd does not open the FIFO */
	if (flags & O_PATH)
		return sd_rst_open_in_child(r, d->path, flags, ret_tmp);
	/*
	 * Read-write first: that open never blocks and holds the FIFO
	 * open at both ends while we write its bytes back and open it
	 * the way it was (non-blocking, then the flags it had).
	 */
	e = sd_rst_open_in_child(r, d->path, O_RDWR | O_NONBLOCK, &keep);
	if (e == 0)
		e = pipe_fill(r, keep, d->pipe_size, d->pipe_data, d->has_pipe_data ? d->pipe_data_len : 0);
	if (e == 0)
		e = sd_rst_open_in_child(r, d->path, flags | O_NONBLOCK, &tmp);
	if (e == 0)
		e = sd_rst_call(r, SYS_fcntl, tmp, F_SETFL, flags, 0, 0, 0, NULL);
	if (e == 0)
		(void)sd_rst_call(r, SYS_close, keep, 0, 0, 0, 0, 0, NULL);
	if (e == 0)
		*ret_tmp = tmp;
	return e;
}

/*
 * A pipe: every fd of it put at its number here, and the bytes that were
 * in it written back.
 */
static int pipe_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct files_state *fs = &r->fs;
	const struct fd_state *d = &fs->fds[i];
	const struct fd_state *other = NULL;
	int32_t pfd[2];
	uint64_t a;
	int e;

	bool made = false;

	(void)ret_tmp;
	/* both ends at once, when the first fd of this pipe comes (an earlier member's description: its own) */
	for (size_t k = 0; k < i; k++)
		if (fs->fds[k].kind == FDK_PIPE && fs->fds[k].ino == d->ino && !fs->fds[k].has_shared)
			other = &fs->fds[k];
	if (other)
		return 0;
	/* in a tree, the pipe another member made already */
	e = r->tree ? sd_rst_tree_pipe(r, d, pfd, &made) : 0;
	if (e == 0 && !made) {
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, (int32_t[2]){ -1, -1 }, sizeof(pfd), &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_pipe2, (long)a, O_CLOEXEC, 0, 0, 0, 0, NULL);
		if (e == 0 && sd_pread_all(r->mem_fd, pfd, sizeof(pfd), (off_t)a) != sizeof(pfd))
			e = -EIO;
		for (size_t k = i; e == 0 && k < fs->n; k++)
			if (fs->fds[k].kind == FDK_PIPE && fs->fds[k].ino == d->ino && fs->fds[k].pipe_size) {
				e = pipe_fill(r, pfd[1], fs->fds[k].pipe_size, NULL, 0);
				break;
			}
		if (e == 0 && r->tree)
			e = sd_rst_tree_pipe_made(r, d, pfd);
	}
	/*
	 * An end pipe2 put at the number of an fd of this pipe that wants the
	 * other end would be closed by the dup3 that puts that end there,
	 * before its own fds got it: moved above every number of the table.
	 */
	for (int k = 0; e == 0 && k < 2; k++) {
		for (size_t m = i; m < fs->n; m++) {
			const struct fd_state *p = &fs->fds[m];
			long moved;

			if (p->kind != FDK_PIPE || p->ino != d->ino || p->fd != pfd[k] || p->has_shared ||
			    ((p->flags & O_ACCMODE) == O_WRONLY) == (k == 1))
				continue;
			e = sd_rst_call(r, SYS_fcntl, pfd[k], F_DUPFD_CLOEXEC, fs->fds[fs->n - 1].fd + 1, 0, 0, 0,
					&moved);
			if (e == 0)
				(void)sd_rst_call(r, SYS_close, pfd[k], 0, 0, 0, 0, 0, NULL);
			if (e == 0)
				pfd[k] = (int32_t)moved;
			break;
		}
	}
	for (size_t k = i; e == 0 && k < fs->n; k++) {
		const struct fd_state *p = &fs->fds[k];

		int end = (p->flags & O_ACCMODE) == O_WRONLY ? pfd[1] : pfd[0];

		if (p->kind != FDK_PIPE || p->ino != d->ino || p->has_shared)
			continue;
		/* pipe2 may have put an end where it belongs already */
		if (end == p->fd)
			e = sd_rst_call(r, SYS_fcntl, p->fd, F_SETFD,
				     (p->flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0, 0, 0, NULL);
		else
			e = sd_rst_call(r, SYS_dup3, end, p->fd, (p->flags & O_CLOEXEC) ? O_CLOEXEC : 0,
				     0, 0, 0, NULL);
		if (e == 0 && (p->flags & O_NONBLOCK))
			e = sd_rst_call(r, SYS_fcntl, p->fd, F_SETFL, O_NONBLOCK, 0, 0, 0, NULL);
	}
	for (size_t k = i; e == 0 && k < fs->n; k++) {
		const struct fd_state *p = &fs->fds[k];

		if (p->kind == FDK_PIPE && p->ino == d->ino && p->has_pipe_data && p->pipe_data_len)
			e = pipe_fill(r, pfd[1], 0, p->pipe_data, p->pipe_data_len);
	}
	/* the temporary ends, unless one of them is already where it belongs */
	for (int k = 0; e == 0 && k < 2; k++) {
		bool kept = false;

		for (size_t m = 0; m < fs->n; m++)
			if (fs->fds[m].fd == pfd[k] && fs->fds[m].kind == FDK_PIPE &&
			    fs->fds[m].ino == d->ino && !fs->fds[m].has_shared)
				kept = true;
		if (!kept)
			(void)sd_rst_call(r, SYS_close, pfd[k], 0, 0, 0, 0, 0, NULL);
	}
	return e;
}

/*
 * A terminal that is no dup of ours (sd_rst_restore_files makes those):
 * /dev/tty, which names the controlling terminal of whoever opens it, the
 * one of our session that the process has joined.
 */
static int tty_open(struct rst *r, size_t i, long *ret_tmp)
{
	return chr_open(r, i, ret_tmp);
}

/*
 * How an fd of each kind is opened again: fd @i of r->fs, in the new
 * process, at a number of its own that the caller then moves it to
 * (place_fd), returned in @ret_tmp; or, with @places, put at its number
 * by the opener itself. A new kind's restore is one opener and one row
 * here. An fd that is a dup of one of ours (r->src, our terminal) needs
 * none.
 */
struct rst_fd_opener {
	int (*open)(struct rst *r, size_t i, long *ret_tmp);
	bool places;
};

static const struct rst_fd_opener rst_fd_openers[FDK_MAX + 1] = {
	[FDK_FILE] = { .open = file_open },
	[FDK_DIR] = { .open = dir_open },
	[FDK_CHR] = { .open = chr_open },
	[FDK_PIPE] = { .open = pipe_open, .places = true },
	[FDK_FIFO] = { .open = fifo_open },
	[FDK_TTY] = { .open = tty_open },
	[FDK_EVENTFD] = { .open = sd_rst_eventfd_open },
	[FDK_SIGNALFD] = { .open = sd_rst_signalfd_open },
	[FDK_TIMERFD] = { .open = sd_rst_timerfd_open },
	[FDK_EPOLL] = { .open = sd_rst_epoll_open },
	[FDK_INOTIFY] = { .open = sd_rst_inotify_open },
	[FDK_PIDFD] = { .open = sd_rst_pidfd_open },
	[FDK_FANOTIFY] = { .open = sd_rst_fanotify_open },
	[FDK_GHOST] = { .open = sd_rst_ghost_open },
	[FDK_MEMFD] = { .open = sd_rst_ghost_open },
	[FDK_PTMX] = { .open = sd_rst_pty_open },
	[FDK_PTS] = { .open = sd_rst_pty_open },
	[FDK_UNIX] = { .open = sd_rst_unix_open, .places = true },
	[FDK_INET] = { .open = sd_rst_inet_open },
	[FDK_NODE] = { .open = sd_rst_node_open },
	[FDK_PATH] = { .open = chr_open },
	[FDK_BLK] = { .open = chr_open },
	[FDK_NS] = { .open = ns_open },
	[FDK_NETLINK] = { .open = sd_rst_netlink_open },
	[FDK_PACKET] = { .open = sd_rst_packet_open },
};

/* Our fd that fd @i of the image is a dup of: inherited, or our terminal; else -1. */
static int source_of(const struct rst *r, size_t i)
{
	const struct fd_state *d = &r->fs.fds[i];

	if (r->src[i] >= 0)
		return r->src[i];
	if (d->kind == FDK_TTY && d->rdev != ((uint64_t)5 << 32))
		return r->tty_fd;
	return -1;
}

/*
 * The new process started with our fds at their numbers. Those it is to
 * have dups of go above every number of the image, in @keep_ours (ours)
 * and @keep_high (its), at most @cap of them; every other fd goes.
 */
static int keep_sources(struct rst *r, int *keep_ours, long *keep_high, size_t cap, size_t *ret_n)
{
	const struct files_state *fs = &r->fs;
	int hi = 0, e = 0;
	size_t n = 0;
	long lo = 0;

	for (size_t i = 0; i < fs->n; i++)
		hi = MAX(hi, MAX(fs->fds[i].fd, source_of(r, i)) + 1);
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		int s = source_of(r, i);
		bool have = s < 0;

		for (size_t k = 0; k < n && !have; k++)
			have = keep_ours[k] == s;
		if (have || n == cap)
			continue;
		keep_ours[n] = s;
		e = sd_rst_call(r, SYS_fcntl, s, F_DUPFD_CLOEXEC, hi, 0, 0, 0, &keep_high[n]);
		hi = (int)keep_high[n] + 1;
		n += e == 0;
	}
	/* F_DUPFD gives the lowest free one from hi: they rise, and the rest between them goes */
	for (size_t k = 0; e == 0 && k < n; k++) {
		if (keep_high[k] > lo)
			e = sd_rst_call(r, SYS_close_range, lo, keep_high[k] - 1, 0, 0, 0, 0, NULL);
		lo = keep_high[k] + 1;
	}
	if (e == 0)
		e = sd_rst_call(r, SYS_close_range, lo, ~0u, 0, 0, 0, 0, NULL);
	*ret_n = n;
	return e;
}

int sd_rst_restore_files(struct rst *r)
{
	const struct files_state *fs = &r->fs;
	struct sdump_ctx *ctx = r->ctx;
	/* at most one source per fd */
	size_t nkeep = 0, cap = fs->n + 1;
	_cleanup_free_ int *keep_ours = calloc(cap, sizeof(int));
	_cleanup_free_ long *keep_high = calloc(cap, sizeof(long));
	int e;

	if (!keep_ours || !keep_high)
		return sd_err(ctx, -ENOMEM, "cannot restore the fds of pid %d", r->pid);
	/* its parent's table (CLONE_FILES): the parent's restore made it */
	if (r->member && r->member->files_of_parent)
		return 0;
	e = keep_sources(r, keep_ours, keep_high, cap, &nkeep);
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		const struct fd_state *d = &fs->fds[i];
		const struct rst_fd_opener *op = NULL;
		long tmp, src = -1;

		if ((unsigned int)d->kind < ARRAY_SIZE(rst_fd_openers))
			op = &rst_fd_openers[d->kind];
		if (!op || !op->open)
			return sd_errx(ctx, -EOPNOTSUPP,
				       "cannot restore pid %d: fd %d (%s) is of a kind not supported yet (%s)",
				       r->pid, d->fd, d->path, sd_fd_kind_name(d->kind));
		for (size_t k = 0; k < nkeep; k++)
			if (keep_ours[k] == source_of(r, i))
				src = keep_high[k];
		if (src >= 0) {
			e = sd_rst_call(r, SYS_dup3, src, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0,
					0, 0, 0, NULL);
			continue;
		}
		/* in a tree, the open file description of an earlier member: got from it */
		if (d->has_shared) {
			e = sd_rst_tree_shared_fd(r, d, &tmp);
			if (e == 0)
				e = place_fd(r, tmp, d);
			/* pidfd_getfd() gives it FD_CLOEXEC: where it lands at its number, as it was */
			if (e == 0 && tmp == d->fd)
				e = sd_rst_call(r, SYS_fcntl, d->fd, F_SETFD, (d->flags & O_CLOEXEC) ? FD_CLOEXEC : 0,
						0, 0, 0, NULL);
			continue;
		}
		/* an fd sharing the open file description of a lower one: a dup of it */
		if (d->has_dup_of && !op->places)
			e = sd_rst_call(r, SYS_dup3, d->dup_of, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0,
				     0, 0, 0, NULL);
		else
			e = op->open(r, i, &tmp);
		if (e == 0 && !op->places && !d->has_dup_of)
			e = place_fd(r, tmp, d);
	}
	for (size_t k = 0; e == 0 && k < nkeep; k++)
		e = sd_rst_call(r, SYS_close, keep_high[k], 0, 0, 0, 0, 0, NULL);
	/* every sender of a datagram is at its number */
	if (e == 0)
		e = sd_rst_inet_queues(r);
	if (e == 0)
		e = sd_rst_restore_fd_flags(r);
	/*
	 * Every fd at its number, and none opened again by the flags' fixes
	 * (a watch of the file an fd had before would go with it): the files
	 * epolls watch are there. Before the locks: moving a watched file
	 * through another number closes an fd for a moment, which would drop
	 * the process's POSIX locks on the file there.
	 */
	if (e == 0)
		e = sd_rst_restore_epolls(r);
	/* last: no fd of the process is closed or replaced after its locks are taken */
	if (e == 0)
		e = sd_rst_take_locks(r);
	if (e < 0)
		return sd_errx(ctx, e, "cannot restore the fds of pid %d", r->pid);
	return 0;
}
