/* SPDX-License-Identifier: MIT */
/*
 * The cgroups of the process: the image holds /proc/PID/cgroup, a line per
 * hierarchy ("0::PATH" for cgroup v2, "ID:CONTROLLERS:PATH" for each v1
 * hierarchy). The new process is born in sdump's; before its memory is
 * filled (so that its pages are charged where they were) and before its
 * threads exist (they are born in its cgroups), its pid is written to the
 * cgroup.procs of each cgroup it was in, found through our mounts of the
 * hierarchies. opts->cgroup: NULL or "same", those; "here", left in
 * sdump's; a path, that cgroup instead in every hierarchy that has it (in
 * the others it stays in sdump's; refused where no hierarchy has it).
 *
 * A thread that was in other cgroups than its process (the image has
 * its own /proc/PID/task/TID/cgroup) is written, once made, to the tasks
 * file of each v1 cgroup and the cgroup.threads of a threaded v2 one.
 *
 * Checked before anything is made: a cgroup missing here (or a hierarchy
 * not mounted) fails the restore with one line naming it and the options.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "procfs.h"
#include "restore.h"
#include "util.h"

enum cg_mode { CG_SAME, CG_HERE, CG_PATH };

static enum cg_mode cg_mode(const struct rst *r)
{
	const char *o = r->opts->cgroup;

	if (!o || !strcmp(o, "same"))
		return CG_SAME;
	return strcmp(o, "here") ? CG_PATH : CG_HERE;
}

/* One line "ID:CONTROLLERS:PATH" of @text from *@pos on, cut in place into @line; false at the end. */
static bool next_line(const char *text, size_t *pos, char *line, size_t size, char **ctrls,
		      char **path)
{
	const char *s = text + *pos, *nl;
	size_t n;
	char *c1, *c2;

	while (*s == '\n')
		s++;
	if (!*s)
		return false;
	nl = strchr(s, '\n');
	n = nl ? (size_t)(nl - s) : strlen(s);
	*pos = (size_t)(s - text) + n;
	if (n >= size)
		n = size - 1;
	memcpy(line, s, n);
	line[n] = '\0';
	c1 = strchr(line, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2) {
		*ctrls = *path = line + n;
		return true;
	}
	*c1 = *c2 = '\0';
	*ctrls = c1 + 1;
	*path = c2 + 1;
	return true;
}

/* The path of the hierarchy of @ctrls in @text (another /proc/PID/cgroup), or NULL. */
static const char *path_in(const char *text, const char *ctrls, char *line, size_t size)
{
	char *c, *p;
	size_t pos = 0;

	while (next_line(text, &pos, line, size, &c, &p))
		if (!strcmp(c, ctrls))
			return p;
	return NULL;
}

