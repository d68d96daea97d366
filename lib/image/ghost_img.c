/* SPDX-License-Identifier: MIT */
/* ghosts.img and ghost-data.img: saved file contents (see ghost_img.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "ghosts: "
#include "array.h"
#include "ctx.h"
#include "ghost.pb-c.h"
#include "ghost_img.h"
#include "image.h"
#include "img_files.h"
#include "pages_img.h"
#include "util.h"

void sd_ghost_file_release(struct ghost_file *f)
{
	zfree(&f->path);
	zfree(&f->ext);
	f->next = 0;
}

int sd_ghost_extents(int fd, uint64_t size, uint64_t limit, struct ghost_extent **ret_ext,
		  size_t *ret_next, uint64_t *ret_data_bytes)
{
	struct ghost_extent *ext = NULL;
	size_t n = 0, cap = 0;
	uint64_t off = 0, total = 0;
	int r = 0;

	while (off < size) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA), h;
		uint64_t end;

		if (d < 0 && errno == ENXIO)
			break; /* only a hole is left */
		if (d < 0 && errno == EINVAL && off == 0) {
			/* no SEEK_DATA here: the whole file is data */
			d = 0;
			h = (off_t)size;
		} else if (d < 0) {
			r = -errno;
			break;
		} else if ((uint64_t)d >= size) {
			break;
		} else if ((h = lseek(fd, d, SEEK_HOLE)) < 0) {
			r = -errno;
			break;
		}
		end = MIN((uint64_t)h, size);
		if (end <= (uint64_t)d) {
			r = -EIO;
			break;
		}
		total += end - (uint64_t)d;
		if (total > limit) {
			r = -EFBIG;
			break;
		}
		if (n == GHOST_MAX_EXTENTS) {
			r = -E2BIG;
			break;
		}
		r = ARRAY_RESERVE(ext, cap, n + 1, 16);
		if (r < 0)
			break;
		ext[n++] = (struct ghost_extent){ .off = (uint64_t)d, .len = end - (uint64_t)d };
		off = end;
	}
	*ret_data_bytes = total;
	if (r < 0) {
		free(ext);
		return r;
	}
	*ret_ext = ext;
	*ret_next = n;
	return 0;
}

struct ghost_writer {
	struct sdump_ctx *ctx;
	struct img_dir *dir;
	unsigned int nthreads;
	int level;
	struct pagestore_writer *pw;	/* ghost-data.img, from the first file on */
	struct ghost_file *f;
	size_t n, cap;
	uint64_t stream;		/* bytes of data added so far */
};

int sd_ghost_writer_new(struct sdump_ctx *ctx, struct img_dir *dir, unsigned int nthreads,
		     int level, struct ghost_writer **ret_w)
{
	struct ghost_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return sd_err(ctx, -ENOMEM, "cannot save deleted files");
	w->ctx = ctx;
	w->dir = dir;
	w->nthreads = nthreads ? nthreads : 1;
	w->level = level;
	*ret_w = w;
	return 0;
}

uint32_t sd_ghost_writer_find(const struct ghost_writer *w, uint32_t dev_major, uint32_t dev_minor,
			   uint64_t ino)
{
	for (size_t i = 0; w && i < w->n; i++)
		if (w->f[i].dev_major == dev_major && w->f[i].dev_minor == dev_minor &&
		    w->f[i].ino == ino)
			return w->f[i].id;
	return 0;
}

