/* SPDX-License-Identifier: MIT */
/*
 * An fd beyond its kind: the owner and signal of its I/O signals, the locks
 * held through it, the fds sharing its open file description.
 *
 * The locks come from the "lock:" lines of each fd's fdinfo, which list the
 * locks held through that fd's open file description (fs/locks.c
 * show_fd_locks(): a POSIX lock under the fds of the description it was
 * taken through, an OFD or flock lock or a lease under every fd of its
 * description), so that the restore can take each again through the same
 * fd. /proc/locks is read once, to refuse a lock the process holds that no
 * fd of it shows (a flock lock on a file only mapped now, say); a final
 * dump starts that read at the freeze (its reader sleeps for an RCU grace
 * period, 7-16 ms), and takes it here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "compat.h"
#include "dump_fd_extra.h"
#include "proc_locks.h"
#include "procfs.h"
#include "util.h"

/* Flags no restore of the fd's kind could give back. */
static int check_flags(struct sdump_ctx *ctx, const struct fd_probe *p, const struct fd_state *d)
{
	if ((d->flags & O_PATH) && (d->kind == FDK_PIPE || d->kind == FDK_TTY))
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is an O_PATH fd of a %s (%s), not supported yet",
			       p->pid, p->fd, d->kind == FDK_PIPE ? "pipe" : "terminal", p->path);
	return 0;
}

/*
 * Whether a restore gives the owner @o of fd @p back: the process or one
 * of its threads (same ids), another member of its tree (made, with its
 * pid, before any member's fds get their owners), or a process group the
 * process or a member leads (restored as the leader it is; the restore
 * checks that the group is there again).
 */
static bool owner_restorable(const struct fd_probe *p, const struct f_owner_ex *o)
{
	char path[PROC_PATH_MAX];

	if (o->pid == 0)
		return true;
	switch (o->type) {
	case F_OWNER_PID:
		return o->pid == p->pid || sd_fd_probe_tree_has(p, o->pid);
	case F_OWNER_TID:
		/* another member's threads are made with the rest of it: only its main one is there */
		return access(sd_proc_path(path, p->pid, "task/%d", o->pid), F_OK) == 0 ||
		       sd_fd_probe_tree_has(p, o->pid);
	case F_OWNER_PGRP:
		return (o->pid == p->pid || sd_fd_probe_tree_has(p, o->pid)) && getpgid(o->pid) == o->pid;
	default:
		return false;
	}
}

/* F_GETOWN_EX and F_GETSIG, on our copy of the fd: both belong to its open file description. */
static int collect_owner(struct sdump_ctx *ctx, const struct fd_probe *p, struct fd_state *d)
{
	static const char *const types[] = { "thread", "process", "process group" };
	struct f_owner_ex o = { 0 };
	int copy, sig = 0, r = 0;

	/* an O_PATH fd has neither (fcntl() refuses both) */
	if (d->flags & O_PATH)
		return 0;
	copy = sd_fd_probe_take(ctx, p);
	if (copy < 0)
		return copy;
	if (fcntl(copy, F_GETOWN_EX, &o) < 0 || (sig = fcntl(copy, F_GETSIG)) < 0)
		r = -errno;
	(void)close(copy);
	if (r < 0)
		return sd_err(ctx, r, "cannot read the owner of fd %d of pid %d", p->fd, p->pid);
	if (!owner_restorable(p, &o))
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d (%s) sends its I/O signals (F_SETOWN) to %s %d, outside the process and its tree; only the process, its threads, a member of its tree or a group one of them leads can be restored as owner",
			       p->pid, p->fd, p->path,
			       (unsigned int)o.type < ARRAY_SIZE(types) ? types[o.type] : "owner", o.pid);
	d->owner_type = o.type;
	d->owner_pid = o.pid;
	d->signum = sig;
	return 0;
}

/* The "lock:" lines of the fd's fdinfo. */
static int collect_locks(struct sdump_ctx *ctx, const struct fd_probe *p, const char *info,
			 struct fd_state *d)
{
	const char *l;
	size_t n = 0;

