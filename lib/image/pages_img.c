/* SPDX-License-Identifier: MIT */
/* pages.img: the writer, its frames compressed by a pool of threads (see pages_img.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "sdump.h"
#define LOG_PREFIX "pages: "
#include "array.h"
#include "compat.h"
#include "ctx.h"
#include "crc32c.h"
#include "image.h"
#include "img_files.h"
#include "pages_img.h"
#include "pages_level.h"
#include "util.h"

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

struct slot {
	enum slot_state state;
	uint64_t seq;
	size_t len;
	uint8_t *buf;
	uint8_t *out;
	size_t csize;
	uint32_t crc;
	bool raw;		/* out holds the bytes as they are */
	unsigned int step;	/* its level's step (pages_level.h) */
};

struct pagestore_writer {
	struct sdump_ctx *ctx;
	struct img_dir *dir;
	enum img_file file;	/* pages.img, or another file of frames */
	int fd;
	struct zlevel zl;	/* the level of each frame */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int nthreads, nstarted;
	pthread_t *threads;
	size_t nslots;
	struct slot *slots;
	struct slot *cur;	/* the slot the producer fills */
	uint64_t next_seq;	/* seq of the next slot to fill */
	uint64_t next_write;	/* seq of the next frame to write */
	bool writing;
	bool stop;
	int err;		/* first failure, negative errno */
	struct pagestore_frame *frames;
	size_t nframes, cap_frames;
	uint64_t stream_bytes;
	uint64_t file_off;
	uint64_t synced;	/* writeback started up to here (under w->writing) */
	/* the sink measured (auto): bytes written and the time it took, since the last measure */
	uint64_t sink_bytes, sink_ns;
	uint64_t wb_steps;	/* writeback steps started */
	/* sd_pagestore_writer_hold(): frames wait in memory faulted in beforehand */
	bool held;
	uint8_t *arena;
	size_t arena_len;
	uint8_t **outs;		/* compressed frames' buffers, free ones (nouts of them) */
	size_t nouts;
};

static void set_err(struct pagestore_writer *w, int r)
{
	if (!w->err)
		w->err = r;
	pthread_cond_broadcast(&w->cond);
}

static struct slot *find_slot(struct pagestore_writer *w, enum slot_state st, uint64_t seq,
			      bool any_seq)
{
	for (size_t i = 0; i < w->nslots; i++)
		if (w->slots[i].state == st && (any_seq || w->slots[i].seq == seq))
			return &w->slots[i];
	return NULL;
}

/*
 * Start writing back what was written so far, every WRITEBACK_STEP bytes:
 * the fsync that commits pages.img then finds most of it on disk already,
 * instead of flushing the whole image at the end of the pass (about 0.3 s
 * per 400 MiB of image here, and a final dump is frozen through it). Only
 * a hint: a failure is the fsync's to report.
 */
#define WRITEBACK_STEP (8u << 20)

/*
 * The disk's speed (auto level) is measured on the first writeback steps
 * (of MEASURE_STEP_FIRST bytes) and then on one in MEASURE_EVERY: such a
 * step is waited for (which the final fsync would wait for anyway), so
 * that its time is the disk's and not the page cache's; the others are
 * only started, as without auto.
 */
#define MEASURE_FIRST 2
#define MEASURE_EVERY 8
/* The first ones shorter: a small pass is measured too (a sync costs little beside 2 MiB). */
#define MEASURE_STEP_FIRST (2u << 20)

static bool step_measured(const struct pagestore_writer *w)
{
	return sd_zlevel_measures_sink(&w->zl) && !w->dir->no_sync &&
	       (w->wb_steps < MEASURE_FIRST || w->wb_steps % MEASURE_EVERY == 0);
}

/*
 * Called by the thread that holds w->writing, without the lock (the call
 * may wait for the device's queue; nobody else waits for it then): the
 * file is written up to @end. Whether a measured step ended.
 */
