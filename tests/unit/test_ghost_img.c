/* SPDX-License-Identifier: MIT */
/*
 * Saved file contents (ghost_img.c) through real files in a temporary
 * directory: sparse files saved and copied back with their holes, a file
 * saved once, the limit, random reads, and damaged or forged indexes and
 * frames refused. No /proc, no root.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#include "ghost.pb-c.h"
#include "ghost_img.h"
#include "image.h"
#include "img_files.h"
#include "unit_files.h"

#define MIB (1024u * 1024)

static struct sdump_ctx *ctx;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Fill [off, off + len) of @fd with random bytes. */
static int put_random(int fd, uint64_t off, size_t len)
{
	uint8_t *b = malloc(len);
	int r = 0;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(rnd() >> 24);
	if (pwrite(fd, b, len, (off_t)off) != (ssize_t)len)
		r = -EIO;
	free(b);
	return r;
}

/*
 * A sparse file: a page at 0, 3 MiB at 1 MiB (across frames), 5000 bytes
 * ending at an odd size, holes between. Returns its fd, open for reading.
 */
static int make_sparse(const char *rel, uint64_t *ret_size)
{
	char p[512];
	uint64_t size = 9 * MIB + 5000;
	int fd;

	path_of(p, sizeof(p), rel);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 || put_random(fd, 0, 4096) < 0 ||
	    put_random(fd, MIB, 3 * MIB) < 0 || put_random(fd, 9 * MIB, 5000) < 0)
		return -1;
	*ret_size = size;
	return fd;
}

static bool same_bytes(int a, int b, uint64_t size)
{
	static uint8_t x[65536], y[65536];

	for (uint64_t off = 0; off < size; off += sizeof(x)) {
		size_t n = (size_t)(size - off < sizeof(x) ? size - off : sizeof(x));

		if (pread(a, x, n, (off_t)off) != (ssize_t)n || pread(b, y, n, (off_t)off) != (ssize_t)n ||
		    memcmp(x, y, n))
			return false;
	}
	return true;
}

static void meta_of(int fd, const char *path, struct ghost_file *m)
{
	struct stat st;

	memset(m, 0, sizeof(*m));
	if (fstat(fd, &st) < 0)
		abort();
	m->path = (char *)path;
	m->size = (uint64_t)st.st_size;
	m->mode = st.st_mode;
	m->uid = st.st_uid;
	m->gid = st.st_gid;
	m->dev_major = 8;
	m->dev_minor = 1;
	m->ino = st.st_ino;
}

/* Save @n files of make_sparse() into the new image directory @rel; ids in @ids. */
static void save_files(const char *rel, struct img_dir *dir, int n, uint32_t *ids, int *fds)
{
	struct ghost_writer *w = NULL;
	char p[512];
	uint64_t size, written = 0;

	path_of(p, sizeof(p), rel);
	ASSERT_OK(sd_img_dir_create(ctx, p, dir));
	ASSERT_OK(sd_ghost_writer_new(ctx, dir, 2, 1, &w));
	for (int i = 0; i < n; i++) {
		struct ghost_file m;
		char name[64];

		snprintf(name, sizeof(name), "%s.src%d", rel, i);
		fds[i] = make_sparse(name, &size);
		ASSERT_TRUE(fds[i] >= 0);
		meta_of(fds[i], name, &m);
		m.ino += (uint64_t)i; /* tell them apart even if the test reuses an inode */
		ASSERT_EQ(sd_ghost_writer_find(w, 8, 1, m.ino), 0);
		ASSERT_OK(sd_ghost_writer_add(w, fds[i], &m, UINT64_MAX, &ids[i]));
		ASSERT_EQ(ids[i], (uint32_t)i + 1);
		ASSERT_EQ(sd_ghost_writer_find(w, 8, 1, m.ino), ids[i]);
	}
	ASSERT_OK(sd_ghost_writer_finish(w, &written));
	ASSERT_TRUE(written > 0);
	sd_ghost_writer_free(w);
}

