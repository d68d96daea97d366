/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "array.h"
#include "compat.h"
#include "runs.h"
#include "util.h"

int sd_run_list_add_shared(struct run_list *l, uint64_t start, uint64_t npages, size_t page_size,
			bool in_parent, bool shared)
{
	if (npages == 0)
		return 0;
	if (l->n > 0) {
		struct page_run *last = &l->r[l->n - 1];

		if (last->in_parent == in_parent && last->shared == shared &&
		    last->start + last->npages * page_size == start) {
			last->npages += npages;
			l->pages += npages;
			return 0;
		}
	}
	if (ARRAY_RESERVE(l->r, l->cap, l->n + 1, 256) < 0)
		return -ENOMEM;
	l->r[l->n++] = (struct page_run){ start, npages, in_parent, shared };
	l->pages += npages;
	return 0;
}

int sd_run_list_add_kind(struct run_list *l, uint64_t start, uint64_t npages, size_t page_size,
		      bool in_parent)
{
	return sd_run_list_add_shared(l, start, npages, page_size, in_parent, false);
}

bool sd_page_shared(uint32_t cats)
{
	return (cats & SC_PRESENT) && !(cats & (SC_FILE | SC_EXCLUSIVE | SC_ZEROPFN));
}

int sd_run_list_add(struct run_list *l, uint64_t start, uint64_t npages, size_t page_size)
{
	return sd_run_list_add_kind(l, start, npages, page_size, false);
}

void sd_run_list_release(struct run_list *l)
{
	zfree(&l->r);
	l->n = l->cap = 0;
	l->pages = 0;
}

bool sd_vma_kind_saved(enum vma_kind kind)
{
	return kind == VK_ANON || kind == VK_FILE || kind == VK_SHMEM || kind == VK_VDSO;
}

bool sd_page_wanted(enum vma_kind kind, uint32_t cats)
{
	/*
	 * The shared zero page: a read of memory never written (or written and
	 * then dropped with MADV_DONTNEED). Nothing to save, and it must not
	 * count as "unchanged since the parent": it reads as zeros now.
	 */
	if ((cats & SC_ZEROPFN) && kind != VK_SHMEM)
		return false;
	/* a guard page holds nothing, and reading it faults */
	if (cats & SC_GUARD)
		return false;
	switch (kind) {
	case VK_ANON:
	case VK_SHMEM:
	case VK_VDSO:
		return cats & (SC_PRESENT | SC_SWAPPED);
	case VK_FILE:
		/*
		 * A present page that is still the page cache's: the file
		 * supplies it. A swapped page of a private file mapping can
		 * only be an anonymous (copied) page.
		 */
		if (cats & SC_SWAPPED)
			return true;
		return (cats & SC_PRESENT) && !(cats & SC_FILE);
	default:
		return false;
	}
}

bool sd_pme_wanted(enum vma_kind kind, uint64_t pme)
{
	return sd_page_wanted(kind, sd_scan_pme_cats(pme, SCAN_WRITTEN_ALL, 0));
}
