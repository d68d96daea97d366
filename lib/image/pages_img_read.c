/* SPDX-License-Identifier: MIT */
/* pages.img: the reader, with its read-ahead threads and the decoders (see pages_img.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "sdump.h"
#define LOG_PREFIX "pages: "
#include "ctx.h"
#include "crc32c.h"
#include "image.h"
#include "img_files.h"
#include "pages_img.h"
#include "util.h"

int sd_pagestore_reader_open(struct sdump_ctx *ctx, struct img_dir *dir,
			  const struct pagestore_frame *frames, size_t nframes,
			  uint32_t frame_size, uint64_t stream_bytes, uint64_t file_size,
			  struct pagestore_reader *ret_r)
{
	return sd_pagestore_reader_open_file(ctx, dir, IMGF_PAGES, frames, nframes, frame_size,
					  stream_bytes, file_size, ret_r);
}

int sd_pagestore_reader_open_file(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f,
			       const struct pagestore_frame *frames, size_t nframes,
			       uint32_t frame_size, uint64_t stream_bytes, uint64_t file_size,
			       struct pagestore_reader *ret_r)
{
	struct pagestore_reader r = { .fd = -1, .file = f, .cached = SIZE_MAX, .last = SIZE_MAX };
	const char *name = sd_imgfile_name(f);
	uint8_t hdr[IMG_HEADER_SIZE];
	uint64_t off = IMG_HEADER_SIZE;
	size_t zmax = 0;
	struct stat st;
	ssize_t n;
	int e;

	if (frame_size == 0 || frame_size > PAGESTORE_FRAME_SIZE * 16 ||
	    stream_bytes / frame_size + (stream_bytes % frame_size != 0) != nframes)
		return sd_errx(ctx, -EBADMSG, "image '%s' is corrupt: bad page frame table", dir->path);
	r.fd = openat(dir->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (r.fd < 0)
		return sd_err(ctx, -errno, "cannot open '%s/%s'", dir->path, name);
	r.frame_off = malloc((nframes ? nframes : 1) * sizeof(*r.frame_off));
	if (!r.frame_off) {
		e = sd_err(ctx, -ENOMEM, "cannot read '%s/%s'", dir->path, name);
		goto fail;
	}
	for (size_t i = 0; i < nframes; i++) {
		r.frame_off[i] = off;
		off += frames[i].csize;
		zmax = MAX(zmax, frames[i].csize);
	}
	if (fstat(r.fd, &st) < 0) {
		e = sd_err(ctx, -errno, "cannot stat '%s/%s'", dir->path, name);
		goto fail;
	}
	n = sd_pread_all(r.fd, hdr, sizeof(hdr), 0);
	if (!S_ISREG(st.st_mode) || off != file_size || (uint64_t)st.st_size != file_size || n != sizeof(hdr) ||
	    sd_img_header_check(hdr, sd_imgfile(f)->type) < 0) {
		e = sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt or truncated",
			    dir->path, name);
		goto fail;
	}
	if (zmax > ZSTD_compressBound(frame_size)) {
		e = sd_errx(ctx, -EBADMSG, "image '%s' is corrupt: bad page frame size", dir->path);
		goto fail;
	}
	r.buf = malloc(frame_size);
	r.zbuf = malloc(zmax ? zmax : 1);
	r.dctx = ZSTD_createDCtx();
	if (!r.buf || !r.zbuf || !r.dctx) {
		e = sd_err(ctx, -ENOMEM, "cannot read '%s/%s'", dir->path, name);
		goto fail;
	}
	r.path = dir->path;
	r.frames = frames;
	r.nframes = nframes;
	r.frame_size = frame_size;
	r.stream_bytes = stream_bytes;
	r.zmax = zmax ? zmax : 1;
	*ret_r = r;
	return 0;
fail:
	sd_pagestore_reader_release(&r);
	return e;
}

enum frame_fault { FRAME_OK, FRAME_READ, FRAME_CHECKSUM, FRAME_BAD };

/*
 * Read frame @i into @zbuf, check its CRC-32C, decompress it into @buf
 * (*@ret_data: @buf, or @zbuf for a raw frame). No message (threads call
 * it): the fault, and for FRAME_READ *ret_errno.
 */