/* Whether every comma-separated item of @want is one of @have's. */
static bool items_in(const char *want, const char *have)
{
	char w[256], *save = NULL;

	(void)snprintf(w, sizeof(w), "%s", want);
	for (char *t = strtok_r(w, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(t);
		const char *h = have;
		bool found = false;

		while (h && *h && !found) {
			found = !strncmp(h, t, n) && (h[n] == ',' || h[n] == '\0');
			h = strchr(h, ',');
			h = h ? h + 1 : NULL;
		}
		if (!found)
			return false;
	}
	return true;
}

/*
 * The directory of cgroup @path of the hierarchy @ctrls ("" for v2) under
 * one of our mounts of it, into @dir; -ENOENT: not mounted here (or no
 * mount of it shows @path).
 */
static int cgroup_dir(const char *ctrls, const char *path, char *dir, size_t size)
{
	_cleanup_free_ char *mi = NULL;
	char *save = NULL;
	int e = sd_read_file(AT_FDCWD, "/proc/self/mountinfo", &mi, NULL);

	if (e < 0)
		return e;
	for (char *l = strtok_r(mi, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char root[1024], mnt[1024], type[64], opts[1024];
		const char *sep = strstr(l, " - ");
		size_t rl;

		if (!sep || sscanf(l, "%*s %*s %*s %1023s %1023s", root, mnt) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", type, opts) != 2)
			continue;
		if (*ctrls ? strcmp(type, "cgroup") || !items_in(ctrls, opts) : strcmp(type, "cgroup2"))
			continue;
		rl = strcmp(root, "/") ? strlen(root) : 0;
		if (rl && (strncmp(path, root, rl) || (path[rl] && path[rl] != '/')))
			continue;
		if (snprintf(dir, size, "%s%s", mnt, path + rl) >= (int)size)
			return -ENAMETOOLONG;
		return 0;
	}
	return -ENOENT;
}

static const char *hier_name(const char *ctrls)
{
	return *ctrls ? ctrls : "cgroup v2";
}

/*
 * Each hierarchy of the image: the cgroup it goes to in @want, its
 * directory in @dir (empty: already there, with @pid's, or our own when
 * @pid is 0). 1 while there are more, 0 at the end, or -errno.
 */
struct cg_walk {
	const char *text;
	size_t pos;
	char own[ATTR_CGROUP_MAX];
	char line[1024], tmp[1024], dir[1200];
	char *ctrls, *path;
	const char *want;
	size_t found;		/* --cgroup=PATH: hierarchies that have it */
};

/* @text's lines against the cgroups of @tid of the new process (0: our own). */
static int walk_start(struct rst *r, struct cg_walk *w, const char *text, pid_t tid)
{
	_cleanup_free_ char *buf = NULL;
	char p[PROC_PATH_MAX];
	int e;

	memset(w, 0, sizeof(*w));
	w->text = text;
	if (tid)
		sd_proc_path(p, r->pid, "task/%d/cgroup", tid);
	else
		(void)snprintf(p, sizeof(p), "/proc/self/cgroup");
	e = sd_read_file(AT_FDCWD, p, &buf, NULL);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot read '%s'", p);
	(void)snprintf(w->own, sizeof(w->own), "%s", buf);
	return 0;
}

static int walk_next(struct rst *r, struct cg_walk *w)
{
	const char *cur;
	int e;

	if (!next_line(w->text, &w->pos, w->line, sizeof(w->line), &w->ctrls, &w->path))
		return 0;
	w->want = cg_mode(r) == CG_PATH ? r->opts->cgroup : w->path;
	w->dir[0] = '\0';
	cur = path_in(w->own, w->ctrls, w->tmp, sizeof(w->tmp));
	if (cur && !strcmp(cur, w->want))
		return 1;
	e = cgroup_dir(w->ctrls, w->want, w->dir, sizeof(w->dir));
	/*
	 * A hierarchy not mounted here has no cgroup of --cgroup either; nor
	 * does one of which the process was in the root (a v1 hierarchy
	 * that was mounted somewhere else, or is gone), which limits nothing.
	 */
	if (e == -ENOENT && (cg_mode(r) == CG_PATH || !strcmp(w->want, "/"))) {
		w->dir[0] = '\0';
		return 1;
	}
	if (e == -ENOENT)
		return sd_errx(r->ctx, -ENOENT,
			       "cannot restore pid %d into its cgroup '%s' (%s): that hierarchy is not mounted here; restore with --cgroup=here to leave it in sdump's cgroups",
			       r->pid, w->want, hier_name(w->ctrls));
	if (e < 0)
		return sd_err(r->ctx, e, "cannot find the cgroup '%s' (%s)", w->want, hier_name(w->ctrls));
	if (cg_mode(r) == CG_PATH) {
		struct stat st;

		if (stat(w->dir, &st) < 0 || !S_ISDIR(st.st_mode))
			w->dir[0] = '\0';
		else
			w->found++;
	}
	return 1;
}

/* Every cgroup of @text a directory here (where it must be one). */
static int check_text(struct rst *r, struct cg_walk *w, const char *text)
{
	struct stat st;
	int e;

	e = walk_start(r, w, text, 0);
	while (e == 0 && (e = walk_next(r, w)) > 0) {
		if (w->dir[0] && (stat(w->dir, &st) < 0 || !S_ISDIR(st.st_mode)))
			return sd_errx(r->ctx, -ENOENT,
				       "cannot restore pid %d into its cgroup '%s' (%s): there is no such cgroup here (%s); create it, or restore with --cgroup=PATH to place it in another, or --cgroup=here to leave it in sdump's",
				       r->pid, w->want, hier_name(w->ctrls), w->dir);
		e = 0;
	}
	return e;
}

int sd_rst_check_cgroup(struct rst *r)
{
	struct cg_walk w;
	int e;

	if (!r->ps.attrs.valid || !r->ps.attrs.has_cgroup || cg_mode(r) == CG_HERE)
		return 0;
	if (cg_mode(r) == CG_PATH && r->opts->cgroup[0] != '/')
		return sd_errx(r->ctx, -EINVAL, "bad --cgroup '%s': same, here or an absolute cgroup path",
			       r->opts->cgroup);
	e = check_text(r, &w, r->ps.attrs.cgroup);
	if (e == 0 && cg_mode(r) == CG_PATH && !w.found)
		return sd_errx(r->ctx, -ENOENT,
			       "cannot restore pid %d into the cgroup '%s' of --cgroup: no cgroup hierarchy here has it",
			       r->pid, r->opts->cgroup);
	/* a thread's own (--cgroup=PATH and here take the threads with the process) */
	for (size_t i = 0; e == 0 && cg_mode(r) == CG_SAME && i < r->ps.nthreads; i++)
		if (r->ps.threads[i].attrs.valid && r->ps.threads[i].attrs.cgroup)
			e = check_text(r, &w, r->ps.threads[i].attrs.cgroup);
	return e;
}

/* @id (the process, or thread @tid) into each cgroup of @text it is not in: written to @file there. */
static int move_into(struct rst *r, const char *text, pid_t tid, pid_t id, const char *v2_file,
		     const char *v1_file)
{
	struct cg_walk w;
	char procs[1300], num[16];
	int e, fd, n;

	e = walk_start(r, &w, text, tid);
	while (e == 0 && (e = walk_next(r, &w)) > 0) {
		e = 0;
		if (!w.dir[0])
			continue;
		(void)snprintf(procs, sizeof(procs), "%s/%s", w.dir, w.ctrls[0] ? v1_file : v2_file);
		n = snprintf(num, sizeof(num), "%d", id);
		fd = open(procs, O_WRONLY | O_CLOEXEC);
		e = fd < 0 ? -errno : sd_write_all(fd, num, (size_t)n);
		if (fd >= 0)
			(void)close(fd);
		if (e < 0)
			return sd_err(r->ctx, e,
				      "cannot move %s %d into its cgroup '%s' (%s: '%s'); restore with --cgroup=here to leave it in sdump's",
				      tid == r->pid ? "pid" : "thread", id, w.want, hier_name(w.ctrls), procs);
	}
	return e;
}

int sd_rst_restore_cgroup(struct rst *r)
{
	if (!r->ps.attrs.valid || !r->ps.attrs.has_cgroup || cg_mode(r) == CG_HERE)
		return 0;
	return move_into(r, r->ps.attrs.cgroup, r->pid, r->pid, "cgroup.procs", "cgroup.procs");
}

int sd_rst_restore_thread_cgroup(struct rst *r, size_t i)
{
	const struct thread_state *t = &r->ps.threads[i];

	if (!t->attrs.valid || !t->attrs.cgroup || cg_mode(r) != CG_SAME)
		return 0;
	return move_into(r, t->attrs.cgroup, t->tid, t->tid, "cgroup.threads", "tasks");
}
