/* SPDX-License-Identifier: MIT */
/*
 * A restore built while its chain grows (sdump receive --restore): the
 * process is made at the first pass, stopped and traced, and its memory
 * follows pass by pass, so that at the switch only the final dump's pages
 * and the process's state remain.
 *
 * It is the restore of restore.c, run in parts: steps 1 and 2 (the child
 * with its PID, its address space emptied) at the first pass, step 3
 * (sd_rst_build_memory) at each pass over what changed since the one
 * before, with r->vma_stage saying which VMAs are new (mapped, filled
 * whole), kept (the same VMA as in the pass before: only the pages this
 * pass stores written, those the process dropped given back) or left for
 * later (a pre-dump cannot map them: shared memory and deleted files,
 * whose contents only the final dump saves), and a VMA that went or
 * changed unmapped first. The final dump then runs the rest of step 3 and
 * steps 4 to 7 as any restore does.
 *
 * What the first pass cannot know is checked at the end: the leader was
 * made with our timer slack as its default and the vdso where the first
 * pass had it, and the trampoline lies where no VMA of the first pass
 * did. A final dump that disagrees has the process dropped and restored
 * from scratch instead (said at -v): slower, never different.
 *
 * A process tree is built so too, every member (rst_stage_tree.c). A pass
 * whose processes are not those built (a child forked or gone between
 * rounds, or the process now a tree, or no longer one) has everything
 * built dropped and made again from it, its whole chain: that pass takes
 * longer, the source still running; a final dump that differs so is
 * restored from scratch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "chain.h"
#include "restore.h"
#include "tree_img.h"
#include "util.h"

#include "rst_stage_priv.h"

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Whether @a and @b are the same mapping, mapped the same way, with the same flags. */
static bool same_vma(const struct vma *a, const struct vma *b)
{
	return a->start == b->start && a->end == b->end && a->kind == b->kind && a->prot == b->prot &&
	       a->shared == b->shared && a->pgoff == b->pgoff && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && a->ino == b->ino && str_same(a->path, b->path) &&
	       a->has_file_size == b->has_file_size && a->file_size == b->file_size &&
	       a->has_file_flags == b->has_file_flags && a->file_flags == b->file_flags &&
	       a->deleted == b->deleted && a->has_vmflags == b->has_vmflags &&
	       a->vmflags == b->vmflags && a->may_write == b->may_write && a->pkey == b->pkey &&
	       a->nguards == b->nguards &&
	       (!a->nguards || !memcmp(a->guards, b->guards, 2 * a->nguards * sizeof(*a->guards)));
}

/* A VMA a pre-dump has all it needs to map: anonymous memory, files with a name. */
static bool early(const struct vma *v)
{
	return v->kind == VK_ANON || ((v->kind == VK_FILE || v->kind == VK_FILE_SHARED) && !v->deleted);
}

/* The kernel's own mappings: there since the address space was emptied, never ours to make. */
static bool kernels(const struct vma *v)
{
	return v->kind == VK_VDSO || v->kind == VK_VVAR || v->kind == VK_VSYSCALL;
}

static bool over_tramp(const struct rst *r, const struct vma *v)
{
	return v->start < r->tramp + TRAMP_PAGES * 4096ull && v->end > r->tramp;
}

/*
 * The stage of each VMA of the newest pass against the pass before (what
 * s->mapped says is in the process), and what went unmapped. @ret_why: a
 * reason the final dump cannot be applied (then nothing was changed).
 */
