/* SPDX-License-Identifier: MIT */
/*
 * A target for lazy restores that checks itself: every page of its regions
 * holds words derived from the region, the page and the page's generation
 * (kept in memory too), so that any byte read wrong, or a page filled with
 * zeros or stale data, is found. Driven over stdin/stdout one line at a time:
 *
 *   dirty PERMILLE          -> rewrites that share of every region's pages (a new generation); "ok N"
 *   check                   -> every live page read, by every thread at once, each in its
 *                              own random order, and compared; "ok PAGES" or "bad WHERE"
 *   churn                   -> while the memory may still be filling: a child forked that
 *                              checks everything and exits with the result, region "b" moved
 *                              (mremap) and checked there, the upper half of "c" unmapped,
 *                              a quarter of "d" dropped (MADV_DONTNEED: zeros from then on),
 *                              then everything checked; "ok" or "bad WHERE"
 *   answer                  -> "ok" (the first answer after a restore)
 *   exit                    -> exits 0
 *
 * Options: --mib N (region "a", default 64; "b", "c", "d" are 8 MiB each),
 * --threads N (threads taking part in "check", default 4), --kids N (a
 * tree: N children forked, each a member of its own with every region
 * written again with words of its own, private copies; all share a 1 MiB
 * MAP_SHARED region "s" the root wrote; the root passes "dirty", "check",
 * "churn" and "exit" on to every child first, over a pipe each, then does
 * its own, then gathers their answers: "bad member K: WHERE" names the
 * first member that found its memory wrong). Prints
 * "ready PID" once everything is written. A command written before a
 * restore is read at once by the restored process: its first touches are
 * of memory not yet in.
 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ul
#define WORDS (PAGE / 8)
#define NREG 4
#define MAXTHREADS 16

struct region {
	char name;
	uint8_t *addr;
	size_t pages;
	size_t live;		/* pages [0, live) are mapped */
	size_t zero_from, zero_to;	/* dropped: zeros */
	uint8_t *gen;		/* by page */
};

