/* SPDX-License-Identifier: MIT */
/*
 * A target that owns file mappings of the kinds a restore must open the
 * way they were: a file opened O_RDWR and O_RDONLY, mapped shared
 * read-only; a private mapping of a file; a sparse file mapped privately
 * twice, some pages written, then deleted; a deleted file mapped shared;
 * a memfd mapped privately, one page written, its fd closed; with
 * --ghost-mib N, a deleted file of N MiB of data. Every region has a
 * shadow of what it must read (read from the file, so that the pages of
 * the mapping stay untouched until written, then kept up with the
 * target's own writes), so that the target can tell after a restore
 * whether each page reads what it held.
 *
 *   regions              -> "region NAME ADDR LEN" lines, then "end"
 *   save NAME PATH       -> the region's contents into PATH; "ok"
 *   write NAME PAGE SEED -> page PAGE of the region rewritten; "ok"
 *   mprotect-w NAME      -> mprotect(PROT_READ | PROT_WRITE): "ok" or "err ERRNO"
 *   check                -> "ok", or "bad NAME PAGE" for the first page that
 *                           differs from its shadow
 *   exit                 -> exits 0
 *
 * It prints "ready PID" once everything is mapped and written. Options:
 *   --dir DIR       where its files are made (the deleted ones too)
 *   --ghost-mib N   a deleted file of N MiB of data, mapped privately ("big")
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
#define MAXR 16

struct region {
	const char *name;
	uint8_t *addr;
	size_t len;
	uint8_t *shadow;
	int prot;
	struct region *twin;	/* another shared mapping of the same bytes: it sees our writes */
};

static struct region regions[MAXR];
static int nregions;
static char dir[3072];

