/* SPDX-License-Identifier: MIT */
/*
 * sdump verify: every byte of every pass of a chain read and checked.
 *
 * Opening the chain reads and validates every record file of every pass
 * and every parent link (chain.c). On top of that, for each pass: every
 * frame of pages.img read, its checksum compared and decompressed to its
 * size; the saved deleted files (ghosts.img, every frame of
 * ghost-data.img); a final dump's state files; and every run the pass
 * leaves to its parent found recorded there. The first failure names its
 * file and stops.
 */
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "verify: "
#include "ctx.h"
#include "chain.h"
#include "ghost_img.h"
#include "pstate.h"
#include "state_img.h"
#include "img_files.h"
#include "infofmt.h"
#include "ptree.h"
#include "tree_img.h"
#include "util.h"

/* Every frame of @rd decoded: checksum, decompression, size. */
static int verify_frames(struct sdump_ctx *ctx, struct pagestore_reader *rd,
			 struct sdump_verify_pass *out)
{
	struct pagestore_decoder d = { 0 };
	int r = 0;

	for (size_t i = 0; i < rd->nframes; i++) {
		r = sd_check_cancel(ctx);
		if (r < 0)
			break;
		r = sd_pagestore_decode(rd, &d, i);
		if (r < 0) {
			r = sd_pagestore_decode_error(ctx, rd, &d, i);
			break;
		}
		out->frames++;
		out->page_bytes += d.len;
	}
	sd_pagestore_decoder_release(&d);
	return r;
}

/*
 * Every run @p leaves to its parent @parent is recorded there (as data,
 * zeros, or left to the parent's own parent, which its own turn checks).
 */
static int verify_parent_runs(struct sdump_ctx *ctx, const struct chain_pass *p,
			      const struct chain_pass *parent, struct sdump_verify_pass *out)
{
	const size_t psz = p->meta.page_size;

	for (size_t i = 0; i < p->pm.list.n; i++) {
		const struct pm_entry *e = &p->pm.list.e[i];
		uint64_t addr = e->vaddr, end = e->vaddr + e->npages * psz;

		if (e->kind != PM_PARENT)
			continue;
		while (addr < end) {
			const struct pm_entry *pe = parent ? sd_pm_list_find(&parent->pm.list, addr, psz)
							   : NULL;

			if (!pe)
				return sd_errx(ctx, -EBADMSG,
					       "image '%s' is corrupt: its pagemap.img leaves page 0x%" PRIx64
					       " to a parent pass that does not record it",
					       p->dir.path, addr);
			addr = MIN(end, pe->vaddr + pe->npages * psz);
		}
		out->parent_runs++;
	}
	return 0;
}

/* A final dump's state files: core-<tid>.img of every thread, process.img, files.img. */
static int verify_state(struct sdump_ctx *ctx, struct chain_pass *p, struct sdump_verify_pass *out)
{
	struct process_state ps = { 0 };
	struct files_state fs = { 0 };
	int r;

	r = sd_stateimg_read(ctx, &p->dir, &ps, &fs);
	if (r == 0) {
		out->threads = ps.nthreads;
		out->fds = fs.n;
	}
	sd_process_state_release(&ps);
	sd_files_state_release(&fs);
	return r;
}

static int verify_pass(struct sdump_ctx *ctx, struct chain *c, size_t i, bool pages,
		       struct sdump_verify_pass *out)
{
	struct chain_pass *p = &c->p[i];
	struct pagestore_reader *rd;
	struct ghost_set gs = { 0 };
	int r;

