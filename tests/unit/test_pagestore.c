/* SPDX-License-Identifier: MIT */
/*
 * pages.img written and read back through real files in a temporary
 * directory; an unfinished pass aborted. No /proc, no root.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#include "crc32c.h"
#include "image.h"
#include "pagemap.pb-c.h"
#include "pages_img.h"
#include "unit_files.h"

#define PS 4096u
#define FRAME ((uint64_t)PAGESTORE_FRAME_SIZE)
#define STREAM (3 * FRAME + FRAME / 2)	/* 3.5 MiB: three full frames and a half */

static struct sdump_ctx *ctx;
static uint8_t *data;			/* the page stream written */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Pages of every sort: random, zero, a repeated byte, half random. */
static void make_data(void)
{
	data = malloc(STREAM);
	if (!data)
		abort();
	for (uint64_t pg = 0; pg < STREAM / PS; pg++) {
		uint8_t *p = data + pg * PS;

		switch (rnd() % 4) {
		case 0:
			for (size_t i = 0; i < PS; i += 8) {
				uint64_t v = rnd();

				memcpy(p + i, &v, 8);
			}
			break;
		case 1:
			memset(p, 0, PS);
			break;
		case 2:
			memset(p, (int)(pg & 0xff), PS);
			break;
		default:
			memset(p, 0x5a, PS);
			for (size_t i = 0; i < PS / 2; i++)
				p[i] = (uint8_t)rnd();
		}
	}
}

/* Write @len bytes of data through a new writer in @dir, at zstd @level. */
static void write_stream_at(struct img_dir *dir, int level, uint64_t len,
			    struct pagestore_frame **ret_frames, size_t *ret_nframes,
			    uint64_t *ret_stream, uint64_t *ret_fsize)
{
	struct pagestore_writer *w = NULL;
	uint64_t pos = 0;

	ASSERT_OK(sd_pagestore_writer_new(ctx, dir, 2, level, &w));
	ASSERT_TRUE(w != NULL);
	while (pos < len) {
		uint8_t *buf = NULL;
		size_t room = 0, n;
		uint64_t off = 1;

		ASSERT_OK(sd_pagestore_reserve(w, &buf, &room, &off));
		ASSERT_EQ(off, pos);
		ASSERT_TRUE(room >= PS);
		ASSERT_EQ(room % PS, 0);
		ASSERT_TRUE(room <= FRAME);
		/* between 1 and 7 pages at a time, never all the room offered */
		n = (size_t)(rnd() % 7 + 1) * PS;
		if (n > room)
			n = room;
		if (n > len - pos)
			n = (size_t)(len - pos);
		memcpy(buf, data + pos, n);
		ASSERT_OK(sd_pagestore_commit(w, n));
		pos += n;
	}
	ASSERT_OK(sd_pagestore_writer_finish(w, ret_frames, ret_nframes, ret_stream, ret_fsize));
	sd_pagestore_writer_free(w);
}

static void write_stream(struct img_dir *dir, uint64_t len, struct pagestore_frame **ret_frames,
			 size_t *ret_nframes, uint64_t *ret_stream, uint64_t *ret_fsize)
{
	write_stream_at(dir, 1, len, ret_frames, ret_nframes, ret_stream, ret_fsize);
}

/* Read [off, off + len) and compare with what was written. */
static void read_check(struct pagestore_reader *rd, uint64_t off, size_t len)
{
	uint8_t *out = malloc(len ? len : 1);
	int r;

	ASSERT_TRUE(out != NULL);
	memset(out, 0xee, len);
	r = sd_pagestore_read(ctx, rd, off, out, len);
	if (r < 0)
		fprintf(stderr, "  read %zu at %llu: %s\n", len, (unsigned long long)off,
			sdump_ctx_last_error(ctx));
	if (r >= 0 && memcmp(out, data + off, len))
		fprintf(stderr, "  read %zu at %llu: wrong data\n", len, (unsigned long long)off);
	if (r >= 0 && memcmp(out, data + off, len)) {
		free(out);
		ASSERT_TRUE(!"data read back differs");
	}
	free(out);
	ASSERT_OK(r);
}

