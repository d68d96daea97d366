/* SPDX-License-Identifier: MIT */
/*
 * /proc/PID/pagemap: which pages of a VMA hold something worth saving, as
 * lists of page runs.
 */
#ifndef SDUMP_PAGEMAP_H
#define SDUMP_PAGEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "proc.h"

struct page_run {
	uint64_t start;		/* address */
	uint64_t npages;
};

struct run_list {
	struct page_run *r;
	size_t n, cap;
	uint64_t pages;		/* sum of npages */
};

/* Append a run, merged with the last one when they touch. -ENOMEM. */
int run_list_add(struct run_list *l, uint64_t start, uint64_t npages, size_t page_size);
void run_list_release(struct run_list *l);

/*
 * Whether a full pass saves the page whose pagemap entry is @pme in a VMA of
 * @kind: anonymous and shmem pages that are present or swapped, pages of
 * private file mappings that were copied on write (present and no longer
 * the file's page, or swapped), the vdso. Never shared file pages or vvar.
 */
bool pme_wanted(enum vma_kind kind, uint64_t pme);

/* Whether pages of a VMA of this kind are ever saved. */
bool vma_kind_saved(enum vma_kind kind);

/*
 * Read the pagemap entries of @npages pages from @addr: -errno, or the
 * number of entries read (fewer only if the range ends past the mappings).
 */
ssize_t pagemap_read(int fd, uint64_t addr, uint64_t *out, size_t npages, size_t page_size);

/* Append to @runs the pages of @v that a full pass saves. */
int pagemap_collect_vma(int fd, const struct vma *v, size_t page_size, struct run_list *runs);

#endif /* SDUMP_PAGEMAP_H */