/* The data of @f's extents from @fd into the stream. */
static int copy_data(struct ghost_writer *w, int fd, struct ghost_file *f)
{
	for (size_t i = 0; i < f->next; i++) {
		struct ghost_extent *e = &f->ext[i];
		uint64_t pos = e->off, end = e->off + e->len;

		e->soff = w->stream;
		while (pos < end) {
			uint8_t *buf;
			size_t room, n;
			uint64_t soff;
			ssize_t got;
			int r;

			r = sd_pagestore_reserve(w->pw, &buf, &room, &soff);
			if (r < 0)
				return r;
			n = (size_t)MIN((uint64_t)room, end - pos);
			got = sd_pread_all(fd, buf, n, (off_t)pos);
			if (got < 0)
				return sd_err(w->ctx, (int)got, "cannot read the deleted file '%s'", f->path);
			if ((size_t)got != n)
				return sd_errx(w->ctx, -EIO,
					       "cannot read the deleted file '%s': it shrank while being saved",
					       f->path);
			r = sd_pagestore_commit(w->pw, n);
			if (r < 0)
				return r;
			pos += n;
			w->stream += n;
		}
	}
	return 0;
}

int sd_ghost_writer_add(struct ghost_writer *w, int fd, const struct ghost_file *meta,
		     uint64_t limit, uint32_t *ret_id)
{
	struct ghost_file f = *meta;
	int r = 0;

	f.path = NULL;
	f.ext = NULL;
	f.next = 0;
	if (w->n == GHOST_MAX_FILES)
		return sd_errx(w->ctx, -E2BIG, "cannot save the deleted file '%s': more than %u deleted files",
			       meta->path, GHOST_MAX_FILES);
	f.data_bytes = 0;
	if (S_ISDIR(meta->mode))
		f.size = 0;
	else if (!meta->shared_pid)
		r = sd_ghost_extents(fd, meta->size, limit, &f.ext, &f.next, &f.data_bytes);
	if (r == -EFBIG)
		return r;
	if (r < 0)
		return sd_err(w->ctx, r, "cannot find the data of the deleted file '%s'", meta->path);
	f.path = strdup(meta->path ? meta->path : "");
	r = f.path ? ARRAY_RESERVE(w->f, w->cap, w->n + 1, 8) : -ENOMEM;
	if (r < 0) {
		sd_ghost_file_release(&f);
		return sd_err(w->ctx, r, "cannot save the deleted file '%s'", meta->path);
	}
	if (!w->pw) {
		r = sd_pagestore_writer_new_file(w->ctx, w->dir, IMGF_GHOST_DATA, w->nthreads, w->level,
					      &w->pw);
		if (r < 0) {
			sd_ghost_file_release(&f);
			return r;
		}
	}
	f.id = (uint32_t)w->n + 1;
	f.stream_off = w->stream;
	r = copy_data(w, fd, &f);
	if (r < 0) {
		sd_ghost_file_release(&f);
		return r;
	}
	w->f[w->n++] = f;
	*ret_id = f.id;
	return 0;
}

static int write_index(struct ghost_writer *w, const struct pagestore_frame *frames,
		       size_t nframes, uint64_t data_file_size, uint64_t *ret_size)
{
	GhostHead head = GHOST_HEAD__INIT;
	GhostFrame *fr = calloc(nframes ? nframes : 1, sizeof(*fr));
	GhostFrame **frp = calloc(nframes ? nframes : 1, sizeof(*frp));
	struct img_rec_writer rw = { 0 };
	int r = fr && frp ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < nframes; i++) {
		ghost_frame__init(&fr[i]);
		fr[i].csize = frames[i].csize;
		fr[i].crc32c = frames[i].crc32c;
		fr[i].has_raw = fr[i].raw = frames[i].raw;
		frp[i] = &fr[i];
	}
	head.frame_size = PAGESTORE_FRAME_SIZE;
	head.stream_bytes = w->stream;
	head.data_file_size = data_file_size;
	head.n_frames = nframes;
	head.frames = frp;
	if (r == 0)
		r = sd_img_rec_add(&rw, &head.base);
	for (size_t i = 0; r == 0 && i < w->n; i++) {
		const struct ghost_file *f = &w->f[i];
		GhostFile g = GHOST_FILE__INIT;
		GhostExtent *e = calloc(f->next ? f->next : 1, sizeof(*e));
		GhostExtent **ep = calloc(f->next ? f->next : 1, sizeof(*ep));

		if (!e || !ep)
			r = -ENOMEM;
		for (size_t k = 0; r == 0 && k < f->next; k++) {
			ghost_extent__init(&e[k]);
			e[k].off = f->ext[k].off;
			e[k].len = f->ext[k].len;
			ep[k] = &e[k];
		}
		g.id = f->id;
		g.path = f->path;
		g.size = f->size;
		g.mode = f->mode;
		g.uid = f->uid;
		g.gid = f->gid;
		g.dev = (uint64_t)f->dev_major << 32 | f->dev_minor;
		g.ino = f->ino;
		g.stream_off = f->stream_off;
		g.n_extents = f->next;
		g.extents = ep;
		g.has_seals = f->has_seals;
		g.seals = f->seals;
		g.has_shared_pid = f->shared_pid != 0;
		g.shared_pid = f->shared_pid;
		if (r == 0)
			r = sd_img_rec_add(&rw, &g.base);
		free(e);
		free(ep);
	}
	if (r < 0)
		r = sd_err(w->ctx, r, "cannot encode %s", sd_imgfile_name(IMGF_GHOSTS));
	else
		r = sd_imgfile_rec_commit(w->ctx, w->dir, IMGF_GHOSTS, &rw, ret_size);
	sd_img_rec_writer_release(&rw);
	free(fr);
	free(frp);
	return r;
}

