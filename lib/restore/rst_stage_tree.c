/* SPDX-License-Identifier: MIT */
/*
 * A process tree built while its chain grows (sdump receive --restore of
 * a tree): at its first pass every member made as a tree's restore makes
 * them (rst_tree.c: the root a traced child of ours, each other member
 * forked by its parent with its PID, in its session and group), stopped,
 * then each member's memory mapped and filled as a process alone's is
 * (rst_stage.c); each next pass of the same tree applied to every
 * member; the final dump's pages and state applied to every member in
 * tree.img's order, and the whole tree started at once.
 *
 * What tree.img says of the members (their PIDs, parents, sessions,
 * groups, zombies, stops) is made at the first pass: a pass whose tree
 * differs is not applied (rst_stage.c makes everything again from it),
 * nor a final dump (restored from scratch). So is one with a pty among
 * its members' fds or a member's controlling terminal: a tree's restore
 * makes those before any member exists.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "chain.h"
#include "ctx.h"
#include "restore.h"
#include "tree_img.h"
#include "util.h"

#include "rst_stage_priv.h"
#include "rst_tree_priv.h"

/* The pass directory of member @pid in tree pass @dir. */
static int member_dir(struct sdump_ctx *ctx, const char *dir, pid_t pid, char out[PATH_MAX])
{
	char name[TREE_DIR_NAME_MAX];

	if (snprintf(out, PATH_MAX, "%s/%s", dir, sd_tree_dir_name(pid, name)) >= PATH_MAX)
		return sd_errx(ctx, -ENAMETOOLONG, "image directory '%s': name too long", dir);
	return 0;
}

static bool same_member(const struct tree_member *a, const struct tree_member *b)
{
	return a->pid == b->pid && a->ppid == b->ppid && a->pgid == b->pgid && a->sid == b->sid &&
	       a->exit_signal == b->exit_signal && a->zombie == b->zombie &&
	       (!a->zombie || a->exit_status == b->exit_status) && a->stopped == b->stopped &&
	       a->stop_sig == b->stop_sig;
}

bool sd_rst_stage_tree_same(struct sdump_restore_stage *s, const char *dir)
{
	const struct proc_tree *built = &s->tree->tree;
	struct proc_tree now = { 0 };
	bool same;

	if (sd_treeimg_read(s->ctx, dir, &now) < 0) {
		sdump_ctx_clear_error(s->ctx);
		return false;
	}
	same = now.n == built->n;
	for (size_t i = 0; same && i < now.n; i++)
		same = same_member(&now.m[i], &built->m[i]);
	sd_tree_release(&now);
	return same;
}

/* Member @i's chain from pass @dir, and what its process is until the final dump says more. */
static int open_member(struct sdump_restore_stage *s, const char *dir, size_t i)
{
	struct rst *m = &s->tree->m[i];
	char mdir[PATH_MAX];
	int e = member_dir(s->ctx, dir, m->pid, mdir);

	if (e == 0)
		e = sd_chain_open(s->ctx, mdir, &m->chain);
	if (e < 0)
		return e;
	if (m->chain.p[0].meta.pid != m->pid)
		return sd_errx(s->ctx, -EBADMSG, "image '%s' is corrupt: it holds pid %d, not %d", mdir,
			       m->chain.p[0].meta.pid, m->pid);
	e = sd_rst_stage_stand_in(&s->p[i]);
	/* made in its session and group before its state is read (sd_rst_restore_session) */
	m->ps.ppid = m->member->ppid;
	m->ps.sid = m->member->sid;
	m->ps.pgid = m->member->pgid;
	return e;
}

static uint64_t tree_pages(const struct sdump_restore_stage *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->np; i++)
		n += s->p[i].r->fill.pages;
	return n;
}

int sd_rst_stage_tree_begin(struct sdump_restore_stage *s, const char *dir)
{
	struct rst_tree *t = calloc(1, sizeof(*t));
	const char *why;
	int e;

	if (!t)
		return -ENOMEM;
	t->ctx = s->ctx;
	t->t0 = s->t0;
	e = sd_rst_tree_open(s->ctx, dir, t, &s->subreaper);
	if (e < 0) {
		free(t);
		return e;
	}
	s->tree = t;
	s->p = calloc(t->tree.n, sizeof(*s->p));
	if (!s->p)
		return -ENOMEM;
	s->np = t->tree.n;
	/* every member a restore of its own first: a failure below releases them all */
	for (size_t i = 0; i < t->tree.n; i++) {
		struct rst *m = &t->m[i];

		sd_rst_init(m, s->ctx, s->opts);
		m->t0 = t->t0;
		m->tree = t;
		m->member = &t->tree.m[i];
		m->pid = m->member->pid;
		m->staged = true;
		s->p[i].r = m;
	}
	for (size_t i = 0; e == 0 && i < t->tree.n; i++)
		if (!t->tree.m[i].zombie)
			e = open_member(s, dir, i);
	s->slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (e == 0)
		e = sd_rst_tree_make(t);
	for (size_t i = 0; e == 0 && i < t->tree.n; i++) {
		if (t->tree.m[i].zombie)
			continue;
		e = sd_rst_map_vdso(&t->m[i]);
		if (e == 0)
			e = sd_rst_stage_apply(s, &s->p[i], false, &why);
	}
	if (e == 0)
		sd_log(s->ctx, SDUMP_LOG_INFO, "restore %d: a tree of %zu processes made %sat %s, %" PRIu64 " pages in (%.2f s)",
		       t->m[0].pid, t->tree.n, s->passes ? "again " : "", s->made_at_s, tree_pages(s),
		       (now_us() - s->t0) / 1e6);
	return e;
}

