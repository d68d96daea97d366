/* SPDX-License-Identifier: MIT */
/* CRC-32C, image headers, record files: round trips, corrupt and truncated input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "files.pb-c.h"
#include "image.h"
#include "pagemap.pb-c.h"
#include "pstate.h"
#include "unit.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* Bit by bit, from the definition: reflected polynomial 0x82F63B78. */
static uint32_t ref_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static void test_crc32c_vectors(void)
{
	uint8_t b[32];

	ASSERT_EQ(sd_crc32c(0, "123456789", 9), 0xE3069283u);
	ASSERT_EQ(sd_crc32c(0, "", 0), 0);
	ASSERT_EQ(sd_crc32c(0xE3069283u, "", 0), 0xE3069283u);
	/* RFC 3720 B.4 */
	memset(b, 0, sizeof(b));
	ASSERT_EQ(sd_crc32c(0, b, sizeof(b)), 0x8A9136AAu);
	memset(b, 0xff, sizeof(b));
	ASSERT_EQ(sd_crc32c(0, b, sizeof(b)), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	ASSERT_EQ(sd_crc32c(0, b, sizeof(b)), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	ASSERT_EQ(sd_crc32c(0, b, sizeof(b)), 0x113FDB5Cu);
}

/* Both implementations, whichever sd_crc32c() chose, agree with the definition. */
static void test_crc32c_implementations(void)
{
	enum { N = 40999 }; /* past three lanes of 4 KiB: the instruction's 3-lane path */
	uint8_t *buf = malloc(N);

	ASSERT_TRUE(buf != NULL);
	fill_random(buf, N);
	ASSERT_EQ(sd_crc32c_table(0, "123456789", 9), 0xE3069283u);
	ASSERT_EQ(sd_crc32c_instruction(0, "123456789", 9), 0xE3069283u);
	for (int i = 0; i < 200 && !unit_cur_failed; i++) {
		size_t off = rnd() % 16, len = rnd() % (N - off);
		uint32_t seed = (uint32_t)rnd(), want = ref_crc32c(seed, buf + off, len);

		ASSERT_EQ(sd_crc32c_table(seed, buf + off, len), want);
		ASSERT_EQ(sd_crc32c_instruction(seed, buf + off, len), want);
		ASSERT_EQ(sd_crc32c(seed, buf + off, len), want);
	}
	free(buf);
}

static void test_crc32c_incremental(void)
{
	enum { N = 1031 };
	uint8_t *buf = malloc(N + 8);
	uint32_t whole;

	ASSERT_TRUE(buf != NULL);
	fill_random(buf, N + 8);
	whole = sd_crc32c(0, buf, N);
	ASSERT_EQ(whole, ref_crc32c(0, buf, N));
	/* split anywhere, in two or three pieces */
	for (size_t cut = 0; cut <= N; cut++) {
		uint32_t c = sd_crc32c(sd_crc32c(0, buf, cut), buf + cut, N - cut);

		if (c != whole)
			fprintf(stderr, "  cut at %zu\n", cut);
		ASSERT_EQ(c, whole);
	}
	for (size_t a = 0; a < 20; a++)
		for (size_t b = a; b < 40; b++)
			ASSERT_EQ(sd_crc32c(sd_crc32c(sd_crc32c(0, buf, a), buf + a, b - a), buf + b, N - b),
				  whole);
	/* every length and misalignment against the reference */
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len < 80; len++)
			ASSERT_EQ(sd_crc32c(0, buf + off, len), ref_crc32c(0, buf + off, len));
	/* and a change of one bit changes it */
	buf[500] ^= 4;
	ASSERT_TRUE(sd_crc32c(0, buf, N) != whole);
	free(buf);
}

static void test_header(void)
{
	static const enum img_type types[] = { IMG_INVENTORY, IMG_MM, IMG_PAGEMAP, IMG_PAGES,
					       IMG_STATS };
	uint8_t hdr[IMG_HEADER_SIZE], bad[IMG_HEADER_SIZE];

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		sd_img_header_fill(hdr, types[t]);
		ASSERT_MEMEQ(hdr, IMG_MAGIC, 8);
		ASSERT_EQ(hdr[8] | hdr[9] << 8, SDUMP_IMAGE_VERSION);
		ASSERT_EQ(hdr[10] | hdr[11] << 8, types[t]);
		ASSERT_OK(sd_img_header_check(hdr, types[t]));
		for (size_t o = 0; o < sizeof(types) / sizeof(types[0]); o++)
			if (o != t)
				ASSERT_EQ(sd_img_header_check(hdr, types[o]), -EBADMSG);
	}
	sd_img_header_fill(hdr, IMG_MM);
	/* every single bit flipped */
	for (size_t i = 0; i < IMG_HEADER_SIZE * 8; i++) {
		memcpy(bad, hdr, sizeof(hdr));
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (sd_img_header_check(bad, IMG_MM) >= 0)
			fprintf(stderr, "  bit %zu flipped\n", i);
		ASSERT_TRUE(sd_img_header_check(bad, IMG_MM) < 0);
	}
	/* a wrong magic with a right checksum */
	memcpy(bad, hdr, sizeof(hdr));
	memcpy(bad, "SDUMPIMX", 8);
	bad[12] = (uint8_t)sd_crc32c(0, bad, 12);
	bad[13] = (uint8_t)(sd_crc32c(0, bad, 12) >> 8);
	bad[14] = (uint8_t)(sd_crc32c(0, bad, 12) >> 16);
	bad[15] = (uint8_t)(sd_crc32c(0, bad, 12) >> 24);
	ASSERT_EQ(sd_img_header_check(bad, IMG_MM), -EBADMSG);
	/* a future version with a right checksum */
	memcpy(bad, hdr, sizeof(hdr));
	bad[8] = SDUMP_IMAGE_VERSION + 1;
	bad[12] = (uint8_t)sd_crc32c(0, bad, 12);
	bad[13] = (uint8_t)(sd_crc32c(0, bad, 12) >> 8);
	bad[14] = (uint8_t)(sd_crc32c(0, bad, 12) >> 16);
	bad[15] = (uint8_t)(sd_crc32c(0, bad, 12) >> 24);
	ASSERT_EQ(sd_img_header_check(bad, IMG_MM), -EPROTONOSUPPORT);
	memset(bad, 0, sizeof(bad));
	ASSERT_EQ(sd_img_header_check(bad, IMG_MM), -EBADMSG);
}