	for (l = info; (l = strstr(l, "\nlock:\t")); l++)
		n++;
	if (!n)
		return 0;
	d->locks = calloc(n, sizeof(*d->locks));
	if (!d->locks)
		return sd_err(ctx, -ENOMEM, "cannot read the locks of fd %d of pid %d", p->fd, p->pid);
	for (l = info; (l = strstr(l, "\nlock:\t")); l++) {
		struct proc_lock pl;
		int r = sd_proc_parse_lock(l + strlen("\nlock:\t"), &pl);

		if (r == -EOPNOTSUPP)
			return sd_refuse(ctx, r, "cannot dump pid %d: fd %d (%s) holds a lock sdump does not know: '%.*s'",
				       p->pid, p->fd, p->path, (int)strcspn(l + 7, "\n"), l + 7);
		if (r < 0)
			return sd_errx(ctx, -EBADMSG, "cannot read the locks of fd %d of pid %d: '%.*s'",
				       p->fd, p->pid, (int)strcspn(l + 7, "\n"), l + 7);
		if (pl.breaking)
			return sd_refuse(ctx, -EBUSY, "cannot dump pid %d: fd %d (%s) holds a lease that is being broken; dump it once the lease is given up",
				       p->pid, p->fd, p->path);
		d->locks[d->nlocks++] = pl.l;
	}
	return 0;
}

int sd_dump_fd_extra(struct sdump_ctx *ctx, const struct fd_probe *p, const char *info,
		  struct fd_state *d)
{
	int r = check_flags(ctx, p, d);

	if (r == 0)
		r = collect_owner(ctx, p, d);
	if (r == 0)
		r = collect_locks(ctx, p, info, d);
	return r;
}

struct kcmp_ctx {
	pid_t pid;
	const struct files_state *fs;
	int err;
};

/*
 * kcmp(KCMP_FILE): 0 for one open file description, 1 and 2 order two
 * others (by their address, scrambled: a total order for one boot).
 */
static long kcmp_file(pid_t pid, int a, int b)
{
	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b);
}

/* qsort_r: by file, then by fd */
static int cmp_file(const void *pa, const void *pb, void *arg)
{
	const struct files_state *fs = arg;
	const struct fd_state *a = &fs->fds[*(const size_t *)pa];
	const struct fd_state *b = &fs->fds[*(const size_t *)pb];

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	return a->fd < b->fd ? -1 : a->fd > b->fd;
}

/* qsort_r, the fds of one file: by open file description (kcmp), then by fd */
static int cmp_desc(const void *pa, const void *pb, void *arg)
{
	struct kcmp_ctx *k = arg;
	const struct fd_state *a = &k->fs->fds[*(const size_t *)pa];
	const struct fd_state *b = &k->fs->fds[*(const size_t *)pb];
	long c = a->fd == b->fd ? 0 : kcmp_file(k->pid, a->fd, b->fd);

	if (c < 0 && !k->err)
		k->err = -errno;
	if (c == 1 || c == 2)
		return c == 1 ? -1 : 1;
	return a->fd < b->fd ? -1 : a->fd > b->fd;
}

/*
 * Which fds share an open file description (dup(), fork): the fds of each
 * file sorted by description, the lowest of each run is the one the others
 * are dups of. Only fds of one file are compared: n log n kcmp calls at
 * worst, none for a table of distinct files.
 */
