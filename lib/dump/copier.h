/* SPDX-License-Identifier: MIT */
/*
 * Copying pages out of a (running or stopped) target into the page stream.
 * process_vm_readv for readable memory, /proc/PID/mem for the rest
 * (PROT_NONE pages, which process_vm_readv refuses).
 */
#ifndef SDUMP_COPIER_H
#define SDUMP_COPIER_H

#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "runs.h"
#include "pages_img.h"
#include "pagemap_img.h"
#include "proc.h"

struct copy_counts {
	uint64_t data;		/* pages stored */
	uint64_t zero;		/* pages found all zero, recorded as such */
	uint64_t lost;		/* pages unmapped since they were collected */
	uint64_t parent;	/* pages recorded as unchanged since the parent pass */
	uint64_t vm_readv_bytes, mem_bytes; /* which way the bytes came */
};

struct page_source {
	pid_t pid;
	int pidfd;		/* to tell "the process exited" from "the page went away" */
	int memfd;		/* /proc/PID/mem */
	size_t page_size;
	const struct vma_list *vmas;
	/*
	 * Optional: called for each piece read, before its pages are kept
	 * (live dumps put back what the target overwrote since the instant).
	 */
	int (*copied)(void *data, uint64_t addr, void *buf, size_t npages);
	void *copied_data;
};

/*
 * Copy every page of @runs into @w, adding the entries (data, zero, or for
 * runs in_parent, parent) to @out in address order. Pages that cannot be read any more are counted as
 * lost and left out. -ESRCH when the process exited meanwhile.
 * Reports the pages copied so far (data, zero and lost, not those in the
 * parent) with sd_progress_update(); the caller begins and ends the phase.
 */
int sd_pages_copy(struct sdump_ctx *ctx, const struct page_source *src, const struct run_list *runs,
	       struct pagestore_writer *w, struct pm_list *out, struct copy_counts *counts);

#endif /* SDUMP_COPIER_H */
