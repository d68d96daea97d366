/* SPDX-License-Identifier: MIT */
/* Pagemap entry bits, page run lists, pagemap.img entry lists, zero pages. */
#include <stdint.h>
#include <string.h>

#include "compat.h"
#include "runs.h"
#include "ptscan.h"
#include "copier.h"
#include "util.h"
#include "pagemap_img.h"
#include "unit.h"

#define PS 4096u

static const enum vma_kind all_kinds[] = { VK_ANON, VK_FILE, VK_FILE_SHARED, VK_SHMEM,
					   VK_VDSO, VK_VVAR, VK_VSYSCALL };

/* Bits a real entry carries besides the flags: a PFN or swap entry, soft-dirty. */
static const uint64_t noise[] = { 0, 0x12345, PME_SOFT_DIRTY, PME_SOFT_DIRTY | 0x7ffffffffull,
				  PME_EXCLUSIVE | 0x1 };

static bool expected_wanted(enum vma_kind kind, bool present, bool swap, bool file, uint64_t pme)
{
	/* swap type 31 without present: a uffd-wp pte marker, no page at all */
	if (swap && !present && (pme & 0x1f) == 0x1f)
		return false;
	switch (kind) {
	case VK_ANON:
	case VK_SHMEM:
	case VK_VDSO:
		return present || swap;
	case VK_FILE:
		/* present and copied on write (no longer the file's), or swapped */
		return swap || (present && !file);
	default:
		return false;
	}
}

static void test_pme_wanted_table(void)
{
	for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++) {
		for (unsigned int bits = 0; bits < 8; bits++) {
			bool present = bits & 1, swap = bits & 2, file = bits & 4;

			for (size_t n = 0; n < sizeof(noise) / sizeof(noise[0]); n++) {
				uint64_t pme = noise[n] | (present ? PME_PRESENT : 0) |
					       (swap ? PME_SWAP : 0) | (file ? PME_FILE : 0);
				bool got = sd_pme_wanted(all_kinds[k], pme);
				bool want = expected_wanted(all_kinds[k], present, swap, file, pme);

				if (got != want)
					fprintf(stderr, "  kind %d pme %#llx\n", all_kinds[k],
						(unsigned long long)pme);
				ASSERT_EQ(got, want);
			}
		}
	}
}

/* The cases that matter, spelled out. */
static void test_pme_wanted_cases(void)
{
	/* not mapped */
	ASSERT_TRUE(!sd_pme_wanted(VK_ANON, 0));
	ASSERT_TRUE(!sd_pme_wanted(VK_FILE, 0));
	/* soft-dirty alone says nothing about contents */
	ASSERT_TRUE(!sd_pme_wanted(VK_ANON, PME_SOFT_DIRTY));
	ASSERT_TRUE(sd_pme_wanted(VK_ANON, PME_PRESENT | 0x1234));
	ASSERT_TRUE(sd_pme_wanted(VK_ANON, PME_SWAP | 0x1234));
	ASSERT_TRUE(sd_pme_wanted(VK_SHMEM, PME_PRESENT | PME_FILE));
	ASSERT_TRUE(sd_pme_wanted(VK_VDSO, PME_PRESENT | PME_FILE));
	/* private file: the page cache's page vs a copied one */
	ASSERT_TRUE(!sd_pme_wanted(VK_FILE, PME_PRESENT | PME_FILE));
	ASSERT_TRUE(sd_pme_wanted(VK_FILE, PME_PRESENT));
	ASSERT_TRUE(sd_pme_wanted(VK_FILE, PME_SWAP));
	ASSERT_TRUE(sd_pme_wanted(VK_FILE, PME_SWAP | PME_FILE));
	ASSERT_TRUE(!sd_pme_wanted(VK_FILE, PME_FILE));
	/* never */
	ASSERT_TRUE(!sd_pme_wanted(VK_FILE_SHARED, PME_PRESENT));
	ASSERT_TRUE(!sd_pme_wanted(VK_FILE_SHARED, PME_PRESENT | PME_FILE | PME_SOFT_DIRTY));
	ASSERT_TRUE(!sd_pme_wanted(VK_VVAR, PME_PRESENT));
	ASSERT_TRUE(!sd_pme_wanted(VK_VSYSCALL, PME_PRESENT | PME_SWAP));
}

