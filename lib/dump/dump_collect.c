/* SPDX-License-Identifier: MIT */
/*
 * The collect phase of a pass (dump.c), while the target is frozen: its
 * VMAs, the tracker's verdict on each of them, and the pages to save, each
 * run marked "in parent" where the tracker says it is unwritten and the
 * parent has it. The tracker is armed afresh once the pages are known.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "array.h"
#include "ctx.h"
#include "dump_fd_extra.h"
#include "dump_mapped_files.h"
#include "dump_pass.h"
#include "live.h"
#include "ptscan.h"
#include "util.h"
#include "procfs.h"

struct collect_ctx {
	struct pass *p;
	const struct vma *v;
	bool all_written;	/* the VMA is not tracked: every page counts as written */
};

/* Unwritten pages: "in parent" where the parent has them, else copied. */
static int add_clean(struct pass *p, uint64_t a, uint64_t b, bool shared)
{
	const struct pm_list *pl = &p->parent.p[0].pm.list;
	size_t psz = p->meta.page_size;
	int r = 0;

	while (a < b && r == 0) {
		const struct pm_entry *e = sd_pm_list_find_ge(pl, a, psz);
		uint64_t end;

		/*
		 * A page the tracker calls clean but the parent never saw (it was
		 * lost during the parent's copy, say) is copied: never trust a
		 * page to be somewhere it is not.
		 */
		if (!e || e->vaddr >= b)
			return sd_run_list_add_shared(&p->runs, a, (b - a) / psz, psz, false, shared);
		if (e->vaddr > a) {
			r = sd_run_list_add_shared(&p->runs, a, (e->vaddr - a) / psz, psz, false, shared);
			a = e->vaddr;
			continue;
		}
		end = MIN(b, e->vaddr + e->npages * psz);
		r = sd_run_list_add_kind(&p->runs, a, (end - a) / psz, psz, true);
		a = end;
	}
	return r;
}

static int collect_range(void *data, const struct scan_range *sr)
{
	struct collect_ctx *c = data;
	uint32_t cats = sr->cats | (c->all_written ? SC_WRITTEN : 0);
	size_t psz = c->p->meta.page_size;
	uint64_t a = MAX(sr->start, c->v->start), b = MIN(sr->end, c->v->end);

	if (a >= b || !sd_page_wanted(c->v->kind, cats))
		return 0;
	if (!c->p->tracker.incremental || (cats & SC_WRITTEN))
		return sd_run_list_add_shared(&c->p->runs, a, (b - a) / psz, psz, false,
					      sd_page_shared(cats));
	return add_clean(c->p, a, b, sd_page_shared(cats));
}

/* A range of guard pages, joined to the last one of the VMA where they touch. */
static int add_guard(void *data, const struct scan_range *sr)
{
	struct vma *v = data;
	uint64_t a = MAX(sr->start, v->start), b = MIN(sr->end, v->end);
	uint64_t *g;

	if (!(sr->cats & SC_GUARD) || a >= b)
		return 0;
	if (v->nguards && v->guards[2 * v->nguards - 1] == a) {
		v->guards[2 * v->nguards - 1] = b;
		return 0;
	}
	g = realloc(v->guards, (v->nguards + 1) * 2 * sizeof(*g));
	if (!g)
		return -ENOMEM;
	v->guards = g;
	g[2 * v->nguards] = a;
	g[2 * v->nguards + 1] = b;
	v->nguards++;
	return 0;
}

/*
 * The guard pages of @v: only a VMA where guards were ever installed (gu)
 * can have any. A restore installs them again; the copier never reads them.
 */
static int find_guards(struct pass *p, struct scanner *sc, struct vma *v)
{
	int r;

	if (!(v->vmflags & VMF_MAYBE_GUARD))
		return 0;
	sc->file_pages = false;
	r = sd_scanner_scan(sc, v->start, v->end, add_guard, v);
	if (r < 0)
		return sd_err(p->ctx, r, "cannot read pagemap of pid %d at 0x%" PRIx64, p->opts->pid,
			      v->start);
	if (v->nguards)
		pr_debug(p->ctx, "0x%" PRIx64 "-0x%" PRIx64 ": %zu guard range%s", v->start, v->end,
			 v->nguards, v->nguards == 1 ? "" : "s");
	return 0;
}

