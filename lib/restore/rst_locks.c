/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4, the locks: before anything is made, every lock the image
 * holds must be free to take (by /proc/locks), and no file to reopen may
 * have another process's lease that opening it would break; once the fds
 * are in place and their flags right, each lock is taken again through
 * the fd that held it, by the new process, without waiting: one that is
 * not free fails the restore with one line naming the file and the lock.
 *
 * A dump without -R kills the process once the image is committed, and its
 * locks go with it (its files are closed before it can be reaped); after
 * a dump -R the process keeps its locks, and a restore while it holds them
 * is refused here, by the lock, before the PID in use is noticed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "array.h"
#include "ctx.h"
#include "proc_locks.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

/* The fds whose file is the one of the dump: a new pipe, or this shell's terminal, is not. */
static bool same_file(const struct fd_state *d)
{
	return d->kind == FDK_FILE || d->kind == FDK_DIR || d->kind == FDK_CHR || d->kind == FDK_FIFO;
}

/* Whether holding @b keeps @a from being taken (fs/locks.c locks_conflict()). */
static bool conflicts(const struct lock_state *a, const struct lock_state *b)
{
	bool ranged_a = a->kind == FLK_POSIX || a->kind == FLK_OFD;
	bool ranged_b = b->kind == FLK_POSIX || b->kind == FLK_OFD;

	if (a->dev != b->dev || a->ino != b->ino || (!a->write && !b->write))
		return false;
	if (ranged_a || ranged_b)
		return ranged_a && ranged_b && a->start <= b->end && b->start <= a->end;
	return a->kind == b->kind;
}

static void describe_holder(const struct proc_lock *pl, char *buf, size_t len)
{
	char what[LOCK_DESCRIBE_MAX];

	sd_lock_describe(&pl->l, what);
	/* "an OFD ...", "a POSIX ..." */
	if (pl->pid > 0)
		(void)snprintf(buf, len, "pid %d holds a%s %s there now", pl->pid,
			       what[0] == 'O' ? "n" : "", what);
	else
		(void)snprintf(buf, len, "another process holds a%s %s there now",
			       what[0] == 'O' ? "n" : "", what);
}

/* Lock @l of fd @d against one line of /proc/locks; -EBUSY with its message for a conflict. */
static int check_one(struct rst *r, const struct fd_state *d, const struct lock_state *l,
		     const struct proc_lock *pl)
{
	char what[LOCK_DESCRIBE_MAX], holder[LOCK_DESCRIBE_MAX + 64];

	if (!conflicts(l, &pl->l))
		return 0;
	sd_lock_describe(l, what);
	describe_holder(pl, holder, sizeof(holder));
	return sd_errx(r->ctx, -EBUSY,
		       "cannot restore pid %d: cannot take the %s again, through fd %d on '%s': %s",
		       r->pid, what, d->fd, d->path, holder);
}

/* Someone else's lease on the file of @d, which reopening it would break (and wait for). */
static int check_lease(struct rst *r, const struct fd_state *d, const struct proc_lock *pl)
{
	char holder[LOCK_DESCRIBE_MAX + 64];

	if (pl->l.kind != FLK_LEASE || pl->l.dev != d->dev || pl->l.ino != d->ino ||
	    d->kind != FDK_FILE || (d->flags & O_PATH) ||
	    (!pl->l.write && (d->flags & O_ACCMODE) == O_RDONLY))
		return 0;
	describe_holder(pl, holder, sizeof(holder));
	return sd_errx(r->ctx, -EBUSY,
		       "cannot restore pid %d: cannot open '%s' (fd %d) again: %s, which opening it would break",
		       r->pid, d->path, d->fd, holder);
}

/* Whether check_lease() or check_one() could refuse anything of @d. */
static bool may_conflict(const struct fd_state *d)
{
	if (!same_file(d))
		return false;
	return d->nlocks > 0 || (d->kind == FDK_FILE && !(d->flags & O_PATH));
}

int sd_rst_check_locks(struct rst *r)
{
	_cleanup_free_ struct proc_lock *held = NULL;
	_cleanup_free_ char *text = NULL;
	size_t n = 0, cap = 0;
	bool any = false;
	int e;

	/* /proc/locks is read only if some fd has something to check in it (it may take ms) */
	for (size_t i = 0; i < r->fs.n && !any; i++)
		any = may_conflict(&r->fs.fds[i]);
	if (!any)
		return 0;
	e = sd_read_file(AT_FDCWD, "/proc/locks", &text, NULL);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot read '/proc/locks'");
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");

		e = ARRAY_RESERVE(held, cap, n + 1, 64);
		if (e < 0)
			return sd_err(r->ctx, e, "cannot read '/proc/locks'");
		/* the restored process does not exist yet: every lock is someone else's */
		if (sd_proc_parse_lock(line, &held[n]) == 0)
			n++;
		line += len + (line[len] != '\0');
	}
	/* in the order of the fds: the first of them in the way is named */
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (!same_file(d))
			continue;
		for (size_t h = 0; e == 0 && h < n; h++)
			e = check_lease(r, d, &held[h]);
		for (size_t k = 0; k < d->nlocks; k++)
			for (size_t h = 0; e == 0 && h < n; h++)
				e = check_one(r, d, &d->locks[k], &held[h]);
		if (e < 0)
			return e;
	}
	return 0;
}

/* Lock @l taken again through fd @d of the new process, without waiting. */
static int take_lock(struct rst *r, const struct fd_state *d, const struct lock_state *l)
{
	struct flock fl = {
		.l_type = l->write ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = (off_t)l->start,
		/* 0: to the end of the file, however long it grows */
		.l_len = l->end == LOCK_EOF ? 0 : (off_t)(l->end - l->start + 1),
	};
	char what[LOCK_DESCRIBE_MAX];
	uint64_t a;
	long ret;
	int e;

	switch (l->kind) {
	case FLK_POSIX:
	case FLK_OFD:
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, &fl, sizeof(fl), &a);
		if (e < 0)
			return e;
		e = sd_rst_try(r, SYS_fcntl, d->fd, l->kind == FLK_POSIX ? F_SETLK : F_OFD_SETLK, (long)a,
			    &ret);
		break;
	case FLK_FLOCK:
		e = sd_rst_try(r, SYS_flock, d->fd, (l->write ? LOCK_EX : LOCK_SH) | LOCK_NB, 0, &ret);
		break;
	case FLK_LEASE:
		e = sd_rst_try(r, SYS_fcntl, d->fd, F_SETLEASE, l->write ? F_WRLCK : F_RDLCK, &ret);
		break;
	default:
		e = -EINVAL;
	}
	if (e == 0)
		return 0;
	sd_lock_describe(l, what);
	if (e == -EAGAIN || e == -EACCES)
		return sd_errx(r->ctx, -EBUSY,
			       "cannot restore pid %d: cannot take the %s again, through fd %d on '%s': another process holds it, or one in its way, now",
			       r->pid, what, d->fd, d->path);
	return sd_err(r->ctx, e, "cannot restore pid %d: cannot take the %s again, through fd %d on '%s'",
		      r->pid, what, d->fd, d->path);
}

int sd_rst_take_locks(struct rst *r)
{
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		for (size_t k = 0; k < d->nlocks; k++) {
			int e = take_lock(r, d, &d->locks[k]);

			if (e < 0)
				return e;
		}
	}
	return 0;
}