/* Encode @len bytes, decode them back, compare. */
static void round_trip(const uint8_t *recs, size_t len)
{
	uint8_t *file = NULL, *out = NULL;
	size_t flen = 0, olen = 12345;

	ASSERT_OK(sd_img_rec_encode(IMG_MM, recs, len, &file, &flen));
	ASSERT_TRUE(flen >= IMG_HEADER_SIZE + IMG_TRAILER_SIZE);
	ASSERT_OK(sd_img_header_check(file, IMG_MM));
	ASSERT_OK(sd_img_rec_decode(IMG_MM, file, flen, &out, &olen));
	ASSERT_EQ(olen, len);
	ASSERT_MEMEQ(out, recs, len);
	free(out);
	out = NULL;
	/* the type is part of the file */
	ASSERT_EQ(sd_img_rec_decode(IMG_STATS, file, flen, &out, &olen), -EBADMSG);
	ASSERT_TRUE(out == NULL);
	free(file);
}

static void test_rec_round_trip(void)
{
	static const size_t sizes[] = { 0, 1, 3, 4, 17, 300, 4096, 100000 };
	uint8_t *buf = malloc(1 << 20);

	ASSERT_TRUE(buf != NULL);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_random(buf, sizes[i]);
		round_trip(buf, sizes[i]);
		if (unit_cur_failed) {
			fprintf(stderr, "  size %zu\n", sizes[i]);
			break;
		}
	}
	/* compressible: 1 MiB of a repeated pattern */
	for (size_t i = 0; i < (1 << 20); i++)
		buf[i] = (uint8_t)(i % 251 < 20 ? i : 0);
	if (!unit_cur_failed)
		round_trip(buf, 1 << 20);
	free(buf);
}

/* An encoded record file of some random records. */
static void make_file(uint8_t **ret_file, size_t *ret_len, uint8_t *recs, size_t nrecs)
{
	fill_random(recs, nrecs);
	/* some runs, so that zstd has something to compress */
	memset(recs + nrecs / 3, 'A', nrecs / 4);
	ASSERT_OK(sd_img_rec_encode(IMG_PAGEMAP, recs, nrecs, ret_file, ret_len));
}

static void expect_decode_fails(const uint8_t *file, size_t len, const char *what, size_t i)
{
	uint8_t *out = (uint8_t *)"untouched";
	size_t olen = 777;
	int r = sd_img_rec_decode(IMG_PAGEMAP, file, len, &out, &olen);

	if (r >= 0) {
		fprintf(stderr, "  %s %zu: decoded\n", what, i);
		free(out);
	}
	ASSERT_TRUE(r < 0);
	ASSERT_STREQ((char *)out, "untouched");
	ASSERT_EQ(olen, 777);
}