static void test_vma_kind_saved(void)
{
	ASSERT_TRUE(sd_vma_kind_saved(VK_ANON));
	ASSERT_TRUE(sd_vma_kind_saved(VK_FILE));
	ASSERT_TRUE(sd_vma_kind_saved(VK_SHMEM));
	ASSERT_TRUE(sd_vma_kind_saved(VK_VDSO));
	ASSERT_TRUE(!sd_vma_kind_saved(VK_FILE_SHARED));
	ASSERT_TRUE(!sd_vma_kind_saved(VK_VVAR));
	ASSERT_TRUE(!sd_vma_kind_saved(VK_VSYSCALL));
	ASSERT_TRUE(!sd_vma_kind_saved((enum vma_kind)0));
	/* consistent with sd_pme_wanted: a kind never saved wants no page */
	for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++)
		if (!sd_vma_kind_saved(all_kinds[k]))
			ASSERT_TRUE(!sd_pme_wanted(all_kinds[k], PME_PRESENT | PME_SWAP));
}

static void test_run_list(void)
{
	struct run_list l = { 0 };

	ASSERT_OK(sd_run_list_add(&l, 0x10000, 2, PS));
	ASSERT_EQ(l.n, 1);
	ASSERT_EQ(l.pages, 2);
	/* adjacent: merged */
	ASSERT_OK(sd_run_list_add(&l, 0x12000, 3, PS));
	ASSERT_EQ(l.n, 1);
	ASSERT_EQ(l.r[0].start, 0x10000);
	ASSERT_EQ(l.r[0].npages, 5);
	ASSERT_EQ(l.pages, 5);
	/* one page gap: not merged */
	ASSERT_OK(sd_run_list_add(&l, 0x16000, 1, PS));
	ASSERT_EQ(l.n, 2);
	ASSERT_EQ(l.r[1].start, 0x16000);
	ASSERT_EQ(l.r[1].npages, 1);
	ASSERT_EQ(l.pages, 6);
	/* zero pages: nothing */
	ASSERT_OK(sd_run_list_add(&l, 0x30000, 0, PS));
	ASSERT_EQ(l.n, 2);
	ASSERT_EQ(l.pages, 6);
	/* merges with the last run only */
	ASSERT_OK(sd_run_list_add(&l, 0x17000, 1, PS));
	ASSERT_EQ(l.n, 2);
	ASSERT_EQ(l.r[1].npages, 2);
	ASSERT_EQ(l.r[0].npages, 5);
	ASSERT_EQ(l.pages, 7);
	/* a gap of two pages: a new run */
	ASSERT_OK(sd_run_list_add(&l, 0x1a000, 1, PS));
	ASSERT_EQ(l.n, 3);
	sd_run_list_release(&l);
	ASSERT_EQ(l.n, 0);
	ASSERT_EQ(l.pages, 0);
	ASSERT_TRUE(l.r == NULL);

	ASSERT_OK(sd_run_list_add(&l, 0x100000, 1, 65536));
	ASSERT_OK(sd_run_list_add(&l, 0x110000, 1, 65536));
	ASSERT_EQ(l.n, 1);
	ASSERT_EQ(l.r[0].npages, 2);
	sd_run_list_release(&l);
}

/* Growing past the first allocation keeps every run. */
static void test_run_list_many(void)
{
	struct run_list l = { 0 };
	uint64_t total = 0;

	for (uint64_t i = 0; i < 5000; i++) {
		ASSERT_OK(sd_run_list_add(&l, i * 0x10000, i % 7 + 1, PS));
		total += i % 7 + 1;
	}
	ASSERT_EQ(l.n, 5000);
	ASSERT_EQ(l.pages, total);
	for (size_t i = 0; i < l.n; i++) {
		ASSERT_EQ(l.r[i].start, i * 0x10000);
		ASSERT_EQ(l.r[i].npages, i % 7 + 1);
	}
	sd_run_list_release(&l);
}

