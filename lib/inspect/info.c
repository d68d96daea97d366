/* SPDX-License-Identifier: MIT */
/* sdump show: what one pass's image holds. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "show: "
#include "ctx.h"
#include "chain.h"
#include "ghost_img.h"
#include "info_tree.h"
#include "pstate.h"
#include "state_img.h"
#include "tree_img.h"
#include "util.h"

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

SDUMP_API void sdump_image_info_free(struct sdump_image_info *info)
{
	if (!info)
		return;
	for (size_t i = 0; i < info->nr_vmas; i++) {
		free(info->vmas[i].path);
		free(info->vmas[i].guards);
	}
	free(info->vmas);
	free(info->dir);
	free(info->kind);
	free(info->pass_id);
	free(info->parent_pass_id);
	free(info->parent_path);
	free(info->tracker);
	free(info->comm);
	free(info->kernel);
	for (size_t i = 0; i < info->chain_len; i++) {
		free(info->chain[i].dir);
		free(info->chain[i].pass_id);
		free(info->chain[i].kind);
		free(info->chain[i].tracker);
	}
	free(info->chain);
	for (size_t i = 0; i < info->tree_len; i++)
		free(info->tree[i].dir);
	free(info->tree);
	if (info->state) {
		sd_process_state_release(&info->state->ps);
		sd_files_state_release(&info->state->fs);
		free(info->state);
	}
	free(info);
}

/* Count the pages of each VMA that the pass stores or leaves to its parent. */
static void count_pages(struct sdump_image_info *info, const struct pm_list *l, size_t psz)
{
	size_t vi = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct pm_entry *e = &l->e[i];
		uint64_t a = e->vaddr, end = e->vaddr + e->npages * psz;

		while (a < end && vi < info->nr_vmas) {
			struct sdump_vma_info *v = &info->vmas[vi];
			uint64_t to;

			if (a >= v->end) {
				vi++;
				continue;
			}
			if (a < v->start)
				a = v->start;
			to = MIN(end, v->end);
			if (a < to) {
				if (e->kind == PM_PARENT)
					v->pages_parent += (to - a) / psz;
				else
					v->pages_data += (to - a) / psz;
			}
			a = to;
			if (a < end)
				vi++;
		}
	}
}

/* Walk the parents: every link verified, each pass summed up. */
static int load_chain(struct sdump_ctx *ctx, const char *dir, struct sdump_image_info *info)
{
	struct chain c = { 0 };
	int r;

	r = sd_chain_open(ctx, dir, &c);
	if (r < 0)
		return r;
	info->chain = calloc(c.n, sizeof(*info->chain));
	if (!info->chain) {
		sd_chain_release(&c);
		return sd_err(ctx, -ENOMEM, "cannot load image '%s'", dir);
	}
	for (size_t i = 0; i < c.n; i++) {
		struct sdump_pass_summary *s = &info->chain[i];
		const struct chain_pass *p = &c.p[i];

		s->dir = strdup(p->dir.path);
		s->pass_id = strdup(p->meta.pass_id);
		s->kind = strdup(sd_pass_kind_name(p->meta.kind));
		s->tracker = strdup(p->meta.tracker);
		s->time_start_ns = p->meta.time_start_ns;
		s->stats = p->stats;
		info->chain_len++;
		if (!s->dir || !s->pass_id || !s->kind || !s->tracker) {
			sd_chain_release(&c);
			return sd_err(ctx, -ENOMEM, "cannot load image '%s'", dir);
		}
	}
	sd_chain_release(&c);
	return 0;
}

SDUMP_API int sdump_image_info_load(struct sdump_ctx *ctx, const char *dir,
				    struct sdump_image_info **ret_info)
{
	char inv[PATH_MAX];

	/* a tree's image has tree.img and no pass of its own at its top */
	if (snprintf(inv, sizeof(inv), "%s/%s", dir, sd_imgfile_name(IMGF_INVENTORY)) < (int)sizeof(inv) &&
	    access(inv, F_OK) < 0 && sd_treeimg_present(dir))
		return sd_info_load_tree(ctx, dir, ret_info);
	return sd_info_load_pass(ctx, dir, ret_info);
}

