/* SPDX-License-Identifier: MIT */
/*
 * Which pages of a VMA hold something, and which were written since
 * tracking was last armed: ioctl(PAGEMAP_SCAN) (Linux 6.7), which walks
 * only populated page tables and returns ranges, or plain reads of
 * /proc/PID/pagemap (8 bytes a page) where the ioctl is missing.
 */
#ifndef SDUMP_PTSCAN_H
#define SDUMP_PTSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdump.h"
#include "proc.h"

/* Page categories, per range. */
#define SC_PRESENT (1u << 0)
#define SC_SWAPPED (1u << 1)
#define SC_FILE (1u << 2)	/* the page cache's page (or shmem), not a private copy */
#define SC_WRITTEN (1u << 3)	/* written since tracking was armed */
#define SC_ZEROPFN (1u << 4)	/* mapped to the shared zero page: reads as zeros, never written */
#define SC_GUARD (1u << 5)	/* a guard page (MADV_GUARD_INSTALL): faults, holds nothing */
/*
 * Present and mapped by this process only (pagemap bit 56). An anonymous
 * page without it is shared with another process: copy-on-write after a
 * fork, or merged by KSM. Pinning such a page, as process_vm_readv does,
 * makes the kernel copy it for the target first (it unshares a page that
 * is pinned read-only, Linux 5.19+): a pre-dump of forked processes would
 * grow their memory by every such page. /proc/PID/mem reads it as it is.
 */
#define SC_EXCLUSIVE (1u << 6)

enum scan_written {
	SCAN_WRITTEN_ALL,	 /* no tracking: every page counts as written */
	SCAN_WRITTEN_SOFT_DIRTY, /* pagemap bit 55 / PAGE_IS_SOFT_DIRTY */
	SCAN_WRITTEN_UFFD_WP,	 /* no uffd-wp bit (pagemap bit 57) */
};

struct scanner {
	int pagemap_fd;
	size_t page_size;
	bool use_ioctl;		/* PAGEMAP_SCAN works here */
	enum scan_written written;
	void *buf;		/* PAGEMAP_SCAN regions */
	uint64_t *pme_buf;	/* pagemap entries */
	uint64_t zero_pfn;	/* PFN of the zero page, or 0 if unknown */
	/*
	 * Set by the caller before a scan: whether SC_FILE is wanted (a private
	 * file mapping's page cache pages against its copies). The ioctl finds
	 * it page by page in the pages' own structures, ten times the cost of
	 * the rest of a walk: without it, present ranges carry no SC_FILE.
	 */
	bool file_pages;
	/*
	 * Set by the caller: whether SC_EXCLUSIVE must be true to the page
	 * (the members of a tree share their pages copy-on-write). Only the
	 * entries say it (bit 56), at the cost of reading them; without it a
	 * present range the ioctl reports is taken as the process's own.
	 */
	bool exclusive;
	/*
	 * Set by the caller for the scan of a VMA registered for async uffd-wp
	 * (sd_scanner_can_rearm()): the ioctl write-protects again every
	 * written page it reports (PM_SCAN_WP_MATCHING), in the same walk,
	 * instead of one UFFDIO_WRITEPROTECT a run after it (thousands, while
	 * frozen). A scan that fails half way leaves pages protected that
	 * nobody saved: the caller must have dropped the tracking state first.
	 */
	bool rearm;
	int written_override;	/* inside a scan: a swapped range's SC_WRITTEN from the ioctl (-1: none) */
};

struct scan_range {
	uint64_t start, end;
	uint32_t cats;
};

/* Called for each range of pages that are present, swapped or guards, in address order. */
typedef int (*scan_fn)(void *data, const struct scan_range *r);

/*
 * Set up on an open /proc/PID/pagemap. PAGEMAP_SCAN is used when it works,
 * unless the environment has SDUMP_NO_PAGEMAP_SCAN=1 (to test the fallback).
 * SCAN_WRITTEN_UFFD_WP needs the ioctl: -EOPNOTSUPP without it.
 */
int sd_scanner_init(struct scanner *s, int pagemap_fd, size_t page_size, enum scan_written written);
void sd_scanner_release(struct scanner *s);

/* Whether a scan may re-arm uffd-wp as it goes (scanner.rearm): the ioctl's categories stand for the pages. */
bool sd_scanner_can_rearm(const struct scanner *s);

/* Report the present, swapped and guard pages of [start, end), in address order. */
int sd_scanner_scan(struct scanner *s, uint64_t start, uint64_t end, scan_fn fn, void *data);
/*
 * uffd-wp: 1 if the VMA holding @start is registered for async
 * write-protection (its writes are tracked), 0 if not, or -errno.
 */
int sd_scanner_tracked(struct scanner *s, uint64_t start);

/* Pure: categories of one pagemap entry under a way of tracking. */
uint32_t sd_scan_pme_cats(uint64_t pme, enum scan_written written, uint64_t zero_pfn);

#endif /* SDUMP_PTSCAN_H */