static int reconcile(struct stage_proc *s, bool final, uint8_t **ret_stage, const char **ret_why)
{
	struct rst *r = s->r;
	const struct vma_list *vl = &r->chain.p[0].vmas;
	const struct vma_list *old = s->mapped && r->chain.n > 1 ? &r->chain.p[1].vmas : NULL;
	uint8_t *stage = calloc(vl->n + 1, 1), *used = calloc(old ? old->n + 1 : 1, 1);
	size_t j = 0;
	int e = 0;

	*ret_why = NULL;
	s->nkept = s->nnew = s->ngone = 0;
	if (!stage || !used) {
		free(stage);
		free(used);
		return sd_err(r->ctx, -ENOMEM, "cannot plan the memory of pid %d", r->pid);
	}
	for (size_t i = 0; i < vl->n; i++) {
		const struct vma *v = &vl->v[i];

		while (old && j < old->n && old->v[j].start < v->start)
			j++;
		if (old && j < old->n && s->mapped[j] && same_vma(&old->v[j], v)) {
			stage[i] = RST_VMA_KEPT;
			used[j] = 1;
		} else if (kernels(v)) {
			stage[i] = RST_VMA_KEPT;
		} else if (over_tramp(r, v)) {
			stage[i] = RST_VMA_LATER;
			if (final)
				*ret_why = "a VMA lies where the trampoline is";
		} else {
			stage[i] = final || early(v) ? RST_VMA_NEW : RST_VMA_LATER;
		}
	}
	/* a VMA that went, or changed: unmapped before anything new is mapped over it */
	for (size_t k = 0; old && !*ret_why && k < old->n && e == 0; k++)
		if (s->mapped[k] && !used[k] && !kernels(&old->v[k])) {
			e = sd_rst_unmap_vma(r, &old->v[k]);
			s->ngone++;
		}
	for (size_t i = 0; i < vl->n; i++) {
		s->nkept += stage[i] == RST_VMA_KEPT && !kernels(&vl->v[i]);
		s->nnew += stage[i] == RST_VMA_NEW;
	}
	free(used);
	if (e < 0 || *ret_why) {
		free(stage);
		return e;
	}
	*ret_stage = stage;
	return 0;
}

int sd_rst_stage_apply(struct sdump_restore_stage *s, struct stage_proc *p, bool final, const char **ret_why)
{
	struct rst *r = p->r;
	uint64_t t = now_us();
	uint8_t *stage = NULL;
	int e = reconcile(p, final, &stage, ret_why);

	(void)s;
	if (e < 0 || *ret_why)
		return e;
	r->vma_stage = stage;
	r->stage_round = !final;
	e = sd_rst_build_memory(r, &t);
	r->vma_stage = NULL;
	r->stage_round = false;
	free(p->mapped);
	p->mapped = stage;
	if (e < 0)
		return e;
	/* in the process from here, as this pass has it */
	for (size_t i = 0; i < r->chain.p[0].vmas.n; i++)
		stage[i] = stage[i] != RST_VMA_LATER;
	return 0;
}

int sd_rst_stage_stand_in(struct stage_proc *p)
{
	struct rst *r = p->r;

	r->ps.threads = calloc(1, sizeof(*r->ps.threads));
	if (!r->ps.threads)
		return -ENOMEM;
	r->ps.nthreads = 1;
	r->pid = r->ps.pid = r->ps.threads[0].tid = r->chain.p[0].meta.pid;
	for (size_t i = 0; i < r->chain.p[0].vmas.n && !r->ps.mm.vvar; i++)
		if (r->chain.p[0].vmas.v[i].kind == VK_VVAR)
			r->ps.mm.vvar = r->chain.p[0].vmas.v[i].start;
	p->vvar = r->ps.mm.vvar;
	return 0;
}

void sd_rst_stage_made_at(struct sdump_restore_stage *s)
{
	s->made_at = s->passes + 1;
	if (s->made_at == 1)
		(void)snprintf(s->made_at_s, sizeof(s->made_at_s), "the first pass");
	else
		(void)snprintf(s->made_at_s, sizeof(s->made_at_s), "pass %u", s->made_at);
}

