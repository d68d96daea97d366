/* SPDX-License-Identifier: MIT */
/* Files of frames (pages.img, ghost-data.img) and their frame tables, read and rewritten for an input. */
#include "fuzz_image.h"

uint8_t *read_whole(const char *path, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || sd_pread_all(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		die(path);
	(void)close(fd);
	*ret_len = (size_t)st.st_size;
	return buf;
}

void write_whole(const char *pass, const char *name, const uint8_t *data, size_t len)
{
	char path[512];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s/%s", base_dir, pass, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || sd_write_all(fd, data, len) < 0)
		die(path);
	(void)close(fd);
}

struct base_file *find_file(const char *pass, const char *name)
{
	for (size_t i = 0; i < nfiles; i++)
		if (!strcmp(files[i].pass, pass) && !strcmp(files[i].name, name))
			return &files[i];
	return NULL;
}

/* The directory of pass "1" or "2". */
const char *pass_dir(const char *pass)
{
	return pass_path[pass[0] - '1'];
}

/* The file of frames named @name, or NULL. */
const struct frames_file *frames_file_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(frames_files); i++)
		if (!strcmp(frames_files[i].name, name))
			return &frames_files[i];
	return NULL;
}

/* A frame table, as an index keeps it. */
struct frame_table {
	struct pagestore_frame *frames;
	size_t nframes;
	uint32_t frame_size;
	uint64_t stream_bytes, file_size;
};

/* The frame table of @ff in the pass at @dirpath (its index read and checked): -errno. */
static int read_table(const struct frames_file *ff, const char *dirpath, struct frame_table *t)
{
	struct img_dir dir = { .dirfd = -1 };
	int r = sd_img_dir_open(ctx, dirpath, &dir);

	*t = (struct frame_table){ 0 };
	if (r == 0 && ff->f == IMGF_PAGES) {
		struct pmimg pm = { 0 };

		r = sd_pmimg_read(ctx, &dir, &pm);
		if (r == 0) {
			*t = (struct frame_table){ pm.frames, pm.nframes, pm.frame_size, pm.stream_bytes,
						   pm.pages_file_size };
			pm.frames = NULL;
		}
		sd_pmimg_release(&pm);
	} else if (r == 0) {
		struct ghost_set gs = { 0 };

		r = sd_ghost_set_read(ctx, &dir, &gs);
		if (r == 0 && !gs.present)
			r = -ENOENT;
		if (r == 0) {
			*t = (struct frame_table){ gs.frames, gs.nframes, gs.frame_size, gs.stream_bytes,
						   gs.data_file_size };
			gs.frames = NULL;
		}
		sd_ghost_set_release(&gs);
	}
	sd_img_dir_release(&dir);
	return r;
}

/* The whole stream of @ff in the pass at @dirpath, into *ret (malloc'd): -errno. */
int read_stream(const struct frames_file *ff, const char *dirpath, uint8_t **ret,
		       size_t *ret_len)
{
	struct pagestore_reader rd = { .fd = -1 };
	struct img_dir dir = { .dirfd = -1 };
	struct frame_table t;
	uint8_t *buf = NULL;
	int r = read_table(ff, dirpath, &t);

	if (r == 0)
		r = sd_img_dir_open(ctx, dirpath, &dir);
	if (r == 0)
		r = sd_pagestore_reader_open_file(ctx, &dir, ff->f, t.frames, t.nframes, t.frame_size,
					       t.stream_bytes, t.file_size, &rd);
	if (r == 0) {
		buf = malloc(t.stream_bytes ? t.stream_bytes : 1);
		r = buf ? sd_pagestore_read(ctx, &rd, 0, buf, t.stream_bytes) : -ENOMEM;
		sd_pagestore_reader_release(&rd);
	}
	sd_img_dir_release(&dir);
	free(t.frames);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = t.stream_bytes;
	return 0;
}

