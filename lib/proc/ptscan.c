/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compat.h"
#include "fault.h"
#include "ptscan.h"
#include "util.h"

#define SCAN_REGIONS 4096
#define READ_PAGES 65536
/* A re-arming scan's call: one page table's pages at most (scan_ioctl()) */
#define REARM_STEP (2ull << 20)

static bool ioctl_works(int fd)
{
	struct pm_scan_arg arg = { .size = sizeof(arg), .start = 0, .end = 0 };

	/* an empty range: 0 on kernels that know the ioctl */
	return ioctl(fd, PAGEMAP_SCAN, &arg) >= 0;
}

/*
 * The zero page's PFN, for plain pagemap reads: read-fault a fresh page of
 * our own and look. PFNs show only to CAP_SYS_ADMIN: 0 (unknown) otherwise.
 */
static uint64_t find_zero_pfn(size_t page_size)
{
	volatile char *p = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pme = 0;
	int fd;

	if (p == MAP_FAILED)
		return 0;
	(void)p[0];
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, &pme, sizeof(pme), (off_t)((uintptr_t)p / page_size * 8)) != sizeof(pme))
			pme = 0;
		(void)close(fd);
	}
	(void)munmap((void *)p, page_size);
	return (pme & PME_PRESENT) ? pme & PME_PFN_MASK : 0;
}

int sd_scanner_init(struct scanner *s, int pagemap_fd, size_t page_size, enum scan_written written)
{
	const char *env = getenv("SDUMP_NO_PAGEMAP_SCAN");

	*s = (struct scanner){ .pagemap_fd = pagemap_fd, .page_size = page_size, .written = written,
			       .written_override = -1 };
	s->use_ioctl = !(env && !strcmp(env, "1")) && ioctl_works(pagemap_fd);
	if (written == SCAN_WRITTEN_UFFD_WP && !s->use_ioctl)
		return -EOPNOTSUPP;
	s->zero_pfn = find_zero_pfn(page_size);
	s->buf = malloc(SCAN_REGIONS * sizeof(struct page_region));
	s->pme_buf = malloc(READ_PAGES * sizeof(uint64_t));
	return s->buf && s->pme_buf ? 0 : -ENOMEM;
}

void sd_scanner_release(struct scanner *s)
{
	zfree(&s->buf);
	zfree(&s->pme_buf);
}

/*
 * The swap type of a pte marker: the last of the 32 types (swp_entry
 * layout: type in bits 0-4 of the pagemap entry). A uffd-wp marker holds
 * write-protection for a page that does not exist; it is no swapped page.
 */
#define SWP_TYPE_PTE_MARKER 31

uint32_t sd_scan_pme_cats(uint64_t pme, enum scan_written written, uint64_t zero_pfn)
{
	uint32_t c = 0;

	/* a guard page is a pte marker too (bit 58 on Linux 6.15+): no page, but to be kept */
	if ((pme & PME_SWAP) && !(pme & PME_PRESENT) && (pme & 0x1f) == SWP_TYPE_PTE_MARKER)
		return (pme & PME_GUARD) ? SC_GUARD : 0;

	if (pme & PME_PRESENT)
		c |= SC_PRESENT;
	if (pme & PME_SWAP)
		c |= SC_SWAPPED;
	if ((pme & PME_FILE) && (pme & PME_PRESENT))
		c |= SC_FILE;
	if ((pme & PME_EXCLUSIVE) && (pme & PME_PRESENT))
		c |= SC_EXCLUSIVE;
	if ((pme & PME_PRESENT) && zero_pfn && (pme & PME_PFN_MASK) == zero_pfn)
		c |= SC_ZEROPFN;
	switch (written) {
	case SCAN_WRITTEN_ALL:
		c |= SC_WRITTEN;
		break;
	case SCAN_WRITTEN_SOFT_DIRTY:
		if (pme & PME_SOFT_DIRTY)
			c |= SC_WRITTEN;
		break;
	case SCAN_WRITTEN_UFFD_WP:
		if (!(pme & PME_UFFD_WP))
			c |= SC_WRITTEN;
		break;
	}
	return c;
}