/* A process alone from pass @dir (with @any_chain, a pass that need not be the first). */
static int begin_one(struct sdump_restore_stage *s, const char *dir, bool any_chain)
{
	struct rst *r = &s->r;
	const char *why;
	int e;

	sd_rst_init(r, s->ctx, s->opts);
	r->t0 = s->t0;
	r->staged = true;
	s->one = (struct stage_proc){ .r = r };
	s->p = &s->one;
	s->np = 1;
	e = sd_chain_open(s->ctx, dir, &r->chain);
	if (e < 0)
		return e;
	if (r->chain.n != 1 && !any_chain)
		return sd_errx(s->ctx, -EINVAL, "image '%s' is not a first pass", dir);
	e = sd_rst_stage_stand_in(&s->one);
	if (e < 0)
		return e;
	s->slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	e = sd_rst_start_child(r);
	if (e == 0)
		e = sd_rst_clear_address_space(r);
	if (e == 0)
		e = sd_rst_stage_apply(s, &s->one, false, &why);
	if (e == 0)
		sd_log(s->ctx, SDUMP_LOG_INFO, "restore %d: made %sat %s, %" PRIu64 " pages in (%.2f s)",
		       r->pid, s->passes ? "again " : "", s->made_at_s, r->fill.pages, (now_us() - r->t0) / 1e6);
	return e;
}

SDUMP_API int sdump_restore_stage_begin(struct sdump_ctx *ctx, const struct sdump_restore_opts *opts,
					const char *dir, struct sdump_restore_stage **ret)
{
	struct sdump_restore_stage *s;
	int e;

	*ret = NULL;
	if (opts->lazy)
		return sd_errx(ctx, -EINVAL, "a restore built pass by pass cannot be lazy");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	s->opts = opts;
	s->t0 = now_us();
	s->p = &s->one;
	sd_rst_init(&s->r, ctx, opts);
	*ret = s;
	sd_rst_stage_made_at(s);
	e = sd_treeimg_present(dir) ? sd_rst_stage_tree_begin(s, dir) : begin_one(s, dir, false);
	if (e == 0)
		s->passes = 1;
	return e;
}

/* Everything built goes: killed and reaped, released; @s stays, to be built again or freed. */
static void drop(struct sdump_restore_stage *s)
{
	if (s->tree) {
		sd_rst_stage_tree_drop(s);
		return;
	}
	sd_rst_kill(&s->r);
	sd_rst_reap(&s->r);
	sd_rst_release(&s->r);
	free(s->one.mapped);
	s->one.mapped = NULL;
}

SDUMP_API int sdump_restore_stage_update(struct sdump_restore_stage *s, const char *dir)
{
	struct rst *r = &s->r;
	const char *why;
	bool tree = sd_treeimg_present(dir);
	uint64_t t = now_us();
	int e;

	if (tree != !!s->tree || (tree && !sd_rst_stage_tree_same(s, dir))) {
		sd_log(s->ctx, SDUMP_LOG_INFO, "restore %d: pass %u is of %s: what was built is dropped, made again from it",
		       s->p[0].r->pid, s->passes + 1,
		       !tree ? "a process alone" : s->tree ? "a tree that changed" : "a process tree");
		drop(s);
		s->t0 = now_us();
		sd_rst_stage_made_at(s);
		e = tree ? sd_rst_stage_tree_begin(s, dir) : begin_one(s, dir, true);
		if (e == 0)
			s->passes++;
		return e;
	}
	if (s->tree) {
		e = sd_rst_stage_tree_update(s, dir);
		if (e == 0)
			s->passes++;
		return e;
	}
	e = sd_chain_push(r->ctx, dir, &r->chain);
	if (e < 0)
		return e;
	e = sd_rst_stage_apply(s, &s->one, false, &why);
	if (e == 0)
		sd_log(r->ctx, SDUMP_LOG_INFO,
		       "restore %d: pass %u in, %" PRIu64 " pages; VMAs: %zu kept, %zu new, %zu unmapped; %zu range%s dropped (%.2f s)",
		       r->pid, s->passes + 1, r->fill.pages, s->one.nkept, s->one.nnew, s->one.ngone, r->fill_drops,
		       r->fill_drops == 1 ? "" : "s", (now_us() - t) / 1e6);
	if (e == 0)
		s->passes++;
	return e;
}

