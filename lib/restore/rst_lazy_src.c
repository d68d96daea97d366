/* SPDX-License-Identifier: MIT */
/*
 * The page source of a lazy restore from an image (rst_lazy.h): the frames
 * the eager fill left to the lazy VMAs (sd_rst_fill with a struct
 * rst_fill_lazy), read from the chain's passes. A frame is a unit of the
 * fill: one frame of one pass and the segments it feeds. The push order is
 * the units' (newest pass first: the pages the process wrote last, its
 * working set); a fault finds its frame by the image address, in an index
 * of every segment sorted by address.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "chain.h"
#include "pages_img.h"
#include "rst_lazy.h"
#include "util.h"

struct idx {
	uint64_t addr, end;
	size_t frame;
};

struct chain_src {
	struct rst_lazy_src s;
	struct sdump_ctx *ctx;
	struct chain *c;
	struct rst_fill_seg *segs;
	struct rst_fill_unit *units;	/* the lazy ones: frame i is units[i] */
	struct idx *idx;
	size_t nidx;
	atomic_size_t next;		/* the next frame to push */
	pthread_mutex_t rd_lk;		/* a pass's reader opened once, whoever asks first */
	struct pagestore_decoder dec[RST_LAZY_SLOTS];
	struct rst_lazy_piece *pieces[RST_LAZY_SLOTS];
	size_t cap[RST_LAZY_SLOTS];
};

static int idx_cmp(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static long frame_of(struct rst_lazy_src *s, uint64_t addr)
{
	struct chain_src *cs = (struct chain_src *)s;
	size_t lo = 0, hi = cs->nidx;

	/* the last segment that starts at or below @addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cs->idx[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= cs->idx[lo - 1].end)
		return -1;
	return (long)cs->idx[lo - 1].frame;
}

static long next_push(struct rst_lazy_src *s)
{
	struct chain_src *cs = (struct chain_src *)s;

	size_t i = atomic_fetch_add(&cs->next, 1);

	return i < s->nframes ? (long)i : -1;
}

static int get(struct rst_lazy_src *s, unsigned int slot, size_t i, struct rst_lazy_frame *f)
{
	struct chain_src *cs = (struct chain_src *)s;
	const struct rst_fill_unit *u = &cs->units[i];
	struct pagestore_decoder *d = &cs->dec[slot];
	struct pagestore_reader *rd;
	uint64_t base;
	int r;

	pthread_mutex_lock(&cs->rd_lk);
	r = sd_chain_reader(cs->ctx, cs->c, u->pass, &rd);
	pthread_mutex_unlock(&cs->rd_lk);
	if (r < 0)
		return r;
	r = sd_pagestore_decode(rd, d, u->frame);
	if (r < 0)
		return sd_pagestore_decode_error(cs->ctx, rd, d, u->frame);
	if (u->n > cs->cap[slot]) {
		struct rst_lazy_piece *p = realloc(cs->pieces[slot], u->n * sizeof(*p));

		if (!p)
			return sd_err(cs->ctx, -ENOMEM, "cannot read the memory of the restored process");
		cs->pieces[slot] = p;
		cs->cap[slot] = u->n;
	}
	base = (uint64_t)u->frame * rd->frame_size;
	for (size_t k = 0; k < u->n; k++) {
		const struct rst_fill_seg *g = &cs->segs[u->first + k];

		if (g->off < base || g->off - base + g->len > d->len)
			return sd_errx(cs->ctx, -EBADMSG, "image is corrupt: frame %zu of pass %zu is short",
				       u->frame, u->pass);
		cs->pieces[slot][k] = (struct rst_lazy_piece){ g->addr, g->len, d->data + (g->off - base) };
	}
	f->p = cs->pieces[slot];
	f->n = u->n;
	return 0;
}

static void release(struct rst_lazy_src *s)
{
	struct chain_src *cs = (struct chain_src *)s;

	pthread_mutex_destroy(&cs->rd_lk);
	for (int k = 0; k < RST_LAZY_SLOTS; k++) {
		sd_pagestore_decoder_release(&cs->dec[k]);
		free(cs->pieces[k]);
	}
	free(cs->idx);
	free(cs->segs);
	free(cs->units);
	free(cs);
}

int sd_rst_lazy_src_chain(struct sdump_ctx *ctx, struct chain *c, struct rst_fill_lazy *lazy,
			  struct rst_lazy_src **ret)
{
	struct chain_src *cs = calloc(1, sizeof(*cs));
	size_t n = 0;

	if (cs) {
		for (size_t i = 0; i < lazy->nunits; i++)
			n += lazy->units[lazy->first + i].n;
		cs->idx = calloc(n ? n : 1, sizeof(*cs->idx));
	}
	if (!cs || !cs->idx) {
		free(cs);
		free(lazy->segs);
		free(lazy->units);
		lazy->segs = NULL;
		lazy->units = NULL;
		return sd_err(ctx, -ENOMEM, "cannot plan the memory of the restored process");
	}
	cs->s = (struct rst_lazy_src){ .nframes = lazy->nunits, .pages = lazy->pages,
				       .frame_of = frame_of, .next_push = next_push, .get = get,
				       .release = release };
	cs->ctx = ctx;
	cs->c = c;
	pthread_mutex_init(&cs->rd_lk, NULL);
	cs->segs = lazy->segs;
	/* the lazy units first: frame i is the i-th of them */
	memmove(lazy->units, lazy->units + lazy->first, lazy->nunits * sizeof(*lazy->units));
	cs->units = lazy->units;
	lazy->segs = NULL;
	lazy->units = NULL;
	for (size_t i = 0; i < cs->s.nframes; i++)
		for (size_t k = 0; k < cs->units[i].n; k++) {
			const struct rst_fill_seg *g = &cs->segs[cs->units[i].first + k];

			cs->idx[cs->nidx++] = (struct idx){ g->addr, g->addr + g->len, i };
		}
	qsort(cs->idx, cs->nidx, sizeof(*cs->idx), idx_cmp);
	*ret = &cs->s;
	return 0;
}