static int scan_read(struct scanner *s, uint64_t start, uint64_t end, uint64_t *pme, scan_fn fn,
		     void *data);

/* What the ioctl reports of a range: the categories sd_scan_pme_cats() gives its pages (SC_FILE if asked). */
#define IOCTL_CATS (PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO | PAGE_IS_WRITTEN)

/*
 * Whether the ioctl's categories of a present range can stand for its
 * pagemap entries: tracking by uffd-wp (PAGE_IS_WRITTEN is the missing
 * uffd-wp bit) or none. Soft-dirty's entries also count a VMA's own
 * VM_SOFTDIRTY, which those of a scan need not: its entries decide.
 */
static bool cats_from_ioctl(const struct scanner *s)
{
	return s->written != SCAN_WRITTEN_SOFT_DIRTY && !s->exclusive;
}

bool sd_scanner_can_rearm(const struct scanner *s)
{
	return s->use_ioctl && s->written == SCAN_WRITTEN_UFFD_WP && cats_from_ioctl(s);
}

/* An entry's categories; in a swapped range of a re-arming scan, written as the ioctl found it. */
static uint32_t entry_cats(const struct scanner *s, uint64_t pme)
{
	uint32_t c = sd_scan_pme_cats(pme, s->written, s->zero_pfn);

	if (s->written_override < 0 || !(c & (SC_PRESENT | SC_SWAPPED)))
		return c;
	return (c & ~SC_WRITTEN) | (s->written_override ? SC_WRITTEN : 0);
}

/* A present range's categories from the ioctl's (see IOCTL_CATS). */
static uint32_t range_cats(const struct scanner *s, uint64_t c)
{
	/* the ioctl cannot tell a page shared copy-on-write: taken as ours (scanner.exclusive) */
	uint32_t r = SC_PRESENT | SC_EXCLUSIVE;

	if (c & PAGE_IS_FILE)
		r |= SC_FILE;
	if (c & PAGE_IS_PFNZERO)
		r |= SC_ZEROPFN;
	if (s->written == SCAN_WRITTEN_ALL || (c & PAGE_IS_WRITTEN))
		r |= SC_WRITTEN;
	return r;
}

/*
 * PAGEMAP_SCAN finds the populated ranges only (cheap on huge sparse VMAs)
 * and says what each range is: a page table walk of 1 GiB takes about a
 * millisecond, where reading its 2 MiB of pagemap entries takes ten or
 * more (and asking for PAGE_IS_FILE as many: see file_pages). Present ranges are taken as the ioctl reports them (each category
 * the same as the pagemap bit sd_scan_pme_cats() reads: present, file,
 * zero page, uffd-wp), swapped ones from their entries: the ioctl reports
 * a pte marker (uffd-wp's for a page that does not exist, a guard page's)
 * as swapped, and only the entry tells them apart. Seen on 6.18, a scan
 * that stops early returns a last region reaching past walk_end, as if the
 * rest of the range were all of its kind (and with PM_SCAN_WP_MATCHING it
 * would have re-protected pages it then reports again as unwritten):
 * pages before walk_end are taken from a call, each once.
 */
