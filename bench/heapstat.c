/* SPDX-License-Identifier: MIT */
/*
 * What a memory image is made of, and what zstd makes of it: reads a file of
 * pages (bench/heaps/rawdump.py writes a process's non-zero pages), classifies
 * its 64-bit words (zero, small integers < 64 Ki, text = 8 printable or NUL
 * bytes, pointers = 2^40..2^47, other 32-bit values, doubles with an exponent
 * near 1, the rest), counts identical pages, and compresses it with zstd as
 * sdump does (independent 1 MiB frames, level 1) and in other ways. One
 * thread; the MiB/s are only indicative.
 *
 *   heapstat FILE [-q]        (-q: the statistics only)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <zstd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static int printable(uint8_t c) { return c >= 0x20 && c < 0x7f; }
static uint64_t h64(const uint8_t *p) { uint64_t h = 1469598103934665603ull; for (int i = 0; i < 4096; i += 8) { uint64_t v; memcpy(&v, p + i, 8); h = (h ^ v) * 1099511628211ull; h ^= h >> 29; } return h; }
static int cmpu(const void *a, const void *b) { uint64_t x = *(uint64_t *)a, y = *(uint64_t *)b; return x < y ? -1 : x > y; }
static double zratio(const uint8_t *d, size_t len, int level, size_t frame, int wlog, double *mbs) {
	ZSTD_CCtx *c = ZSTD_createCCtx(); size_t cap = ZSTD_compressBound(frame); uint8_t *o = malloc(cap); size_t tot = 0;
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level); ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	if (wlog) { ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1); ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog); }
	double t = now();
	for (size_t off = 0; off < len; off += frame) { size_t n = len - off < frame ? len - off : frame; size_t r = ZSTD_compress2(c, o, cap, d + off, n); if (ZSTD_isError(r)) { puts(ZSTD_getErrorName(r)); exit(1);} tot += r; }
	*mbs = len / 1048576.0 / (now() - t); ZSTD_freeCCtx(c); free(o); return (double)tot / len;
}
int main(int argc, char **argv) {
	int fd = open(argv[1], O_RDONLY); struct stat st; fstat(fd, &st); size_t len = st.st_size & ~4095ul;
	const uint8_t *d = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	size_t nw = len / 8, cz = 0, csmall = 0, cptr = 0, ctext = 0, cint32 = 0, cother = 0, cdbl = 0;
	for (size_t i = 0; i < nw; i++) {
		uint64_t v; memcpy(&v, d + i * 8, 8); const uint8_t *b = d + i * 8;
		if (!v) { cz++; continue; }
		if (v < 65536) { csmall++; continue; }
		int np = 0; for (int k = 0; k < 8; k++) np += printable(b[k]) || b[k] == 0;
		if (np == 8) { ctext++; continue; }
		if (v >= (1ull << 40) && v < (1ull << 47)) { cptr++; continue; }
		if (v < (1ull << 32)) { cint32++; continue; }
		uint64_t e = (v >> 52) & 0x7ff; if (e >= 0x3f0 && e <= 0x420) { cdbl++; continue; }
		cother++;
	}
	size_t np = len / 4096; uint64_t *hs = malloc(np * 8); for (size_t i = 0; i < np; i++) hs[i] = h64(d + i * 4096);
	qsort(hs, np, 8, cmpu); size_t dup = 0; for (size_t i = 1; i < np; i++) dup += hs[i] == hs[i - 1];
	const char *base = strrchr(argv[1], '/');

	base = base ? base + 1 : argv[1];
	printf("%s: %zu MiB; words: zero %.1f%% small(<64K) %.1f%% text %.1f%% ptr %.1f%% int32 %.1f%% double %.1f%% other %.1f%%; dup pages %.2f%%\n",
	       base, len >> 20, 100.0 * cz / nw, 100.0 * csmall / nw, 100.0 * ctext / nw, 100.0 * cptr / nw, 100.0 * cint32 / nw, 100.0 * cdbl / nw, 100.0 * cother / nw, 100.0 * dup / np);
	if (argc > 2 && !strcmp(argv[2], "-q")) return 0;
	struct { int level; size_t frame; int wlog; const char *what; } cf[] = {
		{1, 1 << 20, 0, "zstd 1, 1 MiB frames"}, {-1, 1 << 20, 0, "zstd -1"}, {-3, 1 << 20, 0, "zstd -3"}, {2, 1 << 20, 0, "zstd 2"}, {3, 1 << 20, 0, "zstd 3"},
		{1, 4 << 20, 0, "zstd 1, 4 MiB frames"}, {1, 16 << 20, 0, "zstd 1, 16 MiB frames"}, {1, 64 << 20, 27, "zstd 1, 64 MiB, long 27"} };
	for (size_t k = 0; k < sizeof(cf) / sizeof(cf[0]); k++) { double mbs, r = zratio(d, len, cf[k].level, cf[k].frame, cf[k].wlog, &mbs); printf("  %-26s %.3f  %5.0f MiB/s\n", cf[k].what, r, mbs); }
	return 0;
}
