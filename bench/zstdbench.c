/* SPDX-License-Identifier: MIT */
/*
 * How fast zstd compresses a file the way sdump's page store does: independent
 * 1 MiB frames at one level (default 1) without zstd's checksum, spread
 * over T threads (each its own context, frames taken in turn), best of 3
 * rounds; then decompresses those frames the same way (as a restore reads
 * them). Prints two lines per thread count (MiB/s of uncompressed data):
 *
 *   zstd LEVEL THREADS MIB_PER_S COMPRESSED_BYTES INPUT_BYTES
 *   unzstd LEVEL THREADS MIB_PER_S
 *
 *   zstdbench FILE [LEVEL [THREADS...]]     (threads default: 1 and nproc)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define FRAME (1u << 20)

static const unsigned char *data;
static size_t len;
static int level = 1;
static atomic_size_t next_frame, total_out;
static unsigned char *cdata; /* the compressed frames, FRAME_CAP apart */
static size_t *csize;
static size_t frame_cap;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *dworker(void *arg)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	unsigned char *out = malloc(FRAME);

	(void)arg;
	if (!d || !out)
		exit(1);
	for (;;) {
		size_t i = atomic_fetch_add(&next_frame, 1), off = i * FRAME, n;

		if (off >= len)
			break;
		n = ZSTD_decompressDCtx(d, out, FRAME, cdata + i * frame_cap, csize[i]);
		if (ZSTD_isError(n) || n != (len - off < FRAME ? len - off : FRAME) ||
		    out[n - 1] != data[off + n - 1]) {
			fprintf(stderr, "zstdbench: frame %zu does not decompress\n", i);
			exit(1);
		}
	}
	ZSTD_freeDCtx(d);
	free(out);
	return NULL;
}

static void *worker(void *arg)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(FRAME), mine = 0;
	void *out = malloc(cap);

	(void)arg;
	if (!c || !out)
		exit(1);
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	/* no frame checksum: sdump keeps a CRC-32C per frame in pagemap.img */
	for (;;) {
		size_t i = atomic_fetch_add(&next_frame, 1), off = i * FRAME, n;

		if (off >= len)
			break;
		n = ZSTD_compress2(c, out, cap, data + off, len - off < FRAME ? len - off : FRAME);
		if (ZSTD_isError(n)) {
			fprintf(stderr, "zstdbench: %s\n", ZSTD_getErrorName(n));
			exit(1);
		}
		mine += n;
		if (!csize[i]) { /* keep one copy of each frame for the decompression run */
			memcpy(cdata + i * frame_cap, out, n);
			csize[i] = n;
		}
	}
	atomic_fetch_add(&total_out, mine);
	ZSTD_freeCCtx(c);
	free(out);
	return NULL;
}

static double timed(int threads, void *(*fn)(void *))
{
	pthread_t th[256];
	double best = 1e9;

	for (int round = 0; round < 3; round++) {
		double t;

		atomic_store(&next_frame, 0);
		atomic_store(&total_out, 0);
		t = now();
		for (int i = 0; i < threads; i++)
			pthread_create(&th[i], NULL, fn, NULL);
		for (int i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
		t = now() - t;
		if (t < best)
			best = t;
	}
	return best;
}

static void run(int threads)
{
	double t = timed(threads, worker);

	printf("zstd %d %d %.0f %zu %zu\n", level, threads, len / 1048576.0 / t,
	       atomic_load(&total_out), len);
	t = timed(threads, dworker);
	printf("unzstd %d %d %.0f\n", level, threads, len / 1048576.0 / t);
}

int main(int argc, char **argv)
{
	struct stat st;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: zstdbench FILE [LEVEL [THREADS...]]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0)
		return perror(argv[1]), 1;
	len = (size_t)st.st_size;
	data = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (data == MAP_FAILED)
		return perror("mmap"), 1;
	if (argc > 2)
		level = atoi(argv[2]);
	frame_cap = ZSTD_compressBound(FRAME);
	cdata = malloc((len / FRAME + 1) * frame_cap);
	csize = calloc(len / FRAME + 1, sizeof(*csize));
	if (!cdata || !csize)
		return perror("malloc"), 1;
	if (argc > 3) {
		for (int i = 3; i < argc; i++) {
			int t = atoi(argv[i]);

			run(t < 1 ? 1 : t > 256 ? 256 : t);
		}
	} else {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		run(1);
		if (n > 1)
			run(n > 256 ? 256 : (int)n);
	}
	return 0;
}