static int scan_ioctl(struct scanner *s, uint64_t start, uint64_t end, scan_fn fn, void *data)
{
	struct page_region *reg = s->buf;
	uint64_t done = start;

	if (s->rearm && !sd_scanner_can_rearm(s))
		return -EINVAL;
	while (start < end) {
		/*
		 * Re-arming, a call must never stop early: one that does may
		 * have protected pages past the walk_end it reports (above).
		 * The kernel's own buffer of regions holds 512 (a page table's
		 * pages, PAGEMAP_WALK_SIZE), and stops the walk when full (seen:
		 * 530 regions out, the range's end not reached): one call a
		 * page table, 2 MiB, never more regions than that.
		 */
		uint64_t stop = s->rearm ? MIN(end, (start + REARM_STEP) & ~(REARM_STEP - 1)) : end;
		struct pm_scan_arg arg = {
			.size = sizeof(arg),
			/* an unregistered VMA fails (EPERM), not skipped unseen */
			.flags = s->rearm ? PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC : 0,
			.start = start,
			.end = stop,
			.vec = (uintptr_t)reg,
			.vec_len = SCAN_REGIONS,
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = !cats_from_ioctl(s) ? PAGE_IS_PRESENT | PAGE_IS_SWAPPED
				       : IOCTL_CATS | (s->file_pages ? PAGE_IS_FILE : 0),
		};
		long n = fault_fails(FAULT_PROCREAD) ? -1 : ioctl(s->pagemap_fd, PAGEMAP_SCAN, &arg);

		if (n < 0)
			return -errno;
		for (long i = 0; i < n; i++) {
			uint64_t a = MAX(reg[i].start, done), b = MIN(reg[i].end, arg.walk_end);
			struct scan_range r = { a, b, 0 };
			int e;

			if (a >= b)
				continue;
			done = b;
			if (cats_from_ioctl(s) && !(reg[i].categories & PAGE_IS_SWAPPED)) {
				r.cats = range_cats(s, reg[i].categories);
				e = fn(data, &r);
			} else {
				/*
				 * Re-arming, the walk protected the written ones already:
				 * their entries now say unwritten, the ioctl said how they were
				 */
				if (s->rearm)
					s->written_override = (reg[i].categories & PAGE_IS_WRITTEN) != 0;
				e = scan_read(s, a, b, s->pme_buf, fn, data);
				s->written_override = -1;
			}
			if (e < 0)
				return e;
		}
		if (arg.walk_end <= start || (s->rearm && arg.walk_end < stop))
			return -EIO;
		start = arg.walk_end;
	}
	return 0;
}

static int scan_read(struct scanner *s, uint64_t start, uint64_t end, uint64_t *pme, scan_fn fn,
		     void *data)
{
	size_t psz = s->page_size;

	while (start < end) {
		size_t want = MIN((size_t)READ_PAGES, (size_t)((end - start) / psz));
		ssize_t n = sd_fault_check(FAULT_PROCREAD);

		if (n == 0)
			n = sd_pread_all(s->pagemap_fd, pme, want * sizeof(*pme),
				      (off_t)(start / psz * sizeof(*pme)));

		if (n < 0)
			return (int)n;
		n /= (ssize_t)sizeof(*pme);
		if (n == 0)
			return -EIO;
		for (ssize_t i = 0; i < n;) {
			uint32_t c = entry_cats(s, pme[i]);
			ssize_t j = i + 1;
			struct scan_range r;
			int e;

			while (j < n && entry_cats(s, pme[j]) == c)
				j++;
			if (c & (SC_PRESENT | SC_SWAPPED | SC_GUARD)) {
				r = (struct scan_range){ start + (uint64_t)i * psz,
							 start + (uint64_t)j * psz, c };
				e = fn(data, &r);
				if (e < 0)
					return e;
			}
			i = j;
		}
		start += (uint64_t)n * psz;
	}
	return 0;
}

int sd_scanner_tracked(struct scanner *s, uint64_t start)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = PM_SCAN_CHECK_WPASYNC,
		.start = start,
		.end = start + s->page_size,
	};

	if (ioctl(s->pagemap_fd, PAGEMAP_SCAN, &arg) == 0)
		return 1;
	return errno == EPERM ? 0 : -errno;
}

int sd_scanner_scan(struct scanner *s, uint64_t start, uint64_t end, scan_fn fn, void *data)
{
	if (s->use_ioctl)
		return scan_ioctl(s, start, end, fn, data);
	return scan_read(s, start, end, s->pme_buf, fn, data);
}