static void read_fails(struct pagestore_reader *rd, uint64_t off, size_t len)
{
	static uint8_t out[3 * PAGESTORE_FRAME_SIZE];

	ASSERT_TRUE(len <= sizeof(out));
	sdump_ctx_clear_error(ctx);
	ASSERT_EQ(sd_pagestore_read(ctx, rd, off, out, len), -EBADMSG);
	ASSERT_TRUE(sdump_ctx_last_error(ctx) != NULL);
	sdump_ctx_clear_error(ctx);
}

static void test_round_trip(void)
{
	struct img_dir dir = { .dirfd = -1 };
	struct pagestore_reader rd = { .fd = -1 };
	struct pagestore_frame *frames = NULL;
	size_t nframes = 0;
	uint64_t stream = 0, fsize = 0, sum = IMG_HEADER_SIZE, foff[8];
	char p[512];
	struct stat st;
	uint8_t hdr[IMG_HEADER_SIZE];
	uint8_t *file;
	int fd;

	path_of(p, sizeof(p), "a/b/pass1");
	ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
	ASSERT_TRUE(dir.created);
	ASSERT_OK(stat(p, &st));
	ASSERT_EQ(st.st_mode & 0777, 0700);
	write_stream(&dir, STREAM, &frames, &nframes, &stream, &fsize);
	if (unit_cur_failed)
		return;
	ASSERT_EQ(stream, STREAM);
	ASSERT_EQ(nframes, 4);
	ASSERT_TRUE(exists("a/b/pass1/pages.img"));
	ASSERT_TRUE(!exists("a/b/pass1/pages.img.tmp"));

	/* the file: header, then the frames back to back, as the table says */
	path_of(p, sizeof(p), "a/b/pass1/pages.img");
	ASSERT_OK(stat(p, &st));
	ASSERT_EQ(st.st_size, fsize);
	file = malloc(fsize);
	ASSERT_TRUE(file != NULL);
	fd = open(p, O_RDONLY);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pread(fd, file, fsize, 0), fsize);
	close(fd);
	memcpy(hdr, file, sizeof(hdr));
	for (size_t i = 0; i < nframes; i++) {
		foff[i] = sum;
		ASSERT_TRUE(frames[i].csize > 0);
		ASSERT_TRUE(sum + frames[i].csize <= fsize);
		ASSERT_EQ(sd_crc32c(0, file + sum, frames[i].csize), frames[i].crc32c);
		sum += frames[i].csize;
	}
	free(file);
	ASSERT_OK(sd_img_header_check(hdr, IMG_PAGES));
	ASSERT_EQ(sum, fsize);
	/* zero and repeated pages compress */
	ASSERT_TRUE(fsize < STREAM);

	ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd));
	read_check(&rd, 0, PS);
	read_check(&rd, 0, (size_t)STREAM);
	read_check(&rd, FRAME - 100, 200);		/* across frames 0 and 1 */
	read_check(&rd, FRAME - PS, PS);		/* the last page of a frame */
	read_check(&rd, FRAME, PS);			/* the first page of the next */
	read_check(&rd, 2 * FRAME - 1, 1);
	read_check(&rd, 2 * FRAME, 1);
	read_check(&rd, FRAME / 2, (size_t)(2 * FRAME));	/* across three frames */
	read_check(&rd, 3 * FRAME, (size_t)(STREAM - 3 * FRAME));	/* the short last frame */
	read_check(&rd, STREAM - PS, PS);
	read_check(&rd, STREAM - 1, 1);
	read_check(&rd, STREAM, 0);
	read_check(&rd, 0, 0);
	/* back and forth between frames */
	for (int i = 0; i < 100 && !unit_cur_failed; i++) {
		uint64_t off = rnd() % STREAM;
		size_t len = (size_t)(rnd() % (3 * PS));

		if (len > STREAM - off)
			len = (size_t)(STREAM - off);
		read_check(&rd, off, len);
	}
	/* beyond the stream */
	read_fails(&rd, STREAM - 1, 2);
	read_fails(&rd, STREAM, 1);
	read_fails(&rd, STREAM + 1, 0);
	read_fails(&rd, UINT64_MAX, 1);
	{
		uint8_t b[8];

		ASSERT_EQ(sd_pagestore_read(ctx, &rd, 1, b, SIZE_MAX), -EBADMSG);
		sdump_ctx_clear_error(ctx);
	}
	sd_pagestore_reader_release(&rd);
	ASSERT_EQ(rd.fd, -1);

	/* one byte flipped inside frame 2: that frame fails, the others do not */
	flip_byte("a/b/pass1/pages.img", foff[2] + frames[2].csize / 2);
	ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd));
	read_fails(&rd, 2 * FRAME, PS);
	read_check(&rd, 0, PS);
	read_check(&rd, FRAME + 5, PS);
	read_check(&rd, 3 * FRAME, PS);
	read_fails(&rd, 2 * FRAME - 10, 20);		/* a read that touches it */
	read_fails(&rd, 3 * FRAME - 1, 1);
	read_fails(&rd, 0, (size_t)FRAME * 2 + 1);
	/* flipped back: readable again (a failed frame is not kept) */
	flip_byte("a/b/pass1/pages.img", foff[2] + frames[2].csize / 2);
	read_check(&rd, 2 * FRAME, PS);
	sd_pagestore_reader_release(&rd);

	/* the last byte of the last frame */
	flip_byte("a/b/pass1/pages.img", fsize - 1);
	ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd));
	read_check(&rd, 0, PS);
	read_fails(&rd, STREAM - 1, 1);
	sd_pagestore_reader_release(&rd);
	flip_byte("a/b/pass1/pages.img", fsize - 1);

	/* a wrong frame table: sizes moved between two frames */
	frames[0].csize++;
	frames[1].csize--;
	ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd));
	read_fails(&rd, 0, 1);
	read_fails(&rd, FRAME, 1);
	read_check(&rd, 2 * FRAME, PS);
	sd_pagestore_reader_release(&rd);
	frames[0].csize--;
	frames[1].csize++;
	/*
	 * The table's checksum made to match a damaged frame: zstd's own
	 * checksum still refuses it, and the frame decoded before it is not
	 * served from a buffer the failed frame overwrote.
	 */
	{
		uint32_t good = frames[2].crc32c;
		uint8_t *z = malloc(frames[2].csize);
		int zfd;

		ASSERT_TRUE(z != NULL);
		flip_byte("a/b/pass1/pages.img", foff[3] - 2);	/* in the content checksum */
		zfd = open(p, O_RDONLY);
		ASSERT_TRUE(zfd >= 0);
		ASSERT_EQ(pread(zfd, z, frames[2].csize, (off_t)foff[2]), frames[2].csize);
		close(zfd);
		frames[2].crc32c = sd_crc32c(0, z, frames[2].csize);
		free(z);
		ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE,
						stream, fsize, &rd));
		read_check(&rd, FRAME, PS);
		read_fails(&rd, 2 * FRAME, PS);
		read_check(&rd, FRAME, PS);
		sd_pagestore_reader_release(&rd);
		frames[2].crc32c = good;
		flip_byte("a/b/pass1/pages.img", foff[3] - 2);
	}
	/* a wrong checksum in the table */
	frames[3].crc32c ^= 1;
	ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd));
	read_fails(&rd, 3 * FRAME, 1);
	sd_pagestore_reader_release(&rd);
	frames[3].crc32c ^= 1;

	/* a table that does not match the file */
	ASSERT_EQ(sd_pagestore_reader_open(ctx, &dir, frames, nframes - 1, PAGESTORE_FRAME_SIZE,
					stream, fsize, &rd), -EBADMSG);
	ASSERT_EQ(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE,
					stream + FRAME, fsize, &rd), -EBADMSG);
	ASSERT_EQ(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize + 1, &rd), -EBADMSG);
	ASSERT_EQ(sd_pagestore_reader_open(ctx, &dir, frames, nframes, 0, stream, fsize, &rd),
		  -EBADMSG);

	/* the header damaged */
	flip_byte("a/b/pass1/pages.img", 3);
	ASSERT_EQ(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd), -EBADMSG);
	flip_byte("a/b/pass1/pages.img", 3);

	/* truncated, or longer */
	set_size("a/b/pass1/pages.img", fsize - 1);
	ASSERT_EQ(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd), -EBADMSG);
	set_size("a/b/pass1/pages.img", foff[3]);
	ASSERT_EQ(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd), -EBADMSG);
	set_size("a/b/pass1/pages.img", 0);
	ASSERT_EQ(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd), -EBADMSG);
	set_size("a/b/pass1/pages.img", fsize + 1);
	ASSERT_EQ(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd), -EBADMSG);
	sdump_ctx_clear_error(ctx);

	/* abort: the pass directory goes, its parents stay */
	sd_img_dir_abort(ctx, &dir);
	sd_img_dir_release(&dir);
	ASSERT_EQ(dir.dirfd, -1);
	ASSERT_TRUE(!exists("a/b/pass1"));
	ASSERT_TRUE(exists("a/b"));
	free(frames);
}