int sd_rst_stage_tree_update(struct sdump_restore_stage *s, const char *dir)
{
	struct rst_tree *t = s->tree;
	size_t kept = 0, made = 0, gone = 0, drops = 0;
	uint64_t t0 = now_us();
	const char *why;
	int e = 0;

	for (size_t i = 0; e == 0 && i < t->tree.n; i++) {
		struct rst *m = &t->m[i];
		char mdir[PATH_MAX];

		if (t->tree.m[i].zombie)
			continue;
		e = member_dir(s->ctx, dir, m->pid, mdir);
		if (e == 0)
			e = sd_chain_push(s->ctx, mdir, &m->chain);
		if (e == 0)
			e = sd_rst_stage_apply(s, &s->p[i], false, &why);
		kept += s->p[i].nkept;
		made += s->p[i].nnew;
		gone += s->p[i].ngone;
		drops += m->fill_drops;
	}
	if (e == 0)
		sd_log(s->ctx, SDUMP_LOG_INFO,
		       "restore %d: pass %u in, every member of the tree of %zu: %" PRIu64 " pages; VMAs: %zu kept, %zu new, %zu unmapped; %zu range%s dropped (%.2f s)",
		       t->m[0].pid, s->passes + 1, t->tree.n, tree_pages(s), kept, made, gone, drops,
		       drops == 1 ? "" : "s", (now_us() - t0) / 1e6);
	return e;
}

/* Why the final dump's member @m cannot be finished from what was made for it, or NULL. */
static const char *member_refused(const struct sdump_restore_stage *s, const struct rst *m)
{
	for (size_t k = 0; k < m->fs.n; k++)
		if (m->fs.fds[k].kind == FDK_PTS || m->fs.fds[k].kind == FDK_PTMX)
			return "a member holds a pty, made before any member is";
	if (m->ps.ctty && m->ps.sid == m->pid && !s->opts->shell_job)
		return "a member leads a session with a controlling terminal, taken at its fork";
	return NULL;
}

int sd_rst_stage_tree_finish(struct sdump_restore_stage *s, int *ret_status)
{
	const struct sdump_restore_opts *opts = s->opts;
	struct rst_tree *t = s->tree;
	uint64_t t0 = now_us(), t1 = t0, tm;
	const char *why = NULL;
	int e = 0;

	if (!opts->dir || !sd_treeimg_present(opts->dir))
		return sd_rst_stage_scratch(s, "the final dump is of a process alone", ret_status);
	if (!sd_rst_stage_tree_same(s, opts->dir))
		return sd_rst_stage_scratch(s, "the tree changed in the last round", ret_status);
	/* every member's state first, as a tree's restore reads them all before it makes any */
	for (size_t i = 0; e == 0 && !why && i < t->tree.n; i++) {
		char mdir[PATH_MAX];

		if (t->tree.m[i].zombie)
			continue;
		e = member_dir(s->ctx, opts->dir, t->m[i].pid, mdir);
		if (e == 0)
			e = sd_rst_stage_final_state(&s->p[i], mdir, &why, &t1);
		if (e == 0 && !why)
			why = member_refused(s, &t->m[i]);
	}
	if (e == 0 && !why && !sd_rst_attrs_child_slack_was(&t->m[0], s->slack))
		why = "the root's default timer slack is not the one it was made with";
	/* then, in tree.img's order (what a member shares with one before it is made from that one's) */
	for (size_t i = 0; e == 0 && !why && i < t->tree.n; i++) {
		struct rst *m = &t->m[i];

		if (t->tree.m[i].zombie)
			continue;
		tm = now_us();
		e = sd_rst_stage_apply(s, &s->p[i], true, &why);
		m->memory_us = now_us() - tm;
		if (e == 0 && !why)
			e = sd_rst_build_state(m, &tm);
	}
	if (e == 0 && why)
		return sd_rst_stage_scratch(s, why, ret_status);
	if (e == 0)
		sd_log(s->ctx, SDUMP_LOG_INFO, "restore %d: the final pass onto the tree of %zu made at %s: %" PRIu64 " pages (%.2f s)",
		       t->m[0].pid, t->tree.n, s->made_at_s, tree_pages(s), (now_us() - t0) / 1e6);
	if (e == 0)
		e = sd_rst_tree_start(t, opts);
	e = sd_rst_tree_end(t, opts, e, t0, s->subreaper, ret_status);
	for (size_t i = 0; i < s->np; i++)
		free(s->p[i].mapped);
	free(t);
	s->tree = NULL;
	free(s->p);
	s->p = &s->one;
	free(s);
	return e;
}

void sd_rst_stage_tree_drop(struct sdump_restore_stage *s)
{
	struct rst_tree *t = s->tree;

	if (!t)
		return;
	for (size_t i = 0; s->p && s->p != &s->one && i < s->np; i++)
		free(s->p[i].mapped);
	(void)sd_rst_tree_end(t, s->opts, -ECANCELED, s->t0, s->subreaper, NULL);
	free(t);
	s->tree = NULL;
	if (s->p != &s->one)
		free(s->p);
	s->p = &s->one;
	s->np = 1;
}
