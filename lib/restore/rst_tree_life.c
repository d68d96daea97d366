/* SPDX-License-Identifier: MIT */
/*
 * A tree's restore opened and ended, whether it is made at once
 * (rst_tree.c) or over a migration's rounds (rst_stage_tree.c): tree.img
 * read, sdump a child subreaper while members exist (a member orphaned by
 * a kill comes to it to be reaped); at the end, on a failure, every member
 * killed, and in any case what the restore holds released and, unless
 * detached, the root waited for.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "netlock.h"
#include "restore.h"
#include "rst_sock.h"
#include "tree_img.h"
#include "util.h"

#include "rst_tree_priv.h"

/* tree.img of @dir read, a rst by member allocated, and we a subreaper (the old setting in *@ret_subreaper). */
int sd_rst_tree_open(struct sdump_ctx *ctx, const char *dir, struct rst_tree *t, int *ret_subreaper)
{
	int e = sd_treeimg_read(ctx, dir, &t->tree);

	if (e < 0)
		return e;
	t->m = calloc(t->tree.n, sizeof(*t->m));
	if (!t->m) {
		sd_tree_release(&t->tree);
		return sd_err(ctx, -ENOMEM, "cannot restore '%s'", dir);
	}
	*ret_subreaper = 0;
	(void)prctl(PR_GET_CHILD_SUBREAPER, ret_subreaper);
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	return 0;
}

/*
 * A tree's restore ends, @e how it went: on a failure every member made
 * killed and reaped; everything of @t released (@t itself is the
 * caller's); unless detached, the wait for the root's end.
 */
int sd_rst_tree_end(struct rst_tree *t, const struct sdump_restore_opts *opts, int e, uint64_t t0,
		    int subreaper, int *ret_status)
{
	struct sdump_ctx *ctx = t->ctx;
	struct sdump_restore_opts root_opts;
	struct rst root;
	size_t nthreads = 0, nfds = 0;

	/* the pidfile while every member is ours to kill: one it cannot name goes with the tree */
	if (e == 0 && opts->pidfile)
		e = sd_rst_write_pidfile(ctx, opts->pidfile, t->m[0].pid);
	/* a lazy restore's memory all in, or its fill handed to a helper (a failure killed the tree) */
	if (opts->lazy && e == 0)
		e = sd_rst_tree_lazy_finish(t);
	sd_rst_tree_dead_end(t);
	if (e < 0) {
		sd_rst_tty_undo(&t->m[0]);
		sd_rst_tree_kill_all(t);
		sd_rst_tree_lazy_abort(t);
	}
	sd_rst_tree_lazy_release(t);
	(void)prctl(PR_SET_CHILD_SUBREAPER, subreaper);
	/* the network locks of the members' TCP connections go, restored or not (and stale ones) */
	for (size_t i = 0, swept = 0; i < t->tree.n; i++)
		if (sd_rst_inet_locked(&t->m[i])) {
			if (!swept++)
				sd_netlock_sweep(ctx);
			(void)sd_netlock_remove(ctx, t->m[i].ps.pid);
		}
	for (size_t i = 0; i < t->tree.n; i++) {
		nthreads += t->m[i].ps.nthreads;
		nfds += t->m[i].fs.n;
	}
	/* the root's, with every member's threads and fds */
	if (e == 0)
		sd_rst_stats(&t->m[0], nthreads, nfds, t0);
	for (size_t i = 0; i < t->tree.n; i++)
		sd_rst_release(&t->m[i]);
	for (size_t i = 0; i < t->npipes; i++) {
		(void)close(t->pipes[i].fd[0]);
		(void)close(t->pipes[i].fd[1]);
	}
	free(t->pipes);
	for (size_t i = 0; i < t->nshm; i++)
		(void)close(t->shm[i].fd);
	free(t->shm);
	for (size_t i = 0; i < t->nsocks; i++)
		(void)close(t->socks[i].ours);
	free(t->socks);
	root = t->m[0];
	root.tree = NULL;
	root.member = NULL;
	root_opts = *opts;
	root_opts.pidfile = NULL;	/* written above */
	root.opts = &root_opts;
	if (e == 0)
		sd_log(ctx, SDUMP_LOG_INFO, "restore %d: the tree runs again, %zu processes", root.pid,
		       t->tree.n);
	free(t->m);
	t->m = NULL;
	sd_tree_release(&t->tree);
	return sd_rst_wait(&root, sd_rst_started(&root, e), t0, nthreads, ret_status);
}