	out->dir = strdup(p->dir.path);
	out->pass_id = strdup(p->meta.pass_id);
	out->kind = strdup(sd_pass_kind_name(p->meta.kind));
	if (!out->dir || !out->pass_id || !out->kind)
		return sd_err(ctx, -ENOMEM, "cannot verify '%s'", p->dir.path);
	r = sd_chain_reader(ctx, c, i, &rd);
	if (r == 0 && pages)
		r = verify_frames(ctx, rd, out);
	if (r == 0)
		r = verify_parent_runs(ctx, p, i + 1 < c->n ? &c->p[i + 1] : NULL, out);
	if (r == 0)
		r = sd_ghost_set_read(ctx, &p->dir, &gs);
	if (r == 0) {
		r = sd_ghost_set_verify(ctx, &gs);
		out->ghost_files = gs.n;
		out->ghost_frames = gs.nframes;
	}
	sd_ghost_set_release(&gs);
	if (r == 0 && p->meta.kind == PASS_KIND_DUMP)
		r = verify_state(ctx, p, out);
	return r;
}

static int chain_verify(struct sdump_ctx *ctx, const char *dir, bool newest_only, bool pages,
			struct sdump_verify_report **ret_report)
{
	struct sdump_verify_report *rep;
	struct chain c = { 0 };
	int r;

	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	r = sd_chain_open(ctx, dir, &c);
	if (r == 0) {
		rep->passes = calloc(c.n, sizeof(*rep->passes));
		if (!rep->passes)
			r = sd_err(ctx, -ENOMEM, "cannot verify '%s'", dir);
	}
	for (size_t i = 0; r == 0 && i < (newest_only ? MIN(c.n, 1) : c.n); i++) {
		rep->n++;
		r = verify_pass(ctx, &c, i, pages, &rep->passes[i]);
	}
	sd_chain_release(&c);
	if (r < 0) {
		sdump_verify_report_free(rep);
		return r;
	}
	*ret_report = rep;
	return 0;
}

/* @add's passes moved to the end of @rep's. */
static int report_append(struct sdump_verify_report *rep, struct sdump_verify_report *add)
{
	struct sdump_verify_pass *v = realloc(rep->passes, (rep->n + add->n) * sizeof(*v));

	if (!v && rep->n + add->n)
		return -ENOMEM;
	rep->passes = v;
	memcpy(rep->passes + rep->n, add->passes, add->n * sizeof(*v));
	rep->n += add->n;
	add->n = 0;
	return 0;
}

/*
 * A tree's image (tree.img at its top, no pass of its own): tree.img read
 * and checked, then every member's pass (its chain) as one alone's, the
 * root's first; the report holds them all, in tree.img's order.
 */
static int tree_verify(struct sdump_ctx *ctx, const char *dir, bool newest_only, bool pages,
		       struct sdump_verify_report **ret_report)
{
	struct sdump_verify_report *rep = calloc(1, sizeof(*rep)), *one = NULL;
	struct proc_tree t = { 0 };
	int r = rep ? sd_treeimg_read(ctx, dir, &t) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < t.n; i++) {
		char path[PATH_MAX], name[TREE_DIR_NAME_MAX];

		if (t.m[i].zombie)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, sd_tree_dir_name(t.m[i].pid, name)) >= (int)sizeof(path))
			r = sd_errx(ctx, -ENAMETOOLONG, "image directory '%s': name too long", dir);
		if (r == 0)
			r = chain_verify(ctx, path, newest_only, pages, &one);
		if (r == 0)
			r = report_append(rep, one);
		sdump_verify_report_free(one);
		one = NULL;
	}
	sd_tree_release(&t);
	if (r < 0) {
		sdump_verify_report_free(rep);
		return r;
	}
	*ret_report = rep;
	return 0;
}

static int any_verify(struct sdump_ctx *ctx, const char *dir, bool newest_only, bool pages,
		      struct sdump_verify_report **ret_report)
{
	char inv[PATH_MAX];

	if (snprintf(inv, sizeof(inv), "%s/%s", dir, sd_imgfile_name(IMGF_INVENTORY)) < (int)sizeof(inv) &&
	    access(inv, F_OK) < 0 && sd_treeimg_present(dir))
		return tree_verify(ctx, dir, newest_only, pages, ret_report);
	return chain_verify(ctx, dir, newest_only, pages, ret_report);
}