static void die(const char *what)
{
	fprintf(stderr, "maptarget: %s: %s\n", what, strerror(errno));
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

static int make_file(const char *name, char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		die(path);
	return fd;
}

/* Pages [from, to) of @fd written with seed @seed. */
static void put_pages(int fd, uint64_t seed, uint64_t from, uint64_t to)
{
	uint8_t p[PAGE];

	for (uint64_t i = from; i < to; i++) {
		fill_page(p, seed, i);
		if (pwrite(fd, p, PAGE, (off_t)(i * PAGE)) != PAGE)
			die("pwrite");
	}
}

static struct region *add(const char *name, int fd, size_t pages, off_t off, int prot, int flags)
{
	struct region *r = &regions[nregions++];

	r->name = name;
	r->len = pages * PAGE;
	r->prot = prot;
	r->addr = mmap(NULL, r->len, prot, flags, fd, off);
	if (r->addr == MAP_FAILED)
		die(name);
	/*
	 * From the file, not the mapping: its pages stay untouched (not
	 * present) until written, as pages a process never read are
	 */
	r->shadow = calloc(1, r->len);
	if (!r->shadow)
		die("calloc");
	if (pread(fd, r->shadow, r->len, off) < 0)
		die("pread");
	return r;
}

static struct region *find(const char *name)
{
	for (int i = 0; i < nregions; i++)
		if (!strcmp(regions[i].name, name))
			return &regions[i];
	return NULL;
}

/* Rewrite page @page of @r (made writable for it, then as it was). */
static int write_page(struct region *r, uint64_t page, uint64_t seed)
{
	uint8_t p[PAGE];

	if ((page + 1) * PAGE > r->len)
		return -1;
	fill_page(p, seed, page);
	if (!(r->prot & PROT_WRITE) && mprotect(r->addr, r->len, r->prot | PROT_WRITE) < 0)
		return -1;
	memcpy(r->addr + page * PAGE, p, PAGE);
	memcpy(r->shadow + page * PAGE, p, PAGE);
	if (r->twin)
		memcpy(r->twin->shadow + page * PAGE, p, PAGE);
	if (!(r->prot & PROT_WRITE) && mprotect(r->addr, r->len, r->prot) < 0)
		return -1;
	return 0;
}

static void setup(uint64_t ghost_mib)
{
	char path[4096];
	int fd, ro;

	/* shared.dat, opened twice: read-write and read-only, both mapped shared read-only */
	fd = make_file("shared.dat", path, sizeof(path));
	put_pages(fd, 1, 0, 16);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		die(path);
	add("shrw", fd, 16, 0, PROT_READ, MAP_SHARED);
	add("shro", ro, 16, 0, PROT_READ, MAP_SHARED);
	find("shrw")->twin = find("shro");
	find("shro")->twin = find("shrw");
	close(fd);
	close(ro);

	/* priv.dat, opened read-write, mapped privately, two pages written */
	fd = make_file("priv.dat", path, sizeof(path));
	put_pages(fd, 2, 0, 16);
	add("priv", fd, 16, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	close(fd);
	write_page(find("priv"), 2, 20);
	write_page(find("priv"), 3, 21);

	/*
	 * ghost.dat: 64 pages and 123 bytes, holes at pages 16-31 and 48-63;
	 * mapped privately twice ([0, 40) and [32, 65) pages, the last one
	 * partly past the end), some pages written, then deleted
	 */
	fd = make_file("ghost.dat", path, sizeof(path));
	if (ftruncate(fd, 64 * PAGE + 123) < 0)
		die("ftruncate");
	put_pages(fd, 3, 0, 16);
	put_pages(fd, 3, 32, 48);
	if (pwrite(fd, "the end of ghost.dat", 20, 64 * PAGE + 100) != 20)
		die("pwrite");
	add("ghost", fd, 40, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	add("ghost2", fd, 33, 32 * PAGE, PROT_READ, MAP_PRIVATE);
	close(fd);
	write_page(find("ghost"), 1, 30);
	write_page(find("ghost"), 20, 31); /* a page of a hole */
	write_page(find("ghost2"), 0, 32);
	if (unlink(path) < 0)
		die("unlink");

	/* gshared.dat: mapped shared read-write, then deleted */
	fd = make_file("gshared.dat", path, sizeof(path));
	put_pages(fd, 4, 0, 8);
	add("gshared", fd, 8, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	close(fd);
	write_page(find("gshared"), 3, 40);
	if (unlink(path) < 0)
		die("unlink");

	/* a memfd of 6 pages (a hole at page 4), mapped privately, page 1 written, its fd closed */
	fd = memfd_create("maptarget", MFD_CLOEXEC);
	if (fd < 0)
		die("memfd_create");
	put_pages(fd, 6, 0, 4);
	put_pages(fd, 6, 5, 6);
	add("mfd", fd, 6, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	close(fd);
	write_page(find("mfd"), 1, 50);

	if (ghost_mib) {
		fd = make_file("big.dat", path, sizeof(path));
		put_pages(fd, 5, 0, ghost_mib * 256);
		add("big", fd, 16, 0, PROT_READ, MAP_PRIVATE);
		close(fd);
		if (unlink(path) < 0)
			die("unlink");
	}
}

static void check(void)
{
	for (int i = 0; i < nregions; i++) {
		struct region *r = &regions[i];

		for (size_t pg = 0; pg < r->len / PAGE; pg++)
			if (memcmp(r->addr + pg * PAGE, r->shadow + pg * PAGE, PAGE)) {
				printf("bad %s %zu\n", r->name, pg);
				return;
			}
	}
	printf("ok\n");
}

int main(int argc, char **argv)
{
	uint64_t ghost_mib = 0;
	char line[4096 + 64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			snprintf(dir, sizeof(dir), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--ghost-mib") && i + 1 < argc)
			ghost_mib = strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: maptarget --dir DIR [--ghost-mib N]\n");
			return 2;
		}
	}
	if (!dir[0]) {
		fprintf(stderr, "maptarget: --dir is needed\n");
		return 2;
	}
	setup(ghost_mib);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		char name[64], path[4096];
		unsigned long long a, b;
		struct region *r;

		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "regions")) {
			for (int i = 0; i < nregions; i++)
				printf("region %s %p %zu\n", regions[i].name, (void *)regions[i].addr,
				       regions[i].len);
			printf("end\n");
		} else if (sscanf(line, "save %63s %4095s", name, path) == 2 && (r = find(name))) {
			FILE *f = fopen(path, "w");

			if (!f || fwrite(r->addr, 1, r->len, f) != r->len || fclose(f))
				printf("err %s\n", strerror(errno));
			else
				printf("ok\n");
		} else if (sscanf(line, "write %63s %llu %llu", name, &a, &b) == 3 && (r = find(name))) {
			if (write_page(r, a, b) < 0)
				printf("err %s\n", strerror(errno));
			else
				printf("ok\n");
		} else if (sscanf(line, "mprotect-w %63s", name) == 1 && (r = find(name))) {
			if (mprotect(r->addr, r->len, PROT_READ | PROT_WRITE) < 0) {
				printf("err %s\n", errno == EACCES ? "EACCES" : strerror(errno));
			} else {
				r->prot = PROT_READ | PROT_WRITE;
				printf("ok\n");
			}
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