/*
 * Reading in order starts threads that decompress the next frames ahead:
 * every thread count gives the same bytes, a damaged frame met on the way
 * fails (and only it), and jumping around meanwhile still reads right.
 */
static void test_prefetch(void)
{
	const uint64_t len = 13 * FRAME + 3 * PS; /* 14 frames */
	const int threads[] = { -1, 1, 2, 8, 0 };
	struct img_dir dir = { .dirfd = -1 };
	struct pagestore_frame *frames = NULL;
	size_t nframes = 0;
	uint64_t stream = 0, fsize = 0, foff7 = IMG_HEADER_SIZE;
	uint8_t *saved = data, *big = malloc(len), page[PS];
	char p[512];

	ASSERT_TRUE(big != NULL);
	/* STREAM's pages again and again, each copy made different */
	for (uint64_t o = 0; o < len; o += PS) {
		memcpy(big + o, saved + o % (STREAM - PS), PS);
		big[o + 17] ^= (uint8_t)(o / STREAM + 1);
	}
	data = big;
	path_of(p, sizeof(p), "prefetch");
	ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
	write_stream(&dir, len, &frames, &nframes, &stream, &fsize);
	ASSERT_EQ(nframes, 14);
	for (size_t i = 0; i < 7; i++)
		foff7 += frames[i].csize;
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]) && !unit_cur_failed; t++) {
		struct pagestore_reader rd = { .fd = -1 };

		ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE,
						stream, fsize, &rd));
		rd.prefetch_threads = threads[t];
		/* page by page, as a restore reads */
		for (uint64_t o = 0; o < len && !unit_cur_failed; o += PS) {
			ASSERT_OK(sd_pagestore_read(ctx, &rd, o, page, PS));
			ASSERT_TRUE(!memcmp(page, big + o, PS));
			/* now and then a look elsewhere, behind or far ahead */
			if (o % (3 * FRAME / 2) == 0)
				read_check(&rd, rnd() % (len - PS), PS);
		}
		ASSERT_TRUE(threads[t] < 0 ? rd.pf == NULL : rd.pf != NULL);
		read_check(&rd, 0, (size_t)len);
		sd_pagestore_reader_release(&rd);

		/* frame 7 damaged: frames 0-6 read, 7 fails, 8 on read */
		flip_byte("prefetch/pages.img", foff7 + frames[7].csize / 3);
		ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE,
						stream, fsize, &rd));
		rd.prefetch_threads = threads[t];
		read_check(&rd, 0, (size_t)(7 * FRAME));
		read_fails(&rd, 7 * FRAME + PS, PS);
		read_fails(&rd, 7 * FRAME, PS); /* still */
		read_check(&rd, 8 * FRAME, (size_t)(len - 8 * FRAME));
		flip_byte("prefetch/pages.img", foff7 + frames[7].csize / 3);
		read_check(&rd, 7 * FRAME, PS); /* repaired: a failed frame is not kept */
		sd_pagestore_reader_release(&rd);
	}
	sd_img_dir_abort(ctx, &dir);
	sd_img_dir_release(&dir);
	data = saved;
	free(big);
	free(frames);
}

