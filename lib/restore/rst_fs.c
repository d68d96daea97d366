/* SPDX-License-Identifier: MIT */
/*
 * Restore: the working and root directories, last but the credentials
 * (after a chroot the paths of the new process resolve in its new root).
 *
 * A cwd or root that was removed before the dump (dump_fs.c) comes back
 * removed: sdump makes an empty directory at its path (and its parents that
 * were removed with it), the new process enters it, sdump removes them
 * again and only then gives them their mode and owner, through fds it kept
 * open. Until then they are sdump's own and mode 0700, so that nobody
 * else can put anything into them in between. A restore leaves none of
 * them behind, whatever fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate.h"
#include "procfs.h"
#include "restore.h"
#include "util.h"

struct fs_dir {
	const char *what;		/* "working directory", "root directory" */
	const char *link;		/* as read at the dump */
	size_t nremoved;
	const struct removed_dir *removed;
};

static void fs_dirs(const struct process_state *ps, struct fs_dir ret[2])
{
	ret[0] = (struct fs_dir){ "working directory", ps->cwd, ps->ncwd_removed, ps->cwd_removed };
	ret[1] = (struct fs_dir){ "root directory", ps->root, ps->nroot_removed, ps->root_removed };
}

int sd_rst_check_fs(struct rst *r)
{
	struct fs_dir dirs[2];
	char path[4096], top[4096], up[4096];
	struct stat st;

	fs_dirs(&r->ps, dirs);
	for (int w = 0; w < 2; w++) {
		const struct fs_dir *d = &dirs[w];

		if (!d->nremoved)
			continue;
		/* both paths were checked when the image was read */
		if (sd_removed_dir_path(d->link, 0, path, sizeof(path)) < 0 ||
		    sd_removed_dir_path(d->link, d->nremoved - 1, top, sizeof(top)) < 0 ||
		    sd_removed_dir_path(d->link, d->nremoved, up, sizeof(up)) < 0)
			return -EBADMSG;
		if (lstat(top, &st) == 0)
			return sd_errx(r->ctx, -EEXIST,
				       "cannot restore pid %d: its %s '%s' was removed, and '%s' exists again; move it away first",
				       r->pid, d->what, path, top);
		if (errno != ENOENT)
			return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot look at '%s'", r->pid, top);
		if (stat(up, &st) < 0 || !S_ISDIR(st.st_mode))
			return sd_errx(r->ctx, -ENOENT,
				       "cannot restore pid %d: its %s '%s' was removed, and '%s', where it was, is no directory now; make it again first",
				       r->pid, d->what, path, up);
	}
	return 0;
}

struct made_dir {
	char *path;
	int fd;
	const struct removed_dir *removed;
};

/* Make the removed directories of @d again (but those made already), parents first. */
static int make_removed(struct rst *r, const struct fs_dir *d, struct made_dir *made, size_t *nmade)
{
	char path[4096];

	for (size_t i = d->nremoved; i-- > 0;) {
		struct made_dir *m = &made[*nmade];
		bool have = false;

		if (sd_removed_dir_path(d->link, i, path, sizeof(path)) < 0)
			return -EBADMSG;
		for (size_t k = 0; k < *nmade; k++)
			have = have || !strcmp(made[k].path, path);
		if (have)
			continue;
		m->path = strdup(path);
		if (!m->path)
			return -ENOMEM;
		if (mkdir(path, 0700) < 0) {
			zfree(&m->path);
			return sd_err(r->ctx, -errno, "cannot make the removed %s '%s' of pid %d again",
				      d->what, path, r->pid);
		}
		m->removed = &d->removed[i];
		m->fd = -1;
		(*nmade)++;
		m->fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (m->fd < 0)
			return sd_err(r->ctx, -errno, "cannot open '%s', made for pid %d", path, r->pid);
	}
	return 0;
}

/* Whether /proc/PID/@link of the new process is the directory open at @fd. */
static bool is_dir_at(struct rst *r, const char *link, int fd)
{
	char path[PROC_PATH_MAX];
	struct stat a, b;

	return stat(sd_proc_path(path, r->pid, "%s", link), &a) == 0 && fstat(fd, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Enter @d in the new process: chdir, or chroot for the root. */
static int enter(struct rst *r, const struct fs_dir *d, bool root, const struct made_dir *made,
		 size_t nmade)
{
	char path[4096];
	uint64_t a;
	long ret;
	int e;

	(void)snprintf(path, sizeof(path), "%s", d->link);
	if (d->nremoved && sd_removed_dir_path(d->link, 0, path, sizeof(path)) < 0)
		return -EBADMSG;
	sd_rst_data_reset(r);
	e = sd_rst_data_str(r, path, &a);
	if (e == 0)
		e = sd_rst_try(r, root ? SYS_chroot : SYS_chdir, (long)a, 0, 0, &ret);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore the %s '%s' of pid %d", d->what, path, r->pid);
	/* what it entered must be the directory made for it, not one put there since */
	for (size_t k = 0; d->nremoved && k < nmade; k++)
		if (!strcmp(made[k].path, path) && !is_dir_at(r, root ? "root" : "cwd", made[k].fd))
			return sd_errx(r->ctx, -EBUSY,
				       "cannot restore the %s '%s' of pid %d: the directory made for it was replaced",
				       d->what, path, r->pid);
	return 0;
}

int sd_rst_restore_fs(struct rst *r)
{
	struct made_dir made[2 * REMOVED_DIRS_MAX];
	struct fs_dir dirs[2];
	size_t nmade = 0;
	int e;

	fs_dirs(&r->ps, dirs);
	e = make_removed(r, &dirs[0], made, &nmade);
	if (e == 0)
		e = make_removed(r, &dirs[1], made, &nmade);
	if (e == 0)
		e = enter(r, &dirs[0], false, made, nmade);
	if (e == 0 && strcmp(r->ps.root, "/"))
		e = enter(r, &dirs[1], true, made, nmade);
	/* removed again, deepest first (each was made after its parent) */
	for (size_t k = nmade; k-- > 0;) {
		if (rmdir(made[k].path) == 0)
			continue;
		if (e == 0)
			e = sd_err(r->ctx, -errno, "cannot remove '%s' again, made for pid %d", made[k].path,
				   r->pid);
		else
			pr_warn(r->ctx, "cannot remove '%s', made for pid %d, ignoring: %s", made[k].path,
				r->pid, strerror(errno));
	}
	/* removed now, so that nobody else could use them: their owner and mode */
	for (size_t k = 0; e == 0 && k < nmade; k++) {
		const struct removed_dir *d = made[k].removed;

		if (fchown(made[k].fd, d->uid, d->gid) < 0 || fchmod(made[k].fd, d->mode) < 0)
			e = sd_err(r->ctx, -errno, "cannot give the removed directory '%s' of pid %d its owner and mode",
				   made[k].path, r->pid);
	}
	for (size_t k = 0; k < nmade; k++) {
		zclose(&made[k].fd);
		free(made[k].path);
	}
	return e;
}
