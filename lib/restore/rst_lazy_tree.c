/* SPDX-License-Identifier: MIT */
/*
 * A lazy restore of a process tree (restore.h): each member's anonymous
 * private memory has a filler of its own (rst_lazy.h), started by its
 * build as a process alone's is; shared memory, made by the first member
 * that maps it, is filled at once. What ties the fillers together:
 *
 *  - a failure of any of them kills every member (and what each forked),
 *    never one left running while another's memory is missing: each
 *    filler and each guard has the pidfds of all members (the tree's
 *    "kin"), and the guards share a flag, so that the first to see its
 *    filler go says the tree's end, once;
 *  - they push only once every member runs, and the restore returns (or,
 *    with -d, one helper process takes every fill over) once all are done.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "restore.h"
#include "rst_lazy.h"
#include "util.h"

#include "rst_tree_priv.h"

const struct rst_lazy_kin *sd_rst_tree_kin(struct rst_tree *t)
{
	struct rst_lazy_kin *k = &t->kin;
	void *said;

	if (k->pid)
		return k;
	k->pid = calloc(t->tree.n, sizeof(*k->pid));
	said = mmap(NULL, sizeof(atomic_int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!k->pid || said == MAP_FAILED) {
		zfree(&k->pid);
		/* the member alone killed on a failure: better than no lazy restore at all */
		pr_warn(t->ctx, "the lazy fill of the tree of pid %d: a failed member's fill kills only it (no memory)",
			t->tree.m[0].pid);
		return NULL;
	}
	k->said = said;
	k->root = t->tree.m[0].pid;
	for (size_t i = 0; i < t->tree.n; i++)
		if (!t->tree.m[i].zombie)
			k->pid[k->n++] = t->tree.m[i].pid;
	return k;
}

void sd_rst_tree_lazy_release(struct rst_tree *t)
{
	if (t->kin.said)
		(void)munmap(t->kin.said, sizeof(atomic_int));
	t->kin.said = NULL;
	zfree(&t->kin.pid);
	t->kin.n = 0;
}

void sd_rst_tree_lazy_running(struct rst_tree *t)
{
	for (size_t i = 0; i < t->tree.n; i++)
		if (t->m[i].lazy)
			sd_rst_lazy_running(t->m[i].lazy);
}

void sd_rst_tree_lazy_abort(struct rst_tree *t)
{
	for (size_t i = 0; i < t->tree.n; i++)
		if (t->m[i].lazy) {
			sd_rst_lazy_abort(t->m[i].lazy);
			t->m[i].lazy = NULL;
		}
}

/* @b's numbers added to @a's, the times the latest. */
static void stats_add(struct rst_lazy_stats *a, const struct rst_lazy_stats *b)
{
	a->faults += b->faults;
	a->fault_pages += b->fault_pages;
	a->pushed += b->pushed;
	a->zero_faults += b->zero_faults;
	a->events += b->events;
	a->forks += b->forks;
	a->t_running_us = MAX(a->t_running_us, b->t_running_us);
	a->t_complete_us = MAX(a->t_complete_us, b->t_complete_us);
	a->helper = b->helper;
}

int sd_rst_tree_lazy_finish(struct rst_tree *t)
{
	struct rst_lazy **ls = calloc(t->tree.n, sizeof(*ls));
	struct rst_lazy_stats *st = calloc(t->tree.n, sizeof(*st)), all = { 0 };
	const struct sdump_restore_opts *opts = t->m[0].opts;
	pid_t root = t->tree.m[0].pid;
	char run[32], done[32];
	size_t n = 0;
	int e = 0;

	if (!ls || !st) {
		/* each to its end here, one after the other */
		for (size_t i = 0; i < t->tree.n; i++) {
			if (t->m[i].lazy && sd_rst_lazy_wait(t->m[i].lazy, NULL) < 0 && e == 0)
				e = -EIO;
			t->m[i].lazy = NULL;
		}
		free(ls);
		free(st);
		return e;
	}
	for (size_t i = 0; i < t->tree.n; i++)
		if (t->m[i].lazy) {
			ls[n++] = t->m[i].lazy;
			t->m[i].lazy = NULL;
		}
	if (n == 0)
		goto out;
	if (opts->detach) {
		e = sd_rst_lazy_detach_all(ls, n, root, st);
	} else {
		for (size_t i = 0; i < n; i++) {
			int r = sd_rst_lazy_wait(ls[i], &st[i]);

			if (r < 0 && e == 0)
				e = r;
		}
	}
	for (size_t i = 0; i < n; i++)
		stats_add(&all, &st[i]);
	t->m[0].lazy_st = all;
	sd_fmt_duration(run, sizeof(run), all.t_running_us);
	sd_fmt_duration(done, sizeof(done), all.t_complete_us);
	if (e < 0) {
		const char *msg = sdump_ctx_last_error(t->ctx);
		char why[512];

		(void)snprintf(why, sizeof(why), "%s", msg ? msg : strerror(-e));
		sdump_ctx_clear_error(t->ctx);
		e = sd_errx(t->ctx, e, "the restored tree of pid %d was killed, its memory incomplete: %s", root, why);
	} else if (opts->detach && all.helper) {
		sd_log(t->ctx, SDUMP_LOG_INFO,
		       "restore %d: lazy: a tree of %zu processes running after %s, the memory follows (helper process %d, sdump-lazy, fills it)",
		       root, n, run, (int)all.helper);
	} else {
		sd_log(t->ctx, SDUMP_LOG_INFO,
		       "restore %d: lazy: a tree of %zu processes running after %s, memory complete after %s: %" PRIu64
		       " faults served (%" PRIu64 " pages, %" PRIu64 " zero), %" PRIu64 " pages pushed, %" PRIu64
		       " events (%" PRIu64 " forks)",
		       root, n, run, done, all.faults, all.fault_pages, all.zero_faults, all.pushed, all.events,
		       all.forks);
	}
out:
	free(ls);
	free(st);
	return e;
}