/*
 * One decoder for the frames of two readers, as a restore's threads use them
 * over the passes of a chain: a stream that compresses well (small frames)
 * first, then one that does not, so its buffers must grow; a damaged frame
 * fails with its message, and the next frame decodes again.
 */
static void test_decoder(void)
{
	struct img_dir da = { .dirfd = -1 }, db = { .dirfd = -1 };
	struct pagestore_frame *fa = NULL, *fb = NULL;
	size_t na = 0, nb = 0;
	uint64_t sa = 0, sb = 0, za = 0, zb = 0;
	struct pagestore_reader ra = { .fd = -1 }, rb = { .fd = -1 };
	struct pagestore_decoder d = { 0 };
	uint8_t *saved = data, *flat = calloc(1, 2 * FRAME);
	char p[512];

	ASSERT_TRUE(flat != NULL);
	for (uint64_t o = 0; o < 2 * FRAME; o += PS)
		flat[o] = (uint8_t)(o / PS);
	data = flat;
	path_of(p, sizeof(p), "deca");
	ASSERT_OK(sd_img_dir_create(ctx, p, &da));
	write_stream(&da, 2 * FRAME, &fa, &na, &sa, &za);
	data = saved;
	path_of(p, sizeof(p), "decb");
	ASSERT_OK(sd_img_dir_create(ctx, p, &db));
	write_stream(&db, STREAM, &fb, &nb, &sb, &zb);
	ASSERT_OK(sd_pagestore_reader_open(ctx, &da, fa, na, PAGESTORE_FRAME_SIZE, sa, za, &ra));
	ASSERT_OK(sd_pagestore_reader_open(ctx, &db, fb, nb, PAGESTORE_FRAME_SIZE, sb, zb, &rb));
	ASSERT_TRUE(ra.zmax < rb.zmax);
	for (size_t i = 0; i < na; i++) {
		ASSERT_OK(sd_pagestore_decode(&ra, &d, i));
		ASSERT_EQ(d.len, FRAME);
		ASSERT_TRUE(!memcmp(d.buf, flat + i * FRAME, FRAME));
	}
	for (size_t i = 0; i < nb; i++) {
		ASSERT_OK(sd_pagestore_decode(&rb, &d, i));
		ASSERT_EQ(d.len, STREAM - i * FRAME < FRAME ? STREAM - i * FRAME : FRAME);
		ASSERT_TRUE(!memcmp(d.buf, saved + i * FRAME, d.len));
	}
	flip_byte("decb/pages.img", IMG_HEADER_SIZE + fb[0].csize / 2);
	ASSERT_EQ(sd_pagestore_decode(&rb, &d, 0), -EBADMSG);
	sdump_ctx_clear_error(ctx);
	ASSERT_EQ(sd_pagestore_decode_error(ctx, &rb, &d, 0), -EBADMSG);
	ASSERT_TRUE(strstr(sdump_ctx_last_error(ctx), "checksum mismatch in frame 0") != NULL);
	sdump_ctx_clear_error(ctx);
	ASSERT_OK(sd_pagestore_decode(&rb, &d, 1));
	ASSERT_TRUE(!memcmp(d.buf, saved + FRAME, FRAME));
	sd_pagestore_decoder_release(&d);
	sd_pagestore_decoder_release(&d); /* twice: released is released */
	sd_pagestore_reader_release(&ra);
	sd_pagestore_reader_release(&rb);
	sd_img_dir_abort(ctx, &da);
	sd_img_dir_abort(ctx, &db);
	sd_img_dir_release(&da);
	sd_img_dir_release(&db);
	free(fa);
	free(fb);
	free(flat);
}