static void test_round_trip(void)
{
	struct img_dir dir = { .dirfd = -1 };
	struct ghost_set s;
	uint32_t ids[2];
	int fds[2] = { -1, -1 }, out = -1;

	save_files("rt", &dir, 2, ids, fds);
	ASSERT_OK(sd_ghost_set_read(ctx, &dir, &s));
	ASSERT_TRUE(s.present);
	ASSERT_EQ(s.n, 2);
	ASSERT_OK(sd_ghost_set_verify(ctx, &s));
	for (int i = 0; i < 2; i++) {
		const struct ghost_file *f = sd_ghost_set_find(&s, ids[i]);
		struct stat a, b;

		ASSERT_TRUE(f != NULL);
		ASSERT_EQ(f->next, 3);
		ASSERT_EQ(f->data_bytes, 4096 + 3 * MIB + 5000);
		out = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		ASSERT_TRUE(out >= 0);
		ASSERT_OK(sd_ghost_copy_to_fd(ctx, &s, f, out, "the copy"));
		ASSERT_OK(fstat(fds[i], &a));
		ASSERT_OK(fstat(out, &b));
		ASSERT_EQ(a.st_size, b.st_size);
		ASSERT_TRUE(same_bytes(fds[i], out, (uint64_t)a.st_size));
		/* holes where the original had holes */
		ASSERT_EQ(lseek(out, 4096, SEEK_DATA), MIB);
		ASSERT_EQ(lseek(out, 0, SEEK_HOLE), 4096);
		ASSERT_EQ(lseek(out, MIB, SEEK_HOLE), 4 * MIB);
		ASSERT_TRUE(b.st_blocks <= a.st_blocks);
		close(out);
	}
	ASSERT_TRUE(sd_ghost_set_find(&s, 0) == NULL);
	ASSERT_TRUE(sd_ghost_set_find(&s, 3) == NULL);
	sd_ghost_set_release(&s);
	close(fds[0]);
	close(fds[1]);
	sd_img_dir_release(&dir);
}

/* Random ranges read through sd_ghost_read_at() equal the file's bytes (zeros in holes, past the end). */
static void test_read_at(void)
{
	struct img_dir dir = { .dirfd = -1 };
	struct ghost_set s;
	static uint8_t want[3 * 65536], got[3 * 65536];
	uint32_t id;
	int fd = -1;

	save_files("ra", &dir, 1, &id, &fd);
	ASSERT_OK(sd_ghost_set_read(ctx, &dir, &s));
	for (int i = 0; i < 400; i++) {
		const struct ghost_file *f = sd_ghost_set_find(&s, id);
		uint64_t off = rnd() % (f->size + 8192);
		size_t len = (size_t)(rnd() % sizeof(got)) + 1;
		ssize_t n;

		memset(want, 0, sizeof(want));
		n = pread(fd, want, len, (off_t)off);
		ASSERT_TRUE(n >= 0);
		ASSERT_OK(sd_ghost_read_at(ctx, &s, f, off, got, len));
		ASSERT_TRUE(memcmp(want, got, len) == 0);
	}
	sd_ghost_set_release(&s);
	close(fd);
	sd_img_dir_release(&dir);
}

static void test_extents_and_limit(void)
{
	struct ghost_extent *ext = NULL;
	size_t n = 0;
	uint64_t size, data = 0;
	int fd = make_sparse("lim", &size);

	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(sd_ghost_extents(fd, size, UINT64_MAX, &ext, &n, &data));
	ASSERT_EQ(n, 3);
	ASSERT_EQ(ext[0].off, 0);
	ASSERT_EQ(ext[0].len, 4096);
	ASSERT_EQ(ext[1].off, MIB);
	ASSERT_EQ(ext[1].len, 3 * MIB);
	ASSERT_EQ(ext[2].off, 9 * MIB);
	ASSERT_EQ(ext[2].len, 5000);
	ASSERT_EQ(data, 4096 + 3 * MIB + 5000);
	free(ext);
	/* exactly at the limit: fine; a byte less: refused, with what was counted */
	ASSERT_OK(sd_ghost_extents(fd, size, data, &ext, &n, &data));
	free(ext);
	ext = NULL;
	ASSERT_EQ(sd_ghost_extents(fd, size, data - 1, &ext, &n, &data), -EFBIG);
	ASSERT_TRUE(ext == NULL);
	ASSERT_TRUE(data > 4096 + 3 * MIB);
	/* only a hole */
	ASSERT_OK(ftruncate(fd, 0));
	ASSERT_OK(ftruncate(fd, 5 * MIB));
	ASSERT_OK(sd_ghost_extents(fd, 5 * MIB, 0, &ext, &n, &data));
	ASSERT_EQ(n, 0);
	ASSERT_EQ(data, 0);
	free(ext);
	close(fd);
}

