/* SPDX-License-Identifier: MIT */
/*
 * A target that checks its own memory while it keeps writing it, for the
 * migration tests and benchmarks. Every page of its region holds a pattern
 * made of its index and its generation (kept in a table of its own); a
 * loop every millisecond rewrites its share of pages (the next generation)
 * and checks the next pages in turn against their generation, so that a
 * whole sweep of the region is checked every --sweep seconds. A page that
 * does not hold what it must makes it write "bad ..." to its status file
 * and exit 3.
 *
 * Its status file (rewritten every 100 ms, whole: a new file renamed over
 * it) is one line:
 *   ok pid=P writes=N sweeps=N maxgap_us=N lastgap_us=N
 * pid as getpid() sees it; sweeps the complete checks of the region since
 * it started; maxgap_us the longest time between two turns of its loop
 * since it was ready (the downtime it saw), lastgap_us since the last
 * SIGUSR1 (which resets it).
 *
 * Options: --mib N (default 16), --dirty PERMILLE (of its pages rewritten
 * per second, default 10: 1 %), --sweep S (default 2), --status FILE
 * (required), --children N (default 0): a process tree, N children forked
 * once its memory is filled, each a copy doing the same on its own copy of
 * the memory (diverging from the parent's as each writes), its status in
 * FILE.K (K 1 to N). Every status line also says ppid= (getppid()). SIGTERM:
 * exits 0 (the root first ends its children and reaps them). The root
 * reaps a child that ends at once (a tree that loses a member), and
 * SIGUSR2 makes it fork one more, its status in FILE.K with the next K (a
 * tree that gains one).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static volatile sig_atomic_t quit, reset, chld, more;
static uint8_t *mem;
static uint32_t *gen;
static size_t npages;
static const char *status_path;

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void fill(size_t i)
{
	uint64_t *w = (uint64_t *)(mem + i * PAGE), seed = (uint64_t)i << 32 | gen[i];

	for (size_t k = 0; k < PAGE / 8; k++)
		w[k] = mix(seed + k);
}

static int check(size_t i)
{
	const uint64_t *w = (const uint64_t *)(mem + i * PAGE);
	uint64_t seed = (uint64_t)i << 32 | gen[i];

	for (size_t k = 0; k < PAGE / 8; k++)
		if (w[k] != mix(seed + k))
			return -1;
	return 0;
}

static void put_status(const char *line)
{
	char tmp[4200];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", status_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0) {
		close(fd);
		return;
	}
	close(fd);
	rename(tmp, status_path);
}

static void on_term(int sig)
{
	(void)sig;
	quit = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	reset = 1;
}

static void on_chld(int sig)
{
	(void)sig;
	chld = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	more = 1;
}

int main(int argc, char **argv)
{
	static char child_status[4096];
	size_t mib = 16, cursor = 0, next_write = 0, nkids = 0, nforked;
	bool root = true;
	pid_t kids[64];
	double dirty = 10, sweep = 2, owed = 0;
	uint64_t writes = 0, sweeps = 0, maxgap = 0, lastgap = 0, t_prev, t_status = 0, checked = 0;
	uint64_t rng = 1;
	char line[256];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--dirty") && i + 1 < argc)
			dirty = atof(argv[++i]);
		else if (!strcmp(argv[i], "--sweep") && i + 1 < argc)
			sweep = atof(argv[++i]);
		else if (!strcmp(argv[i], "--status") && i + 1 < argc)
			status_path = argv[++i];
		else if (!strcmp(argv[i], "--children") && i + 1 < argc)
			nkids = strtoul(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "migtarget: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!status_path || !mib || sweep <= 0 || nkids > 64) {
		fprintf(stderr, "usage: migtarget --status FILE [--mib N] [--dirty PERMILLE] [--sweep S] [--children N]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	signal(SIGCHLD, on_chld);
	npages = mib * 256;
	mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gen = mmap(NULL, npages * sizeof(*gen), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || gen == MAP_FAILED) {
		perror("migtarget: mmap");
		return 1;
	}
	for (size_t i = 0; i < npages; i++) {
		gen[i] = 1;
		fill(i);
	}
	nforked = nkids;
	for (size_t k = 0; k < nkids; k++) {
		kids[k] = fork();
		if (kids[k] < 0) {
			perror("migtarget: fork");
			return 1;
		}
		if (kids[k] == 0) {
			snprintf(child_status, sizeof(child_status), "%s.%zu", status_path, k + 1);
			status_path = child_status;
			rng = k + 2;
			nkids = 0;
			root = false;
			break;
		}
	}
	t_prev = mono_us();
	while (!quit) {
		/* a child that ended, reaped; one more on SIGUSR2 */
		if (root && chld) {
			chld = 0;
			for (size_t k = 0; k < nkids;)
				if (waitpid(kids[k], NULL, WNOHANG) == kids[k])
					kids[k] = kids[--nkids];
				else
					k++;
		}
		if (root && more && nkids < 64) {
			pid_t p;

			more = 0;
			p = fork();
			if (p == 0) {
				snprintf(child_status, sizeof(child_status), "%s.%zu", status_path, ++nforked);
				status_path = child_status;
				rng = nforked + 1;
				nkids = 0;
				root = false;
			} else if (p > 0) {
				kids[nkids++] = p;
				nforked++;
			}
		}
		struct timespec ts = { 0, 1000000 };
		uint64_t t, gap;
		double share;

		nanosleep(&ts, NULL);
		t = mono_us();
		gap = t - t_prev;
		t_prev = t;
		if (reset) {
			reset = 0;
			lastgap = 0;
		}
		if (gap > maxgap)
			maxgap = gap;
		if (gap > lastgap)
			lastgap = gap;
		/* its share of writes for the time gone (a long gap is not made up for) */
		share = npages * dirty / 1000.0 * (gap > 100000 ? 1000 : gap) / 1e6;
		owed += share;
		while (owed >= 1) {
			rng = mix(rng);
			next_write = rng % npages;
			gen[next_write]++;
			fill(next_write);
			writes++;
			owed -= 1;
		}
		/* and its share of the sweep */
		for (size_t n = (size_t)(npages * (gap > 100000 ? 1000 : gap) / (sweep * 1e6)) + 1; n > 0;
		     n--) {
			if (check(cursor) < 0) {
				snprintf(line, sizeof(line), "bad page %zu gen %u pid=%d\n", cursor, gen[cursor],
					 (int)getpid());
				put_status(line);
				return 3;
			}
			if (++cursor == npages) {
				cursor = 0;
				sweeps++;
			}
			checked++;
		}
		if (t - t_status >= 100000) {
			t_status = t;
			snprintf(line, sizeof(line),
				 "ok pid=%d writes=%llu sweeps=%llu maxgap_us=%llu lastgap_us=%llu ppid=%d\n",
				 (int)getpid(), (unsigned long long)writes, (unsigned long long)sweeps,
				 (unsigned long long)maxgap, (unsigned long long)lastgap, (int)getppid());
			put_status(line);
		}
	}
	for (size_t k = 0; k < nkids; k++)
		kill(kids[k], SIGTERM);
	for (size_t k = 0; k < nkids; k++)
		waitpid(kids[k], NULL, 0);
	return 0;
}
