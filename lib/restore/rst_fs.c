/* SPDX-License-Identifier: MIT */
/*
 * Restore: the working and root directories, last but the credentials
 * (after a chroot the paths of the new process resolve in its new root).
 *
 * A cwd or root that was removed before the dump (dump_fs.c) comes back
 * removed: sdump makes an empty directory at its path (and its parents that
 * were removed with it), removes them again and only then gives them their
 * mode and owner, through fds it keeps open; until then they are sdump's
 * own and mode 0700, so that nobody else can put anything into them in
 * between. The new process enters them through those fds. An fd of a
 * removed directory is the same directory where it was the cwd's (or one
 * of its removed parents), and one whose parents were removed too comes
 * back with them. A restore leaves none of them behind, whatever fails.
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
#include "ghost_img.h"
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

/*
 * The chains of removed directories to make: the cwd's, the root's, and
 * those of each fd of a removed directory whose parents were removed with
 * it (one that is the cwd's or root's is made with theirs).
 */
struct removed_chain_in {
	const char *link;		/* "PATH (deleted)" */
	size_t n;			/* levels: 0 the directory itself */
	struct removed_dir at[REMOVED_DIRS_MAX];
};

/* Make the removed directories of @c again (but those made already), parents first. */
static int make_chain(struct rst *r, const struct removed_chain_in *c)
{
	char path[4096];

	for (size_t i = c->n; i-- > 0;) {
		struct rst_removed_dir *m = &r->removed[r->nremoved];
		bool have = false;

		if (sd_removed_dir_path(c->link, i, path, sizeof(path)) < 0)
			return -EBADMSG;
		for (size_t k = 0; k < r->nremoved; k++)
			have = have || !strcmp(r->removed[k].path, path);
		if (have)
			continue;
		if (r->nremoved == r->removed_cap)
			return sd_errx(r->ctx, -E2BIG, "cannot restore pid %d: more removed directories than %zu",
				       r->pid, r->removed_cap);
		m->path = strdup(path);
		if (!m->path)
			return -ENOMEM;
		if (mkdir(path, 0700) < 0) {
			zfree(&m->path);
			return sd_err(r->ctx, -errno, "cannot make the removed directory '%s' of pid %d again",
				      path, r->pid);
		}
		m->want = c->at[i];
		m->fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r->nremoved++;
		if (m->fd < 0)
			return sd_err(r->ctx, -errno, "cannot open '%s', made for pid %d", path, r->pid);
	}
	return 0;
}

/* Our fd of the removed directory made at level @level of @link, or -1. */
static int made_fd(const struct rst *r, const char *link, size_t level)
{
	char path[4096];

	if (sd_removed_dir_path(link, level, path, sizeof(path)) < 0)
		return -1;
	for (size_t k = 0; k < r->nremoved; k++)
		if (!strcmp(r->removed[k].path, path))
			return r->removed[k].fd;
	return -1;
}

static void chain_of(struct removed_chain_in *c, const char *link, const struct removed_dir *d, size_t n)
{
	c->link = link;
	c->n = n;
	memcpy(c->at, d, n * sizeof(*d));
}

/* @d's chain: itself (its ghost's mode and owner), then its removed parents. */
static int chain_of_fd(struct rst *r, const struct fd_state *d, struct removed_chain_in *c)
{
	const struct ghost_file *f = sd_ghost_set_find(&r->ghosts, d->ghost);

	if (!f)
		return -EBADMSG;
	c->link = d->path;
	c->n = d->nremoved_parents + 1;
	c->at[0] = (struct removed_dir){ f->mode & 07777, f->uid, f->gid };
	for (size_t k = 0; k < d->nremoved_parents; k++)
		c->at[k + 1] = (struct removed_dir){ d->removed_parents[3 * k], d->removed_parents[3 * k + 1],
						     d->removed_parents[3 * k + 2] };
	return 0;
}

/*
 * Made before the new process exists (the ghosts' step): each removed
 * directory, parents first, opened, then all removed again (deepest
 * first) and only then given their mode and owner, so that nobody else
 * could use them between. Held open: an fd of one becomes its ghost's copy
 * (the same directory as the cwd's where it was), the cwd and root are
 * entered through them.
 */