static void test_pm_list_merge(void)
{
	struct pm_list l = { 0 };

	ASSERT_OK(sd_pm_list_add(&l, 0x10000, 2, PM_DATA, 0, PS));
	/* data, adjacent address and offset: merged */
	ASSERT_OK(sd_pm_list_add(&l, 0x12000, 1, PM_DATA, 2 * PS, PS));
	ASSERT_EQ(l.n, 1);
	ASSERT_EQ(l.e[0].vaddr, 0x10000);
	ASSERT_EQ(l.e[0].npages, 3);
	ASSERT_EQ(l.e[0].kind, PM_DATA);
	ASSERT_EQ(l.e[0].off, 0);
	/* data, adjacent address, offset not adjacent: kept apart */
	ASSERT_OK(sd_pm_list_add(&l, 0x13000, 1, PM_DATA, 10 * PS, PS));
	ASSERT_EQ(l.n, 2);
	ASSERT_EQ(l.e[1].off, 10 * PS);
	/* data, adjacent offset, address not adjacent: kept apart */
	ASSERT_OK(sd_pm_list_add(&l, 0x15000, 1, PM_DATA, 11 * PS, PS));
	ASSERT_EQ(l.n, 3);
	/* another kind: kept apart even though adjacent */
	ASSERT_OK(sd_pm_list_add(&l, 0x16000, 2, PM_ZERO, 12 * PS, PS));
	ASSERT_EQ(l.n, 4);
	ASSERT_EQ(l.e[3].kind, PM_ZERO);
	/* non-data entries carry no offset */
	ASSERT_EQ(l.e[3].off, 0);
	/* zero, adjacent: merged whatever the offset */
	ASSERT_OK(sd_pm_list_add(&l, 0x18000, 1, PM_ZERO, 999, PS));
	ASSERT_EQ(l.n, 4);
	ASSERT_EQ(l.e[3].npages, 3);
	/* parent after zero: apart; parent after parent: merged */
	ASSERT_OK(sd_pm_list_add(&l, 0x19000, 1, PM_PARENT, 0, PS));
	ASSERT_OK(sd_pm_list_add(&l, 0x1a000, 4, PM_PARENT, 0, PS));
	ASSERT_EQ(l.n, 5);
	ASSERT_EQ(l.e[4].kind, PM_PARENT);
	ASSERT_EQ(l.e[4].vaddr, 0x19000);
	ASSERT_EQ(l.e[4].npages, 5);
	/* parent with a gap: apart */
	ASSERT_OK(sd_pm_list_add(&l, 0x20000, 1, PM_PARENT, 0, PS));
	ASSERT_EQ(l.n, 6);
	/* data after parent, adjacent: apart */
	ASSERT_OK(sd_pm_list_add(&l, 0x21000, 1, PM_DATA, 12 * PS, PS));
	ASSERT_EQ(l.n, 7);
	ASSERT_EQ(l.e[6].off, 12 * PS);
	/* zero pages: nothing */
	ASSERT_OK(sd_pm_list_add(&l, 0x22000, 0, PM_DATA, 13 * PS, PS));
	ASSERT_EQ(l.n, 7);
	ASSERT_EQ(l.e[6].npages, 1);
	/* the earlier entries were left alone */
	ASSERT_EQ(l.e[0].npages, 3);
	ASSERT_EQ(l.e[1].vaddr, 0x13000);
	ASSERT_EQ(l.e[1].npages, 1);
	ASSERT_EQ(l.e[2].vaddr, 0x15000);
	ASSERT_EQ(l.e[2].off, 11 * PS);
	sd_pm_list_release(&l);
	ASSERT_EQ(l.n, 0);
	ASSERT_TRUE(l.e == NULL);
}

static void test_pm_list_find(void)
{
	struct pm_list l = { 0 };
	const size_t n = 1000;

	ASSERT_TRUE(sd_pm_list_find(&l, 0x1000, PS) == NULL);
	/* entry i: [0x100000 + i * 16 pages, + (i % 5 + 1) pages), alternating kinds */
	for (size_t i = 0; i < n; i++)
		ASSERT_OK(sd_pm_list_add(&l, 0x100000 + i * 16 * PS, i % 5 + 1,
				      i % 2 ? PM_ZERO : PM_DATA, i * 16 * PS, PS));
	ASSERT_EQ(l.n, n);
	ASSERT_TRUE(sd_pm_list_find(&l, 0, PS) == NULL);
	ASSERT_TRUE(sd_pm_list_find(&l, 0xfffff, PS) == NULL);
	ASSERT_TRUE(sd_pm_list_find(&l, UINT64_MAX, PS) == NULL);
	for (size_t i = 0; i < n; i++) {
		uint64_t start = 0x100000 + i * 16 * PS, end = start + (i % 5 + 1) * PS;

		ASSERT_TRUE(sd_pm_list_find(&l, start, PS) == &l.e[i]);
		ASSERT_TRUE(sd_pm_list_find(&l, start + 1, PS) == &l.e[i]);
		ASSERT_TRUE(sd_pm_list_find(&l, end - 1, PS) == &l.e[i]);
		ASSERT_TRUE(sd_pm_list_find(&l, end, PS) == NULL);
		ASSERT_TRUE(sd_pm_list_find(&l, start - 1, PS) == NULL);
	}
	sd_pm_list_release(&l);

	/* a single entry */
	ASSERT_OK(sd_pm_list_add(&l, 0x5000, 2, PM_PARENT, 0, PS));
	ASSERT_TRUE(sd_pm_list_find(&l, 0x4fff, PS) == NULL);
	ASSERT_TRUE(sd_pm_list_find(&l, 0x5000, PS) == &l.e[0]);
	ASSERT_TRUE(sd_pm_list_find(&l, 0x6fff, PS) == &l.e[0]);
	ASSERT_TRUE(sd_pm_list_find(&l, 0x7000, PS) == NULL);
	/* the page size is the caller's */
	ASSERT_TRUE(sd_pm_list_find(&l, 0x7000, 2 * PS) == &l.e[0]);
	sd_pm_list_release(&l);
}

