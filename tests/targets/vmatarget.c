/* SPDX-License-Identifier: MIT */
/*
 * A target whose VMAs carry the flags of madvise(), mlock() and mmap()
 * that a restore must give back (smaps VmFlags), each in a mapping of its
 * own: MADV_DONTFORK (dc), MADV_WIPEONFORK (wf), MADV_DONTDUMP (dd),
 * MADV_HUGEPAGE (hg), MADV_NOHUGEPAGE (nh), MADV_MERGEABLE (mg), mlock
 * (lo), mlock2(MLOCK_ONFAULT) (lo lf), MADV_SEQUENTIAL (sr), MADV_RANDOM
 * (rr), MAP_NORESERVE (nr), MAP_DROPPABLE (dp), mseal (sl), memory made
 * read-only after a write (still accounted: ac) and memory mapped
 * PROT_NONE (never accounted); guard pages (MADV_GUARD_INSTALL); and a
 * private anonymous mapping right below a one-page shared mapping of
 * /dev/zero. Each region is filled with a known pattern.
 *
 *   regions          -> "region NAME ADDR LEN" lines, then "end"
 *   dirty NAME SEED  -> every page of a writable region rewritten; "ok"
 *   check            -> "ok", or "bad WHAT": every region reads what was
 *                       written (the droppable one excepted: the kernel may
 *                       drop it), the guard pages fault (in a child), and a
 *                       fork's child sees the MADV_WIPEONFORK region zeroed
 *                       and the MADV_DONTFORK one absent
 *   exit             -> exits 0
 *
 * It prints "ready PID" once everything is set up. With --uffd it also
 * registers a region of its own with a userfaultfd of its own (missing
 * mode), which a dump must refuse. With --many N it also has a region
 * "many" of 2N written pages, every other one made read-only: 2N VMAs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define MAXR 24

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

struct region {
	const char *name;
	uint8_t *addr;
	size_t pages;
	uint64_t seed;
	bool unchecked;		/* MAP_DROPPABLE: the kernel may drop its pages */
	bool readonly;		/* not to be dirtied */
};

static struct region regions[MAXR];
static int nregions;
/* the guard pages of region "guard" */
static const size_t guard_pages[] = { 2, 3, 6 };
#define NGUARDS (sizeof(guard_pages) / sizeof(guard_pages[0]))

static void die(const char *what)
{
	fprintf(stderr, "vmatarget: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void fill_page(uint8_t *p, uint64_t seed, uint64_t page)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + page + 1;

	for (size_t i = 0; i < PAGE; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(p + i, &s, 8);
	}
}

static bool is_guard(const struct region *r, size_t page)
{
	if (strcmp(r->name, "guard"))
		return false;
	for (size_t i = 0; i < NGUARDS; i++)
		if (guard_pages[i] == page)
			return true;
	return false;
}

static void write_region(struct region *r, uint64_t seed)
{
	r->seed = seed;
	for (size_t i = 0; i < r->pages; i++)
		if (!is_guard(r, i))
			fill_page(r->addr + i * PAGE, seed, i);
}

static struct region *add(const char *name, uint8_t *addr, size_t pages)
{
	struct region *r = &regions[nregions++];

	if (addr == MAP_FAILED)
		die(name);
	*r = (struct region){ .name = name, .addr = addr, .pages = pages };
	return r;
}

static uint8_t *anon(size_t pages, int prot, int flags)
{
	return mmap(NULL, pages * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
}

/* A region of @pages written pages with madvise(@advice). */
static void advised(const char *name, size_t pages, int advice, uint64_t seed)
{
	struct region *r = add(name, anon(pages, PROT_READ | PROT_WRITE, 0), pages);

	if (madvise(r->addr, pages * PAGE, advice) < 0)
		die(name);
	write_region(r, seed);
}

static void setup(bool uffd, size_t many)
{
	struct region *r;
	uint8_t *p;
	int fd;

	advised("dontfork", 4, MADV_DONTFORK, 1);
	advised("wipeonfork", 4, MADV_WIPEONFORK, 2);
	advised("dontdump", 4, MADV_DONTDUMP, 3);
	advised("hugepage", 4, MADV_HUGEPAGE, 4);
	advised("nohugepage", 4, MADV_NOHUGEPAGE, 5);
	advised("mergeable", 4, MADV_MERGEABLE, 6);
	advised("sequential", 4, MADV_SEQUENTIAL, 7);
	advised("random", 4, MADV_RANDOM, 8);

	r = add("locked", anon(4, PROT_READ | PROT_WRITE, 0), 4);
	write_region(r, 9);
	if (mlock(r->addr, 4 * PAGE) < 0)
		die("mlock");
	/* locked on fault */
	r = add("onfault", anon(4, PROT_READ | PROT_WRITE, 0), 4);
	if (mlock2(r->addr, 4 * PAGE, MLOCK_ONFAULT) < 0)
		die("mlock2");
	write_region(r, 10);

	r = add("noreserve", anon(4, PROT_READ | PROT_WRITE, MAP_NORESERVE), 4);
	write_region(r, 11);
	/* written, then read-only: it stays accounted (ac) */
	r = add("readonly", anon(4, PROT_READ | PROT_WRITE, 0), 4);
	write_region(r, 12);
	r->readonly = true;
	if (mprotect(r->addr, 4 * PAGE, PROT_READ) < 0)
		die("mprotect");
	/* mapped PROT_NONE: never accounted */
	r = add("protnone", anon(4, PROT_NONE, 0), 4);
	r->unchecked = r->readonly = true;

	r = add("droppable", mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
				  MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0), 4);
	write_region(r, 13);
	r->unchecked = true;

	r = add("sealed", anon(4, PROT_READ | PROT_WRITE, 0), 4);
	write_region(r, 14);
	r->readonly = true;
	if (mprotect(r->addr, 4 * PAGE, PROT_READ) < 0 ||
	    syscall(SYS_mseal, r->addr, 4 * PAGE, 0) < 0)
		die("mseal");

	r = add("guard", anon(8, PROT_READ | PROT_WRITE, 0), 8);
	write_region(r, 15);
	for (size_t i = 0; i < NGUARDS; i++)
		if (madvise(r->addr + guard_pages[i] * PAGE, PAGE, MADV_GUARD_INSTALL) < 0)
			die("MADV_GUARD_INSTALL");

	/* a private anonymous mapping right below one page of shared /dev/zero */
	p = anon(5, PROT_NONE, 0);
	if (p == MAP_FAILED)
		die("mmap");
	r = add("below", mmap(p, 4 * PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), 4);
	write_region(r, 16);
	fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/zero");
	r = add("zeropage", mmap(p + 4 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				 fd, 0), 1);
	close(fd);
	write_region(r, 17);

	if (many) {
		r = add("many", anon(2 * many, PROT_READ | PROT_WRITE, 0), 2 * many);
		write_region(r, 19);
		r->readonly = true;
		for (size_t i = 1; i < 2 * many; i += 2)
			if (mprotect(r->addr + i * PAGE, PAGE, PROT_READ) < 0)
				die("mprotect many");
	}

	if (uffd) {
		struct uffdio_api api = { .api = UFFD_API };
		struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
		int u = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | 1 /* user mode only */);

		r = add("uffd", anon(4, PROT_READ | PROT_WRITE, 0), 4);
		write_region(r, 18);
		reg.range.start = (uintptr_t)r->addr;
		reg.range.len = 4 * PAGE;
		if (u < 0 || ioctl(u, UFFDIO_API, &api) < 0 || ioctl(u, UFFDIO_REGISTER, &reg) < 0)
			die("userfaultfd");
	}
}

