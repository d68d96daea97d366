/* SPDX-License-Identifier: MIT */
/*
 * A preflight (sdump check -t PID): every check of a final dump, in its
 * order, with the refusals collected instead of failing (ctx.h's
 * sd_refuse()), and nothing written. The target is seized for the checks
 * that need it frozen and resumed and detached on every path; tracking is
 * neither opened nor armed, and no state file changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "preflight: "
#include "array.h"
#include "ctx.h"
#include "dump_fd_sock.h"
#include "dump_pass.h"
#include "dump_state.h"
#include "track.h"
#include "util.h"

/* "cannot dump pid N: what" -> "what": the report names the pid once. */
static void strip_prefix(char *line)
{
	const char *s = line;
	char *end;

	if (strncmp(s, "cannot dump pid ", strlen("cannot dump pid ")))
		return;
	s += strlen("cannot dump pid ");
	(void)strtol(s, &end, 10);
	if (end == s || strncmp(end, ": ", 2))
		return;
	memmove(line, end + 2, strlen(end + 2) + 1);
}

/* The checks run frozen, in the order of a final dump (dump.c run_pass); @in_tree: its children are dumped with it. */
static int frozen_checks(struct pass *p, bool in_tree)
{
	struct sdump_ctx *ctx = p->ctx;
	pid_t pid = p->opts->pid;
	int r;

	p->tracker.inj = (struct injector){ .pid = pid, .mem_fd = -1 };
	r = sd_sec_prepare(ctx, &p->seized, &p->tracker.inj, true);
	if (r == 0)
		r = sd_state_check_supported(ctx, pid, &p->seized, in_tree);
	if (r == 0)
		r = sd_files_collect(ctx, pid, p->pidfd,
				  sd_track_left_fd(pid, p->state_valid ? &p->state : NULL), NULL, &p->fs);
	if (r == 0)
		r = sd_dump_sock_table(ctx, p->opts, &p->fs);
	if (r == 0)
		r = sd_pass_read_vmas(p);
	/* the injected calls only where nothing found so far makes them unsafe */
	if (r == 0 && !ctx->refusals.unsafe)
		r = sd_state_collect(ctx, &p->seized, &p->tracker.inj, &p->vmas, &p->ps);
	return r;
}

static int run(struct pass *p, struct sdump_preflight *pf, bool in_tree)
{
	struct sdump_ctx *ctx = p->ctx;
	pid_t pid = p->opts->pid;
	const struct track_ops *track;
	int r;

	r = sd_pass_read_target(p);
	if (r < 0)
		return r;
	track = sd_track_select(ctx, SDUMP_TRACK_AUTO);
	(void)snprintf(pf->tracker, sizeof(pf->tracker), "%s", track ? track->name : "none");
	p->state_valid = sd_track_state_read(pid, p->meta.start_time, &p->state) == 0;
	pf->tracked = p->state_valid && track && !strcmp(p->state.tracker, track->name);
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd < 0)
		return sd_err(ctx, errno == ESRCH ? -ESRCH : -errno, "cannot open pidfd of pid %d", pid);
	r = sd_seize_process(ctx, pid, &p->seized);
	if (r < 0)
		return r;
	p->frozen = true;
	pf->threads = p->seized.n;
	r = frozen_checks(p, in_tree);
	sd_seize_detach(ctx, &p->seized, NULL);
	p->frozen = false;
	if (r == 0 && !ctx->refusals.unsafe)
		r = sd_check_cancel(ctx);
	return r;
}

/*
 * One process's checks, as a final dump's: its obstacles appended to
 * @pf's (each after @prefix), its threads added; of the process checked
 * (the root of a tree), its comm and the tracker its pre-dumps use into
 * @pf. *ret_unsafe: the checks that run system calls in it were skipped.
 */
static int check_process(struct sdump_ctx *ctx, pid_t pid, bool in_tree, const char *prefix,
			 struct sdump_preflight *pf, bool *ret_unsafe)
{
	struct sdump_dump_opts o = { .pid = pid, .track = SDUMP_TRACK_AUTO };
	struct pass p = {
		.ctx = ctx,
		.opts = &o,
		.pidfd = -1,
		.pagemap_fd = -1,
		.mem_fd = -1,
		.dir = { .dirfd = -1 },
		.final = true,
		.preflight = true,
		.kind = "dump",
	};
	struct sdump_preflight one = { .pid = pid };
	char **lines;
	size_t n;
	int r;