static int find_shared(struct sdump_ctx *ctx, pid_t pid, struct files_state *fs)
{
	struct kcmp_ctx k = { .pid = pid, .fs = fs };
	size_t *ix = calloc(fs->n ? fs->n : 1, sizeof(*ix));
	int r = 0;

	if (!ix)
		return sd_err(ctx, -ENOMEM, "cannot list the fds of pid %d", pid);
	for (size_t i = 0; i < fs->n; i++)
		ix[i] = i;
	/* by file first (no kcmp), then the fds of each file by description */
	qsort_r(ix, fs->n, sizeof(*ix), cmp_file, fs);
	for (size_t i = 0, j; i < fs->n && r == 0; i = j) {
		const struct fd_state *a = &fs->fds[ix[i]];

		for (j = i + 1; j < fs->n && fs->fds[ix[j]].dev == a->dev && fs->fds[ix[j]].ino == a->ino;)
			j++;
		if (j - i < 2)
			continue;
		qsort_r(ix + i, j - i, sizeof(*ix), cmp_desc, &k);
		for (size_t m = i + 1; m < j && !k.err; m++) {
			struct fd_state *prev = &fs->fds[ix[m - 1]], *d = &fs->fds[ix[m]];
			long c = kcmp_file(pid, prev->fd, d->fd);

			if (c < 0)
				k.err = -errno;
			else if (c == 0) {
				/* sorted by fd within a description: prev is the lowest or a dup of it */
				d->has_dup_of = true;
				d->dup_of = prev->has_dup_of ? prev->dup_of : prev->fd;
			}
		}
		r = k.err;
	}
	free(ix);
	if (r == -ENOSYS)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: several of its fds are one file, and this kernel has no kcmp() (CONFIG_KCMP) to tell whether they share an open file description",
			       pid);
	if (r < 0)
		return sd_err(ctx, r, "cannot compare the fds of pid %d (kcmp)", pid);
	return 0;
}

/*
 * Every lock /proc/locks says pid @pid took (POSIX locks, and the flock
 * locks and leases it took that it still holds) must be one that the fds
 * show: one a restore takes again. OFD locks name no pid there.
 */
/*
 * A flock() lock no fd shows may be held through a mapping's open file (a
 * file locked, mapped, then closed, as the JVM does with its hsperfdata
 * file): marked on the first VMA of @vmas mapping that file not marked yet,
 * for the restore to take it again through the file it maps.
 */
static bool held_by_mapping(const struct proc_lock *pl, struct vma_list *vmas)
{
	for (size_t i = 0; vmas && pl->l.kind == FLK_FLOCK && i < vmas->n; i++) {
		struct vma *v = &vmas->v[i];

		if ((v->kind == VK_FILE || v->kind == VK_FILE_SHARED) && !v->flock && v->ino == pl->l.ino &&
		    ((uint64_t)v->dev_major << 32 | v->dev_minor) == pl->l.dev) {
			v->flock = pl->l.write ? 2 : 1;
			return true;
		}
	}
	return false;
}

/*
 * A flock() lock no fd of @pid shows may be held through an fd another
 * member of its tree has of the same open file description (taken, then
 * the fd inherited over fork() and closed here): that member's fdinfo
 * shows it, and its restore takes it again through that fd.
 */
static bool held_by_member(const struct proc_lock *pl, pid_t pid, const pid_t *members, size_t nmembers)
{
	for (size_t k = 0; pl->l.kind == FLK_FLOCK && k < nmembers; k++) {
		char path[PROC_PATH_MAX];
		struct dirent *e;
		DIR *d;
		bool found = false;

		if (members[k] == pid || !(d = opendir(sd_proc_path(path, members[k], "fdinfo"))))
			continue;
		while (!found && (e = readdir(d))) {
			_cleanup_free_ char *info = NULL;
			const char *l;

			if (e->d_name[0] == '.' ||
			    sd_read_file(dirfd(d), e->d_name, &info, NULL) < 0)
				continue;
			for (l = info; !found && (l = strstr(l, "\nlock:\t")); l++) {
				struct proc_lock o;

				found = sd_proc_parse_lock(l + strlen("\nlock:\t"), &o) == 0 && o.l.kind == FLK_FLOCK &&
					o.l.write == pl->l.write && o.l.dev == pl->l.dev && o.l.ino == pl->l.ino;
			}
		}
		(void)closedir(d);
		if (found)
			return true;
	}
	return false;
}