static void test_rec_every_byte_flipped(void)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff, 0x10 };
	uint8_t recs[600], *file = NULL, *copy;
	size_t len = 0;

	make_file(&file, &len, recs, sizeof(recs));
	ASSERT_TRUE(file != NULL);
	copy = malloc(len);
	ASSERT_TRUE(copy != NULL);
	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			memcpy(copy, file, len);
			copy[i] ^= masks[m];
			expect_decode_fails(copy, len, "byte flipped", i);
			if (unit_cur_failed)
				goto out;
		}
	}
	/* the copy itself still decodes */
	memcpy(copy, file, len);
	{
		uint8_t *out = NULL;
		size_t olen = 0;

		ASSERT_OK(sd_img_rec_decode(IMG_PAGEMAP, copy, len, &out, &olen));
		ASSERT_EQ(olen, sizeof(recs));
		free(out);
	}
out:
	free(copy);
	free(file);
}

static void test_rec_truncated(void)
{
	uint8_t recs[600], *file = NULL, *copy;
	size_t len = 0;

	make_file(&file, &len, recs, sizeof(recs));
	ASSERT_TRUE(file != NULL);
	for (size_t l = 0; l < len; l++) {
		/* an exact-size copy, so that ASan sees any read past the end */
		copy = malloc(l ? l : 1);
		ASSERT_TRUE(copy != NULL);
		memcpy(copy, file, l);
		expect_decode_fails(copy, l, "truncated to", l);
		free(copy);
		if (unit_cur_failed)
			break;
	}
	free(file);
}