	p.meta.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	sd_refusals_begin(ctx);
	r = run(&p, &one, in_tree);
	*ret_unsafe = ctx->refusals.unsafe;
	sd_refusals_end(ctx, &lines, &n);
	if (p.frozen)
		sd_seize_detach(ctx, &p.seized, NULL);
	sd_process_state_release(&p.ps);
	sd_files_state_release(&p.fs);
	zclose(&p.pidfd);
	sd_vma_list_release(&p.vmas);
	if (r == 0 && ARRAY_RESERVE(pf->obstacles, pf->cap_obstacles, pf->nobstacles + n, 8) < 0)
		r = sd_err(ctx, -ENOMEM, "cannot check pid %d", pid);
	for (size_t i = 0; i < n; i++) {
		char *l = NULL;

		strip_prefix(lines[i]);
		if (r == 0 && asprintf(&l, "%s%s", prefix, lines[i]) < 0)
			r = sd_err(ctx, -ENOMEM, "cannot check pid %d", pid);
		if (r == 0)
			pf->obstacles[pf->nobstacles++] = l;
		free(lines[i]);
	}
	free(lines);
	if (r < 0)
		return r;
	pf->threads += one.threads;
	if (pid == pf->pid) {
		(void)snprintf(pf->comm, sizeof(pf->comm), "%s", p.meta.comm);
		memcpy(pf->tracker, one.tracker, sizeof(pf->tracker));
		pf->tracked = one.tracked;
	}
	return 0;
}

/*
 * A tree: what the tree's own checks refuse (naming the member), then
 * each member's checks, its obstacles after "pid N: " (the root's too).
 */
static int check_tree(struct sdump_ctx *ctx, pid_t root, struct sdump_preflight *pf, bool *ret_unsafe)
{
	pid_t *pids = NULL;
	bool *check = NULL;
	char **lines;
	size_t n = 0, nl;
	int r;

	sd_refusals_begin(ctx);
	r = sd_tree_preflight_walk(ctx, root, &pids, &check, &n);
	sd_refusals_end(ctx, &lines, &nl);
	if (r == 0 && ARRAY_RESERVE(pf->obstacles, pf->cap_obstacles, nl, 8) < 0)
		r = sd_err(ctx, -ENOMEM, "cannot check pid %d", root);
	for (size_t i = 0; i < nl; i++) {
		strip_prefix(lines[i]);
		if (r == 0)
			pf->obstacles[pf->nobstacles++] = lines[i];
		else
			free(lines[i]);
	}
	free(lines);
	pf->members = n;
	for (size_t i = 0; r == 0 && i < n; i++) {
		char prefix[32];
		bool unsafe = false;

		if (!check[i])
			continue;
		(void)snprintf(prefix, sizeof(prefix), "pid %d: ", (int)pids[i]);
		r = check_process(ctx, pids[i], true, prefix, pf, &unsafe);
		*ret_unsafe |= unsafe;
	}
	free(pids);
	free(check);
	return r;
}

SDUMP_API int sdump_preflight(struct sdump_ctx *ctx, pid_t pid, struct sdump_preflight **ret)
{
	struct sdump_preflight *pf;
	bool unsafe = false;
	int r;

	if (pid <= 0)
		return sd_errx(ctx, -EINVAL, "a preflight needs a pid");
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return sd_err(ctx, -ENOMEM, "cannot check pid %d", pid);
	pf->pid = pid;
	pf->members = 1;
	/* a process with children: a dump takes its whole tree (dump_tree.c) */
	if (sd_tree_has_children(pid))
		r = check_tree(ctx, pid, pf, &unsafe);
	else
		r = check_process(ctx, pid, false, "", pf, &unsafe);
	pf->complete = !unsafe;
	if (r < 0) {
		sdump_preflight_free(pf);
		return r;
	}
	pr_info(ctx, "pid %d: %zu obstacle%s to a dump", pid, pf->nobstacles,
		pf->nobstacles == 1 ? "" : "s");
	*ret = pf;
	return 0;
}

SDUMP_API void sdump_preflight_free(struct sdump_preflight *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->nobstacles; i++)
		free(pf->obstacles[i]);
	free(pf->obstacles);
	free(pf);
}
