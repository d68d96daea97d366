// SPDX-License-Identifier: GPL-2.0
/*
 * softdirty_probe - check that the running kernel tracks soft-dirty pages.
 *
 * Maps NPAGES anonymous pages, dirties them all, clears the soft-dirty bits
 * via /proc/self/clear_refs, writes to a few chosen pages and verifies that
 * /proc/self/pagemap reports bit 55 (soft-dirty) on exactly those pages.
 * It also reports, for information only, whether the PAGEMAP_SCAN ioctl
 * (Linux 6.7+) is available.
 *
 * Exit status: 0 soft-dirty works, 1 soft-dirty is wrong,
 *              77 soft-dirty is unavailable (skip).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/types.h>

#define EXIT_OK	  0
#define EXIT_FAIL 1
#define EXIT_SKIP 77

#define NPAGES	      64
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_PRESENT    (1ULL << 63)

/* Older uapi headers (e.g. Debian 12, Linux 6.1) lack PAGEMAP_SCAN. */
#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN	   _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_SOFT_DIRTY (1 << 7)
#endif

static const unsigned int dirty_pages[] = {3, 10, 40};

static int is_expected_dirty(unsigned int idx)
{
	size_t i;

	for (i = 0; i < sizeof(dirty_pages) / sizeof(dirty_pages[0]); i++)
		if (dirty_pages[i] == idx)
			return 1;
	return 0;
}

static int clear_soft_dirty(void)
{
	int fd, ret = 0;

	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, "4", 1) != 1)
		ret = -1;
	close(fd);
	return ret;
}

static int read_pagemap(int fd, const char *base, long psize, uint64_t *ent)
{
	off_t off = (off_t)((uintptr_t)base / psize) * sizeof(*ent);
	size_t len = NPAGES * sizeof(*ent);

	return pread(fd, ent, len, off) == (ssize_t)len ? 0 : -1;
}

/* Informational only: the result does not affect the exit status. */
static void probe_pagemap_scan(int fd, char *base, long psize)
{
	struct page_region regs[NPAGES];
	struct pm_scan_arg arg;
	long n, i;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.start = (uintptr_t)base;
	arg.end = (uintptr_t)base + NPAGES * psize;
	arg.vec = (uintptr_t)regs;
	arg.vec_len = NPAGES;
	arg.category_mask = PAGE_IS_SOFT_DIRTY;
	arg.return_mask = PAGE_IS_SOFT_DIRTY;

	n = ioctl(fd, PAGEMAP_SCAN, &arg);
	if (n < 0) {
		if (errno == ENOTTY)
			printf("info: PAGEMAP_SCAN not available (ENOTTY)\n");
		else
			printf("info: PAGEMAP_SCAN failed: %s\n", strerror(errno));
		return;
	}
	printf("info: PAGEMAP_SCAN available, soft-dirty ranges:");
	for (i = 0; i < n; i++)
		printf(" [%lu,%lu)",
		       (unsigned long)((regs[i].start - arg.start) / psize),
		       (unsigned long)((regs[i].end - arg.start) / psize));
	printf("%s\n", n ? "" : " none");
}

int main(void)
{
	uint64_t ent[NPAGES];
	long psize = sysconf(_SC_PAGESIZE);
	unsigned int i, nset = 0, bad = 0;
	char *base;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);

	base = mmap(NULL, NPAGES * psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		return EXIT_FAIL;
	}
	/* A THP would make all 64 pages share one soft-dirty bit. */
	madvise(base, NPAGES * psize, MADV_NOHUGEPAGE);
	memset(base, 1, NPAGES * psize);

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("skip: cannot open /proc/self/pagemap: %s\n",
		       strerror(errno));
		return EXIT_SKIP;
	}

	/* Freshly faulted pages must all be soft-dirty if the feature exists. */
	if (read_pagemap(fd, base, psize, ent)) {
		printf("skip: cannot read /proc/self/pagemap: %s\n",
		       strerror(errno));
		return EXIT_SKIP;
	}
	for (i = 0; i < NPAGES; i++)
		if (ent[i] & PM_SOFT_DIRTY)
			nset++;
	if (nset == 0) {
		printf("skip: kernel never sets soft-dirty (no CONFIG_MEM_SOFT_DIRTY?)\n");
		probe_pagemap_scan(fd, base, psize);
		return EXIT_SKIP;
	}

	if (clear_soft_dirty()) {
		printf("skip: cannot write 4 to /proc/self/clear_refs: %s\n",
		       strerror(errno));
		return EXIT_SKIP;
	}
	for (i = 0; i < sizeof(dirty_pages) / sizeof(dirty_pages[0]); i++)
		base[dirty_pages[i] * psize] = 2;

	if (read_pagemap(fd, base, psize, ent)) {
		printf("FAIL: cannot re-read /proc/self/pagemap: %s\n",
		       strerror(errno));
		return EXIT_FAIL;
	}

	nset = 0;
	for (i = 0; i < NPAGES; i++) {
		int sd = !!(ent[i] & PM_SOFT_DIRTY);

		if (!(ent[i] & PM_PRESENT)) {
			printf("FAIL: page %u not present\n", i);
			bad++;
		}
		if (sd)
			nset++;
		if (sd != is_expected_dirty(i)) {
			printf("FAIL: page %u soft-dirty=%d, expected %d\n",
			       i, sd, !sd);
			bad++;
		}
	}

	probe_pagemap_scan(fd, base, psize);
	close(fd);

	if (bad) {
		printf("FAIL: soft-dirty wrong (%u pages set, %u errors)\n",
		       nset, bad);
		return EXIT_FAIL;
	}
	printf("OK: soft-dirty set exactly on pages 3, 10, 40 of %d\n", NPAGES);
	return EXIT_OK;
}
