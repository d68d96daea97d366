/* SPDX-License-Identifier: MIT */
/*
 * pagemap.img: the runs of pages a pass records (stored here, zero, or in
 * the parent) and the frame table of pages.img. Building, writing, reading
 * and validating it; no processes involved.
 */
#ifndef SDUMP_PAGEMAP_IMG_H
#define SDUMP_PAGEMAP_IMG_H

#include <stddef.h>
#include <stdint.h>

#include "sdump.h"
#include "image.h"
#include "pages_img.h"

/* Values of the PagesKind enum in proto/pagemap.proto. */
enum pm_kind { PM_DATA = 1, PM_ZERO = 2, PM_PARENT = 3 };

/*
 * The end of the user address space, the highest address an image may
 * name: x86-64 with 4-level page tables (TASK_SIZE_MAX is 2^47 - 4096). A
 * process that mapped memory above it (5-level paging, on request) is
 * refused at dump time.
 */
#define PM_ADDR_LIMIT (1ull << 47)

struct pm_entry {
	uint64_t vaddr;
	uint64_t npages;
	enum pm_kind kind;
	uint64_t off;		/* PM_DATA: byte offset in the page stream */
};

struct pm_list {
	struct pm_entry *e;
	size_t n, cap;
};

/*
 * Append a run, merged with the last entry when it continues it (same kind,
 * adjacent addresses and, for data, adjacent stream offsets). Entries must
 * be added in increasing address order.
 */
int sd_pm_list_add(struct pm_list *l, uint64_t vaddr, uint64_t npages, enum pm_kind kind,
		uint64_t off, size_t page_size);
void sd_pm_list_release(struct pm_list *l);
/* The first entry that ends after @addr, or NULL. */
const struct pm_entry *sd_pm_list_find_ge(const struct pm_list *l, uint64_t addr, size_t page_size);
/* The entry holding @addr, or NULL. */
const struct pm_entry *sd_pm_list_find(const struct pm_list *l, uint64_t addr, size_t page_size);

/* Everything pagemap.img holds. */
struct pmimg {
	uint32_t page_size;
	uint32_t frame_size;
	uint64_t stream_bytes;
	uint64_t pages_file_size;
	struct pagestore_frame *frames;
	size_t nframes;
	struct pm_list list;
};

int sd_pmimg_write(struct sdump_ctx *ctx, struct img_dir *dir, const struct pmimg *pm,
		uint64_t *ret_size);
/*
 * Read and validate: entries sorted, not overlapping, page aligned, below
 * PM_ADDR_LIMIT, data inside the stream. -EBADMSG otherwise.
 */
int sd_pmimg_read(struct sdump_ctx *ctx, struct img_dir *dir, struct pmimg *ret_pm);
void sd_pmimg_release(struct pmimg *pm);

#endif /* SDUMP_PAGEMAP_IMG_H */
