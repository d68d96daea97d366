/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "compat.h"
#include "pagemap.h"
#include "util.h"

/* Entries per pread: 64 Ki pages (256 MiB of address space) in 512 KiB. */
#define PAGEMAP_BATCH 65536

int run_list_add(struct run_list *l, uint64_t start, uint64_t npages, size_t page_size)
{
	if (npages == 0)
		return 0;
	if (l->n > 0) {
		struct page_run *last = &l->r[l->n - 1];

		if (last->start + last->npages * page_size == start) {
			last->npages += npages;
			l->pages += npages;
			return 0;
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct page_run *nr = realloc(l->r, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		l->r = nr;
		l->cap = cap;
	}
	l->r[l->n++] = (struct page_run){ start, npages };
	l->pages += npages;
	return 0;
}

void run_list_release(struct run_list *l)
{
	zfree(&l->r);
	l->n = l->cap = 0;
	l->pages = 0;
}

bool vma_kind_saved(enum vma_kind kind)
{
	return kind == VK_ANON || kind == VK_FILE || kind == VK_SHMEM || kind == VK_VDSO;
}

bool pme_wanted(enum vma_kind kind, uint64_t pme)
{
	switch (kind) {
	case VK_ANON:
	case VK_SHMEM:
	case VK_VDSO:
		return pme & (PME_PRESENT | PME_SWAP);
	case VK_FILE:
		/*
		 * Bit 61 set on a present page: still the page cache's page, the
		 * file supplies it. A swapped page of a private file mapping can
		 * only be an anonymous (copied) page.
		 */
		if (pme & PME_SWAP)
			return true;
		return (pme & PME_PRESENT) && !(pme & PME_FILE);
	default:
		return false;
	}
}

ssize_t pagemap_read(int fd, uint64_t addr, uint64_t *out, size_t npages, size_t page_size)
{
	ssize_t n = pread_all(fd, out, npages * sizeof(uint64_t),
			      (off_t)(addr / page_size * sizeof(uint64_t)));

	if (n < 0)
		return n;
	return n / (ssize_t)sizeof(uint64_t);
}

int pagemap_collect_vma(int fd, const struct vma *v, size_t page_size, struct run_list *runs)
{
	uint64_t *pme;
	uint64_t addr = v->start;
	int r = 0;

	if (!vma_kind_saved(v->kind))
		return 0;
	/*
	 * Shared anonymous memory may hold pages this process never mapped (or
	 * whose page table entries were reclaimed): pagemap cannot see them, so
	 * the whole VMA is saved; zero pages cost nothing in the image.
	 */
	if (v->kind == VK_SHMEM)
		return run_list_add(runs, v->start, (v->end - v->start) / page_size, page_size);
	pme = malloc(PAGEMAP_BATCH * sizeof(*pme));
	if (!pme)
		return -ENOMEM;
	while (addr < v->end) {
		size_t want = MIN((size_t)PAGEMAP_BATCH, (size_t)((v->end - addr) / page_size));
		ssize_t n = pagemap_read(fd, addr, pme, want, page_size);

		if (n <= 0) {
			r = n < 0 ? (int)n : -EIO;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			ssize_t j = i;

			if (!pme_wanted(v->kind, pme[i]))
				continue;
			while (j + 1 < n && pme_wanted(v->kind, pme[j + 1]))
				j++;
			r = run_list_add(runs, addr + (uint64_t)i * page_size, (uint64_t)(j - i + 1),
					 page_size);
			if (r < 0)
				goto out;
			i = j;
		}
		addr += (uint64_t)n * page_size;
	}
out:
	free(pme);
	return r;
}