/* Rewrite @pass's pagemap.img with a new frame table, its runs as they were. */
static void rewrite_pagemap(const char *pass, const struct pagestore_frame *frames, size_t nframes,
			    uint32_t frame_size, uint64_t stream_bytes, uint64_t file_size)
{
	struct img_dir dir = { .dirfd = -1 };
	struct pmimg pm = { 0 };

	if (sd_img_dir_open(ctx, pass_dir(pass), &dir) < 0 || sd_pmimg_read(ctx, &dir, &pm) < 0)
		die("pagemap.img");
	free(pm.frames);
	pm.frames = (struct pagestore_frame *)frames;
	pm.nframes = nframes;
	if (stream_bytes != UINT64_MAX) {
		pm.frame_size = frame_size;
		pm.stream_bytes = stream_bytes;
		pm.pages_file_size = file_size;
	}
	if (sd_pmimg_write(ctx, &dir, &pm, NULL) < 0)
		die("pagemap.img");
	pm.frames = NULL;
	sd_pmimg_release(&pm);
	sd_img_dir_release(&dir);
}

/* Rewrite @pass's ghosts.img with a new frame table in its GhostHead, its files as they were. */
static void rewrite_ghost_head(const char *pass, const struct pagestore_frame *frames,
			       size_t nframes, uint32_t frame_size, uint64_t stream_bytes,
			       uint64_t file_size)
{
	GhostFrame *fr = calloc(nframes + 1, sizeof(*fr));
	GhostFrame **frp = calloc(nframes + 1, sizeof(*frp)), **old_frames;
	uint8_t *file, *recs = NULL, *out, *enc;
	size_t len, rlen = 0, hlen = 0, plen, rest, elen, old_n;
	GhostHead *h = NULL;
	char path[512];

	(void)snprintf(path, sizeof(path), "%s/ghosts.img", pass_dir(pass));
	file = read_whole(path, &len);
	if (sd_img_rec_decode(IMG_GHOSTS, file, len, &recs, &rlen) < 0 || rlen < 4 ||
	    (hlen = get_le32(recs)) > rlen - 4 || !(h = ghost_head__unpack(NULL, hlen, recs + 4)) ||
	    !fr || !frp)
		die("ghosts.img");
	for (size_t i = 0; i < nframes; i++) {
		ghost_frame__init(&fr[i]);
		fr[i].csize = frames[i].csize;
		fr[i].crc32c = frames[i].crc32c;
		frp[i] = &fr[i];
	}
	old_n = h->n_frames;
	old_frames = h->frames;
	h->n_frames = nframes;
	h->frames = frp;
	if (stream_bytes != UINT64_MAX) {
		h->frame_size = frame_size;
		h->stream_bytes = stream_bytes;
		h->data_file_size = file_size;
	}
	plen = ghost_head__get_packed_size(h);
	rest = rlen - 4 - hlen;
	out = malloc(4 + plen + rest);
	if (!out)
		die("malloc");
	put_le32(out, (uint32_t)plen);
	(void)ghost_head__pack(h, out + 4);
	memcpy(out + 4 + plen, recs + 4 + hlen, rest);
	h->n_frames = old_n;
	h->frames = old_frames;
	ghost_head__free_unpacked(h, NULL);
	if (sd_img_rec_encode(IMG_GHOSTS, out, 4 + plen + rest, &enc, &elen) < 0)
		die("ghosts.img");
	write_whole(pass, "ghosts.img", enc, elen);
	free(enc);
	free(out);
	free(recs);
	free(file);
	free(fr);
	free(frp);
}

/*
 * Give @ff's index in @pass a new frame table; with @stream_bytes
 * UINT64_MAX, only the frames (the frame size, stream and file sizes as
 * they were).
 */
static void rewrite_frames(const struct frames_file *ff, const char *pass,
			   const struct pagestore_frame *frames, size_t nframes,
			   uint64_t stream_bytes, uint64_t file_size)
{
	if (ff->f == IMGF_PAGES)
		rewrite_pagemap(pass, frames, nframes, ff->frame_size, stream_bytes, file_size);
	else
		rewrite_ghost_head(pass, frames, nframes, ff->frame_size, stream_bytes, file_size);
}