static bool start_writeback(struct pagestore_writer *w, uint64_t end, bool measure)
{
	uint64_t step = measure && w->wb_steps < MEASURE_FIRST ? MEASURE_STEP_FIRST
							       : WRITEBACK_STEP;

	/* a scratch pass is never synced: nothing to get ahead of */
	if (w->dir->no_sync || end - w->synced < step)
		return false;
	(void)sync_file_range(w->fd, (off_t)w->synced, (off_t)(end - w->synced),
			      measure ? SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
						SYNC_FILE_RANGE_WAIT_AFTER
				      : SYNC_FILE_RANGE_WRITE);
	w->synced = end;
	w->wb_steps++;
	return measure;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Called with the lock held: write every finished frame that is next in order. */
static void write_ready(struct pagestore_writer *w)
{
	struct slot *s;

	while (!w->writing && !w->err && (s = find_slot(w, SLOT_DONE, w->next_write, false))) {
		bool measure = step_measured(w), waited = false;
		uint64_t t0;
		int r;

		if (ARRAY_RESERVE(w->frames, w->cap_frames, w->nframes + 1, 64) < 0) {
			set_err(w, -ENOMEM);
			return;
		}
		w->writing = true;
		pthread_mutex_unlock(&w->lock);
		/* a measured step starts with the disk idle: the steps before it done */
		if (measure && !w->sink_bytes && w->synced)
			(void)sync_file_range(w->fd, 0, (off_t)w->synced,
					      SYNC_FILE_RANGE_WAIT_BEFORE);
		t0 = clock_ns(CLOCK_MONOTONIC);
		r = sd_write_all(w->fd, s->out, s->csize);
		if (r == 0) /* file_off changes only under w->writing, which we hold */
			waited = start_writeback(w, w->file_off + s->csize, measure);
		pthread_mutex_lock(&w->lock);
		w->writing = false;
		if (r < 0) {
			set_err(w, r);
			return;
		}
		if (measure) {
			w->sink_bytes += s->csize;
			w->sink_ns += clock_ns(CLOCK_MONOTONIC) - t0;
			if (waited) {
				sd_zlevel_sink_sample(&w->zl, w->sink_bytes, w->sink_ns);
				w->sink_bytes = w->sink_ns = 0;
			}
		}
		w->frames[w->nframes++] = (struct pagestore_frame){ (uint32_t)s->csize, s->crc, s->raw };
		w->file_off += s->csize;
		w->outs[w->nouts++] = s->out;
		s->out = NULL;
		s->state = SLOT_FREE;
		w->next_write++;
		pthread_cond_broadcast(&w->cond);
	}
}

/* What compressing a frame took: wall time and this thread's CPU time. */
struct ztime {
	uint64_t ns, cpu_ns;
};

/*
 * @s's bytes into @out at @want (*@level: what @cctx is set to), in *@t;
 * *@ret_raw when they are stored as they are: at PAGESTORE_RAW_LEVEL and
 * below, or when zstd cannot make them smaller (a restore then copies
 * them straight from the file, nothing to decompress).
 */
static size_t compress(ZSTD_CCtx *cctx, int *level, int want, uint8_t *out, const struct slot *s,
		       struct ztime *t, bool *ret_raw)
{
	size_t n = 0;

	if (want > PAGESTORE_RAW_LEVEL && (want != *level || !*level)) {
		(void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, want);
		*level = want;
	}
	t->ns = clock_ns(CLOCK_MONOTONIC);
	t->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (want > PAGESTORE_RAW_LEVEL)
		n = ZSTD_compress2(cctx, out, ZSTD_compressBound(PAGESTORE_FRAME_SIZE), s->buf, s->len);
	*ret_raw = want <= PAGESTORE_RAW_LEVEL || (!ZSTD_isError(n) && n >= s->len);
	if (*ret_raw) {
		memcpy(out, s->buf, s->len);
		n = s->len;
	}
	t->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t->cpu_ns;
	t->ns = clock_ns(CLOCK_MONOTONIC) - t->ns;
	return n;
}

static void *worker(void *arg)
{
	struct pagestore_writer *w = arg;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	/* each frame has its CRC-32C in pagemap.img: no second checksum (zstd's default) */
	int level = 0;
	/* a probe's second output */
	uint8_t *spare = malloc(ZSTD_compressBound(PAGESTORE_FRAME_SIZE));

	pthread_mutex_lock(&w->lock);
	if (!cctx || !spare)
		set_err(w, -ENOMEM);
	for (;;) {
		struct slot *s = NULL;
		unsigned int base;
		struct ztime t, tbase = { 0 };
		size_t n, nbase, nw;
		bool raw, rawbase = false;
		int want;

		/*
		 * Oldest queued first, so the in-order writer is never starved
		 * (and the frame next in order always has an output buffer).
		 */
		while (!w->stop && !w->err) {
			s = NULL;
			if (w->held || w->nouts == 0) {
				pthread_cond_wait(&w->cond, &w->lock);
				continue;
			}
			for (size_t i = 0; i < w->nslots; i++) {
				struct slot *c = &w->slots[i];

				if (c->state == SLOT_QUEUED && (!s || c->seq < s->seq))
					s = c;
			}
			if (s)
				break;
			pthread_cond_wait(&w->cond, &w->lock);
		}
		if (!s)
			break;
		s->state = SLOT_BUSY;
		s->out = w->outs[--w->nouts];
		want = sd_zlevel_pick(&w->zl, s->seq, &s->step, &base);
		pthread_mutex_unlock(&w->lock);
		nbase = 0;
		if (base < ZLEVEL_STEPS) /* a probe: the level in use first, on the same frame */
			nbase = compress(cctx, &level, sd_zlevel_of(base), spare, s, &tbase, &rawbase);
		n = compress(cctx, &level, want, s->out, s, &t, &raw);
		nw = n;
		s->raw = raw;
		if (!ZSTD_isError(n) && !ZSTD_isError(nbase) && nbase && nbase < n) {
			/* the level in use did better on it: that is written */
			uint8_t *o = s->out;

			s->out = spare;
			spare = o;
			nw = nbase;
			s->raw = rawbase;
		}
		if (!ZSTD_isError(nw)) {
			s->csize = nw;
			s->crc = sd_crc32c(0, s->out, nw);
		}
		pthread_mutex_lock(&w->lock);
		if (!ZSTD_isError(nbase) && nbase)
			sd_zlevel_sample(&w->zl, base, s->len, nbase, tbase.ns, tbase.cpu_ns, 0);
		if (ZSTD_isError(nbase))
			n = nbase;
		if (!ZSTD_isError(n)) {
			sd_zlevel_sample(&w->zl, s->step, s->len, n, t.ns, t.cpu_ns, nbase);
			if (nw == n)
				sd_zlevel_written(&w->zl, s->step, want, s->len);
			else
				sd_zlevel_written(&w->zl, base, sd_zlevel_of(base), s->len);
		}
		if (ZSTD_isError(n)) {
			w->outs[w->nouts++] = s->out;
			s->out = NULL;
			set_err(w, -EIO);
			break;
		}
		s->state = SLOT_DONE;
		write_ready(w);
	}
	pthread_mutex_unlock(&w->lock);
	ZSTD_freeCCtx(cctx);
	free(spare);
	return NULL;
}

int sd_pagestore_writer_new(struct sdump_ctx *ctx, struct img_dir *dir, unsigned int nthreads,
			 int level, struct pagestore_writer **ret_w)
{
	return sd_pagestore_writer_new_file(ctx, dir, IMGF_PAGES, nthreads, level, ret_w);
}

int sd_pagestore_writer_new_file(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f,
			      unsigned int nthreads, int level, struct pagestore_writer **ret_w)
{
	const char *name = sd_imgfile_name(f);
	struct pagestore_writer *w;
	uint8_t hdr[IMG_HEADER_SIZE];
	long ncpu;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return sd_err(ctx, -ENOMEM, "cannot start page writer");
	w->ctx = ctx;
	w->dir = dir;
	w->file = f;
	w->fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->nthreads = nthreads ? nthreads : 1;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	sd_zlevel_init(&w->zl, level,
		       ncpu > 0 ? MIN(w->nthreads, (unsigned int)ncpu) : w->nthreads);
	w->nslots = 2 * (size_t)w->nthreads + 2;
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	w->outs = calloc(w->nslots, sizeof(*w->outs));
	w->threads = calloc(w->nthreads, sizeof(*w->threads));
	if (!w->slots || !w->outs || !w->threads) {
		r = sd_err(ctx, -ENOMEM, "cannot start page writer");
		goto fail;
	}
	for (size_t i = 0; i < w->nslots; i++) {
		w->slots[i].buf = malloc(PAGESTORE_FRAME_SIZE);
		w->outs[i] = malloc(ZSTD_compressBound(PAGESTORE_FRAME_SIZE));
		if (!w->slots[i].buf || !w->outs[i]) {
			free(w->outs[i]);
			r = sd_err(ctx, -ENOMEM, "cannot start page writer");
			goto fail;
		}
		w->nouts++;
	}
	r = sd_img_file_create(ctx, dir, name, &w->fd);
	if (r < 0)
		goto fail;
	sd_img_header_fill(hdr, sd_imgfile(f)->type);
	r = sd_write_all(w->fd, hdr, sizeof(hdr));
	if (r < 0) {
		r = sd_err(ctx, r, "cannot write '%s/%s.tmp'", dir->path, name);
		goto fail;
	}
	w->file_off = IMG_HEADER_SIZE;
	for (; w->nstarted < w->nthreads; w->nstarted++) {
		r = -pthread_create(&w->threads[w->nstarted], NULL, worker, w);
		if (r < 0) {
			r = sd_err(ctx, r, "cannot start compression thread");
			goto fail;
		}
	}
	*ret_w = w;
	return 0;
fail:
	sd_pagestore_writer_free(w);
	return r;
}

/*
 * Memory for frames to wait in, faulted in now: on this kind of machine the
 * first write to fresh memory costs more than the copy into it (a VM whose
 * host takes free memory back pays a fault per page), and a frozen target
 * must not wait for that. Not huge pages: there a fault takes 2 MiB the host
 * may have to back at once, and took 0.6 to 12 s per GiB here, against a
 * steady 1.1 s with small pages.
 */
static int map_arena(struct pagestore_writer *w, size_t len)
{
	uint8_t *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (a == MAP_FAILED)
		return -errno;
	if (madvise(a, len, MADV_POPULATE_WRITE) < 0)
		for (size_t i = 0; i < len; i += 4096)
			a[i] = 0;
	w->arena = a;
	w->arena_len = len;
	return 0;
}

int sd_pagestore_writer_hold(struct pagestore_writer *w, uint64_t bytes)
{
	size_t n = (size_t)((bytes + PAGESTORE_FRAME_SIZE - 1) / PAGESTORE_FRAME_SIZE);
	struct slot *slots;
	int r;

	if (n == 0 || w->arena)
		return 0;
	if (w->cur || w->next_seq)
		return sd_errx(w->ctx, -EBUSY, "page writer: hold after the first frame");
	r = map_arena(w, n * (size_t)PAGESTORE_FRAME_SIZE);
	if (r < 0)
		return sd_err(w->ctx, r, "cannot reserve %zu MiB for the pages", n);
	pthread_mutex_lock(&w->lock);
	slots = realloc(w->slots, (w->nslots + n) * sizeof(*slots));
	if (!slots) {
		pthread_mutex_unlock(&w->lock);
		return sd_err(w->ctx, -ENOMEM, "cannot reserve %zu MiB for the pages", n);
	}
	/*
	 * The producer (our caller) is the only one who holds slot pointers
	 * yet. The held slots go first: find_slot() takes the first free one,
	 * and the writer's own frames are malloc'd memory not faulted in yet,
	 * whose first write (6 MiB of them, a fault per page) the frozen copy
	 * would otherwise pay.
	 */
	w->slots = slots;
	memmove(w->slots + n, w->slots, w->nslots * sizeof(*slots));
	for (size_t i = 0; i < n; i++)
		w->slots[i] = (struct slot){
			.state = SLOT_FREE,
			.buf = w->arena + i * (size_t)PAGESTORE_FRAME_SIZE,
		};
	w->nslots += n;
	w->held = true;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void sd_pagestore_writer_sink(struct pagestore_writer *w, uint64_t bytes_per_s, bool sequential)
{
	pthread_mutex_lock(&w->lock);
	sd_zlevel_sink_given(&w->zl, (double)bytes_per_s, sequential);
	pthread_mutex_unlock(&w->lock);
}

void sd_pagestore_writer_levels(struct pagestore_writer *w, struct pagestore_levels *ret)
{
	pthread_mutex_lock(&w->lock);
	*ret = (struct pagestore_levels){
		.automatic = w->zl.automatic,
		.level = sd_zlevel_main(&w->zl),
		.lmin = w->zl.any ? w->zl.lmin : sd_zlevel_main(&w->zl),
		.lmax = w->zl.any ? w->zl.lmax : sd_zlevel_main(&w->zl),
		.cpu_us = w->zl.cpu_ns / 1000,
		.bytes = w->stream_bytes,
		.sink_rate = w->zl.automatic ? (uint64_t)w->zl.sink : 0,
	};
	pthread_mutex_unlock(&w->lock);
}

void sd_pagestore_writer_go(struct pagestore_writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->held = false;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

bool sd_pagestore_writer_held(struct pagestore_writer *w)
{
	bool held;

	pthread_mutex_lock(&w->lock);
	held = w->held;
	pthread_mutex_unlock(&w->lock);
	return held;
}

static int writer_error(struct pagestore_writer *w)
{
	int r = w->err;

	if (r == -ENOSPC || r == -EDQUOT || r == -EIO || r == -EFBIG)
		return sd_err(w->ctx, r, "cannot write '%s/%s.tmp'", w->dir->path,
			      sd_imgfile_name(w->file));
	return sd_err(w->ctx, r, "cannot compress pages");
}

int sd_pagestore_reserve(struct pagestore_writer *w, uint8_t **ret_buf, size_t *ret_room,
		      uint64_t *ret_off)
{
	int r = 0;

	pthread_mutex_lock(&w->lock);
	while (!w->cur && !w->err) {
		struct slot *s = find_slot(w, SLOT_FREE, 0, true);

		if (s) {
			s->state = SLOT_FILLING;
			s->seq = w->next_seq++;
			s->len = 0;
			w->cur = s;
			break;
		}
		/* the memory held is full: the rest is streamed, as without a hold */
		if (w->held) {
			w->held = false;
			pthread_cond_broadcast(&w->cond);
		}
		pthread_cond_wait(&w->cond, &w->lock);
	}
	if (w->err)
		r = writer_error(w);
	pthread_mutex_unlock(&w->lock);
	if (r < 0)
		return r;
	*ret_buf = w->cur->buf + w->cur->len;
	*ret_room = PAGESTORE_FRAME_SIZE - w->cur->len;
	*ret_off = w->stream_bytes;
	return 0;
}

static void submit(struct pagestore_writer *w)
{
	w->cur->state = SLOT_QUEUED;
	w->cur = NULL;
	pthread_cond_broadcast(&w->cond);
}

int sd_pagestore_commit(struct pagestore_writer *w, size_t len)
{
	if (!w->cur || len > PAGESTORE_FRAME_SIZE - w->cur->len)
		return sd_errx(w->ctx, -EINVAL, "page writer: commit beyond reserved space");
	w->cur->len += len;
	w->stream_bytes += len;
	if (w->cur->len == PAGESTORE_FRAME_SIZE) {
		pthread_mutex_lock(&w->lock);
		submit(w);
		pthread_mutex_unlock(&w->lock);
	}
	return 0;
}

int sd_pagestore_writer_finish(struct pagestore_writer *w, struct pagestore_frame **ret_frames,
			    size_t *ret_nframes, uint64_t *ret_stream_bytes,
			    uint64_t *ret_file_size)
{
	int r = 0;

	pthread_mutex_lock(&w->lock);
	w->held = false;
	if (w->cur) {
		if (w->cur->len > 0)
			submit(w);
		else {
			w->cur->state = SLOT_FREE;
			w->next_seq--;
			w->cur = NULL;
		}
	}
	while (!w->err && w->next_write < w->next_seq)
		pthread_cond_wait(&w->cond, &w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	if (w->err)
		r = writer_error(w);
	pthread_mutex_unlock(&w->lock);
	for (; w->nstarted > 0; w->nstarted--)
		pthread_join(w->threads[w->nstarted - 1], NULL);
	if (r < 0)
		return r;
	r = sd_img_file_commit(w->ctx, w->dir, sd_imgfile_name(w->file), w->fd);
	if (r < 0)
		return r;
	*ret_frames = w->frames;
	w->frames = NULL;
	*ret_nframes = w->nframes;
	*ret_stream_bytes = w->stream_bytes;
	*ret_file_size = w->file_off;
	return 0;
}

void sd_pagestore_writer_free(struct pagestore_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	if (!w->err)
		w->err = -ECANCELED;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (; w->nstarted > 0; w->nstarted--)
		pthread_join(w->threads[w->nstarted - 1], NULL);
	for (size_t i = 0; w->slots && i < w->nslots; i++) {
		if (!w->arena || w->slots[i].buf < w->arena || w->slots[i].buf >= w->arena + w->arena_len)
			free(w->slots[i].buf);
		free(w->slots[i].out);
	}
	for (size_t i = 0; w->outs && i < w->nouts; i++)
		free(w->outs[i]);
	free(w->outs);
	if (w->arena)
		(void)munmap(w->arena, w->arena_len);
	free(w->slots);
	free(w->threads);
	free(w->frames);
	zclose(&w->fd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}