int sd_ghost_writer_finish(struct ghost_writer *w, uint64_t *ret_size)
{
	struct pagestore_frame *frames = NULL;
	size_t nframes = 0;
	uint64_t stream = 0, file_size = 0, size = 0;
	int r;

	*ret_size = 0;
	if (w->n == 0)
		return 0;
	r = sd_pagestore_writer_finish(w->pw, &frames, &nframes, &stream, &file_size);
	if (r < 0)
		return r;
	r = write_index(w, frames, nframes, file_size, &size);
	free(frames);
	if (r < 0)
		return r;
	*ret_size = file_size + size;
	return 0;
}

void sd_ghost_writer_free(struct ghost_writer *w)
{
	if (!w)
		return;
	sd_pagestore_writer_free(w->pw);
	for (size_t i = 0; i < w->n; i++)
		sd_ghost_file_release(&w->f[i]);
	free(w->f);
	free(w);
}

/*
 * One GhostFile record, checked, into @d; @stream: where the stream has got
 * to, never past @stream_bytes (the files' data added up could wrap).
 */
static const char *file_from_record(const GhostFile *g, size_t i, uint64_t stream_bytes,
				    uint64_t *stream, struct ghost_file *d)
{
	uint64_t end = 0;

	if (g->id != i + 1)
		return "ids do not ascend from 1";
	if (g->size > INT64_MAX)
		return "a file larger than 2^63 bytes";
	if (g->n_extents > GHOST_MAX_EXTENTS)
		return "too many extents";
	if (!S_ISREG(g->mode) && !(S_ISDIR(g->mode) && g->size == 0 && g->n_extents == 0))
		return "neither a regular file nor an empty directory";
	if (g->has_seals && (!S_ISREG(g->mode) || strncmp(g->path, "/memfd:", strlen("/memfd:"))))
		return "seals on a file that is no memfd";
	if (g->stream_off != *stream)
		return "its data is not where the file before it ends";
	if (g->has_shared_pid && (g->shared_pid <= 0 || g->n_extents))
		return "saved by another member, yet with data of its own";
	d->ext = calloc(g->n_extents ? g->n_extents : 1, sizeof(*d->ext));
	d->path = strdup(g->path);
	if (!d->ext || !d->path)
		return "out of memory";
	for (size_t k = 0; k < g->n_extents; k++) {
		const GhostExtent *e = g->extents[k];

		if (e->len == 0 || e->off < end || e->off > g->size || e->len > g->size - e->off)
			return "an extent out of order or outside the file";
		if (e->len > stream_bytes - *stream)
			return "its data runs past the end of the stream";
		d->ext[k] = (struct ghost_extent){ .off = e->off, .len = e->len, .soff = *stream };
		*stream += e->len;
		d->data_bytes += e->len;
		end = e->off + e->len;
	}
	d->next = g->n_extents;
	d->id = g->id;
	d->size = g->size;
	d->mode = g->mode;
	d->uid = g->uid;
	d->gid = g->gid;
	d->dev_major = (uint32_t)(g->dev >> 32);
	d->dev_minor = (uint32_t)g->dev;
	d->ino = g->ino;
	d->stream_off = g->stream_off;
	d->has_seals = g->has_seals;
	d->seals = g->seals;
	d->shared_pid = g->has_shared_pid ? g->shared_pid : 0;
	return NULL;
}