static struct region *find(const char *name)
{
	for (int i = 0; i < nregions; i++)
		if (!strcmp(regions[i].name, name))
			return &regions[i];
	return NULL;
}

/* Whether reading @p in a child kills it with SIGSEGV. */
static bool faults(const volatile uint8_t *p)
{
	int st;
	pid_t c = fork();

	if (c < 0)
		return false;
	if (c == 0) {
		signal(SIGSEGV, SIG_DFL);
		(void)*p;
		_exit(0);
	}
	if (waitpid(c, &st, 0) < 0)
		return false;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

/* In a fork's child: the wiped region reads zeros, the not-copied one is not mapped. */
static bool fork_ok(void)
{
	struct region *wf = find("wipeonfork"), *dc = find("dontfork");
	int st;
	pid_t c = fork();

	if (c < 0)
		return false;
	if (c == 0) {
		for (size_t i = 0; i < wf->pages * PAGE; i++)
			if (wf->addr[i])
				_exit(1);
		/* madvise() on an address with no mapping: ENOMEM */
		if (madvise(dc->addr, PAGE, MADV_NORMAL) == 0 || errno != ENOMEM)
			_exit(2);
		_exit(0);
	}
	return waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void check(void)
{
	uint8_t want[PAGE];
	struct region *g = find("guard");

	for (int i = 0; i < nregions; i++) {
		struct region *r = &regions[i];

		if (r->unchecked)
			continue;
		for (size_t k = 0; k < r->pages; k++) {
			if (is_guard(r, k))
				continue;
			fill_page(want, r->seed, k);
			if (memcmp(want, r->addr + k * PAGE, PAGE)) {
				printf("bad %s page %zu\n", r->name, k);
				return;
			}
		}
	}
	for (size_t i = 0; i < NGUARDS; i++)
		if (!faults(g->addr + guard_pages[i] * PAGE)) {
			printf("bad guard page %zu does not fault\n", guard_pages[i]);
			return;
		}
	if (faults(g->addr)) {
		printf("bad guard page 0 faults\n");
		return;
	}
	if (!fork_ok()) {
		printf("bad fork: wipeonfork not zero or dontfork mapped in the child\n");
		return;
	}
	printf("ok\n");
}

int main(int argc, char **argv)
{
	char line[256];
	bool uffd = false;
	size_t many = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--uffd")) {
			uffd = true;
		} else if (!strcmp(argv[i], "--many") && i + 1 < argc) {
			many = strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: vmatarget [--uffd] [--many N]\n");
			return 2;
		}
	}
	setup(uffd, many);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		char name[64];
		unsigned long long seed;
		struct region *r;

		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "regions")) {
			for (int i = 0; i < nregions; i++)
				printf("region %s %p %zu\n", regions[i].name, (void *)regions[i].addr,
				       regions[i].pages * PAGE);
			printf("end\n");
		} else if (sscanf(line, "dirty %63s %llu", name, &seed) == 2 && (r = find(name)) &&
			   !r->readonly) {
			write_region(r, seed);
			printf("ok\n");
		} else if (!strcmp(line, "check")) {
			check();
		} else if (!strcmp(line, "exit")) {
			return 0;
		} else {
			printf("err unknown command\n");
		}
	}
	return 0;
}
