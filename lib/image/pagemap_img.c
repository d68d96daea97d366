/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "sdump.h"
#define LOG_PREFIX "pagemap: "
#include "ctx.h"
#include "image.h"
#include "img_files.h"
#include "pagemap.pb-c.h"
#include "pagemap_img.h"
#include "util.h"

int sd_pm_list_add(struct pm_list *l, uint64_t vaddr, uint64_t npages, enum pm_kind kind,
		uint64_t off, size_t page_size)
{
	if (npages == 0)
		return 0;
	if (l->n > 0) {
		struct pm_entry *last = &l->e[l->n - 1];

		if (last->kind == kind && last->vaddr + last->npages * page_size == vaddr &&
		    (kind != PM_DATA || last->off + last->npages * page_size == off)) {
			last->npages += npages;
			return 0;
		}
	}
	if (ARRAY_RESERVE(l->e, l->cap, l->n + 1, 256) < 0)
		return -ENOMEM;
	l->e[l->n++] = (struct pm_entry){ vaddr, npages, kind, kind == PM_DATA ? off : 0 };
	return 0;
}

void sd_pm_list_release(struct pm_list *l)
{
	zfree(&l->e);
	l->n = l->cap = 0;
}

const struct pm_entry *sd_pm_list_find_ge(const struct pm_list *l, uint64_t addr, size_t page_size)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pm_entry *e = &l->e[mid];

		if (e->vaddr + e->npages * page_size <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n ? &l->e[lo] : NULL;
}

const struct pm_entry *sd_pm_list_find(const struct pm_list *l, uint64_t addr, size_t page_size)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pm_entry *e = &l->e[mid];

		if (addr < e->vaddr)
			hi = mid;
		else if (addr >= e->vaddr + e->npages * page_size)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

int sd_pmimg_write(struct sdump_ctx *ctx, struct img_dir *dir, const struct pmimg *pm,
		uint64_t *ret_size)
{
	struct img_rec_writer w = { 0 };
	PagemapHead head = PAGEMAP_HEAD__INIT;
	PagesFrame *fr = NULL, **frp = NULL;
	int r = 0;

	fr = calloc(pm->nframes ? pm->nframes : 1, sizeof(*fr));
	frp = calloc(pm->nframes ? pm->nframes : 1, sizeof(*frp));
	if (!fr || !frp) {
		r = sd_err(ctx, -ENOMEM, "cannot encode %s", sd_imgfile_name(IMGF_PAGEMAP));
		goto out;
	}
	for (size_t i = 0; i < pm->nframes; i++) {
		pages_frame__init(&fr[i]);
		fr[i].csize = pm->frames[i].csize;
		fr[i].crc32c = pm->frames[i].crc32c;
		fr[i].has_raw = fr[i].raw = pm->frames[i].raw;
		frp[i] = &fr[i];
	}
	head.page_size = pm->page_size;
	head.frame_size = pm->frame_size;
	head.stream_bytes = pm->stream_bytes;
	head.pages_file_size = pm->pages_file_size;
	head.n_frames = pm->nframes;
	head.frames = frp;
	r = sd_img_rec_add(&w, &head.base);
	for (size_t i = 0; r == 0 && i < pm->list.n; i++) {
		const struct pm_entry *e = &pm->list.e[i];
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		pe.vaddr = e->vaddr;
		pe.nr_pages = e->npages;
		pe.kind = (PagesKind)e->kind;
		if (e->kind == PM_DATA) {
			pe.has_off = true;
			pe.off = e->off;
		}
		r = sd_img_rec_add(&w, &pe.base);
	}
	if (r < 0) {
		r = sd_err(ctx, r, "cannot encode %s", sd_imgfile_name(IMGF_PAGEMAP));
		goto out;
	}
	r = sd_imgfile_rec_commit(ctx, dir, IMGF_PAGEMAP, &w, ret_size);
out:
	sd_img_rec_writer_release(&w);
	free(fr);
	free(frp);
	return r;
}

static int bad(struct sdump_ctx *ctx, struct img_dir *dir, const char *what)
{
	return sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: %s", dir->path,
		       sd_imgfile_name(IMGF_PAGEMAP), what);
}