static void test_page_is_zero(void)
{
	static uint64_t words[PS / 8];
	unsigned char *page = (unsigned char *)words;

	memset(page, 0, PS);
	ASSERT_TRUE(sd_page_is_zero(page, PS));
	/* one byte set, at the start, in the middle, at the end */
	page[0] = 1;
	ASSERT_TRUE(!sd_page_is_zero(page, PS));
	page[0] = 0;
	page[PS / 2] = 0x80;
	ASSERT_TRUE(!sd_page_is_zero(page, PS));
	page[PS / 2] = 0;
	page[PS - 1] = 1;
	ASSERT_TRUE(!sd_page_is_zero(page, PS));
	page[PS - 1] = 0;
	ASSERT_TRUE(sd_page_is_zero(page, PS));
	/* every position, every bit of one byte */
	for (size_t i = 0; i < PS; i++) {
		page[i] = (unsigned char)(1u << (i % 8));
		if (sd_page_is_zero(page, PS))
			fprintf(stderr, "  byte %zu set, page seen as zero\n", i);
		ASSERT_TRUE(!sd_page_is_zero(page, PS));
		page[i] = 0;
	}
	ASSERT_TRUE(sd_page_is_zero(page, PS));
}

/* Larger pages: the last byte of a 64 KiB page counts too. */
static void test_page_is_zero_large(void)
{
	const size_t psz = 65536;
	uint64_t *words = calloc(psz / 8, 8);
	unsigned char *page = (unsigned char *)words;
	bool zero, one_mid, one_end;

	ASSERT_TRUE(words != NULL);
	zero = sd_page_is_zero(page, psz);
	page[psz / 2 + 3] = 1;
	one_mid = sd_page_is_zero(page, psz);
	page[psz / 2 + 3] = 0;
	page[psz - 1] = 1;
	one_end = sd_page_is_zero(page, psz);
	free(words);
	ASSERT_TRUE(zero);
	ASSERT_TRUE(!one_mid);
	ASSERT_TRUE(!one_end);
}

