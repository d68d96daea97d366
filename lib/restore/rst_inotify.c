/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: an inotify, made in the new process, its watches added
 * from here on a copy of it (pidfd_getfd(): the same inotify, no system
 * call injected per watch) with the same watch descriptors.
 *
 * The kernel gives watch descriptors in turn (idr_alloc_cyclic from 1:
 * each new watch gets the lowest free number above the last one given,
 * proven on 6.18), so a number below the next watch's is used up by a
 * watch of a placeholder directory removed at once; the IN_IGNORED event
 * each removal queues is read away. Each watch is added by its path with
 * IN_DONT_FOLLOW (the path names the watched inode itself) once the path
 * is seen to be that inode still; the new inotify's fdinfo must then show
 * what the dump saw.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "procfs.h"
#include "pstate.h"
#include "restore.h"
#include "rst_fd_anon.h"
#include "util.h"

static uint64_t dev_of(const struct stat *st)
{
	return (uint64_t)major(st->st_dev) << 32 | minor(st->st_dev);
}

/* A directory none of the watches is on, for the placeholders. */
static const char *placeholder(const struct fd_anon_state *a)
{
	static const char *const dirs[] = { "/", "/proc", "/dev", "/sys", "/tmp" };

	for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		struct stat st;
		bool used = false;

		if (lstat(dirs[k], &st) < 0)
			continue;
		for (size_t i = 0; i < a->ninotify && !used; i++)
			used = a->inotify[i].ino == st.st_ino && a->inotify[i].dev == dev_of(&st);
		if (!used)
			return dirs[k];
	}
	return NULL;
}

/* The events queued on @fd read away (the IN_IGNORED of a removed placeholder). */
static int drain(int fd)
{
	char buf[4096];
	int n = 0;

	while (ioctl(fd, FIONREAD, &n) == 0 && n > 0)
		if (read(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf)) <= 0)
			return -errno;
	return n < 0 ? -EIO : 0;
}

static int add_watches(struct rst *r, const struct fd_state *d, int fd)
{
	const struct fd_anon_state *a = &d->anon;
	const char *ph = placeholder(a);
	int next = 1;

	if (a->ninotify && !ph)
		return sd_errx(r->ctx, -EOPNOTSUPP, "cannot restore pid %d: inotify %d watches every directory sdump would use to give its watch descriptors back",
			       r->pid, d->fd);
	for (size_t i = 0; i < a->ninotify; i++) {
		const struct inotify_watch *w = &a->inotify[i];
		struct stat st;
		int wd;

		for (; next < w->wd; next++) {
			wd = inotify_add_watch(fd, ph, IN_ATTRIB | IN_DONT_FOLLOW);
			if (wd >= 0)
				(void)inotify_rm_watch(fd, wd);
			if (wd != next || drain(fd) < 0)
				return sd_errx(r->ctx, -EOPNOTSUPP,
					       "cannot restore pid %d: inotify %d cannot have its watch descriptor %d again (the kernel gave %d)",
					       r->pid, d->fd, next, wd);
		}
		if (lstat(w->path, &st) < 0 || st.st_ino != w->ino || dev_of(&st) != w->dev)
			return sd_errx(r->ctx, -ESTALE,
				       "cannot restore pid %d: '%s', which inotify %d watches, is another file now or gone",
				       r->pid, w->path, d->fd);
		wd = inotify_add_watch(fd, w->path, w->mask | IN_DONT_FOLLOW);
		if (wd < 0)
			return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot watch '%s' again (inotify %d)",
				      r->pid, w->path, d->fd);
		if (wd != w->wd)
			return sd_errx(r->ctx, -EOPNOTSUPP,
				       "cannot restore pid %d: inotify %d got watch descriptor %d for '%s', not %d",
				       r->pid, d->fd, wd, w->path, w->wd);
		next = wd + 1;
	}
	return 0;
}

/* What the new inotify's fdinfo shows: the watches of the image, with their masks and inodes. */
static int check_watches(struct rst *r, const struct fd_state *d, int fd)
{
	_cleanup_free_ char *info = NULL;
	struct inotify_watch *got = NULL;
	char path[PROC_PATH_MAX];
	size_t n = 0, i = 0;
	int e;

	e = sd_read_file(AT_FDCWD, sd_proc_path(path, getpid(), "fdinfo/%d", fd), &info, NULL);
	if (e == 0)
		e = sd_proc_parse_inotify(info, &got, &n);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot read '%s'", path);
	while (i < n && i < d->anon.ninotify && got[i].wd == d->anon.inotify[i].wd &&
	       got[i].mask == d->anon.inotify[i].mask && got[i].ino == d->anon.inotify[i].ino &&
	       got[i].dev == d->anon.inotify[i].dev)
		i++;
	if (i < n || i < d->anon.ninotify)
		e = sd_errx(r->ctx, -EOPNOTSUPP,
			    "cannot restore pid %d: inotify %d came back with %zu watches, not %zu, or watch %d differs",
			    r->pid, d->fd, n, d->anon.ninotify,
			    i < d->anon.ninotify ? d->anon.inotify[i].wd : got[i].wd);
	free(got);
	return e;
}

int sd_rst_inotify_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	int copy, e;
	long tmp;

	e = sd_rst_call(r, SYS_inotify_init1, (long)(d->flags & (O_NONBLOCK | O_CLOEXEC)), 0, 0, 0, 0, 0, &tmp);
	if (e < 0 || !d->anon.ninotify) {
		if (e == 0)
			*ret_tmp = tmp;
		return e;
	}
	copy = sd_rst_take_fd(r, tmp);
	if (copy < 0)
		e = sd_err(r->ctx, copy, "cannot take the new inotify %d of pid %d", d->fd, r->pid);
	if (e == 0)
		e = add_watches(r, d, copy);
	if (e == 0)
		e = check_watches(r, d, copy);
	if (copy >= 0)
		(void)close(copy);
	if (e < 0) {
		(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
		return e;
	}
	*ret_tmp = tmp;
	return 0;
}