static struct region reg[NREG];
static int nthreads = 4;
static uint64_t member;		/* 0 the root, K the K-th child (--kids) */
#define MAXKIDS 8
static int nkids;
static FILE *kid_cmd[MAXKIDS + 1], *kid_res[MAXKIDS + 1];
static uint64_t *shared_words;	/* region "s" (--kids) */
#define SHARED_WORDS (1ul << 17)
static char bad[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t page_seed(const struct region *r, size_t p)
{
	return mix(((uint64_t)r->name << 48) ^ p ^ ((uint64_t)r->gen[p] << 40) ^ (member << 56));
}

static void fill_page(const struct region *r, size_t p)
{
	uint64_t *w = (uint64_t *)(r->addr + p * PAGE), s = page_seed(r, p);

	for (size_t i = 0; i < WORDS; i++)
		w[i] = mix(s + i);
}

/* Whether page @p of @r is right; the first wrong one said in bad[]. */
static bool check_page(const struct region *r, size_t p)
{
	const uint64_t *w = (const uint64_t *)(r->addr + p * PAGE);
	bool zero = p >= r->zero_from && p < r->zero_to;
	uint64_t s = page_seed(r, p);

	for (size_t i = 0; i < WORDS; i++) {
		uint64_t want = zero ? 0 : mix(s + i);

		if (w[i] != want) {
			pthread_mutex_lock(&lock);
			if (!bad[0])
				snprintf(bad, sizeof(bad), "region %c page %zu word %zu: %016llx, want %016llx%s",
					 r->name, p, i, (unsigned long long)w[i], (unsigned long long)want,
					 zero ? " (dropped)" : "");
			pthread_mutex_unlock(&lock);
			return false;
		}
	}
	return true;
}

struct job {
	uint64_t seed;
	size_t checked;
};

/* Every live page of every region, in a random order of its own. */
static void *check_all(void *arg)
{
	struct job *j = arg;
	size_t total = 0, *order;
	uint64_t s = j->seed;

	for (int k = 0; k < NREG; k++)
		total += reg[k].live;
	/* mapped and unmapped, not malloc()ed: the heaps stay as they were before the dump */
	order = mmap(NULL, total * sizeof(*order), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (order == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < total; i++)
		order[i] = i;
	for (size_t i = total; i > 1; i--) {
		size_t k = (size_t)((s = mix(s)) % i), t = order[i - 1];

		order[i - 1] = order[k];
		order[k] = t;
	}
	for (size_t i = 0; i < total && !bad[0]; i++) {
		size_t p = order[i];
		int k = 0;

		while (p >= reg[k].live) {
			p -= reg[k].live;
			k++;
		}
		if (check_page(&reg[k], p))
			j->checked++;
	}
	munmap(order, total * sizeof(*order));
	return NULL;
}

static size_t check_threads(void)
{
	pthread_t th[MAXTHREADS];
	struct job jobs[MAXTHREADS] = { 0 };
	size_t n = 0;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (int i = 0; i < nthreads; i++) {
		jobs[i].seed = (uint64_t)ts.tv_nsec * 31 + (uint64_t)i;
		if (pthread_create(&th[i], NULL, check_all, &jobs[i]) != 0)
			return 0;
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		n += jobs[i].checked;
	}
	return n;
}

static void churn(void)
{
	struct region *b = &reg[1], *c = &reg[2], *d = &reg[3];
	struct job j = { .seed = 7 };
	pid_t child;
	int st = 0;
	void *to;

	child = fork();
	if (child == 0) {
		check_all(&j);
		if (bad[0])
			fprintf(stderr, "lazytarget child: %s\n", bad);
		_exit(bad[0] ? 1 : 0);
	}
	/* b moves far away, c loses its upper half, a quarter of d is dropped */
	to = mremap(b->addr, b->pages * PAGE, b->pages * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
		    (void *)(b->addr + (1ul << 34)));
	if (to == MAP_FAILED) {
		snprintf(bad, sizeof(bad), "mremap: %s", strerror(errno));
		return;
	}
	b->addr = to;
	for (size_t p = 0; p < b->pages; p += 3)
		check_page(b, p);
	if (munmap(c->addr + c->pages / 2 * PAGE, c->pages / 2 * PAGE) < 0) {
		snprintf(bad, sizeof(bad), "munmap: %s", strerror(errno));
		return;
	}
	c->live = c->pages / 2;
	d->zero_from = d->pages / 4;
	d->zero_to = d->pages / 2;
	if (madvise(d->addr + d->zero_from * PAGE, (d->zero_to - d->zero_from) * PAGE, MADV_DONTNEED) < 0) {
		snprintf(bad, sizeof(bad), "madvise: %s", strerror(errno));
		return;
	}
	check_all(&j);
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		if (!bad[0])
			snprintf(bad, sizeof(bad), "the forked child found memory wrong (status %d)", st);
}

static size_t dirty(unsigned long permille)
{
	size_t n = 0;

	for (int k = 0; k < NREG; k++)
		for (size_t p = 0; p < reg[k].live; p++)
			if (!(p >= reg[k].zero_from && p < reg[k].zero_to) &&
			    mix(((uint64_t)k << 32) ^ p ^ (uint64_t)reg[k].gen[p] << 50 ^ member << 58) % 1000 < permille) {
				reg[k].gen[p]++;
				fill_page(&reg[k], p);
				n++;
			}
	return n;
}

/* Region "s", as the root wrote it; the first wrong word said in bad[]. */
static void check_shared(void)
{
	for (size_t i = 0; shared_words && i < SHARED_WORDS && !bad[0]; i++)
		if (shared_words[i] != mix(i ^ 0x5353ull << 48))
			snprintf(bad, sizeof(bad), "region s word %zu: %016llx", i, (unsigned long long)shared_words[i]);
}

/* One command, its answer into @ans; false for "exit". */
static bool command(const char *line, char *ans, size_t len)
{
	unsigned long n;

	if (sscanf(line, "dirty %lu", &n) == 1) {
		snprintf(ans, len, "ok %zu", dirty(n));
	} else if (!strncmp(line, "check", 5)) {
		size_t got = check_threads();

		check_shared();
		if (bad[0])
			snprintf(ans, len, "bad %s", bad);
		else
			snprintf(ans, len, "ok %zu", got);
	} else if (!strncmp(line, "churn", 5)) {
		churn();
		snprintf(ans, len, bad[0] ? "bad %s" : "ok", bad);
	} else if (!strncmp(line, "answer", 6)) {
		snprintf(ans, len, "ok");
	} else if (!strncmp(line, "exit", 4)) {
		return false;
	} else {
		snprintf(ans, len, "unknown command");
	}
	return true;
}

/* The root's: @line passed on to every child, done here, their answers and ours made one in @ans. */
static bool tree_command(const char *line, char *ans, size_t len)
{
	char theirs[512];
	unsigned long long sum = 0, v;
	bool counts = !strncmp(line, "check", 5) || !strncmp(line, "dirty", 5);
	bool forward = counts || !strncmp(line, "churn", 5) || !strncmp(line, "exit", 4), more;
	int badk = -1;

	for (int k = 1; forward && k <= nkids; k++) {
		fputs(line, kid_cmd[k]);
		fflush(kid_cmd[k]);
	}
	if (!strncmp(line, "exit", 4)) {
		for (int k = 1; k <= nkids; k++)
			wait(NULL);
		return false;
	}
	more = command(line, ans, len);
	if (!forward)
		return more;
	if (!strncmp(ans, "bad ", 4)) {
		snprintf(theirs, sizeof(theirs), "%.300s", ans + 4);
		badk = 0;
	} else if (counts && sscanf(ans, "ok %llu", &v) == 1) {
		sum += v;
	}
	for (int k = 1; k <= nkids; k++) {
		char got[512];

		if (!fgets(got, sizeof(got), kid_res[k]))
			snprintf(got, sizeof(got), "bad no answer");
		got[strcspn(got, "\n")] = 0;
		if (strncmp(got, "ok", 2) && badk < 0) {
			snprintf(theirs, sizeof(theirs), "%.300s", got + (strncmp(got, "bad ", 4) ? 0 : 4));
			badk = k;
		} else if (counts && sscanf(got, "ok %llu", &v) == 1) {
			sum += v;
		}
	}
	if (badk >= 0)
		snprintf(ans, len, "bad member %d: %.300s", badk, theirs);
	else if (counts)
		snprintf(ans, len, "ok %llu", sum);
	else
		snprintf(ans, len, "ok");
	return more;
}

/* The children of --kids, each with regions written anew as its own, answering over its pipes. */
static int make_kids(void)
{
	shared_words = mmap(NULL, SHARED_WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_words == MAP_FAILED)
		return -1;
	for (size_t i = 0; i < SHARED_WORDS; i++)
		shared_words[i] = mix(i ^ 0x5353ull << 48);
	for (int k = 1; k <= nkids; k++) {
		int c[2], r[2];
		pid_t pid;
		char line[256], ans[512];

		if (pipe(c) < 0 || pipe(r) < 0)
			return -1;
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			close(c[1]);
			close(r[0]);
			for (int j = 1; j < k; j++) {
				fclose(kid_cmd[j]);
				fclose(kid_res[j]);
			}
			nkids = 0;
			member = (uint64_t)k;
			for (int i = 0; i < NREG; i++)
				for (size_t p = 0; p < reg[i].pages; p++)
					fill_page(&reg[i], p);
			check_threads();
			dup2(r[1], 1);
			close(r[1]);
			setvbuf(stdout, NULL, _IOLBF, 0);
			printf("ready\n");
			kid_cmd[0] = fdopen(c[0], "r");
			while (fgets(line, sizeof(line), kid_cmd[0]) && command(line, ans, sizeof(ans)))
				printf("%s\n", ans);
			exit(0);
		}
		close(c[0]);
		close(r[1]);
		kid_cmd[k] = fdopen(c[1], "w");
		kid_res[k] = fdopen(r[0], "r");
		if (!kid_cmd[k] || !kid_res[k] || !fgets(line, sizeof(line), kid_res[k]))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t mib = 64;
	char line[256], ans[600];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mib"))
			mib = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--threads"))
			nthreads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--kids"))
			nkids = atoi(argv[i + 1]);
	}
	if (nthreads < 1 || nthreads > MAXTHREADS)
		nthreads = 4;
	if (nkids < 0 || nkids > MAXKIDS)
		nkids = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int k = 0; k < NREG; k++) {
		struct region *r = &reg[k];

		r->name = (char)('a' + k);
		r->pages = (k == 0 ? mib : 8) << 20 >> 12;
		r->live = r->pages;
		r->addr = mmap(NULL, r->pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		r->gen = calloc(r->pages, 1);
		if (r->addr == MAP_FAILED || !r->gen) {
			perror("lazytarget: mmap");
			return 1;
		}
		for (size_t p = 0; p < r->pages; p++)
			fill_page(r, p);
	}
	/* once before: the checking threads' stacks and arenas exist before any dump */
	check_threads();
	if (nkids > 0 && make_kids() < 0) {
		perror("lazytarget: kids");
		return 1;
	}
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (!(nkids ? tree_command(line, ans, sizeof(ans)) : command(line, ans, sizeof(ans))))
			break;
		printf("%s\n", ans);
	}
	return 0;
}
