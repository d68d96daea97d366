/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4, first part: the fd table. The restoring shell's terminal
 * stays where a terminal fd wants it, every other fd of ours goes, then
 * each saved fd is opened (or created) in the new process and moved to its
 * number.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate.h"
#include "restore.h"
#include "rst_fd_anon.h"
#include "util.h"

/* Before anything starts: every regular file an fd has open must be as it was. */
int sd_rst_check_files(struct rst *r)
{
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];
		struct stat st;

		if (d->kind != FDK_FILE)
			continue;
		if (stat(d->path, &st) < 0 || st.st_ino != d->ino ||
		    ((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) != d->dev ||
		    (uint64_t)st.st_size != d->size)
			return sd_errx(r->ctx, -ESTALE,
				       "cannot restore pid %d: file '%s' (fd %d) changed since the dump", r->pid,
				       d->path, d->fd);
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

/* A character device other than a terminal (/dev/null, ...). */
static int chr_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];

	return sd_rst_open_in_child(r, d->path, fd_open_flags(d), ret_tmp);
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
	if (e == 0 && d->has_pipe_data && d->pipe_data_len) {
		uint64_t a;

		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, d->pipe_data, d->pipe_data_len, &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_write, keep, (long)a, (long)d->pipe_data_len, 0, 0, 0, NULL);
	}
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

	(void)ret_tmp;
	/* both ends at once, when the first fd of this pipe comes */
	for (size_t k = 0; k < i; k++)
		if (fs->fds[k].kind == FDK_PIPE && fs->fds[k].ino == d->ino)
			other = &fs->fds[k];
	if (other)
		return 0;
	sd_rst_data_reset(r);
	e = sd_rst_data_put(r, (int32_t[2]){ -1, -1 }, sizeof(pfd), &a);
	if (e == 0)
		e = sd_rst_call(r, SYS_pipe2, (long)a, O_CLOEXEC, 0, 0, 0, 0, NULL);
	if (e == 0 && sd_pread_all(r->mem_fd, pfd, sizeof(pfd), (off_t)a) != sizeof(pfd))
		e = -EIO;
	/*
	 * An end pipe2 put at the number of an fd of this pipe that wants the
	 * other end would be closed by the dup3 that puts that end there,
	 * before its own fds got it: moved above every number of the table.
	 */
	for (int k = 0; e == 0 && k < 2; k++) {
		for (size_t m = i; m < fs->n; m++) {
			const struct fd_state *p = &fs->fds[m];
			long moved;

			if (p->kind != FDK_PIPE || p->ino != d->ino || p->fd != pfd[k] ||
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

		if (p->kind != FDK_PIPE || p->ino != d->ino)
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

		if (p->kind == FDK_PIPE && p->ino == d->ino && p->has_pipe_data && p->pipe_data_len) {
			sd_rst_data_reset(r);
			e = sd_rst_data_put(r, p->pipe_data, p->pipe_data_len, &a);
			if (e == 0)
				e = sd_rst_call(r, SYS_write, pfd[1], (long)a, (long)p->pipe_data_len,
					     0, 0, 0, NULL);
		}
	}
	/* the temporary ends, unless one of them is already where it belongs */
	for (int k = 0; e == 0 && k < 2; k++) {
		bool kept = false;

		for (size_t m = 0; m < fs->n; m++)
			if (fs->fds[m].fd == pfd[k] && fs->fds[m].kind == FDK_PIPE &&
			    fs->fds[m].ino == d->ino)
				kept = true;
		if (!kept)
			(void)sd_rst_call(r, SYS_close, pfd[k], 0, 0, 0, 0, 0, NULL);
	}
	return e;
}

/*
 * The restoring shell's terminal: put at its number by sd_rst_restore_files
 * before any opener runs, or inherited as 0-2.
 */
static int tty_open(struct rst *r, size_t i, long *ret_tmp)
{
	(void)r;
	(void)i;
	(void)ret_tmp;
	return 0;
}

/*
 * How an fd of each kind is opened again: fd @i of r->fs, in the new
 * process, at a number of its own that the caller then moves it to
 * (place_fd), returned in @ret_tmp; or, with @places, put at its number
 * by the opener itself (or by nobody: a terminal). A new kind's restore is
 * one opener and one row here.
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
	[FDK_TTY] = { .open = tty_open, .places = true },
	[FDK_EVENTFD] = { .open = sd_rst_eventfd_open },
	[FDK_SIGNALFD] = { .open = sd_rst_signalfd_open },
	[FDK_TIMERFD] = { .open = sd_rst_timerfd_open },
	[FDK_EPOLL] = { .open = sd_rst_epoll_open },
	[FDK_INOTIFY] = { .open = sd_rst_inotify_open },
	[FDK_PIDFD] = { .open = sd_rst_pidfd_open },
	[FDK_FANOTIFY] = { .open = sd_rst_fanotify_open },
};

int sd_rst_restore_files(struct rst *r)
{
	const struct files_state *fs = &r->fs;
	struct sdump_ctx *ctx = r->ctx;
	int e = 0;

	/* keep our terminal (fd 0) where a restored tty fd wants it, drop the rest of ours */
	for (size_t i = 0; i < fs->n; i++) {
		const struct fd_state *d = &fs->fds[i];

		if (d->kind != FDK_TTY)
			continue;
		if (!r->opts->shell_job)
			return sd_errx(ctx, -EINVAL,
				       "cannot restore pid %d: fd %d is a terminal (%s); restore it with --shell-job",
				       r->pid, d->fd, d->path);
	}
	/* terminals first, from fd 0 (ours, inherited), before 0-2 go */
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		const struct fd_state *d = &fs->fds[i];

		if (d->kind == FDK_TTY && d->fd > 2)
			e = sd_rst_call(r, SYS_dup3, 0, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0, 0, 0, 0,
				     NULL);
	}
	for (int fd = 0; e == 0 && fd < 3; fd++) {
		bool tty = false;

		for (size_t i = 0; i < fs->n; i++)
			if (fs->fds[i].fd == fd && fs->fds[i].kind == FDK_TTY)
				tty = true;
		if (!tty)
			(void)sd_rst_call(r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	}
	/* everything else of ours goes; terminals above 2 stay */
	for (int fd = 3; e == 0;) {
		int next = INT_MAX;

		for (size_t i = 0; i < fs->n; i++)
			if (fs->fds[i].kind == FDK_TTY && fs->fds[i].fd >= fd && fs->fds[i].fd < next)
				next = fs->fds[i].fd;
		if (next > fd)
			e = sd_rst_call(r, SYS_close_range, fd, next == INT_MAX ? ~0u : (unsigned int)next - 1, 0,
				     0, 0, 0, NULL);
		if (next == INT_MAX)
			break;
		fd = next + 1;
	}
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		const struct fd_state *d = &fs->fds[i];
		const struct rst_fd_opener *op = NULL;
		long tmp;

		if ((unsigned int)d->kind < ARRAY_SIZE(rst_fd_openers))
			op = &rst_fd_openers[d->kind];
		if (!op || !op->open)
			return sd_errx(ctx, -EOPNOTSUPP,
				       "cannot restore pid %d: fd %d (%s) is of a kind not supported yet (%s)",
				       r->pid, d->fd, d->path, sd_fd_kind_name(d->kind));
		/* an fd sharing the open file description of a lower one: a dup of it */
		if (d->has_dup_of && !op->places)
			e = sd_rst_call(r, SYS_dup3, d->dup_of, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0,
				     0, 0, 0, NULL);
		else
			e = op->open(r, i, &tmp);
		if (e == 0 && !op->places && !d->has_dup_of)
			e = place_fd(r, tmp, d);
	}
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