static void test_rec_appended(void)
{
	uint8_t recs[600], *file = NULL, *big;
	size_t len = 0;

	make_file(&file, &len, recs, sizeof(recs));
	ASSERT_TRUE(file != NULL);
	big = malloc(2 * len + 1);
	ASSERT_TRUE(big != NULL);
	memcpy(big, file, len);
	/* one byte, or many, of garbage */
	big[len] = 0;
	expect_decode_fails(big, len + 1, "appended", 1);
	fill_random(big + len, len);
	for (size_t n = 1; n <= 40 && !unit_cur_failed; n++)
		expect_decode_fails(big, len + n, "appended", n);
	/* the trailer once more */
	memcpy(big + len, file + len - IMG_TRAILER_SIZE, IMG_TRAILER_SIZE);
	expect_decode_fails(big, len + IMG_TRAILER_SIZE, "trailer repeated", 0);
	/* the whole file twice */
	memcpy(big + len, file, len);
	expect_decode_fails(big, 2 * len, "file repeated", 0);
	/* garbage in front */
	memmove(big + 1, file, len);
	big[0] = 'x';
	expect_decode_fails(big, len + 1, "prepended", 1);
	free(big);
	free(file);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Damage that keeps the checksums right (a checksum is no signature): a
 * zstd skippable frame after the one frame, with the trailer rewritten to
 * match. A record file holds exactly one frame.
 */
static void test_rec_extra_frame(void)
{
	uint8_t recs[600], *file = NULL, *big;
	size_t len = 0, zlen, blen;

	make_file(&file, &len, recs, sizeof(recs));
	ASSERT_TRUE(file != NULL);
	zlen = len - IMG_HEADER_SIZE - IMG_TRAILER_SIZE;
	blen = len + 12;
	big = malloc(blen);
	ASSERT_TRUE(big != NULL);
	memcpy(big, file, IMG_HEADER_SIZE + zlen);
	/* skippable frame: magic 0x184D2A50, u32 size, 4 bytes */
	put32(big + IMG_HEADER_SIZE + zlen, 0x184D2A50u);
	put32(big + IMG_HEADER_SIZE + zlen + 4, 4);
	memcpy(big + IMG_HEADER_SIZE + zlen + 8, "junk", 4);
	zlen += 12;
	put32(big + IMG_HEADER_SIZE + zlen, (uint32_t)zlen);
	put32(big + IMG_HEADER_SIZE + zlen + 4, 0);
	put32(big + IMG_HEADER_SIZE + zlen + 8, sd_crc32c(0, big, IMG_HEADER_SIZE + zlen + 8));
	put32(big + IMG_HEADER_SIZE + zlen + 12, IMG_TRAILER_MAGIC);
	expect_decode_fails(big, blen, "skippable frame", 0);
	/* the same rewriting without the extra frame decodes: the test is sound */
	memcpy(big, file, len);
	put32(big + len - 8, sd_crc32c(0, big, len - 8));
	{
		uint8_t *out = NULL;
		size_t olen = 0;

		ASSERT_OK(sd_img_rec_decode(IMG_PAGEMAP, big, len, &out, &olen));
		ASSERT_EQ(olen, sizeof(recs));
		free(out);
	}
	free(big);
	free(file);
}

/* Real protobuf messages through a writer, the codec and a reader. */
static void test_rec_protobuf(void)
{
	struct img_rec_writer w = { 0 };
	struct img_rec_reader rd = { 0 };
	PagemapHead head = PAGEMAP_HEAD__INIT;
	PagesFrame fr[3], *frp[3];
	uint8_t *file = NULL;
	size_t flen = 0;
	ProtobufCMessage *m = NULL;
	const size_t n = 200;

	for (size_t i = 0; i < 3; i++) {
		pages_frame__init(&fr[i]);
		fr[i].csize = (uint32_t)(1000 + i);
		fr[i].crc32c = (uint32_t)(0xdeadbeef - i);
		frp[i] = &fr[i];
	}
	head.page_size = 4096;
	head.frame_size = 1 << 20;
	head.stream_bytes = 3 << 20;
	head.pages_file_size = 123456789012ull;
	head.n_frames = 3;
	head.frames = frp;
	ASSERT_OK(sd_img_rec_add(&w, &head.base));
	for (size_t i = 0; i < n; i++) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		pe.vaddr = 0x7f0000000000ull + i * 0x10000;
		pe.nr_pages = i + 1;
		pe.kind = (PagesKind)(i % 3 + 1);
		if (pe.kind == PAGES_KIND__PAGES_DATA) {
			pe.has_off = true;
			pe.off = i * 4096 * 7;
		}
		ASSERT_OK(sd_img_rec_add(&w, &pe.base));
	}
	ASSERT_TRUE(w.len > n * 4);
	ASSERT_OK(sd_img_rec_encode(IMG_PAGEMAP, w.buf, w.len, &file, &flen));
	sd_img_rec_writer_release(&w);
	ASSERT_TRUE(w.buf == NULL);
	ASSERT_EQ(w.len, 0);
	ASSERT_OK(sd_img_rec_decode(IMG_PAGEMAP, file, flen, &rd.buf, &rd.len));
	free(file);
	rd.pos = 0;

	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_head__descriptor, &m), 1);
	{
		PagemapHead *h = (PagemapHead *)m;

		ASSERT_EQ(h->page_size, 4096);
		ASSERT_EQ(h->frame_size, 1 << 20);
		ASSERT_EQ(h->stream_bytes, 3 << 20);
		ASSERT_EQ(h->pages_file_size, 123456789012ull);
		ASSERT_EQ(h->n_frames, 3);
		for (size_t i = 0; i < 3; i++) {
			ASSERT_EQ(h->frames[i]->csize, 1000 + i);
			ASSERT_EQ(h->frames[i]->crc32c, 0xdeadbeef - i);
		}
		protobuf_c_message_free_unpacked(m, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		PagemapEntry *pe;

		m = NULL;
		ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), 1);
		pe = (PagemapEntry *)m;
		ASSERT_EQ(pe->vaddr, 0x7f0000000000ull + i * 0x10000);
		ASSERT_EQ(pe->nr_pages, i + 1);
		ASSERT_EQ(pe->kind, i % 3 + 1);
		ASSERT_EQ(pe->has_off, pe->kind == PAGES_KIND__PAGES_DATA);
		if (pe->has_off)
			ASSERT_EQ(pe->off, i * 4096 * 7);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	ASSERT_EQ(rd.pos, rd.len);
	/* the end, again and again */
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), 0);
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), 0);
	sd_img_rec_reader_release(&rd);
	ASSERT_TRUE(rd.buf == NULL);
}

/* A reader over a malloc'd copy of @data. */
static void reader_over(struct img_rec_reader *rd, const void *data, size_t len)
{
	rd->buf = malloc(len ? len : 1);
	ASSERT_TRUE(rd->buf != NULL);
	memcpy(rd->buf, data, len);
	rd->len = len;
	rd->pos = 0;
}