/*
 * Raw frames: at -1000 every frame is stored as it is (the file is its
 * header and the stream), and at level 1 a frame of random bytes is too;
 * they read back through the decoder and the read-ahead, a changed byte
 * is a checksum mismatch, and a frame marked raw whose size is not its
 * length is refused.
 */
static void test_raw_frames(void)
{
	struct img_dir da = { .dirfd = -1 }, db = { .dirfd = -1 };
	struct pagestore_frame *fa = NULL, *fb = NULL;
	size_t na = 0, nb = 0;
	uint64_t sa = 0, sb = 0, za = 0, zb = 0;
	struct pagestore_reader ra = { .fd = -1 }, rb = { .fd = -1 };
	struct pagestore_decoder d = { 0 };
	uint8_t *saved = data, *noise = malloc(2 * FRAME);
	char p[512];

	ASSERT_TRUE(noise != NULL);
	path_of(p, sizeof(p), "rawa");
	ASSERT_OK(sd_img_dir_create(ctx, p, &da));
	write_stream_at(&da, -1000, STREAM, &fa, &na, &sa, &za);
	ASSERT_EQ(na, 4);
	ASSERT_EQ(za, IMG_HEADER_SIZE + STREAM);
	for (size_t i = 0; i < na; i++) {
		ASSERT_TRUE(fa[i].raw);
		ASSERT_EQ(fa[i].csize, i < 3 ? FRAME : FRAME / 2);
	}
	ASSERT_OK(sd_pagestore_reader_open(ctx, &da, fa, na, PAGESTORE_FRAME_SIZE, sa, za, &ra));
	for (size_t i = 0; i < na; i++) {
		ASSERT_OK(sd_pagestore_decode(&ra, &d, i));
		ASSERT_EQ(d.len, fa[i].csize);
		ASSERT_TRUE(!memcmp(d.data, saved + i * FRAME, d.len));
	}
	read_check(&ra, 0, (size_t)STREAM); /* frame after frame: the read-ahead */
	read_check(&ra, FRAME - 100, 200);
	flip_byte("rawa/pages.img", IMG_HEADER_SIZE + 2 * FRAME + 12345);
	ASSERT_EQ(sd_pagestore_decode(&ra, &d, 2), -EBADMSG);
	ASSERT_EQ(sd_pagestore_decode_error(ctx, &ra, &d, 2), -EBADMSG);
	ASSERT_TRUE(strstr(sdump_ctx_last_error(ctx), "checksum mismatch in frame 2") != NULL);
	sdump_ctx_clear_error(ctx);
	/* level 1 cannot make random bytes smaller: stored as they are */
	for (size_t i = 0; i < 2 * FRAME; i += 8) {
		uint64_t v = rnd();

		memcpy(noise + i, &v, 8);
	}
	data = noise;
	path_of(p, sizeof(p), "rawb");
	ASSERT_OK(sd_img_dir_create(ctx, p, &db));
	write_stream(&db, 2 * FRAME, &fb, &nb, &sb, &zb);
	data = saved;
	ASSERT_EQ(nb, 2);
	ASSERT_TRUE(fb[0].raw && fb[1].raw);
	ASSERT_EQ(zb, IMG_HEADER_SIZE + 2 * FRAME);
	/*
	 * a raw frame's size must be its length: the file cut to its first
	 * MiB, told as two raw frames of half a MiB each (checksums right)
	 */
	path_of(p, sizeof(p), "rawb/pages.img");
	ASSERT_OK(truncate(p, (off_t)(IMG_HEADER_SIZE + FRAME)));
	zb = IMG_HEADER_SIZE + FRAME;
	for (size_t i = 0; i < 2; i++) {
		fb[i].csize = (uint32_t)(FRAME / 2);
		fb[i].crc32c = sd_crc32c(0, noise + i * (FRAME / 2), FRAME / 2);
	}
	ASSERT_OK(sd_pagestore_reader_open(ctx, &db, fb, nb, PAGESTORE_FRAME_SIZE, sb, zb, &rb));
	ASSERT_EQ(sd_pagestore_decode(&rb, &d, 0), -EBADMSG);
	ASSERT_EQ(sd_pagestore_decode_error(ctx, &rb, &d, 0), -EBADMSG);
	ASSERT_TRUE(strstr(sdump_ctx_last_error(ctx), "bad frame 0") != NULL);
	sdump_ctx_clear_error(ctx);
	sd_pagestore_decoder_release(&d);
	sd_pagestore_reader_release(&ra);
	sd_pagestore_reader_release(&rb);
	sd_img_dir_abort(ctx, &da);
	sd_img_dir_abort(ctx, &db);
	sd_img_dir_release(&da);
	sd_img_dir_release(&db);
	free(fa);
	free(fb);
	free(noise);
}