static int check_all_locks_seen(struct sdump_ctx *ctx, pid_t pid, struct bg_read *locks,
				const struct files_state *fs, struct vma_list *vmas, const pid_t *members,
				size_t nmembers)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ bool *used = NULL;
	size_t nl = 0;
	int r;

	for (size_t i = 0; i < fs->n; i++)
		nl += fs->fds[i].nlocks;
	r = sd_bg_read_take(locks, "/proc/locks", &text, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '/proc/locks'");
	used = calloc(nl ? nl : 1, sizeof(*used));
	if (!used)
		return sd_err(ctx, -ENOMEM, "cannot read '/proc/locks'");
	for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
		struct proc_lock pl;
		char what[LOCK_DESCRIBE_MAX];
		bool seen = false;
		int lp = 0;

		r = sd_proc_parse_lock(line, &pl);
		if (r == -EBADMSG && sscanf(line, "%*s %*s %*s %*s %d", &lp) == 1 && lp == pid)
			return sd_errx(ctx, -EBADMSG, "cannot read a lock of pid %d in '/proc/locks': '%.*s'",
				       pid, (int)strcspn(line, "\n"), line);
		if (r < 0 || pl.pid != pid || pl.l.kind == FLK_OFD)
			continue;
		for (size_t i = 0, n = 0; i < fs->n && !seen; i++) {
			for (size_t k = 0; k < fs->fds[i].nlocks && !seen; k++, n++) {
				const struct lock_state *l = &fs->fds[i].locks[k];

				if (!used[n] && l->kind == pl.l.kind && l->write == pl.l.write &&
				    l->dev == pl.l.dev && l->ino == pl.l.ino && l->start == pl.l.start &&
				    l->end == pl.l.end)
					seen = used[n] = true;
			}
		}
		if (seen || held_by_mapping(&pl, vmas) || held_by_member(&pl, pid, members, nmembers))
			continue;
		sd_lock_describe(&pl.l, what);
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: it holds a %s on inode %x:%x:%llu that none of its fds shows (a file only mapped now, or an fd given away), and a restore could not take it again",
			       pid, what, (unsigned int)(pl.l.dev >> 32), (unsigned int)pl.l.dev,
			       (unsigned long long)pl.l.ino);
	}
	return 0;
}

/*
 * A pipe in packet mode (O_DIRECT on one of its ends) keeps the boundaries
 * of the writes in what it holds; the bytes a dump keeps have none.
 */
static int check_packet_pipes(struct sdump_ctx *ctx, pid_t pid, const struct files_state *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct fd_state *d = &fs->fds[i];

		if (!d->has_pipe_data || !d->pipe_data_len)
			continue;
		for (size_t k = 0; k < fs->n; k++) {
			const struct fd_state *e = &fs->fds[k];

			if ((e->kind == FDK_PIPE || e->kind == FDK_FIFO) && e->ino == d->ino &&
			    e->dev == d->dev && (e->flags & O_DIRECT))
				return sd_refuse(ctx, -EOPNOTSUPP,
					       "cannot dump pid %d: fd %d is a pipe in packet mode (O_DIRECT) holding %zu bytes, whose packet boundaries sdump cannot save yet; dump it once the pipe is empty",
					       pid, e->fd, d->pipe_data_len);
		}
	}
	return 0;
}

void sd_dump_fd_locks_prime(void)
{
	_cleanup_free_ char *text = NULL;

	(void)sd_read_file(AT_FDCWD, "/proc/locks", &text, NULL);
}

int sd_dump_fd_locks_seen(struct sdump_ctx *ctx, pid_t pid, struct bg_read *locks,
			  const struct files_state *fs, struct vma_list *vmas, const pid_t *members,
			  size_t nmembers)
{
	return check_all_locks_seen(ctx, pid, locks, fs, vmas, members, nmembers);
}

int sd_dump_fd_table(struct sdump_ctx *ctx, pid_t pid, struct files_state *fs)
{
	int r = find_shared(ctx, pid, fs);

	/* a description's locks are listed under each of its fds: kept on the lowest */
	for (size_t i = 0; r == 0 && i < fs->n; i++) {
		if (fs->fds[i].has_dup_of) {
			zfree(&fs->fds[i].locks);
			fs->fds[i].nlocks = 0;
		}
	}
	if (r == 0)
		r = check_packet_pipes(ctx, pid, fs);
	return r;
}