static int read_files(struct sdump_ctx *ctx, struct img_dir *dir, struct img_rec_reader *rr,
		      struct ghost_set *s)
{
	const char *name = sd_imgfile_name(IMGF_GHOSTS);
	uint64_t stream = 0;
	size_t cap = 0;
	int r;

	for (;;) {
		ProtobufCMessage *msg;
		const char *why;

		r = sd_img_rec_next(rr, &ghost_file__descriptor, &msg);
		if (r <= 0)
			break;
		if (s->n == GHOST_MAX_FILES) {
			why = "too many files";
		} else if ((r = ARRAY_RESERVE(s->f, cap, s->n + 1, 8)) < 0) {
			protobuf_c_message_free_unpacked(msg, NULL);
			return sd_err(ctx, r, "cannot read '%s/%s'", dir->path, name);
		} else {
			memset(&s->f[s->n], 0, sizeof(s->f[s->n]));
			why = file_from_record((const GhostFile *)msg, s->n, s->stream_bytes, &stream,
					       &s->f[s->n]);
			s->n++;
		}
		protobuf_c_message_free_unpacked(msg, NULL);
		if (why)
			return sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: file %zu: %s",
				       dir->path, name, s->n, why);
	}
	if (r < 0)
		return sd_errx(ctx, r, "image file '%s/%s' is corrupt: bad record", dir->path, name);
	if (stream != s->stream_bytes)
		return sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: the files' data does not fill the stream",
			       dir->path, name);
	return 0;
}

int sd_ghost_set_read(struct sdump_ctx *ctx, struct img_dir *dir, struct ghost_set *ret_set)
{
	const char *name = sd_imgfile_name(IMGF_GHOSTS);
	struct ghost_set s = { .dir = dir, .rd = { .fd = -1 } };
	struct img_rec_reader rr = { 0 };
	ProtobufCMessage *msg = NULL;
	const GhostHead *h;
	struct stat st;
	int r;

	if (fstatat(dir->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		*ret_set = s;
		return 0;
	}
	s.present = true;
	r = sd_imgfile_rec_open(ctx, dir, IMGF_GHOSTS, &rr);
	if (r < 0)
		return r;
	r = sd_img_rec_next(&rr, &ghost_head__descriptor, &msg);
	if (r <= 0) {
		r = sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: no head", dir->path, name);
		goto out;
	}
	h = (const GhostHead *)msg;
	if (h->frame_size == 0 || h->frame_size > PAGESTORE_FRAME_SIZE * 16 ||
	    h->stream_bytes / h->frame_size + (h->stream_bytes % h->frame_size != 0) != h->n_frames) {
		r = sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: bad frame table", dir->path,
			    name);
		goto out;
	}
	s.frames = calloc(h->n_frames ? h->n_frames : 1, sizeof(*s.frames));
	if (!s.frames) {
		r = sd_err(ctx, -ENOMEM, "cannot read '%s/%s'", dir->path, name);
		goto out;
	}
	for (size_t i = 0; i < h->n_frames; i++)
		s.frames[i] = (struct pagestore_frame){ h->frames[i]->csize, h->frames[i]->crc32c,
							h->frames[i]->raw };
	s.nframes = h->n_frames;
	s.frame_size = h->frame_size;
	s.stream_bytes = h->stream_bytes;
	s.data_file_size = h->data_file_size;
	r = read_files(ctx, dir, &rr, &s);
out:
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
	sd_img_rec_reader_release(&rr);
	if (r < 0) {
		sd_ghost_set_release(&s);
		return r;
	}
	*ret_set = s;
	return 0;
}

