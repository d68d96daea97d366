/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4, before anything is made: the fds of the image that are to
 * be dups of fds of ours (r->src) rather than files opened again.
 *
 * A file outside the process (the other end of a pipe it writes into, prog
 * | cat, is another process's) cannot be made again by the restore: the
 * caller hands in an fd of its own to stand in for it, --inherit-fd
 * fd[N]:KEY, where KEY is the fd's link as the image records it
 * ("pipe:[1234]", a path). The new process is a child of ours and starts
 * with our fds at their numbers, so fd N is there to be dup'ed. A pipe to
 * the outside that we hold ourselves (the same pipe, the same end: the
 * stderr a test harness gives both) is the pipe itself, and is taken
 * without being named. Any other pipe to the outside refuses the restore:
 * a new pipe without its other end would fail the process's next write
 * (SIGPIPE), or its next read would see an end of file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

/* "read", "write": the access an fd was open for (a pipe's end) */
static const char *end_name(uint32_t flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return "read";
	case O_WRONLY:
		return "write";
	default:
		return "read-write";
	}
}

/* One of our fds on pipe @d, the same end, or -1. */
static int our_fd_on(const struct fd_state *d)
{
	struct dirent *de;
	int found = -1;
	DIR *dir = opendir("/proc/self/fd");

	if (!dir)
		return -1;
	while (found < 0 && (de = readdir(dir))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		struct stat st;
		int fl;

		if (de->d_name[0] == '.' || *end || fd == dirfd(dir) || fstat((int)fd, &st) < 0)
			continue;
		fl = fcntl((int)fd, F_GETFL);
		if (S_ISFIFO(st.st_mode) && st.st_ino == d->ino &&
		    ((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) == d->dev && fl >= 0 &&
		    (fl & O_ACCMODE) == (int)(d->flags & O_ACCMODE))
			found = (int)fd;
	}
	(void)closedir(dir);
	return found;
}

/* --inherit-fd @in: every fd of the image it names, opened as ours is. */
static int take_one(struct rst *r, const struct sdump_inherit_fd *in)
{
	int fl = fcntl(in->fd, F_GETFL);
	bool any = false;

	if (fl < 0)
		return sd_errx(r->ctx, -EBADF, "cannot restore pid %d: --inherit-fd 'fd[%d]:%s' names fd %d, which sdump does not have open",
			       r->pid, in->fd, in->key, in->fd);
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (strcmp(d->path, in->key))
			continue;
		if ((fl & O_ACCMODE) != (int)(d->flags & O_ACCMODE))
			return sd_errx(r->ctx, -EINVAL,
				       "cannot restore pid %d: fd %d (%s) was open for %s, and sdump's fd %d (--inherit-fd) is open for %s",
				       r->pid, d->fd, d->path, end_name(d->flags), in->fd, end_name((uint32_t)fl));
		r->src[i] = in->fd;
		any = true;
	}
	/* in a tree, another member's fd may be the one it names */
	if (!any && !r->tree)
		return sd_errx(r->ctx, -EINVAL,
			       "cannot restore pid %d: --inherit-fd 'fd[%d]:%s' names no file of its fds (sdump show lists them)",
			       r->pid, in->fd, in->key);
	return 0;
}

int sd_rst_check_inherit(struct rst *r)
{
	const struct sdump_restore_opts *o = r->opts;
	int e;

	r->src = malloc((r->fs.n ? r->fs.n : 1) * sizeof(*r->src));
	if (!r->src)
		return sd_err(r->ctx, -ENOMEM, "cannot restore pid %d", r->pid);
	for (size_t i = 0; i < r->fs.n; i++)
		r->src[i] = -1;
	for (size_t k = 0; k < o->ninherit; k++) {
		e = take_one(r, &o->inherit[k]);
		if (e < 0)
			return e;
	}
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (!d->external || r->src[i] >= 0)
			continue;
		r->src[i] = our_fd_on(d);
		if (r->src[i] >= 0) {
			pr_debug(r->ctx, "pid %d: fd %d (%s) is our fd %d, the same pipe", r->pid, d->fd,
				 d->path, r->src[i]);
			continue;
		}
		return sd_errx(r->ctx, -EINVAL,
			       "cannot restore pid %d: fd %d is the %s end of %s, whose other end was outside the process; give it a pipe to %s instead: --inherit-fd 'fd[N]:%s' with N an fd of sdump's on the %s end of one",
			       r->pid, d->fd, end_name(d->flags), d->path,
			       (d->flags & O_ACCMODE) == O_WRONLY ? "write into" : "read from", d->path,
			       end_name(d->flags));
	}
	return 0;
}
