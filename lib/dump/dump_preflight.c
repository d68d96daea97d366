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

/* The checks run frozen, in the order of a final dump (dump.c run_pass). */
static int frozen_checks(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	pid_t pid = p->opts->pid;
	int r;

	p->tracker.inj = (struct injector){ .pid = pid, .mem_fd = -1 };
	r = sd_sec_prepare(ctx, &p->seized, &p->tracker.inj, true);
	if (r == 0)
		r = sd_state_check_supported(ctx, pid, &p->seized, false);
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

static int run(struct pass *p, struct sdump_preflight *pf)
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
	r = frozen_checks(p);
	sd_seize_detach(ctx, &p->seized, NULL);
	p->frozen = false;
	if (r == 0 && !ctx->refusals.unsafe)
		r = sd_check_cancel(ctx);
	return r;
}

SDUMP_API int sdump_preflight(struct sdump_ctx *ctx, pid_t pid, struct sdump_preflight **ret)
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
	struct sdump_preflight *pf;
	bool unsafe;
	int r;

	if (pid <= 0)
		return sd_errx(ctx, -EINVAL, "a preflight needs a pid");
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return sd_err(ctx, -ENOMEM, "cannot check pid %d", pid);
	pf->pid = pid;
	p.meta.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	sd_refusals_begin(ctx);
	r = run(&p, pf);
	unsafe = ctx->refusals.unsafe;
	sd_refusals_end(ctx, &pf->obstacles, &pf->nobstacles);
	for (size_t i = 0; i < pf->nobstacles; i++)
		strip_prefix(pf->obstacles[i]);
	pf->complete = !unsafe;
	(void)snprintf(pf->comm, sizeof(pf->comm), "%s", p.meta.comm);
	if (p.frozen)
		sd_seize_detach(ctx, &p.seized, NULL);
	sd_process_state_release(&p.ps);
	sd_files_state_release(&p.fs);
	zclose(&p.pidfd);
	sd_vma_list_release(&p.vmas);
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