int sd_info_load_pass(struct sdump_ctx *ctx, const char *dir, struct sdump_image_info **ret_info)
{
	struct chain_pass p = { .dir = { .dirfd = -1 } };
	struct sdump_image_info *info;
	const struct pass_meta *m = &p.meta;
	struct pagestore_reader rd = { .fd = -1 };
	struct ghost_set gs = { 0 };
	int r;

	info = calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	r = sd_img_dir_open(ctx, dir, &p.dir);
	if (r == 0)
		r = sd_passimg_read_inventory(ctx, &p.dir, &p.meta);
	if (r == 0)
		r = sd_passimg_read_mm(ctx, &p.dir, m->page_size, &p.vmas);
	if (r == 0)
		r = sd_pmimg_read(ctx, &p.dir, &p.pm);
	if (r == 0 && p.pm.page_size != m->page_size)
		r = sd_errx(ctx, -EBADMSG, "image '%s' is corrupt: page sizes differ", dir);
	if (r == 0)
		r = sd_passimg_read_stats(ctx, &p.dir, &info->stats);
	if (r == 0)
		r = sd_pagestore_reader_open(ctx, &p.dir, p.pm.frames, p.pm.nframes, p.pm.frame_size,
					  p.pm.stream_bytes, p.pm.pages_file_size, &rd);
	if (r == 0) {
		r = sd_pagestore_verify(ctx, &rd);
		sd_pagestore_reader_release(&rd);
	}
	/* the saved deleted files, every frame verified too */
	if (r == 0)
		r = sd_ghost_set_read(ctx, &p.dir, &gs);
	if (r == 0)
		r = sd_ghost_set_verify(ctx, &gs);
	if (r < 0)
		goto out;
	info->dir = strdup(dir);
	info->format_version = m->format_version;
	info->kind = strdup(sd_pass_kind_name(m->kind));
	info->pass_id = strdup(m->pass_id);
	info->parent_pass_id = dup_or_null(m->parent_pass_id);
	info->parent_path = dup_or_null(m->parent_path);
	info->tracker = strdup(m->tracker);
	info->pid = m->pid;
	info->start_time = m->start_time;
	info->comm = strdup(m->comm);
	info->page_size = m->page_size;
	info->kernel = strdup(m->kernel);
	info->time_start_ns = m->time_start_ns;
	info->time_end_ns = m->time_end_ns;
	info->vmas = calloc(p.vmas.n ? p.vmas.n : 1, sizeof(*info->vmas));
	if (!info->dir || !info->kind || !info->pass_id || !info->tracker || !info->comm ||
	    !info->kernel || !info->vmas) {
		r = sd_err(ctx, -ENOMEM, "cannot load image '%s'", dir);
		goto out;
	}
	for (size_t i = 0; i < p.vmas.n; i++) {
		struct sdump_vma_info *v = &info->vmas[i];
		const struct vma *s = &p.vmas.v[i];

		v->start = s->start;
		v->end = s->end;
		v->pgoff = s->pgoff;
		sd_vma_prot_str(s->prot, s->shared, v->prot);
		if (s->has_file_flags)
			(void)snprintf(v->open, sizeof(v->open), "%s", s->file_flags == O_RDWR ? "rw" : "r");
		v->deleted = s->deleted;
		if (s->deleted && s->ghost) {
			const struct ghost_file *g = sd_ghost_set_find(&gs, s->ghost);

			if (!g) {
				r = sd_errx(ctx, -EBADMSG,
					    "image '%s' is corrupt: 0x%" PRIx64 "-0x%" PRIx64 " maps a deleted file whose contents it does not have",
					    dir, s->start, s->end);
				goto out;
			}
			v->ghost_saved = true;
			v->ghost_size = g->size;
			v->ghost_data = g->data_bytes;
			v->shared_pid = g->shared_pid;
		}
		if (s->shared_pid)
			v->shared_pid = s->shared_pid;
		v->has_vmflags = s->has_vmflags;
		if (s->vmflags & VMF_SAVED_MASK)
			sd_vmflags_str(s->vmflags & VMF_SAVED_MASK, v->vmflags, sizeof(v->vmflags));
		v->guards = s->guards;
		v->nguards = s->nguards;
		p.vmas.v[i].guards = NULL;
		v->path = s->path;
		p.vmas.v[i].path = NULL;
		info->nr_vmas++;
	}
	count_pages(info, &p.pm.list, m->page_size);
	r = load_chain(ctx, dir, info);
	if (r < 0)
		goto out;
	if (m->kind == PASS_KIND_DUMP) {
		info->state = calloc(1, sizeof(*info->state));
		if (!info->state) {
			r = sd_err(ctx, -ENOMEM, "cannot load image '%s'", dir);
			goto out;
		}
		r = sd_stateimg_read(ctx, &p.dir, &info->state->ps, &info->state->fs);
		if (r < 0)
			goto out;
	}
	*ret_info = info;
	info = NULL;
out:
	sdump_image_info_free(info);
	sd_ghost_set_release(&gs);
	sd_img_dir_release(&p.dir);
	sd_vma_list_release(&p.vmas);
	sd_pmimg_release(&p.pm);
	return r;
}