SDUMP_API int sdump_chain_verify(struct sdump_ctx *ctx, const char *dir,
				 struct sdump_verify_report **ret_report)
{
	return any_verify(ctx, dir, false, true, ret_report);
}

SDUMP_API int sdump_pass_verify(struct sdump_ctx *ctx, const char *dir,
				struct sdump_verify_report **ret_report)
{
	return any_verify(ctx, dir, true, true, ret_report);
}

SDUMP_API int sdump_pass_verify_no_pages(struct sdump_ctx *ctx, const char *dir,
					 struct sdump_verify_report **ret_report)
{
	return any_verify(ctx, dir, true, false, ret_report);
}

SDUMP_API void sdump_verify_report_free(struct sdump_verify_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->passes[i].dir);
		free(rep->passes[i].pass_id);
		free(rep->passes[i].kind);
	}
	free(rep->passes);
	free(rep);
}

SDUMP_API void sdump_verify_report_write_text(const struct sdump_verify_report *rep, FILE *out)
{
	uint64_t frames = 0;

	for (size_t i = 0; i < rep->n; i++) {
		const struct sdump_verify_pass *p = &rep->passes[i];
		char size[32], v[VIS_MAX];

		sd_fmt_size(size, sizeof(size), p->page_bytes);
		fprintf(out, "%-8s  %s\n", p->kind, sd_vis(v, sizeof(v), p->dir));
		fprintf(out, "  record files read and checked; pages.img: %" PRIu64 " frame%s, %s of pages\n",
			p->frames, p->frames == 1 ? "" : "s", size);
		if (p->parent_runs)
			fprintf(out, "  %" PRIu64 " run%s left to the parent, each found there\n",
				p->parent_runs, p->parent_runs == 1 ? "" : "s");
		if (p->ghost_files)
			fprintf(out, "  %" PRIu64 " saved deleted file%s, %" PRIu64 " frame%s of ghost-data.img\n",
				p->ghost_files, p->ghost_files == 1 ? "" : "s", p->ghost_frames,
				p->ghost_frames == 1 ? "" : "s");
		if (!strcmp(p->kind, "dump"))
			fprintf(out, "  process state: %" PRIu64 " thread%s, %" PRIu64 " fd%s\n", p->threads,
				p->threads == 1 ? "" : "s", p->fds, p->fds == 1 ? "" : "s");
		frames += p->frames + p->ghost_frames;
	}
	fprintf(out, "verified: %zu pass%s, every record file, link and checksum, %" PRIu64
		" frame%s decompressed\n",
		rep->n, rep->n == 1 ? "" : "es", frames, frames == 1 ? "" : "s");
}

SDUMP_API void sdump_verify_report_write_json(const struct sdump_verify_report *rep, FILE *out)
{
	fputs("{\"verified\":true,\"passes\":[", out);
	for (size_t i = 0; i < rep->n; i++) {
		const struct sdump_verify_pass *p = &rep->passes[i];

		fputs(i ? ",{\"dir\":" : "{\"dir\":", out);
		sd_json_str(out, p->dir);
		fputs(",\"kind\":", out);
		sd_json_str(out, p->kind);
		fputs(",\"pass_id\":", out);
		sd_json_str(out, p->pass_id);
		fprintf(out, ",\"frames\":%" PRIu64 ",\"page_bytes\":%" PRIu64 ",\"parent_runs\":%" PRIu64
			",\"ghost_files\":%" PRIu64 ",\"ghost_frames\":%" PRIu64 ",\"threads\":%" PRIu64
			",\"fds\":%" PRIu64 "}",
			p->frames, p->page_bytes, p->parent_runs, p->ghost_files, p->ghost_frames,
			p->threads, p->fds);
	}
	fputs("]}\n", out);
}