/* Why the run @e cannot be, or NULL. */
static const char *check_entry(const struct pmimg *pm, const struct pm_entry *prev,
			       const struct pm_entry *e)
{
	uint64_t psz = pm->page_size;

	if (e->kind != PM_DATA && e->kind != PM_ZERO && e->kind != PM_PARENT)
		return "unknown kind";
	if (e->npages == 0 || e->vaddr % psz)
		return "empty or not page aligned";
	if (e->vaddr >= PM_ADDR_LIMIT || e->npages > (PM_ADDR_LIMIT - e->vaddr) / psz)
		return "it reaches beyond the user address space";
	if (prev && prev->vaddr + prev->npages * psz > e->vaddr)
		return "it overlaps the one before";
	if (e->kind == PM_DATA &&
	    (e->off % psz || e->off > pm->stream_bytes ||
	     e->npages > (pm->stream_bytes - e->off) / psz))
		return "its data lies outside pages.img";
	return NULL;
}

int sd_pmimg_read(struct sdump_ctx *ctx, struct img_dir *dir, struct pmimg *ret_pm)
{
	const char *name = sd_imgfile_name(IMGF_PAGEMAP);
	struct img_rec_reader rd;
	struct pmimg pm = { 0 };
	PagemapHead *head = NULL;
	ProtobufCMessage *m;
	int r;

	r = sd_imgfile_rec_open(ctx, dir, IMGF_PAGEMAP, &rd);
	if (r < 0)
		return r;
	r = sd_img_rec_next(&rd, &pagemap_head__descriptor, &m);
	if (r <= 0) {
		r = bad(ctx, dir, "no header record");
		goto out;
	}
	head = (PagemapHead *)m;
	pm.page_size = head->page_size;
	pm.frame_size = head->frame_size;
	pm.stream_bytes = head->stream_bytes;
	pm.pages_file_size = head->pages_file_size;
	if (pm.page_size < 4096 || pm.page_size > (1u << 21) || (pm.page_size & (pm.page_size - 1)) ||
	    pm.frame_size == 0 || pm.frame_size % pm.page_size || pm.stream_bytes % pm.page_size) {
		r = bad(ctx, dir, "bad header");
		goto out;
	}
	pm.nframes = head->n_frames;
	pm.frames = calloc(pm.nframes ? pm.nframes : 1, sizeof(*pm.frames));
	if (!pm.frames) {
		r = sd_err(ctx, -ENOMEM, "cannot read '%s/%s'", dir->path, name);
		goto out;
	}
	for (size_t i = 0; i < pm.nframes; i++)
		pm.frames[i] = (struct pagestore_frame){ head->frames[i]->csize,
							 head->frames[i]->crc32c,
							 head->frames[i]->raw };
	while ((r = sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m)) == 1) {
		PagemapEntry *pe = (PagemapEntry *)m;
		struct pm_entry e = { pe->vaddr, pe->nr_pages, (enum pm_kind)pe->kind, pe->off };
		const struct pm_entry *prev = pm.list.n ? &pm.list.e[pm.list.n - 1] : NULL;
		const char *why = check_entry(&pm, prev, &e);

		if (!why && e.kind == PM_DATA && !pe->has_off)
			why = "no offset";
		protobuf_c_message_free_unpacked(m, NULL);
		if (why) {
			r = sd_errx(ctx, -EBADMSG,
				    "image file '%s/%s' is corrupt: page run %zu (0x%" PRIx64 ", %" PRIu64 " pages): %s",
				    dir->path, name, pm.list.n, e.vaddr, e.npages, why);
			goto out;
		}
		/* no merging on read: keep what the image says, one entry a record */
		if (ARRAY_RESERVE(pm.list.e, pm.list.cap, pm.list.n + 1, 256) < 0) {
			r = sd_err(ctx, -ENOMEM, "cannot read '%s/%s'", dir->path, name);
			goto out;
		}
		pm.list.e[pm.list.n++] = e;
	}
	if (r < 0) {
		r = bad(ctx, dir, "bad record");
		goto out;
	}
	*ret_pm = pm;
	pm = (struct pmimg){ 0 };
out:
	if (head)
		protobuf_c_message_free_unpacked(&head->base, NULL);
	sd_img_rec_reader_release(&rd);
	sd_pmimg_release(&pm);
	return r;
}

void sd_pmimg_release(struct pmimg *pm)
{
	zfree(&pm->frames);
	sd_pm_list_release(&pm->list);
}