/* No ghosts.img: an empty set, and nothing to find. */
static void test_absent(void)
{
	struct img_dir dir = { .dirfd = -1 };
	struct ghost_set s;
	char p[512];

	path_of(p, sizeof(p), "none");
	ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
	ASSERT_OK(sd_ghost_set_read(ctx, &dir, &s));
	ASSERT_TRUE(!s.present);
	ASSERT_EQ(s.n, 0);
	ASSERT_TRUE(sd_ghost_set_find(&s, 1) == NULL);
	ASSERT_OK(sd_ghost_set_verify(ctx, &s));
	sd_ghost_set_release(&s);
	sd_img_dir_release(&dir);
}

/* A damaged frame of ghost-data.img: verify and the copy refuse it. */
static void test_damaged_frame(void)
{
	struct img_dir dir = { .dirfd = -1 };
	struct ghost_set s;
	char p[512];
	uint8_t b;
	uint32_t id;
	int fd = -1, df, out;

	save_files("dmg", &dir, 1, &id, &fd);
	path_of(p, sizeof(p), "dmg/ghost-data.img");
	df = open(p, O_RDWR);
	ASSERT_TRUE(df >= 0);
	ASSERT_EQ(pread(df, &b, 1, 100), 1);
	b ^= 1;
	ASSERT_EQ(pwrite(df, &b, 1, 100), 1);
	close(df);
	ASSERT_OK(sd_ghost_set_read(ctx, &dir, &s));
	ASSERT_EQ(sd_ghost_set_verify(ctx, &s), -EBADMSG);
	sdump_ctx_clear_error(ctx);
	out = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	ASSERT_TRUE(out >= 0);
	ASSERT_EQ(sd_ghost_copy_to_fd(ctx, &s, sd_ghost_set_find(&s, id), out, "the copy"), -EBADMSG);
	sdump_ctx_clear_error(ctx);
	close(out);
	sd_ghost_set_release(&s);
	close(fd);
	sd_img_dir_release(&dir);
}

/* Write ghosts.img of one head and @nfiles files as given, in a new directory. */
static int forge(const char *rel, struct img_dir *dir, GhostHead *h, GhostFile **files,
		 size_t nfiles)
{
	struct img_rec_writer w = { 0 };
	char p[512];
	int r;

	path_of(p, sizeof(p), rel);
	r = sd_img_dir_create(ctx, p, dir);
	if (r == 0)
		r = sd_img_rec_add(&w, &h->base);
	for (size_t i = 0; r == 0 && i < nfiles; i++)
		r = sd_img_rec_add(&w, &files[i]->base);
	if (r == 0)
		r = sd_imgfile_rec_commit(ctx, dir, IMGF_GHOSTS, &w, NULL);
	sd_img_rec_writer_release(&w);
	return r;
}

