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
#include "util.h"

/* Before anything starts: every file an fd refers to must be as it was. */
int rst_check_files(struct rst *r)
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
		e = rst_call(r, SYS_dup3, tmp, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0, 0, 0, 0,
			     NULL);
		(void)rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
	}
	return e;
}

int rst_restore_files(struct rst *r)
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
			e = rst_call(r, SYS_dup3, 0, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0, 0, 0, 0,
				     NULL);
	}
	for (int fd = 0; e == 0 && fd < 3; fd++) {
		bool tty = false;

		for (size_t i = 0; i < fs->n; i++)
			if (fs->fds[i].fd == fd && fs->fds[i].kind == FDK_TTY)
				tty = true;
		if (!tty)
			(void)rst_call(r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	}
	/* everything else of ours goes; terminals above 2 stay */
	for (int fd = 3; e == 0;) {
		int next = INT_MAX;

		for (size_t i = 0; i < fs->n; i++)
			if (fs->fds[i].kind == FDK_TTY && fs->fds[i].fd >= fd && fs->fds[i].fd < next)
				next = fs->fds[i].fd;
		if (next > fd)
			e = rst_call(r, SYS_close_range, fd, next == INT_MAX ? ~0u : (unsigned int)next - 1, 0,
				     0, 0, 0, NULL);
		if (next == INT_MAX)
			break;
		fd = next + 1;
	}
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		const struct fd_state *d = &fs->fds[i];
		int flags = (int)(d->flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC));
		long tmp, ign;

		switch (d->kind) {
		case FDK_TTY:
			/* the restoring shell's terminal: placed above, or inherited as 0-2 */
			continue;
		case FDK_FILE: {
			e = rst_open_in_child(r, d->path, flags, &tmp);
			if (e == 0)
				e = rst_call(r, SYS_lseek, tmp, (long)d->pos, SEEK_SET, 0, 0, 0, &ign);
			break;
		}
		case FDK_DIR:
			e = rst_open_in_child(r, d->path, O_RDONLY | O_DIRECTORY, &tmp);
			if (e == 0)
				e = rst_call(r, SYS_lseek, tmp, (long)d->pos, SEEK_SET, 0, 0, 0, &ign);
			break;
		case FDK_CHR:
			e = rst_open_in_child(r, d->path, flags, &tmp);
			break;
		case FDK_FIFO: {
			long keep;

			/*
			 * Read-write first: that open never blocks and holds the FIFO
			 * open at both ends while we write its bytes back and open it
			 * the way it was (non-blocking, then the flags it had).
			 */
			e = rst_open_in_child(r, d->path, O_RDWR | O_NONBLOCK, &keep);
			if (e == 0 && d->has_pipe_data && d->pipe_data_len) {
				uint64_t a;

				rst_data_reset(r);
				e = rst_data_put(r, d->pipe_data, d->pipe_data_len, &a);
				if (e == 0)
					e = rst_call(r, SYS_write, keep, (long)a, (long)d->pipe_data_len, 0, 0, 0, NULL);
			}
			if (e == 0)
				e = rst_open_in_child(r, d->path, flags | O_NONBLOCK, &tmp);
			if (e == 0)
				e = rst_call(r, SYS_fcntl, tmp, F_SETFL, flags, 0, 0, 0, NULL);
			if (e == 0)
				(void)rst_call(r, SYS_close, keep, 0, 0, 0, 0, 0, NULL);
			break;
		}
		case FDK_PIPE: {
			const struct fd_state *other = NULL;
			int32_t pfd[2];
			uint64_t a;

			/* both ends at once, when the first fd of this pipe comes */
			for (size_t k = 0; k < i; k++)
				if (fs->fds[k].kind == FDK_PIPE && fs->fds[k].ino == d->ino)
					other = &fs->fds[k];
			if (other)
				continue;
			rst_data_reset(r);
			e = rst_data_put(r, (int32_t[2]){ -1, -1 }, sizeof(pfd), &a);
			if (e == 0)
				e = rst_call(r, SYS_pipe2, (long)a, O_CLOEXEC, 0, 0, 0, 0, NULL);
			if (e == 0 && pread_all(r->mem_fd, pfd, sizeof(pfd), (off_t)a) != sizeof(pfd))
				e = -EIO;
			for (size_t k = i; e == 0 && k < fs->n; k++) {
				const struct fd_state *p = &fs->fds[k];

				int end = (p->flags & O_ACCMODE) == O_WRONLY ? pfd[1] : pfd[0];

				if (p->kind != FDK_PIPE || p->ino != d->ino)
					continue;
				/* pipe2 may have put an end where it belongs already */
				if (end == p->fd)
					e = rst_call(r, SYS_fcntl, p->fd, F_SETFD,
						     (p->flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0, 0, 0, NULL);
				else
					e = rst_call(r, SYS_dup3, end, p->fd, (p->flags & O_CLOEXEC) ? O_CLOEXEC : 0,
						     0, 0, 0, NULL);
				if (e == 0 && (p->flags & O_NONBLOCK))
					e = rst_call(r, SYS_fcntl, p->fd, F_SETFL, O_NONBLOCK, 0, 0, 0, NULL);
			}
			for (size_t k = i; e == 0 && k < fs->n; k++) {
				const struct fd_state *p = &fs->fds[k];

				if (p->kind == FDK_PIPE && p->ino == d->ino && p->has_pipe_data && p->pipe_data_len) {
					rst_data_reset(r);
					e = rst_data_put(r, p->pipe_data, p->pipe_data_len, &a);
					if (e == 0)
						e = rst_call(r, SYS_write, pfd[1], (long)a, (long)p->pipe_data_len,
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
					(void)rst_call(r, SYS_close, pfd[k], 0, 0, 0, 0, 0, NULL);
			}
			continue;
		}
		}
		if (e == 0)
			e = place_fd(r, tmp, d);
	}
	if (e < 0)
		return sd_errx(ctx, e, "cannot restore the fds of pid %d", r->pid);
	return 0;
}