/* [a, b) of @v saved whole, its guard pages left out. */
static int add_range(struct pass *p, const struct vma *v, uint64_t a, uint64_t b)
{
	size_t psz = p->meta.page_size;
	int r;

	for (size_t i = 0; i < v->nguards && a < b; i++) {
		uint64_t ga = MAX(v->guards[2 * i], a), gb = MIN(v->guards[2 * i + 1], b);

		if (ga >= gb)
			continue;
		if (ga > a) {
			r = sd_run_list_add(&p->runs, a, (ga - a) / psz, psz);
			if (r < 0)
				return r;
		}
		a = gb;
	}
	return a < b ? sd_run_list_add(&p->runs, a, (b - a) / psz, psz) : 0;
}

static int add_whole(struct pass *p, const struct vma *v)
{
	return add_range(p, v, v->start, v->end);
}

/*
 * Shared anonymous memory of a tree's member: the parts of its object
 * that a member before it maps are saved there (the first of them makes
 * the object again, v->shared_pid), the rest here, whole.
 */
static int add_shmem(struct pass *p, struct vma *v)
{
	const struct tree_objs *t = p->tree_objs;
	uint64_t len = v->end - v->start;
	/* the parts of the object still to save here, [2k, 2k + 1) in offsets */
	_cleanup_free_ uint64_t *part = NULL;
	size_t n = 1, cap = 8;
	int r = 0;

	if (!v->path)
		return add_whole(p, v);
	part = malloc(cap * sizeof(*part));
	if (!part)
		return -ENOMEM;
	part[0] = v->pgoff;
	part[1] = v->pgoff + len;
	for (size_t i = 0; i < t->n && n > 0; i++) {
		const struct tree_obj *o = &t->o[i];

		if (o->file || o->ino != v->ino || o->dev_major != v->dev_major || o->dev_minor != v->dev_minor)
			continue;
		if (!v->shared_pid)
			v->shared_pid = o->pid;
		/* each part less [o->off, o->end): none, one or two parts left of it */
		for (size_t k = 0; k < n;) {
			uint64_t a = part[2 * k], b = part[2 * k + 1];

			if (o->end <= a || o->off >= b) {
				k++;
				continue;
			}
			if (o->off > a && o->end < b) {
				if (ARRAY_RESERVE(part, cap, 2 * n + 2, 8) < 0)
					return -ENOMEM;
				part[2 * n] = o->end;
				part[2 * n + 1] = b;
				part[2 * k + 1] = o->off;
				n++;
				k++;
			} else if (o->off > a) {
				part[2 * k + 1] = o->off;
				k++;
			} else if (o->end < b) {
				part[2 * k] = o->end;
				k++;
			} else {
				part[2 * k] = part[2 * (n - 1)];
				part[2 * k + 1] = part[2 * (n - 1) + 1];
				n--;
			}
		}
	}
	/* in address order: the run list merges and needs them sorted */
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && part[2 * k] < part[2 * (k - 1)]; k--) {
			uint64_t a = part[2 * k], b = part[2 * k + 1];

			part[2 * k] = part[2 * (k - 1)];
			part[2 * k + 1] = part[2 * (k - 1) + 1];
			part[2 * (k - 1)] = a;
			part[2 * (k - 1) + 1] = b;
		}
	for (size_t k = 0; k < n && r == 0; k++)
		r = add_range(p, v, v->start + (part[2 * k] - v->pgoff), v->start + (part[2 * k + 1] - v->pgoff));
	if (v->shared_pid)
		pr_debug(p->ctx, "0x%" PRIx64 "-0x%" PRIx64 ": shared memory of pid %d too, %zu part%s saved here",
			 v->start, v->end, v->shared_pid, n, n == 1 ? "" : "s");
	return r;
}