/*
 * Mode 0 for a file of frames: the input is the stream; compress it into
 * frames of the harness's size (the base image's too: small frames, so
 * that a read decompresses little and the fuzzer runs fast, and
 * ghost-data.img's few pages make several). ghost-data.img's stream is
 * first cut or padded to the length that ghosts.img's files take: any
 * other is refused before a frame is read.
 */
void write_stream(const struct frames_file *ff, const char *pass, const uint8_t *data,
			 size_t len)
{
	size_t cap, n = 0, flen = IMG_HEADER_SIZE;
	struct pagestore_frame *frames;
	uint8_t *file, *sized = NULL;

	if (ff->f == IMGF_GHOST_DATA) {
		struct frame_table t;

		if (read_table(ff, pass_dir(pass), &t) < 0)
			die("ghosts.img");
		free(t.frames);
		sized = calloc(1, t.stream_bytes + 1);
		if (!sized)
			die("calloc");
		memcpy(sized, data, MIN(len, (size_t)t.stream_bytes));
		data = sized;
		len = t.stream_bytes;
	}
	cap = len / ff->frame_size + 1;
	frames = calloc(cap, sizeof(*frames));
	file = malloc(IMG_HEADER_SIZE + cap * ZSTD_compressBound(ff->frame_size));
	if (!frames || !file)
		die("malloc");
	sd_img_header_fill(file, sd_imgfile(ff->f)->type);
	for (size_t off = 0; off < len; off += ff->frame_size) {
		size_t in = MIN(len - off, (size_t)ff->frame_size);
		size_t z = ZSTD_compress(file + flen, ZSTD_compressBound(in), data + off, in, 1);

		if (ZSTD_isError(z))
			die("zstd");
		frames[n++] = (struct pagestore_frame){ (uint32_t)z, sd_crc32c(0, file + flen, z), false };
		flen += z;
	}
	write_whole(pass, ff->name, file, flen);
	rewrite_frames(ff, pass, frames, n, len, flen);
	free(frames);
	free(file);
	free(sized);
}

/* Mode 1 for a file of frames: the file as given, with frame CRCs for the sizes its index has. */
void write_fixed(const struct frames_file *ff, const char *pass, uint8_t *f, size_t len)
{
	struct pagestore_frame *frames;
	uint64_t off = IMG_HEADER_SIZE;
	struct frame_table t;

	if (len >= IMG_HEADER_SIZE)
		put_le32(f + 12, sd_crc32c(0, f, 12));
	write_whole(pass, ff->name, f, len);
	if (read_table(ff, pass_dir(pass), &t) < 0)
		die(ff->index);
	frames = calloc(t.nframes + 1, sizeof(*frames));
	if (!frames)
		die("calloc");
	for (size_t i = 0; i < t.nframes; i++) {
		uint32_t cs = t.frames[i].csize;

		frames[i].csize = cs;
		if (off <= len && cs <= len - off)
			frames[i].crc32c = sd_crc32c(0, f + off, cs);
		off += cs;
	}
	rewrite_frames(ff, pass, frames, t.nframes, UINT64_MAX, 0);
	free(frames);
	free(t.frames);
}

/* The base pass @n's files of frames cut again into frames of the harness's sizes. */
void reframe(int n)
{
	for (size_t i = 0; i < ARRAY_SIZE(frames_files); i++) {
		const struct frames_file *ff = &frames_files[i];
		const char *pass = n == 1 ? "1" : "2";
		uint8_t *stream;
		size_t len;

		if (!find_file(pass, ff->name))
			continue;
		if (read_stream(ff, pass_path[n - 1], &stream, &len) < 0)
			die("reframe");
		write_stream(ff, pass, stream, len);
		free(stream);
	}
}