/* Nothing written, or a reservation never committed. */
static void test_empty_stream(void)
{
	for (int reserve = 0; reserve < 2; reserve++) {
		struct img_dir dir = { .dirfd = -1 };
		struct pagestore_writer *w = NULL;
		struct pagestore_reader rd = { .fd = -1 };
		struct pagestore_frame *frames = NULL;
		size_t nframes = 9;
		uint64_t stream = 9, fsize = 9;
		uint8_t b;
		char p[512];

		path_of(p, sizeof(p), "empty");
		ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
		ASSERT_OK(sd_pagestore_writer_new(ctx, &dir, 1, 3, &w));
		if (reserve) {
			uint8_t *buf;
			size_t room;
			uint64_t off = 1;

			ASSERT_OK(sd_pagestore_reserve(w, &buf, &room, &off));
			ASSERT_EQ(off, 0);
			ASSERT_EQ(room, FRAME);
		}
		ASSERT_OK(sd_pagestore_writer_finish(w, &frames, &nframes, &stream, &fsize));
		sd_pagestore_writer_free(w);
		ASSERT_EQ(nframes, 0);
		ASSERT_EQ(stream, 0);
		ASSERT_EQ(fsize, IMG_HEADER_SIZE);
		ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE,
						stream, fsize, &rd));
		ASSERT_OK(sd_pagestore_read(ctx, &rd, 0, &b, 0));
		read_fails(&rd, 0, 1);
		sd_pagestore_reader_release(&rd);
		free(frames);
		sd_img_dir_abort(ctx, &dir);
		sd_img_dir_release(&dir);
		ASSERT_TRUE(!exists("empty"));
	}
}