static int collect_vma(struct pass *p, struct scanner *sc, struct vma *v)
{
	struct collect_ctx c = { .p = p, .v = v };
	int r;

	r = find_guards(p, sc, v);
	if (r < 0)
		return r;
	/*
	 * Shared anonymous memory may hold pages this process never mapped
	 * (pagemap cannot see them), and the vdso is two pages: saved whole,
	 * every pass; zero pages cost nothing in the image.
	 */
	if (v->kind == VK_SHMEM && p->tree_objs)
		return add_shmem(p, v);
	if (v->kind == VK_SHMEM || v->kind == VK_VDSO)
		return add_whole(p, v);
	v->tracked = false;
	if (p->tracker.incremental && p->track->vma_tracked) {
		r = p->track->vma_tracked(&p->tracker, sc, v);
		if (r < 0)
			return sd_err(p->ctx, r, "cannot scan pagemap of pid %d at 0x%" PRIx64,
				      p->opts->pid, v->start);
		v->tracked = r == 1;
		if (!v->tracked) {
			pr_debug(p->ctx, "0x%" PRIx64 "-0x%" PRIx64 " not tracked: saved whole", v->start,
				 v->end);
			c.all_written = true;
		}
	}
	sc->file_pages = v->kind == VK_FILE;
	/* its written pages protected again as the scan finds them (the tracking state gone first) */
	v->rearmed = p->rearm_in_scan && v->tracked;
	sc->rearm = v->rearmed;
	r = sd_scanner_scan(sc, v->start, v->end, collect_range, &c);
	sc->rearm = false;
	if (r < 0)
		return sd_err(p->ctx, r, "cannot read pagemap of pid %d at 0x%" PRIx64, p->opts->pid,
			      v->start);
	return 0;
}

/* Decide whether this pass can be incremental, and attach the tracker. */
static int open_tracker(struct pass *p)
{
	struct tracker *t = &p->tracker;
	/* what the pass set before (sd_sec_prepare: seccomp suspended) stays */
	const long opts = t->inj.ptrace_opts;
	const char *why = NULL;
	int r;

	*t = (struct tracker){
		.ctx = p->ctx,
		.ops = p->track,
		.pid = p->opts->pid,
		.pidfd = p->pidfd,
		.seized = &p->seized,
		.inj = { .pid = p->opts->pid, .mem_fd = -1, .ptrace_opts = opts },
		.fd = -1,
		.target_fd = -1,
	};
	if (p->parent.n > 0) {
		const struct pass_meta *pm = &p->parent.p[0].meta;

		if (p->track == &sd_track_none_ops)
			why = "tracking is off (--track none)";
		else if (strcmp(pm->tracker, p->track->name))
			why = "the parent was tracked differently";
		else if (!p->state_valid || strcmp(p->state.pass_id, pm->pass_id) ||
			 strcmp(p->state.tracker, p->track->name))
			why = "tracking was re-armed by another pass since the parent, or never armed";
		t->incremental = !why;
		if (why && p->track != &sd_track_none_ops)
			pr_warn(p->ctx, "pass %s: %s; this pass saves every page", p->opts->dir, why);
	}
	r = p->track->open(t, p->state_valid && !strcmp(p->state.tracker, p->track->name)
				      ? p->state.fd
				      : -1);
	if (r < 0)
		return r;
	p->tracker_open = true;
	return 0;
}