static void test_rec_next_bad(void)
{
	struct img_rec_writer w = { 0 };
	struct img_rec_reader rd = { 0 };
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	ProtobufCMessage *m = NULL;
	uint8_t buf[256];
	size_t one;

	pe.vaddr = 0x1000;
	pe.nr_pages = 1;
	pe.kind = PAGES_KIND__PAGES_ZERO;
	ASSERT_OK(sd_img_rec_add(&w, &pe.base));
	one = w.len;
	ASSERT_TRUE(one + 8 < sizeof(buf));
	memcpy(buf, w.buf, one);
	sd_img_rec_writer_release(&w);

	/* a valid record, then a length prefix one byte past the end */
	memcpy(buf + one, "\x03\x00\x00\x00\x08\x01", 6);
	reader_over(&rd, buf, one + 6);
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), 1);
	protobuf_c_message_free_unpacked(m, NULL);
	m = NULL;
	ASSERT_EQ(rd.pos, one);
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), -EBADMSG);
	ASSERT_TRUE(m == NULL);
	ASSERT_EQ(rd.pos, one);
	sd_img_rec_reader_release(&rd);

	/* a huge length prefix */
	reader_over(&rd, "\xff\xff\xff\xff\x08\x01", 6);
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), -EBADMSG);
	sd_img_rec_reader_release(&rd);
	reader_over(&rd, "\xfc\xff\xff\xff", 4);
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), -EBADMSG);
	sd_img_rec_reader_release(&rd);

	/* fewer than 4 bytes of length */
	for (size_t l = 1; l < 4; l++) {
		reader_over(&rd, "\x00\x00\x00", l);
		ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), -EBADMSG);
		sd_img_rec_reader_release(&rd);
	}

	/* the valid record cut short, at every length */
	for (size_t l = 1; l < one; l++) {
		reader_over(&rd, buf, l);
		ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), -EBADMSG);
		ASSERT_TRUE(m == NULL);
		sd_img_rec_reader_release(&rd);
	}

	/* an empty record lacks the required fields */
	reader_over(&rd, "\x00\x00\x00\x00", 4);
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), -EBADMSG);
	sd_img_rec_reader_release(&rd);

	/* protobuf garbage: a field with wire type 7 */
	reader_over(&rd, "\x02\x00\x00\x00\x0f\x01", 6);
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), -EBADMSG);
	sd_img_rec_reader_release(&rd);

	/* nothing at all: the end */
	reader_over(&rd, "", 0);
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), 0);
	sd_img_rec_reader_release(&rd);
}

/*
 * files.img's FdKind and enum fd_kind name the same kinds with the same
 * numbers (state_img.c asserts each number at build time): every FdKind
 * value is a kind of 1 to FDK_MAX, FD_<NAME> the kind sd_fd_kind_name()
 * calls <name>, and every kind with a name is an FdKind value (the numbers
 * between families may be free).
 */
static void test_fd_kinds_match_proto(void)
{
	const ProtobufCEnumDescriptor *d = &fd_kind__descriptor;
	unsigned int named = 0;

	for (unsigned int i = 0; i < d->n_values; i++) {
		char want[16];
		size_t n;

		ASSERT_TRUE(d->values[i].value >= 1 && d->values[i].value <= FDK_MAX);
		n = (size_t)snprintf(want, sizeof(want), "FD_%s",
				     sd_fd_kind_name((enum fd_kind)d->values[i].value));
		for (size_t k = 3; k < n; k++)
			want[k] = (char)(want[k] - 'a' + 'A');
		ASSERT_STREQ(d->values[i].name, want);
	}
	for (int k = 1; k <= FDK_MAX; k++)
		named += strcmp(sd_fd_kind_name((enum fd_kind)k), "?") != 0;
	ASSERT_EQ(named, d->n_values);
	ASSERT_STREQ(sd_fd_kind_name(0), "?");
	ASSERT_STREQ(sd_fd_kind_name((enum fd_kind)(FDK_MAX + 1)), "?");
	ASSERT_STREQ(sd_fd_kind_name((enum fd_kind)-1), "?");
}

int main(void)
{
	RUN(test_crc32c_vectors);
	RUN(test_crc32c_implementations);
	RUN(test_crc32c_incremental);
	RUN(test_header);
	RUN(test_rec_round_trip);
	RUN(test_rec_every_byte_flipped);
	RUN(test_rec_truncated);
	RUN(test_rec_appended);
	RUN(test_rec_extra_frame);
	RUN(test_rec_protobuf);
	RUN(test_rec_next_bad);
	RUN(test_fd_kinds_match_proto);
	return unit_summary();
}