const struct ghost_file *sd_ghost_set_find(const struct ghost_set *s, uint32_t id)
{
	/* ids are 1, 2, ...: checked when read */
	if (id == 0 || id > s->n)
		return NULL;
	return &s->f[id - 1];
}

static int set_reader(struct sdump_ctx *ctx, struct ghost_set *s)
{
	int r;

	if (s->rd_open)
		return 0;
	r = sd_pagestore_reader_open_file(ctx, s->dir, IMGF_GHOST_DATA, s->frames, s->nframes,
				       s->frame_size, s->stream_bytes, s->data_file_size, &s->rd);
	if (r < 0)
		return r;
	s->rd_open = true;
	return 0;
}

int sd_ghost_copy_to_fd(struct sdump_ctx *ctx, struct ghost_set *s, const struct ghost_file *f,
		     int out_fd, const char *what)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bufsize = PAGESTORE_FRAME_SIZE;
	int r;

	r = set_reader(ctx, s);
	if (r < 0)
		return r;
	buf = malloc(bufsize);
	if (!buf)
		return sd_err(ctx, -ENOMEM, "cannot copy the deleted file '%s'", f->path);
	/* the size first: what no extent writes stays a hole */
	if (ftruncate(out_fd, (off_t)f->size) < 0)
		return sd_err(ctx, -errno, "cannot write %s", what);
	for (size_t i = 0; i < f->next; i++) {
		const struct ghost_extent *e = &f->ext[i];

		for (uint64_t done = 0; done < e->len;) {
			size_t n = (size_t)MIN((uint64_t)bufsize, e->len - done);

			r = sd_pagestore_read(ctx, &s->rd, e->soff + done, buf, n);
			if (r < 0)
				return r;
			r = sd_pwrite_all(out_fd, buf, n, e->off + done);
			if (r < 0)
				return sd_err(ctx, r, "cannot write %s", what);
			done += n;
		}
	}
	return 0;
}

int sd_ghost_read_at(struct sdump_ctx *ctx, struct ghost_set *s, const struct ghost_file *f,
		  uint64_t off, void *out, size_t len)
{
	uint64_t end = off + len;
	size_t lo = 0, hi = f->next;
	int r;

	memset(out, 0, len);
	if (off >= f->size || len == 0)
		return 0;
	r = set_reader(ctx, s);
	if (r < 0)
		return r;
	/* the first extent that ends after @off */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->ext[mid].off + f->ext[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < f->next && f->ext[i].off < end; i++) {
		const struct ghost_extent *e = &f->ext[i];
		uint64_t a = MAX(off, e->off), b = MIN(end, e->off + e->len);

		r = sd_pagestore_read(ctx, &s->rd, e->soff + (a - e->off), (uint8_t *)out + (a - off),
				   (size_t)(b - a));
		if (r < 0)
			return r;
	}
	return 0;
}

int sd_ghost_set_verify(struct sdump_ctx *ctx, struct ghost_set *s)
{
	int r;

	if (!s->present)
		return 0;
	r = set_reader(ctx, s);
	if (r < 0)
		return r;
	return sd_pagestore_verify(ctx, &s->rd);
}

void sd_ghost_set_release(struct ghost_set *s)
{
	if (s->rd_open)
		sd_pagestore_reader_release(&s->rd);
	s->rd_open = false;
	for (size_t i = 0; i < s->n; i++)
		sd_ghost_file_release(&s->f[i]);
	zfree(&s->f);
	zfree(&s->frames);
	s->n = s->nframes = 0;
	s->present = false;
}