/* A frame table whose stream size wraps around: it matches no file. */
static void test_reader_stream_overflow(void)
{
	struct img_dir dir = { .dirfd = -1 };
	struct pagestore_writer *w = NULL;
	struct pagestore_reader rd = { .fd = -1 };
	struct pagestore_frame *frames = NULL;
	size_t nframes = 0;
	uint64_t stream = 0, fsize = 0;
	char p[512];
	int r;

	path_of(p, sizeof(p), "overflow");
	ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
	ASSERT_OK(sd_pagestore_writer_new(ctx, &dir, 1, 1, &w));
	ASSERT_OK(sd_pagestore_writer_finish(w, &frames, &nframes, &stream, &fsize));
	sd_pagestore_writer_free(w);
	/*
	 * No frames, a page-aligned stream of almost 2^64 bytes: (stream +
	 * frame_size - 1) / frame_size wraps to 0 frames. Opening must fail,
	 * or a read would index frames[] and frame_off[] far out of bounds
	 * (sd_pmimg_read() lets such a stream size through: it only checks that
	 * it is page aligned).
	 */
	r = sd_pagestore_reader_open(ctx, &dir, frames, 0, PAGESTORE_FRAME_SIZE,
				  UINT64_MAX - (PS - 1), fsize, &rd);
	if (r >= 0)
		sd_pagestore_reader_release(&rd);
	sdump_ctx_clear_error(ctx);
	free(frames);
	sd_img_dir_abort(ctx, &dir);
	sd_img_dir_release(&dir);
	ASSERT_EQ(r, -EBADMSG);
}