/* Forged indexes with valid checksums: each refused as corrupt. */
static void test_forged(void)
{
	static const struct {
		uint32_t id;
		uint64_t size, stream_off, off, len, stream;
	} bad[] = {
		{ 2, 8192, 0, 0, 4096, 4096 },		/* ids must start at 1 */
		{ 1, 8192, 0, 8000, 4096, 4096 },	/* extent past the end */
		{ 1, 8192, 0, 0, 0, 0 },		/* empty extent */
		{ 1, 8192, 100, 0, 4096, 4196 },	/* data not where it should start */
		{ 1, 8192, 0, 0, 4096, 8192 },		/* stream longer than the data */
		{ 1, 1ull << 63, 0, 0, 4096, 4096 },	/* too large a file */
		{ 1, UINT64_MAX, 0, UINT64_MAX - 10, 4096, 4096 }, /* wrapping */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		GhostHead h = GHOST_HEAD__INIT;
		GhostFile f = GHOST_FILE__INIT, *fp = &f;
		GhostExtent e = GHOST_EXTENT__INIT, *ep = &e;
		GhostFrame fr = GHOST_FRAME__INIT, *frp = &fr;
		struct img_dir dir = { .dirfd = -1 };
		struct ghost_set s;
		char rel[32];

		h.frame_size = MIB;
		h.stream_bytes = bad[i].stream;
		h.n_frames = bad[i].stream ? 1 : 0;
		h.frames = &frp;
		f.id = bad[i].id;
		f.path = (char *)"/x (deleted)";
		f.size = bad[i].size;
		f.stream_off = bad[i].stream_off;
		e.off = bad[i].off;
		e.len = bad[i].len;
		f.n_extents = 1;
		f.extents = &ep;
		snprintf(rel, sizeof(rel), "forged%zu", i);
		ASSERT_OK(forge(rel, &dir, &h, &fp, 1));
		ASSERT_EQ(sd_ghost_set_read(ctx, &dir, &s), -EBADMSG);
		ASSERT_TRUE(sdump_ctx_last_error(ctx) != NULL);
		sdump_ctx_clear_error(ctx);
		sd_img_dir_release(&dir);
	}
}

/*
 * Files whose data add up past 2^64: the stream's length wraps back to the
 * head's, and the last file's extents would read the first file's bytes.
 * Refused as corrupt: a file's data ends within the stream.
 */
static void test_forged_wrap(void)
{
	const uint64_t big = INT64_MAX;
	const struct {
		uint64_t size, stream_off, len;
	} fs[] = {
		{ big, 0, big },
		{ big, big, big },
		{ 8192, 2 * big, 4098 }, /* 2^64 - 2 + 4098: 4096 */
	};
	GhostHead h = GHOST_HEAD__INIT;
	GhostFrame fr = GHOST_FRAME__INIT, *frp = &fr;
	GhostFile f[3], *fp[3];
	GhostExtent e[3], *ep[3];
	struct img_dir dir = { .dirfd = -1 };
	struct ghost_set s;

	h.frame_size = MIB;
	h.stream_bytes = 4096;
	h.n_frames = 1;
	h.frames = &frp;
	for (size_t i = 0; i < 3; i++) {
		ghost_file__init(&f[i]);
		ghost_extent__init(&e[i]);
		f[i].id = (uint32_t)i + 1;
		f[i].path = (char *)"/x (deleted)";
		f[i].size = fs[i].size;
		f[i].stream_off = fs[i].stream_off;
		e[i].off = 0;
		e[i].len = fs[i].len;
		ep[i] = &e[i];
		f[i].n_extents = 1;
		f[i].extents = &ep[i];
		fp[i] = &f[i];
	}
	ASSERT_OK(forge("forged-wrap", &dir, &h, fp, 3));
	ASSERT_EQ(sd_ghost_set_read(ctx, &dir, &s), -EBADMSG);
	ASSERT_TRUE(sdump_ctx_last_error(ctx) != NULL);
	sdump_ctx_clear_error(ctx);
	sd_img_dir_release(&dir);
}

int main(void)
{
	int ret;

	if (unit_tmp_make() < 0)
		return 1;
	if (sdump_ctx_new(&ctx) < 0)
		return 1;
	RUN(test_extents_and_limit);
	RUN(test_round_trip);
	RUN(test_read_at);
	RUN(test_absent);
	RUN(test_damaged_frame);
	RUN(test_forged);
	RUN(test_forged_wrap);
	ret = unit_summary();
	sdump_ctx_free(ctx);
	unit_tmp_remove();
	return ret;
}
