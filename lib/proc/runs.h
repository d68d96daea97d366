/* SPDX-License-Identifier: MIT */
/*
 * Which pages of a VMA a pass saves, and the lists of page runs a pass
 * works through: runs to copy, and runs unchanged since the parent pass.
 */
#ifndef SDUMP_RUNS_H
#define SDUMP_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "proc.h"
#include "ptscan.h"

struct page_run {
	uint64_t start;		/* address */
	uint64_t npages;
	bool in_parent;		/* unchanged since the parent pass: not copied */
	bool shared;		/* anonymous pages another process maps too (SC_EXCLUSIVE): not pinned */
};

struct run_list {
	struct page_run *r;
	size_t n, cap;
	uint64_t pages;		/* sum of npages */
};

/* Append a run to copy, merged with the last one when they touch. -ENOMEM. */
int sd_run_list_add(struct run_list *l, uint64_t start, uint64_t npages, size_t page_size);
/* The same for a run to copy or (@in_parent) to record as unchanged. */
int sd_run_list_add_kind(struct run_list *l, uint64_t start, uint64_t npages, size_t page_size,
		      bool in_parent);
/* The same for pages to copy without pinning them (@shared, see page_run). */
int sd_run_list_add_shared(struct run_list *l, uint64_t start, uint64_t npages, size_t page_size,
			bool in_parent, bool shared);
/* Whether pages of these scan categories are anonymous ones another process maps too. */
bool sd_page_shared(uint32_t cats);
void sd_run_list_release(struct run_list *l);

/* sd_page_wanted() of one pagemap entry. */
bool sd_pme_wanted(enum vma_kind kind, uint64_t pme);

/* Whether pages of a VMA of this kind are ever saved. */
bool sd_vma_kind_saved(enum vma_kind kind);

/*
 * Whether a pass saves a page with these scan categories (SC_* of scan.h)
 * in a VMA of @kind: anonymous and shmem pages that are present or swapped,
 * pages of private file mappings that were copied on write (present and no
 * longer the file's page, or swapped), the vdso. Never shared file pages
 * or vvar.
 */
bool sd_page_wanted(enum vma_kind kind, uint32_t cats);

#endif /* SDUMP_RUNS_H */