static enum frame_fault decode_frame(const struct pagestore_reader *r, ZSTD_DCtx *dctx, size_t i,
				     uint8_t *zbuf, uint8_t *buf, const uint8_t **ret_data,
				     int *ret_errno)
{
	uint64_t want = MIN((uint64_t)r->frame_size, r->stream_bytes - (uint64_t)i * r->frame_size);
	const struct pagestore_frame *f = &r->frames[i];
	ssize_t n;
	size_t d;

	if (r->fetch) {
		int e = r->fetch(r->fetch_data, r->frame_off[i], f->csize);

		if (e < 0) {
			*ret_errno = e;
			return FRAME_READ;
		}
	}
	n = sd_pread_all(r->fd, zbuf, f->csize, (off_t)r->frame_off[i]);
	if (n < 0) {
		*ret_errno = (int)n;
		return FRAME_READ;
	}
	if ((size_t)n != f->csize || sd_crc32c(0, zbuf, f->csize) != f->crc32c)
		return FRAME_CHECKSUM;
	if (f->raw) {
		*ret_data = zbuf;
		return f->csize == want ? FRAME_OK : FRAME_BAD;
	}
	*ret_data = buf;
	d = ZSTD_decompressDCtx(dctx, buf, r->frame_size, zbuf, f->csize);
	if (ZSTD_isError(d) || d != want)
		return FRAME_BAD;
	return FRAME_OK;
}

static int frame_error(struct sdump_ctx *ctx, const struct pagestore_reader *r, size_t i,
		       enum frame_fault fault, int err)
{
	const char *name = sd_imgfile_name(r->file);

	switch (fault) {
	case FRAME_OK:
		break;
	case FRAME_READ:
		return sd_err(ctx, err, "cannot read '%s/%s'", r->path, name);
	case FRAME_CHECKSUM:
		return sd_errx(ctx, -EBADMSG,
			       "image file '%s/%s' is corrupt: checksum mismatch in frame %zu",
			       r->path, name, i);
	case FRAME_BAD:
		return sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: bad frame %zu",
			       r->path, name, i);
	}
	return 0;
}

/*
 * Read-ahead: slots hold frames in [the frame being read, + nslots); the
 * threads take the lowest queued frame first. The reader's own thread
 * decompresses a frame itself rather than wait for it to be taken.
 */
enum pf_state { PF_FREE, PF_QUEUED, PF_BUSY, PF_READY };

struct pf_slot {
	enum pf_state state;
	size_t idx;
	enum frame_fault fault;
	int err;
	uint8_t *buf, *zbuf;	/* allocated on first use */
	const uint8_t *data;	/* the frame's bytes: buf, or zbuf (raw) */
};

struct pagestore_prefetch {
	struct pagestore_reader r; /* a copy: fd, frames and sizes (the reader's own stay as they are) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	unsigned int nstarted;
	pthread_t threads[PAGESTORE_PREFETCH_MAX];
	size_t nslots;
	struct pf_slot slots[PAGESTORE_PREFETCH_MAX + 2];
};

static int pf_slot_alloc(const struct pagestore_reader *r, struct pf_slot *s)
{
	if (!s->buf)
		s->buf = malloc(r->frame_size);
	if (!s->zbuf)
		s->zbuf = malloc(r->zmax);
	return s->buf && s->zbuf ? 0 : -ENOMEM;
}

/* Decompress the frame of @s, taken (PF_BUSY) by the caller; lock not held. */
static void pf_decode(const struct pagestore_reader *r, ZSTD_DCtx *dctx, struct pf_slot *s)
{
	s->err = 0;
	if (!dctx || pf_slot_alloc(r, s) < 0) {
		s->fault = FRAME_READ;
		s->err = -ENOMEM;
		return;
	}
	s->fault = decode_frame(r, dctx, s->idx, s->zbuf, s->buf, &s->data, &s->err);
}

static void *pf_worker(void *arg)
{
	struct pagestore_prefetch *pf = arg;
	ZSTD_DCtx *dctx = ZSTD_createDCtx();

	pthread_mutex_lock(&pf->lock);
	for (;;) {
		struct pf_slot *s = NULL;

		for (size_t k = 0; k < pf->nslots; k++) {
			struct pf_slot *c = &pf->slots[k];

			if (c->state == PF_QUEUED && (!s || c->idx < s->idx))
				s = c;
		}
		if (pf->stop)
			break;
		if (!s) {
			pthread_cond_wait(&pf->cond, &pf->lock);
			continue;
		}
		s->state = PF_BUSY;
		pthread_mutex_unlock(&pf->lock);
		pf_decode(&pf->r, dctx, s);
		pthread_mutex_lock(&pf->lock);
		s->state = PF_READY;
		pthread_cond_broadcast(&pf->cond);
	}
	pthread_mutex_unlock(&pf->lock);
	ZSTD_freeDCtx(dctx);
	return NULL;
}

static void pf_free(struct pagestore_prefetch *pf)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_broadcast(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
	for (; pf->nstarted > 0; pf->nstarted--)
		pthread_join(pf->threads[pf->nstarted - 1], NULL);
	for (size_t k = 0; k < pf->nslots; k++) {
		free(pf->slots[k].buf);
		free(pf->slots[k].zbuf);
	}
	pthread_mutex_destroy(&pf->lock);
	pthread_cond_destroy(&pf->cond);
	free(pf);
}

/* Threads to read ahead with, or 0 for none. */
static unsigned int pf_threads(const struct pagestore_reader *r)
{
	long n = r->prefetch_threads;

	if (n < 0 || r->nframes < 3)
		return 0;
	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return (unsigned int)MAX(1, MIN(n, PAGESTORE_PREFETCH_MAX));
}

/* Start reading ahead; NULL (and reading goes on without) if it cannot start. */
static struct pagestore_prefetch *pf_start(const struct pagestore_reader *r, unsigned int nthreads)
{
	struct pagestore_prefetch *pf = calloc(1, sizeof(*pf));