/* A writer dropped half way: abort removes pages.img.tmp and the directory. */
static void test_abort_unfinished(void)
{
	struct img_dir dir = { .dirfd = -1 };
	struct pagestore_writer *w = NULL;
	char p[512];

	path_of(p, sizeof(p), "x/unfinished");
	ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
	ASSERT_OK(sd_pagestore_writer_new(ctx, &dir, 2, 1, &w));
	for (int i = 0; i < 300; i++) {
		uint8_t *buf;
		size_t room;
		uint64_t off;

		ASSERT_OK(sd_pagestore_reserve(w, &buf, &room, &off));
		ASSERT_EQ(off, (uint64_t)i * PS);
		memcpy(buf, data + off, PS);
		ASSERT_OK(sd_pagestore_commit(w, PS));
	}
	/* beyond the reservation */
	{
		uint8_t *buf;
		size_t room;
		uint64_t off;

		ASSERT_OK(sd_pagestore_reserve(w, &buf, &room, &off));
		ASSERT_EQ(sd_pagestore_commit(w, room + 1), -EINVAL);
		sdump_ctx_clear_error(ctx);
	}
	sd_pagestore_writer_free(w);
	ASSERT_TRUE(exists("x/unfinished/pages.img.tmp"));
	ASSERT_TRUE(!exists("x/unfinished/pages.img"));
	sd_img_dir_abort(ctx, &dir);
	sd_img_dir_release(&dir);
	ASSERT_TRUE(!exists("x/unfinished"));
	ASSERT_TRUE(exists("x"));
	/* NULL is fine */
	sd_pagestore_writer_free(NULL);
}

/*
 * Frames finish out of order (a slow one, then one of zeros, many threads):
 * pages.img must still hold them in stream order.
 */
static void test_writer_order(void)
{
	const uint64_t len = 8 * FRAME + 3 * PS;
	struct img_dir dir = { .dirfd = -1 };
	struct pagestore_writer *w = NULL;
	struct pagestore_reader rd = { .fd = -1 };
	struct pagestore_frame *frames = NULL;
	size_t nframes = 0;
	uint64_t stream = 0, fsize = 0, pos = 0;
	uint8_t *src = malloc(len), *back = malloc(len);
	char p[512];

	ASSERT_TRUE(src && back);
	for (uint64_t f = 0; f * FRAME < len; f++) {
		uint8_t *q = src + f * FRAME;
		uint64_t n = len - f * FRAME < FRAME ? len - f * FRAME : FRAME;

		if (f % 2)
			memset(q, 0, n);
		else
			for (uint64_t i = 0; i < n; i++)	/* text-like: slow to compress */
				q[i] = (uint8_t)('a' + rnd() % 16);
	}
	path_of(p, sizeof(p), "order");
	ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
	ASSERT_OK(sd_pagestore_writer_new(ctx, &dir, 4, 9, &w));
	while (pos < len) {
		uint8_t *buf;
		size_t room;
		uint64_t off;

		ASSERT_OK(sd_pagestore_reserve(w, &buf, &room, &off));
		ASSERT_EQ(off, pos);
		if (room > len - pos)
			room = (size_t)(len - pos);
		memcpy(buf, src + pos, room);
		ASSERT_OK(sd_pagestore_commit(w, room));
		pos += room;
	}
	ASSERT_OK(sd_pagestore_writer_finish(w, &frames, &nframes, &stream, &fsize));
	sd_pagestore_writer_free(w);
	ASSERT_EQ(nframes, 9);
	ASSERT_EQ(stream, len);
	/* the zero frames are the small ones, at odd places */
	for (size_t i = 0; i + 1 < nframes; i++)
		ASSERT_TRUE(i % 2 ? frames[i].csize < 1000 : frames[i].csize > 100000);
	ASSERT_OK(sd_pagestore_reader_open(ctx, &dir, frames, nframes, PAGESTORE_FRAME_SIZE, stream,
					fsize, &rd));
	ASSERT_OK(sd_pagestore_read(ctx, &rd, 0, back, (size_t)len));
	ASSERT_MEMEQ(back, src, (size_t)len);
	sd_pagestore_reader_release(&rd);
	sd_img_dir_abort(ctx, &dir);
	sd_img_dir_release(&dir);
	free(frames);
	free(src);
	free(back);
}

int main(void)
{
	int ret;

	if (unit_tmp_make() < 0)
		return 1;
	if (sdump_ctx_new(&ctx) < 0)
		return 1;
	make_data();
	RUN(test_round_trip);
	RUN(test_writer_order);
	RUN(test_prefetch);
	RUN(test_decoder);
	RUN(test_raw_frames);
	RUN(test_empty_stream);
	RUN(test_reader_stream_overflow);
	RUN(test_abort_unfinished);
	ret = unit_summary();
	sdump_ctx_free(ctx);
	free(data);
	unit_tmp_remove();
	return ret;
}