/* Pagemap entries to scan categories, per way of tracking. */
static void test_scan_pme_cats(void)
{
	const uint64_t zero_pfn = 0x1234;

	/* a uffd-wp pte marker (swap type 31) is no page */
	ASSERT_EQ(sd_scan_pme_cats(PME_SWAP | PME_UFFD_WP | 0x3f, SCAN_WRITTEN_UFFD_WP, 0), 0);
	/* a guard page's marker (bit 58, as Linux 6.18 reports it) is a guard, never wanted */
	ASSERT_EQ(sd_scan_pme_cats(0x440000000000009full, SCAN_WRITTEN_UFFD_WP, 0), SC_GUARD);
	ASSERT_EQ(sd_scan_pme_cats(PME_SWAP | PME_GUARD | 0x1f, SCAN_WRITTEN_ALL, 0), SC_GUARD);
	ASSERT_TRUE(!sd_page_wanted(VK_ANON, SC_GUARD));
	ASSERT_TRUE(!sd_page_wanted(VK_SHMEM, SC_GUARD));
	ASSERT_TRUE(!sd_pme_wanted(VK_ANON, PME_SWAP | PME_GUARD | 0x1f));
	/* a real swapped page, type 0: swapped; written unless it kept the wp bit */
	ASSERT_EQ(sd_scan_pme_cats(PME_SWAP | 0x20, SCAN_WRITTEN_UFFD_WP, 0), SC_SWAPPED | SC_WRITTEN);
	ASSERT_EQ(sd_scan_pme_cats(PME_SWAP | PME_UFFD_WP | 0x20, SCAN_WRITTEN_UFFD_WP, 0), SC_SWAPPED);
	/* soft-dirty: bit 55 */
	ASSERT_EQ(sd_scan_pme_cats(PME_PRESENT | 7, SCAN_WRITTEN_SOFT_DIRTY, 0), SC_PRESENT);
	ASSERT_EQ(sd_scan_pme_cats(PME_PRESENT | PME_SOFT_DIRTY | 7, SCAN_WRITTEN_SOFT_DIRTY, 0),
		  SC_PRESENT | SC_WRITTEN);
	/* no tracking: everything written */
	ASSERT_EQ(sd_scan_pme_cats(PME_PRESENT | PME_FILE, SCAN_WRITTEN_ALL, 0),
		  SC_PRESENT | SC_FILE | SC_WRITTEN);
	/* the zero page, when its PFN is known */
	ASSERT_EQ(sd_scan_pme_cats(PME_PRESENT | zero_pfn, SCAN_WRITTEN_ALL, zero_pfn),
		  SC_PRESENT | SC_ZEROPFN | SC_WRITTEN);
	ASSERT_EQ(sd_scan_pme_cats(PME_PRESENT | zero_pfn, SCAN_WRITTEN_ALL, 0), SC_PRESENT | SC_WRITTEN);
	/* bit 56: mapped by this process only; without it an anonymous page is shared (fork, KSM) */
	ASSERT_EQ(sd_scan_pme_cats(PME_PRESENT | PME_EXCLUSIVE | 7, SCAN_WRITTEN_ALL, 0),
		  SC_PRESENT | SC_EXCLUSIVE | SC_WRITTEN);
	ASSERT_EQ(sd_scan_pme_cats(PME_SWAP | PME_EXCLUSIVE | 0x20, SCAN_WRITTEN_ALL, 0), SC_SWAPPED | SC_WRITTEN);
	ASSERT_TRUE(sd_page_shared(SC_PRESENT | SC_WRITTEN));
	ASSERT_TRUE(!sd_page_shared(SC_PRESENT | SC_EXCLUSIVE));
	ASSERT_TRUE(!sd_page_shared(SC_PRESENT | SC_FILE));
	ASSERT_TRUE(!sd_page_shared(SC_PRESENT | SC_ZEROPFN));
	ASSERT_TRUE(!sd_page_shared(SC_SWAPPED));
	/* ... is never saved, and never "unchanged since the parent" either */
	ASSERT_TRUE(!sd_page_wanted(VK_ANON, SC_PRESENT | SC_ZEROPFN));
	ASSERT_TRUE(!sd_page_wanted(VK_FILE, SC_PRESENT | SC_ZEROPFN));
	ASSERT_TRUE(sd_page_wanted(VK_SHMEM, SC_PRESENT | SC_ZEROPFN));
}

/* Runs to copy and runs in the parent never merge into one another. */
static void test_run_list_kinds(void)
{
	struct run_list l = { 0 };

	ASSERT_OK(sd_run_list_add_kind(&l, 0x10000, 2, PS, false));
	ASSERT_OK(sd_run_list_add_kind(&l, 0x12000, 2, PS, true));
	ASSERT_OK(sd_run_list_add_kind(&l, 0x14000, 1, PS, true));
	ASSERT_OK(sd_run_list_add_kind(&l, 0x15000, 1, PS, false));
	ASSERT_EQ(l.n, 3);
	ASSERT_TRUE(!l.r[0].in_parent && l.r[1].in_parent && !l.r[2].in_parent);
	ASSERT_EQ(l.r[1].npages, 3);
	ASSERT_EQ(l.pages, 6);
	/* nor do runs of pages shared with another process and runs of pages of its own */
	ASSERT_OK(sd_run_list_add_shared(&l, 0x16000, 1, PS, false, true));
	ASSERT_OK(sd_run_list_add_shared(&l, 0x17000, 2, PS, false, true));
	ASSERT_OK(sd_run_list_add_shared(&l, 0x19000, 1, PS, false, false));
	ASSERT_EQ(l.n, 5);
	ASSERT_TRUE(l.r[3].shared && l.r[3].npages == 3 && !l.r[4].shared && !l.r[2].shared);
	sd_run_list_release(&l);
}

int main(void)
{
	RUN(test_scan_pme_cats);
	RUN(test_run_list_kinds);
	RUN(test_pme_wanted_table);
	RUN(test_pme_wanted_cases);
	RUN(test_vma_kind_saved);
	RUN(test_run_list);
	RUN(test_run_list_many);
	RUN(test_pm_list_merge);
	RUN(test_pm_list_find);
	RUN(test_page_is_zero);
	RUN(test_page_is_zero_large);
	return unit_summary();
}