	if (!pf)
		return NULL;
	pf->r = *r;
	pf->nslots = MIN((size_t)nthreads + 2, r->nframes);
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->cond, NULL);
	for (; pf->nstarted < nthreads; pf->nstarted++)
		if (pthread_create(&pf->threads[pf->nstarted], NULL, pf_worker, pf) != 0)
			break;
	if (pf->nstarted == 0) {
		pf_free(pf);
		return NULL;
	}
	return pf;
}

static struct pf_slot *pf_find(struct pagestore_prefetch *pf, size_t idx)
{
	for (size_t k = 0; k < pf->nslots; k++)
		if (pf->slots[k].state != PF_FREE && pf->slots[k].idx == idx)
			return &pf->slots[k];
	return NULL;
}

/* A slot whose frame is outside [@i, @i + nslots) and not being decompressed. */
static struct pf_slot *pf_spare(struct pagestore_prefetch *pf, size_t i)
{
	for (size_t k = 0; k < pf->nslots; k++) {
		struct pf_slot *s = &pf->slots[k];

		if (s->state == PF_FREE ||
		    (s->state != PF_BUSY && (s->idx < i || s->idx >= i + pf->nslots)))
			return s;
	}
	return NULL;
}

/* Frame @i into r->cur through the read-ahead window, and queue the next ones. */
static int pf_load(struct sdump_ctx *ctx, struct pagestore_reader *r, size_t i)
{
	struct pagestore_prefetch *pf = r->pf;
	struct pf_slot *s;
	bool mine = false;
	enum frame_fault fault;
	int err;

	pthread_mutex_lock(&pf->lock);
	for (;;) {
		s = pf_find(pf, i);
		if (s && s->state == PF_QUEUED) { /* not taken yet: do it here */
			s->state = PF_BUSY;
			mine = true;
			break;
		}
		if (s && s->state == PF_READY)
			break;
		if (!s) {
			s = pf_spare(pf, i);
			if (s) {
				s->state = PF_BUSY;
				s->idx = i;
				mine = true;
				break;
			}
		}
		/* being decompressed, or every slot is: wait */
		pthread_cond_wait(&pf->cond, &pf->lock);
	}
	for (size_t j = i + 1; j < r->nframes && j < i + pf->nslots; j++) {
		struct pf_slot *q;

		if (pf_find(pf, j))
			continue;
		q = pf_spare(pf, i);
		if (!q)
			break;
		q->state = PF_QUEUED;
		q->idx = j;
	}
	pthread_cond_broadcast(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
	if (mine) {
		pf_decode(&pf->r, r->dctx, s);
		pthread_mutex_lock(&pf->lock);
		s->state = PF_READY;
		pthread_cond_broadcast(&pf->cond);
		pthread_mutex_unlock(&pf->lock);
	}
	/* READY and in the window: no thread touches it until the window moves on */
	fault = s->fault;
	err = s->err;
	if (fault != FRAME_OK) {
		pthread_mutex_lock(&pf->lock);
		s->state = PF_FREE; /* tried again if asked again */
		pthread_mutex_unlock(&pf->lock);
		return frame_error(ctx, r, i, fault, err);
	}
	r->cur = s->data;
	r->cached = i;
	return 0;
}

static int load_frame(struct sdump_ctx *ctx, struct pagestore_reader *r, size_t i)
{
	enum frame_fault fault;
	unsigned int nthreads;
	int err = 0;

	r->cached = SIZE_MAX;
	r->cur = NULL;
	if (!r->pf && r->last != SIZE_MAX && i == r->last + 1 && (nthreads = pf_threads(r)) > 0)
		r->pf = pf_start(r, nthreads);
	r->last = i;
	if (r->pf)
		return pf_load(ctx, r, i);
	fault = decode_frame(r, r->dctx, i, r->zbuf, r->buf, &r->cur, &err);
	if (fault != FRAME_OK)
		return frame_error(ctx, r, i, fault, err);
	r->cached = i;
	return 0;
}

int sd_pagestore_read(struct sdump_ctx *ctx, struct pagestore_reader *r, uint64_t off, void *out,
		   size_t len)
{
	uint8_t *o = out;

	if (off > r->stream_bytes || len > r->stream_bytes - off)
		return sd_errx(ctx, -EBADMSG, "image is corrupt: page data beyond the stream");
	while (len > 0) {
		size_t i = (size_t)(off / r->frame_size);
		size_t in = (size_t)(off % r->frame_size);
		size_t n = MIN(len, (size_t)r->frame_size - in);
		int e;

		if (r->cached != i) {
			e = load_frame(ctx, r, i);
			if (e < 0)
				return e;
		}
		memcpy(o, r->cur + in, n);
		o += n;
		off += n;
		len -= n;
	}
	return 0;
}

int sd_pagestore_decode(const struct pagestore_reader *r, struct pagestore_decoder *d, size_t i)
{
	d->err = 0;
	if (!d->dctx)
		d->dctx = ZSTD_createDCtx();
	/* the passes of a chain may differ in frame sizes */
	if (d->cap < r->frame_size) {
		zfree(&d->buf);
		d->buf = malloc(r->frame_size);
		d->cap = d->buf ? r->frame_size : 0;
	}
	if (d->zcap < r->zmax) {
		zfree(&d->zbuf);
		d->zbuf = malloc(r->zmax);
		d->zcap = d->zbuf ? r->zmax : 0;
	}
	if (!d->dctx || !d->buf || !d->zbuf) {
		d->fault = FRAME_READ;
		d->err = -ENOMEM;
		return -ENOMEM;
	}
	d->fault = decode_frame(r, d->dctx, i, d->zbuf, d->buf, &d->data, &d->err);
	if (d->fault != FRAME_OK)
		return d->fault == FRAME_READ ? d->err : -EBADMSG;
	d->len = (size_t)MIN((uint64_t)r->frame_size, r->stream_bytes - (uint64_t)i * r->frame_size);
	return 0;
}

int sd_pagestore_decode_error(struct sdump_ctx *ctx, const struct pagestore_reader *r,
			   const struct pagestore_decoder *d, size_t i)
{
	return frame_error(ctx, r, i, (enum frame_fault)d->fault, d->err);
}

void sd_pagestore_decoder_release(struct pagestore_decoder *d)
{
	ZSTD_freeDCtx(d->dctx);
	d->dctx = NULL;
	zfree(&d->buf);
	zfree(&d->zbuf);
	d->cap = d->zcap = 0;
}

int sd_pagestore_verify(struct sdump_ctx *ctx, struct pagestore_reader *r)
{
	const char *name = sd_imgfile_name(r->file);

	for (size_t i = 0; i < r->nframes; i++) {
		const struct pagestore_frame *f = &r->frames[i];
		ssize_t n = sd_pread_all(r->fd, r->zbuf, f->csize, (off_t)r->frame_off[i]);

		if (n < 0)
			return sd_err(ctx, (int)n, "cannot read '%s/%s'", r->path, name);
		if ((size_t)n != f->csize || sd_crc32c(0, r->zbuf, f->csize) != f->crc32c)
			return sd_errx(ctx, -EBADMSG,
				       "image file '%s/%s' is corrupt: checksum mismatch in frame %zu",
				       r->path, name, i);
	}
	return 0;
}

void sd_pagestore_reader_release(struct pagestore_reader *r)
{
	pf_free(r->pf); /* first: its threads read r->fd */
	r->pf = NULL;
	r->cur = NULL;
	r->cached = SIZE_MAX;
	zclose(&r->fd);
	zfree(&r->frame_off);
	zfree(&r->buf);
	zfree(&r->zbuf);
	ZSTD_freeDCtx(r->dctx);
	r->dctx = NULL;
}
