/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4, after the fds are at their numbers: each fd's flags as
 * they were, checked against what the new process's fdinfo shows; and,
 * once its threads exist and its credentials are its own (F_SETOWN_EX
 * records the caller's, which the signals are then sent with), the owner
 * and signal of each fd's I/O signals.
 *
 * The openers give most flags at open(); what open() cannot give is set
 * here, on the fd's own number:
 *  - O_ASYNC: open() sets the flag without arming the signals (fcntl(2),
 *    and a probe on 6.18: a FIFO opened O_ASYNC never sends SIGIO, and no
 *    F_SETFL can arm it afterwards, since the flag looks set already). So
 *    openers leave it out and F_SETFL sets it here, where the kernel notes
 *    the fd number the signal's si_fd carries. Regular files and
 *    directories have no fasync: there F_SETFL cannot set the flag and
 *    only open() can, so their openers keep it;
 *  - O_NONBLOCK, O_APPEND, O_DIRECT, O_NOATIME on a pipe (made by pipe2())
 *    or a terminal (--shell-job: this shell's, whose description the
 *    process shared with its shell at the dump as well): F_SETFL;
 *  - FD_CLOEXEC where an opener missed it: F_SETFD;
 *  - a pipe end that was read-write, O_PATH or O_LARGEFILE (reopened
 *    through /proc/PID/fd, as the process itself must have made it).
 * Whatever still differs then fails the restore with one line naming it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "proc.h"
#include "procfs.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

/* what F_SETFL sets (fs/fcntl.c SETFL_MASK, and O_ASYNC through ->fasync) */
#define SETFL_FLAGS (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC)

/* The flags of fd @fd of the new process, as its fdinfo shows them. */
static int child_fd_flags(struct rst *r, int fd, uint32_t *ret_flags)
{
	_cleanup_free_ char *info = NULL;
	char path[PROC_PATH_MAX];
	uint64_t pos;
	int e;

	e = sd_read_file(AT_FDCWD, sd_proc_path(path, r->pid, "fdinfo/%d", fd), &info, NULL);
	if (e == 0 && sd_proc_parse_fdinfo(info, &pos, ret_flags) < 0)
		e = -EBADMSG;
	if (e < 0)
		return sd_err(r->ctx, e, "cannot read '%s'", path);
	return 0;
}

/* @path opened again in the new process with the flags of @d, put at its number. */
static int reopen_at(struct rst *r, const struct fd_state *d, const char *path, int flags)
{
	long tmp;
	int e;

	e = sd_rst_open_in_child(r, path, flags & ~O_CLOEXEC, &tmp);
	if (e < 0 || tmp == d->fd)
		return e;
	e = sd_rst_call(r, SYS_dup3, tmp, d->fd, flags & O_CLOEXEC, 0, 0, 0, NULL);
	(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
	return e;
}

static int fix_fd(struct rst *r, const struct fd_state *d)
{
	char path[PROC_PATH_MAX], want[FD_FLAGS_NAME_MAX], got[FD_FLAGS_NAME_MAX];
	uint32_t have;
	int e;

	e = child_fd_flags(r, d->fd, &have);
	if (e == 0 && d->kind == FDK_PIPE && ((have ^ d->flags) & (O_ACCMODE | O_PATH | O_LARGEFILE_KERNEL))) {
		/*
		 * a pipe end read-write or O_PATH, or one that open() made
		 * (O_LARGEFILE: bash's /dev/fd/63 of a process substitution):
		 * only /proc/PID/fd/N makes one
		 */
		if (d->has_dup_of)
			e = sd_rst_call(r, SYS_dup3, d->dup_of, d->fd, (long)(d->flags & O_CLOEXEC), 0, 0, 0,
				     NULL);
		else
			e = reopen_at(r, d, sd_proc_path(path, r->pid, "fd/%d", d->fd),
				      (int)(d->flags & ~(uint32_t)O_ASYNC));
		if (e == 0)
			e = child_fd_flags(r, d->fd, &have);
	}
	if (e == 0 && ((have ^ d->flags) & O_CLOEXEC))
		e = sd_rst_call(r, SYS_fcntl, d->fd, F_SETFD, (d->flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0, 0,
			     0, NULL);
	if (e == 0 && ((have ^ d->flags) & SETFL_FLAGS) && !(d->flags & O_PATH)) {
		e = sd_rst_call(r, SYS_fcntl, d->fd, F_SETFL, (long)(d->flags & SETFL_FLAGS), 0, 0, 0, NULL);
		if (e == 0)
			e = child_fd_flags(r, d->fd, &have);
	}
	/* a device without fasync: only open() sets O_ASYNC there */
	if (e == 0 && d->kind == FDK_CHR && ((have ^ d->flags) & O_ASYNC) && !d->has_dup_of) {
		e = reopen_at(r, d, d->path, (int)(d->flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY)));
		if (e == 0)
			e = child_fd_flags(r, d->fd, &have);
	}
	if (e < 0)
		return e;
	if (have != d->flags) {
		sd_fd_flags_name(d->flags, want);
		sd_fd_flags_name(have, got);
		return sd_errx(r->ctx, -EOPNOTSUPP, "cannot restore pid %d: fd %d (%s) came back %s, not %s",
			       r->pid, d->fd, d->path, got, want);
	}
	return 0;
}

int sd_rst_restore_fd_flags(struct rst *r)
{
	for (size_t i = 0; i < r->fs.n; i++) {
		int e = fix_fd(r, &r->fs.fds[i]);

		if (e < 0)
			return e;
	}
	return 0;
}

int sd_rst_restore_fd_owners(struct rst *r)
{
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];
		struct f_owner_ex o = { .type = d->owner_type, .pid = d->owner_pid };
		bool lease = false;
		uint64_t a;
		int e = 0;

		if (d->has_dup_of || d->has_shared || (d->flags & O_PATH))
			continue;
		for (size_t k = 0; k < d->nlocks; k++)
			lease |= d->locks[k].kind == FLK_LEASE;
		if (d->signum)
			e = sd_rst_call(r, SYS_fcntl, d->fd, F_SETSIG, d->signum, 0, 0, 0, NULL);
		if (e < 0)
			return e;
		/* taking a lease made the process its owner: what it was after that, again */
		if (!d->owner_type && !d->owner_pid && !lease)
			continue;
		/* a group it or a member led: none left (restored into another with --shell-job?) */
		if (o.type == F_OWNER_PGRP && kill(-o.pid, 0) < 0 && errno == ESRCH)
			return sd_errx(r->ctx, -EOPNOTSUPP,
				       "cannot restore pid %d: fd %d (%s) sends its I/O signals to process group %d, which no process leads now (restored into another group with --shell-job?)",
				       r->pid, d->fd, d->path, o.pid);
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, &o, sizeof(o), &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_fcntl, d->fd, F_SETOWN_EX, (long)a, 0, 0, 0, NULL);
		if (e < 0)
			return e;
	}
	return 0;
}