int sd_pass_read_vmas(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	_cleanup_free_ char *maps = NULL;
	char path[PROC_PATH_MAX], state;
	uint64_t start_time;
	size_t keep = 0;
	int r;

	/* The PID may have been reused between our first look and the seize. */
	(void)sd_proc_path(path, p->opts->pid, "stat");
	r = sd_read_file(AT_FDCWD, path, &maps, NULL);
	if (r < 0 || sd_proc_parse_stat(maps, &state, &start_time) < 0 ||
	    start_time != p->meta.start_time)
		return sd_errx(ctx, -ESRCH, "pid %d exited or was replaced while being seized",
			       p->opts->pid);
	zfree(&maps);

	(void)sd_proc_path(path, p->opts->pid, "maps");
	r = sd_read_file(AT_FDCWD, path, &maps, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	r = sd_proc_parse_maps(maps, &p->vmas);
	if (r < 0)
		return sd_err(ctx, r, "cannot parse '%s'", path);
	for (size_t i = 0; i < p->vmas.n; i++) {
		struct vma *v = &p->vmas.v[i];

		if (v->kind == VK_VSYSCALL) {
			free(v->path);
			continue;
		}
		p->vmas.v[keep++] = *v;
	}
	p->vmas.n = keep;
	/*
	 * A final dump's, frozen; a pre-dump reads them once the target runs
	 * on. A process alone: read on a thread while its mapped files are
	 * checked (those of a tree's member look at its flags), taken by
	 * sd_pass_collect() before the page scan, which needs them.
	 */
	if (p->final && !p->tree_objs && !p->preflight) {
		(void)sd_proc_path(path, p->opts->pid, "smaps");
		sd_bg_read_start(&p->smaps, path);
	} else if (p->final) {
		r = sd_pass_vmflags(p);
		if (r < 0)
			return r;
	}
	/*
	 * mapped files: their size (a restore notices a changed file) and how
	 * each is open; deleted ones checked, and saved by a final dump
	 */
	return sd_dump_mapped_files(ctx, p->opts, p->final && !p->preflight, &p->dir, &p->vmas,
				 p->final ? &p->fs : NULL, p->tree_objs, &p->shmem_pre,
				 &p->st.bytes_written);
}

int sd_pass_collect(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	size_t psz = p->meta.page_size;
	struct scanner sc;
	int r;

	r = sd_pass_read_vmas(p);
	if (r == 0 && p->final && !p->tree_objs && !p->preflight)
		r = sd_pass_vmflags(p);
	if (r < 0)
		return r;
	r = open_tracker(p);
	if (r < 0)
		return r;
	r = sd_scanner_init(&sc, p->pagemap_fd, psz, p->track->written);
	if (r < 0)
		return sd_err(ctx, r, "cannot scan pagemap of pid %d", p->opts->pid);
	/* a tree's members share pages copy-on-write: which, only the entries say (copier.c) */
	sc.exclusive = p->tree_objs != NULL;
	/*
	 * A pass the tracking is armed again after (not a final dump that
	 * ends the process, not live): the scan re-arms the tracked VMAs
	 * itself where it can. Pages it protected are saved only if the pass
	 * ends well: the tracking state goes now, so that a pass after a
	 * failure saves every page.
	 */
	p->rearm_in_scan = p->tracker.incremental && sd_scanner_can_rearm(&sc) && !p->opts->live &&
			   !(p->final && !p->opts->leave_running && !p->opts->leave_stopped);
	if (p->rearm_in_scan)
		sd_track_state_remove(p->opts->pid, p->meta.start_time);
	for (size_t i = 0; i < p->vmas.n && r == 0; i++) {
		struct vma *v = &p->vmas.v[i];

		/* a shared file mapping saves nothing, but its guard pages */
		if (v->kind == VK_FILE_SHARED)
			r = find_guards(p, &sc, v);
		if (!sd_vma_kind_saved(v->kind))
			continue;
		p->st.pages_scanned += (v->end - v->start) / psz;
		r = collect_vma(p, &sc, v);
	}
	sd_scanner_release(&sc);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->runs.n; i++)
		if (!p->runs.r[i].in_parent)
			p->pages_to_copy += p->runs.r[i].npages;
	/* the last refusal of a final dump's fds, its read begun at the seize (dump.c) */
	if (p->final && !p->preflight) {
		r = sd_dump_fd_locks_seen(ctx, p->opts->pid, &p->locks, &p->fs, &p->vmas,
					  p->tree_objs ? p->tree_objs->pids : NULL,
					  p->tree_objs ? p->tree_objs->npids : 0);
		if (r < 0)
			return r;
	}
	/* the pages to save are known: from here on, writes count for the next pass */
	sd_track_state_remove(p->opts->pid, p->meta.start_time);
	/* live, with a tracker that lends its VMAs: sd_live_arm() arms what it does not borrow */
	p->live_frozen = p->opts->live &&
			 sd_live_copy_frozen(p->pages_to_copy, p->runs.pages, psz);
	/*
	 * A final dump that ends the process (a migration's last round) arms
	 * nothing, while frozen: no pass follows it. Resumed after a failure,
	 * the process keeps the protection of the pass before, which only
	 * counts more pages as written (never fewer) for a pass after.
	 */
	if (p->final && !p->opts->leave_running && !p->opts->leave_stopped)
		pr_debug(ctx, "the process ends with this pass: its tracking is not armed again");
	else if (!(p->opts->live && !p->live_frozen && track_lends_vmas(&p->tracker))) {
		r = p->track->arm(&p->tracker, &p->vmas, &p->runs);
		if (r < 0)
			return r;
	}
	p->st.vmas = p->vmas.n;
	pr_debug(ctx, "%zu VMAs, %" PRIu64 " pages to copy in %zu runs", p->vmas.n, p->runs.pages,
		 p->runs.n);
	return 0;
}
