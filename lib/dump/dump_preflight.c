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
#include "dump_fd_extra.h"
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

/*
 * Of a tree: "cannot dump pid N: what" -> "pid N: what", the member named;
 * the tree's own lines ("cannot dump pid ROOT: pid M of its tree ...")
 * name theirs already: the prefix goes.
 */
static void name_member(char *line)
{
	const char *s = line + strlen("cannot dump ");
	char *end;

	if (strncmp(line, "cannot dump pid ", strlen("cannot dump pid ")))
		return;
	(void)strtol(s + strlen("pid "), &end, 10);
	if (end == s + strlen("pid ") || strncmp(end, ": ", 2))
		return;
	if (!strncmp(end + 2, "pid ", 4))
		memmove(line, end + 2, strlen(end + 2) + 1);
	else
		memmove(line, s, strlen(s) + 1);
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
	/* a tree's member: its unix sockets are checked with every member's (check_tree) */
	if (r == 0)
		r = in_tree ? sd_dump_inet_table(ctx, p->opts, &p->fs) : sd_dump_sock_table(ctx, p->opts, &p->fs);
	if (r == 0)
		r = sd_pass_read_vmas(p);
	if (r == 0)
		r = sd_dump_fd_locks_seen(ctx, pid, NULL, &p->fs, &p->vmas, NULL, 0);
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
 * The refusals collected since sd_refusals_begin() appended to @pf's
 * obstacles, each without its "cannot dump pid N: " (of a tree, as
 * "pid N: ", the member named).
 */
static int take_refusals(struct sdump_ctx *ctx, struct sdump_preflight *pf, bool tree, int r)
{
	char **lines;
	size_t n;

	sd_refusals_end(ctx, &lines, &n);
	if (r == 0 && ARRAY_RESERVE(pf->obstacles, pf->cap_obstacles, pf->nobstacles + n, 8) < 0)
		r = sd_err(ctx, -ENOMEM, "cannot check pid %d", pf->pid);
	for (size_t i = 0; i < n; i++) {
		if (tree)
			name_member(lines[i]);
		else
			strip_prefix(lines[i]);
		if (r == 0)
			pf->obstacles[pf->nobstacles++] = lines[i];
		else
			free(lines[i]);
	}
	free(lines);
	return r;
}

/*
 * One process's checks, as a final dump's: its obstacles appended to
 * @pf's, its threads added; of the process checked (the root of a tree),
 * its comm and the tracker its pre-dumps use into @pf. A tree's member
 * (@keep_fs): its unix sockets are left to the tree's table, its fds
 * handed to the caller. *ret_unsafe: the checks that run system calls in
 * it were skipped.
 */
static int check_process(struct sdump_ctx *ctx, pid_t pid, struct files_state *keep_fs,
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
	int r;

	p.meta.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	sd_refusals_begin(ctx);
	r = run(&p, &one, keep_fs != NULL);
	*ret_unsafe = ctx->refusals.unsafe;
	r = take_refusals(ctx, pf, keep_fs != NULL, r);
	if (p.frozen)
		sd_seize_detach(ctx, &p.seized, NULL);
	sd_process_state_release(&p.ps);
	if (keep_fs && r == 0) {
		*keep_fs = p.fs;
		p.fs = (struct files_state){ 0 };
	}
	sd_files_state_release(&p.fs);
	zclose(&p.pidfd);
	sd_vma_list_release(&p.vmas);
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
 * The unix sockets of every member in one table, as a tree's dump checks
 * them (a peer, a listener, a client in its backlog in another member); a
 * socket several members hold is in it once.
 */
static int check_tree_sockets(struct sdump_ctx *ctx, pid_t root, const struct files_state *fs, size_t n,
			      struct sdump_preflight *pf)
{
	struct sdump_dump_opts o = { .pid = root };
	struct files_state all = { 0 };
	size_t cap = 0;
	int r = 0;

	for (size_t j = 0; r == 0 && j < n; j++)
		for (size_t f = 0; f < fs[j].n; f++) {
			const struct fd_state *d = &fs[j].fds[f];
			bool seen = false;

			if (d->kind != FDK_UNIX || !d->sk || d->has_dup_of)
				continue;
			for (size_t k = 0; k < all.n && !seen; k++)
				seen = all.fds[k].ino == d->ino && all.fds[k].dev == d->dev;
			if (seen)
				continue;
			if (ARRAY_RESERVE(all.fds, cap, all.n + 1, 16) < 0) {
				r = sd_err(ctx, -ENOMEM, "cannot check pid %d", root);
				break;
			}
			/* a shallow copy: the socket state is the member's own */
			all.fds[all.n++] = *d;
		}
	sd_refusals_begin(ctx);
	if (r == 0)
		r = sd_dump_unix_table(ctx, &o, &all);
	r = take_refusals(ctx, pf, true, r);
	free(all.fds);
	return r;
}

/*
 * A tree: what the tree's own checks refuse (naming the member), then
 * each member's checks as a process (its lines after "pid N: ", the
 * root's too), then the unix sockets of all of them.
 */
static int check_tree(struct sdump_ctx *ctx, pid_t root, struct sdump_preflight *pf, bool *ret_unsafe)
{
	struct files_state *fs = NULL;
	pid_t *pids = NULL;
	bool *check = NULL;
	size_t n = 0;
	int r;

	sd_refusals_begin(ctx);
	r = sd_tree_preflight_walk(ctx, root, &pids, &check, &n);
	r = take_refusals(ctx, pf, true, r);
	if (r < 0)
		return r;
	pf->members = n;
	fs = calloc(n, sizeof(*fs));
	if (!fs)
		r = sd_err(ctx, -ENOMEM, "cannot check pid %d", root);
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool unsafe = false;

		if (!check[i])
			continue;
		r = check_process(ctx, pids[i], &fs[i], pf, &unsafe);
		*ret_unsafe |= unsafe;
	}
	if (r == 0)
		r = check_tree_sockets(ctx, root, fs, n, pf);
	for (size_t i = 0; fs && i < n; i++)
		sd_files_state_release(&fs[i]);
	free(fs);
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
		r = check_process(ctx, pid, NULL, pf, &unsafe);
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
