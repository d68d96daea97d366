/* SPDX-License-Identifier: MIT */
/*
 * A target that rewrites its memory without pause, for live dumps: a
 * sweeper thread writes every 8-byte word of its region, page after page,
 * as (sweep << 32 | page index), then starts the next sweep. A copy of the
 * region taken at one instant has one boundary: words before it carry sweep
 * S, words after it S - 1 (or all carry S). A copy whose pages were taken
 * at different times has more.
 *
 *   sweeptarget [--mib N]        prints "ready PID", then serves:
 *     region    -> "ok ADDR LEN": where the region is
 *     sweeps    -> "ok N": sweeps completed so far
 *     pause     -> "ok": the sweeper stops (between two pages)
 *     resume    -> "ok"
 *     stall     -> "ok US": the longest gap the ticker thread (100 us naps)
 *                  saw since the last "stall"
 *     save PATH -> "ok": the region, as it is, to PATH
 *     exit      -> exits 0
 *   sweeptarget --check FILE     exit 0 and "consistent sweep S at word W"
 *                                when FILE is a copy of one instant, else
 *                                exit 1 and what is wrong
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define WORDS (PAGE / 8)

static volatile uint64_t *region;
static size_t npages;
static atomic_ulong sweeps;
static atomic_int paused, is_paused;
static long max_gap_us;

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void *sweeper(void *arg)
{
	(void)arg;
	for (uint64_t s = 1;; s++) {
		for (size_t i = 0; i < npages; i++) {
			while (atomic_load(&paused)) {
				atomic_store(&is_paused, 1);
				usleep(1000);
			}
			atomic_store(&is_paused, 0);
			for (size_t w = 0; w < WORDS; w++)
				region[i * WORDS + w] = s << 32 | i;
		}
		atomic_store(&sweeps, s);
	}
	return NULL;
}

static void *ticker(void *arg)
{
	struct timespec d = { 0, 100000 };
	long last = now_us();

	(void)arg;
	for (;;) {
		long t;

		nanosleep(&d, NULL);
		t = now_us();
		if (t - last > max_gap_us)
			max_gap_us = t - last;
		last = t;
	}
	return NULL;
}

static int check(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint64_t w, first = 0, prev = 0, boundary = 0, n = 0;
	int drops = 0;

	if (!f) {
		fprintf(stderr, "sweeptarget: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (fread(&w, sizeof(w), 1, f) == 1) {
		uint64_t s = w >> 32, page = w & 0xffffffffu;

		if (page != n / WORDS) {
			printf("word %llu (page %llu) holds page index %llu\n", (unsigned long long)n,
			       (unsigned long long)(n / WORDS), (unsigned long long)page);
			return 1;
		}
		if (n == 0)
			first = s;
		else if (s != prev) {
			if (s + 1 != prev || ++drops > 1) {
				printf("not one instant: sweep %llu then %llu at word %llu (page %llu)\n",
				       (unsigned long long)prev, (unsigned long long)s,
				       (unsigned long long)n, (unsigned long long)(n / WORDS));
				return 1;
			}
			boundary = n;
		}
		prev = s;
		n++;
	}
	fclose(f);
	if (n == 0 || n % WORDS) {
		printf("%llu words: not whole pages\n", (unsigned long long)n);
		return 1;
	}
	printf("consistent sweep %llu at word %llu of %llu\n", (unsigned long long)first,
	       (unsigned long long)boundary, (unsigned long long)n);
	return 0;
}

static int save(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const uint8_t *p = (const uint8_t *)region;
	size_t left = npages * PAGE;

	if (fd < 0)
		return -1;
	while (left) {
		ssize_t n = write(fd, p, left);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	return close(fd);
}

int main(int argc, char **argv)
{
	size_t mib = 64;
	pthread_t t;
	char line[4096], path[4096];

	if (argc == 3 && !strcmp(argv[1], "--check"))
		return check(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--mib"))
		mib = strtoul(argv[2], NULL, 0);
	else if (argc != 1) {
		fprintf(stderr, "usage: sweeptarget [--mib N] | --check FILE\n");
		return 2;
	}
	/* nothing inherited beyond stdio: the tests restore it */
	for (int fd = 3; fd < 1024; fd++)
		(void)close(fd);
	npages = mib * 256;
	region = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return 2;
	(void)madvise((void *)region, npages * PAGE, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < npages; i++)
		for (size_t w = 0; w < WORDS; w++)
			region[i * WORDS + w] = i;
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_create(&t, NULL, sweeper, NULL);
	pthread_create(&t, NULL, ticker, NULL);
	printf("ready %d\n", getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "region")) {
			printf("ok 0x%lx %zu\n", (unsigned long)region, npages * PAGE);
		} else if (!strcmp(line, "sweeps")) {
			printf("ok %lu\n", atomic_load(&sweeps));
		} else if (!strcmp(line, "pause")) {
			atomic_store(&paused, 1);
			while (!atomic_load(&is_paused))
				usleep(1000);
			printf("ok\n");
		} else if (!strcmp(line, "resume")) {
			atomic_store(&paused, 0);
			printf("ok\n");
		} else if (!strcmp(line, "stall")) {
			printf("ok %ld\n", max_gap_us);
			max_gap_us = 0;
		} else if (sscanf(line, "save %4095s", path) == 1) {
			printf(save(path) == 0 ? "ok\n" : "error\n");
		} else if (!strcmp(line, "exit")) {
			return 0;
		} else {
			printf("error unknown command\n");
		}
	}
	return 0;
}