static void stage_free(struct sdump_restore_stage *s)
{
	free(s->one.mapped);
	free(s);
}

SDUMP_API void sdump_restore_stage_abort(struct sdump_restore_stage *s)
{
	if (!s)
		return;
	drop(s);
	stage_free(s);
}

int sd_rst_stage_scratch(struct sdump_restore_stage *s, const char *why, int *ret_status)
{
	struct sdump_ctx *ctx = s->ctx;
	const struct sdump_restore_opts *opts = s->opts;

	sd_log(ctx, SDUMP_LOG_INFO, "restore %d: %s: what was made over the rounds is dropped, restored from the final dump alone",
	       s->p[0].r->pid, why);
	sdump_restore_stage_abort(s);
	return sdump_restore(ctx, opts, ret_status);
}

int sd_rst_stage_final_state(struct stage_proc *p, const char *dir, const char **ret_why, uint64_t *t)
{
	struct rst *r = p->r;
	pid_t made = r->pid;
	int e = sd_chain_push(r->ctx, dir, &r->chain);

	*ret_why = NULL;
	if (e < 0)
		return e;
	/* the first pass's stand-in goes: the final dump's state comes */
	sd_process_state_release(&r->ps);
	e = r->chain.p[0].meta.kind == PASS_KIND_DUMP ?
		    sd_rst_read_state(r, dir, t) :
		    sd_errx(r->ctx, -EINVAL, "image '%s' is a pre-dump: only a final dump (sdump dump) can be restored",
			    dir);
	if (e == 0 && r->pid != made)
		*ret_why = "the final dump is of another pid";
	else if (e == 0 && r->ps.mm.vvar != p->vvar)
		*ret_why = "its vdso moved";
	if (e == 0 && !*ret_why && r->ps.nthreads > r->seized.cap) {
		struct seized_thread *st = realloc(r->seized.t, r->ps.nthreads * sizeof(*st));

		if (!st)
			e = -ENOMEM;
		else {
			r->seized.t = st;
			r->seized.cap = r->ps.nthreads;
		}
	}
	r->pid = made;
	return e;
}

SDUMP_API int sdump_restore_stage_finish(struct sdump_restore_stage *s, int *ret_status)
{
	struct rst *r = &s->r;
	const struct sdump_restore_opts *opts = s->opts;
	uint64_t t0 = now_us(), t = t0;
	const char *why = NULL;
	int e;

	if (s->tree)
		return sd_rst_stage_tree_finish(s, ret_status);
	if (opts->dir && sd_treeimg_present(opts->dir))
		return sd_rst_stage_scratch(s, "the final dump is of a process tree", ret_status);
	e = sd_rst_stage_final_state(&s->one, opts->dir, &why, &t);
	if (e == 0 && !why && !sd_rst_attrs_child_slack_was(r, s->slack))
		why = "its default timer slack is not the one it was made with";
	if (e == 0 && !why)
		e = sd_rst_stage_apply(s, &s->one, true, &why);
	if (e == 0 && why)
		return sd_rst_stage_scratch(s, why, ret_status);
	r->memory_us = now_us() - t;
	if (e == 0)
		sd_log(r->ctx, SDUMP_LOG_INFO,
		       "restore %d: the final pass onto the process made at %s: %" PRIu64 " pages; VMAs: %zu kept, %zu new, %zu unmapped; %zu range%s dropped",
		       r->pid, s->made_at_s, r->fill.pages, s->one.nkept, s->one.nnew, s->one.ngone, r->fill_drops,
		       r->fill_drops == 1 ? "" : "s");
	if (e == 0)
		e = sd_rst_build_state(r, &t);
	if (e == 0)
		e = sd_rst_start(r);
	e = sd_rst_end(r, e, t0, ret_status);
	stage_free(s);
	return e;
}