int sd_rst_prepare_removed(struct rst *r)
{
	struct fs_dir dirs[2];
	struct removed_chain_in c;
	int e = 0;

	fs_dirs(&r->ps, dirs);
	sd_rst_removed_release(r); /* a migration's receiver reads the state again at its last pass */
	r->removed_cap = 2 * REMOVED_DIRS_MAX;
	for (size_t i = 0; i < r->fs.n; i++)
		r->removed_cap += r->fs.fds[i].nremoved_parents + 1;
	r->removed = calloc(r->removed_cap, sizeof(*r->removed));
	if (!r->removed)
		return -ENOMEM;
	for (int w = 0; w < 2 && e == 0; w++) {
		chain_of(&c, dirs[w].link, dirs[w].removed, dirs[w].nremoved);
		e = make_chain(r, &c);
	}
	for (size_t i = 0; i < r->fs.n && e == 0; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (d->kind == FDK_GHOST && d->nremoved_parents) {
			e = chain_of_fd(r, d, &c);
			if (e == 0)
				e = make_chain(r, &c);
		}
	}
	for (size_t k = r->nremoved; k-- > 0;) {
		if (rmdir(r->removed[k].path) == 0)
			continue;
		if (e == 0)
			e = sd_err(r->ctx, -errno, "cannot remove '%s' again, made for pid %d", r->removed[k].path,
				   r->pid);
		else
			pr_warn(r->ctx, "cannot remove '%s', made for pid %d, ignoring: %s", r->removed[k].path,
				r->pid, strerror(errno));
	}
	for (size_t k = 0; e == 0 && k < r->nremoved; k++) {
		const struct removed_dir *d = &r->removed[k].want;

		if (fchown(r->removed[k].fd, d->uid, d->gid) < 0 || fchmod(r->removed[k].fd, d->mode) < 0)
			e = sd_err(r->ctx, -errno, "cannot give the removed directory '%s' of pid %d its owner and mode",
				   r->removed[k].path, r->pid);
	}
	/* an fd of one of them: that directory is its copy */
	for (size_t i = 0; i < r->fs.n && e == 0; i++) {
		const struct fd_state *d = &r->fs.fds[i];
		const char *link = d->removed_of == REMOVED_OF_CWD ? r->ps.cwd : r->ps.root;
		int fd = -1;

		if (d->kind != FDK_GHOST || d->ghost < 1 || d->ghost > r->ghosts.n ||
		    r->ghost_fds[d->ghost - 1] >= 0 || (!d->removed_of && !d->nremoved_parents))
			continue;
		fd = d->removed_of ? made_fd(r, link, d->removed_level) : made_fd(r, d->path, 0);
		if (fd < 0)
			return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: fd %d names a removed directory it does not have",
				       r->chain.p[0].dir.path, d->fd);
		r->ghost_fds[d->ghost - 1] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (r->ghost_fds[d->ghost - 1] < 0)
			e = sd_err(r->ctx, -errno, "cannot restore pid %d", r->pid);
	}
	return e;
}

void sd_rst_removed_release(struct rst *r)
{
	for (size_t k = 0; r->removed && k < r->nremoved; k++) {
		zclose(&r->removed[k].fd);
		free(r->removed[k].path);
	}
	zfree(&r->removed);
	r->nremoved = 0;
}

/* Enter @d in the new process: chdir, or chroot for the root; a removed one through our fd of it. */
static int enter(struct rst *r, const struct fs_dir *d, bool root)
{
	char path[4096], name[4096];
	uint64_t a;
	long ret, fd;
	int e;

	(void)snprintf(path, sizeof(path), "%s", d->link);
	(void)snprintf(name, sizeof(name), "%s", d->link);
	if (d->nremoved && sd_removed_dir_path(d->link, 0, name, sizeof(name)) < 0)
		return -EBADMSG;
	if (d->nremoved) {
		int ours = made_fd(r, d->link, 0);

		if (ours < 0)
			return -EBADMSG;
		(void)snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), ours);
	}
	if (d->nremoved && !root) {
		e = sd_rst_open_in_child(r, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, &fd);
		if (e < 0)
			return e;
		e = sd_rst_try(r, SYS_fchdir, fd, 0, 0, &ret);
		(void)sd_rst_call(r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	} else {
		sd_rst_data_reset(r);
		e = sd_rst_data_str(r, path, &a);
		if (e == 0)
			e = sd_rst_try(r, root ? SYS_chroot : SYS_chdir, (long)a, 0, 0, &ret);
	}
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore the %s '%s' of pid %d", d->what, name, r->pid);
	return 0;
}

int sd_rst_restore_fs(struct rst *r)
{
	struct fs_dir dirs[2];
	int e;

	fs_dirs(&r->ps, dirs);
	e = enter(r, &dirs[0], false);
	if (e == 0 && strcmp(r->ps.root, "/"))
		e = enter(r, &dirs[1], true);
	return e;
}
