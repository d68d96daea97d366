/* SPDX-License-Identifier: MIT */
/*
 * A cwd or root that was removed (rmdir of the directory a process is in,
 * or chrooted to): its /proc link reads "PATH (deleted)" and it has no
 * links left. The restore makes an empty directory at PATH again, enters
 * it and removes it (rst_fs.c), so what each removed directory was (mode,
 * owner) is recorded here: the directory, then its parents removed with
 * it, found through "..", which still leads from a removed directory to
 * the one it was in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "state: "
#include "ctx.h"
#include "dump_state.h"
#include "procfs.h"
#include "util.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

int sd_fs_path_hidden(const char *path, uint32_t dev_major, uint32_t dev_minor, uint64_t ino)
{
	struct stat st;
	size_t n = strlen(path);

	/* (a /proc/PID file's inode number is made at each lookup) */
	if (path[0] != '/' || !strncmp(path, "/proc/", 6) || (n > 10 && !strcmp(path + n - 10, " (deleted)")))
		return 0;
	if (lstat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 1 : 0;
	return major(st.st_dev) == dev_major && minor(st.st_dev) == dev_minor && st.st_ino == ino ? 0 : 2;
}

bool sd_fs_is_ended_proc(const char *procpath, const char *link, long *ret_pid)
{
	size_t len = strlen(link);
	struct statfs sf;
	char *end;
	long pid;

	if (strncmp(link, "/proc/", 6) || len <= 10 || strcmp(link + len - 10, " (deleted)"))
		return false;
	pid = strtol(link + 6, &end, 10);
	if (end == link + 6 || (*end != '/' && *end != ' '))
		return false;
	if (statfs(procpath, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		return false;
	*ret_pid = pid;
	return true;
}

struct removed_chain {
	size_t n;
	struct removed_dir d[REMOVED_DIRS_MAX];
	dev_t dev[REMOVED_DIRS_MAX];
	ino_t ino[REMOVED_DIRS_MAX];
};

/*
 * The removed directories of @link ("cwd" or "root") of @pid, whose link
 * reads @path; none when the directory is there (a live directory may be
 * named "x (deleted)": only one without links is removed).
 */
static int removed_chain_read(struct sdump_ctx *ctx, pid_t pid, const char *link, const char *what,
			      const char *path, struct removed_chain *c)
{
	char ppath[PROC_PATH_MAX], name[4096], up[4096];
	struct stat st, live;
	int fd, r = 0;
	long gone;

	c->n = 0;
	if (sd_fs_is_ended_proc(sd_proc_path(ppath, pid, "%s", link), path, &gone))
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: its %s is in /proc/%ld of a process that has ended (%s), which no restore can enter again; let it change to a directory that exists first",
				 pid, what, gone, path);
	if (sd_removed_dir_path(path, 0, name, sizeof(name)) < 0)
		return 0;
	fd = open(sd_proc_path(ppath, pid, "%s", link), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sd_err(ctx, -errno, "cannot open '%s'", ppath);
	for (;;) {
		int next;

		if (fstat(fd, &st) < 0) {
			r = sd_err(ctx, -errno, "cannot look at the %s of pid %d", what, pid);
			break;
		}
		if (st.st_nlink != 0)
			break;
		if (c->n == REMOVED_DIRS_MAX) {
			r = sd_refuse(ctx, -EOPNOTSUPP,
				    "cannot dump pid %d: its %s '%s' was removed with more than %d of its parents, more than a restore makes again; let it change to a directory that exists first",
				    pid, what, name, REMOVED_DIRS_MAX - 1);
			break;
		}
		c->d[c->n] = (struct removed_dir){ st.st_mode & 07777, st.st_uid, st.st_gid };
		c->dev[c->n] = st.st_dev;
		c->ino[c->n] = st.st_ino;
		c->n++;
		next = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (next < 0) {
			r = sd_err(ctx, -errno, "cannot open the parent of the removed %s of pid %d", what, pid);
			break;
		}
		close(fd);
		fd = next;
	}
	if (r == 0 && c->n) {
		/*
		 * The first directory that is still there must be the one its
		 * path names: the restore makes the removed ones under that path.
		 */
		if (sd_removed_dir_path(path, c->n, up, sizeof(up)) < 0 || stat(up, &live) < 0 ||
		    live.st_dev != st.st_dev || live.st_ino != st.st_ino)
			r = sd_refuse(ctx, -EOPNOTSUPP,
				    "cannot dump pid %d: its %s '%s' was removed, and the directory it was in is no longer at its path; let it change to a directory that exists first",
				    pid, what, name);
	}
	close(fd);
	return r;
}

int sd_fs_collect_removed(struct sdump_ctx *ctx, pid_t pid, struct process_state *ps)
{
	struct removed_chain cwd, root;
	char a[4096], b[4096];
	int r;

	r = removed_chain_read(ctx, pid, "cwd", "working directory", ps->cwd, &cwd);
	if (r == 0)
		r = removed_chain_read(ctx, pid, "root", "root directory", ps->root, &root);
	if (r < 0)
		return r;
	/* a path both have must be one directory: the restore makes it once */
	for (size_t i = 0; i < cwd.n; i++) {
		for (size_t j = 0; j < root.n; j++) {
			if (sd_removed_dir_path(ps->cwd, i, a, sizeof(a)) < 0 ||
			    sd_removed_dir_path(ps->root, j, b, sizeof(b)) < 0 || strcmp(a, b) ||
			    (cwd.dev[i] == root.dev[j] && cwd.ino[i] == root.ino[j]))
				continue;
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: its working directory and its root directory were two directories at '%s', both removed; let it change to a directory that exists first",
				       pid, a);
		}
	}
	memcpy(ps->cwd_removed, cwd.d, cwd.n * sizeof(cwd.d[0]));
	ps->ncwd_removed = cwd.n;
	memcpy(ps->root_removed, root.d, root.n * sizeof(root.d[0]));
	ps->nroot_removed = root.n;
	if (cwd.n || root.n)
		pr_debug(ctx, "pid %d: cwd '%s' (%zu removed), root '%s' (%zu removed)", pid, ps->cwd,
			 cwd.n, ps->root, root.n);
	return 0;
}

/* Whether @c's directory @k is the removed directory at some level of @of; the level in *@ret. */
static bool in_chain(const struct removed_chain *of, const struct removed_chain *c, size_t k, size_t *ret)
{
	for (size_t i = 0; i < of->n; i++) {
		if (of->dev[i] == c->dev[k] && of->ino[i] == c->ino[k]) {
			*ret = i;
			return true;
		}
	}
	return false;
}

int sd_fs_removed_fds(struct sdump_ctx *ctx, pid_t pid, const struct process_state *ps,
		      struct files_state *fs)
{
	struct removed_chain cwd, root, c;
	char link[32], what[64];
	size_t level;
	int r;

	r = removed_chain_read(ctx, pid, "cwd", "working directory", ps->cwd, &cwd);
	if (r == 0)
		r = removed_chain_read(ctx, pid, "root", "root directory", ps->root, &root);
	for (size_t i = 0; r == 0 && i < fs->n; i++) {
		struct fd_state *d = &fs->fds[i];

		if (d->kind != FDK_GHOST || !S_ISDIR(d->mode))
			continue;
		(void)snprintf(link, sizeof(link), "fd/%d", d->fd);
		(void)snprintf(what, sizeof(what), "directory of fd %d", d->fd);
		r = removed_chain_read(ctx, pid, link, what, d->path, &c);
		if (r < 0 || !c.n)
			continue;
		/* the cwd's (or root's) own removed directory, or one of its removed parents: one directory */
		if (in_chain(&cwd, &c, 0, &level) || in_chain(&root, &c, 0, &level)) {
			d->removed_of = in_chain(&cwd, &c, 0, &level) ? REMOVED_OF_CWD : REMOVED_OF_ROOT;
			d->removed_level = (uint32_t)level;
			continue;
		}
		if (c.n == 1)
			continue; /* its parent is there: made in it (rst_ghost.c) */
		d->removed_parents = malloc((c.n - 1) * 3 * sizeof(uint32_t));
		if (!d->removed_parents)
			return -ENOMEM;
		for (size_t k = 1; k < c.n; k++) {
			d->removed_parents[3 * (k - 1)] = c.d[k].mode;
			d->removed_parents[3 * (k - 1) + 1] = c.d[k].uid;
			d->removed_parents[3 * (k - 1) + 2] = c.d[k].gid;
		}
		d->nremoved_parents = c.n - 1;
	}
	return r;
}
