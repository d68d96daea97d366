/* SPDX-License-Identifier: MIT */
/*
 * The memory of a process being restored, filled from its chain: every page
 * goes once, from the frame of the pass that stored it last, straight to its
 * address, with a thread per CPU taking frames in any order.
 */
#ifndef SDUMP_RST_FILL_H
#define SDUMP_RST_FILL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "chain.h"
#include "proc.h"

/* The VMAs a restore maps writable and fills: anonymous, shared anonymous, private file. */
bool sd_rst_vma_filled(const struct vma *v);
/*
 * How VMA @v of an image is mapped to be filled (rst_vmflags.c): the
 * protection and the mmap() flags beyond MAP_FIXED and its kind's; and
 * whether it is writable then (else the fill writes it through
 * /proc/PID/mem).
 */
void sd_rst_vma_map_how(const struct vma *v, int *ret_prot, int *ret_flags);
bool sd_rst_vma_mapped_writable(const struct vma *v);

/*
 * A run of pages one pass stores: bytes [off, off + len) of its page stream
 * go to @addr. A unit: the segments [first, first + n) of one frame.
 */
struct rst_fill_seg {
	size_t pass;
	uint64_t off;		/* in the pass's page stream */
	uint64_t addr;
	uint64_t len;
	bool uffd;		/* in a VMA registered with the userfaultfd: UFFDIO_COPY */
	bool lazy;		/* in a VMA a lazy restore leaves to the process's faults */
};

struct rst_fill_unit {
	size_t pass, frame, first, n;
};

/*
 * A lazy fill (restore --lazy): the anonymous VMAs sd_rst_vma_lazy() takes
 * stay empty, registered with the userfaultfd; what is left of them to
 * write, for the lazy filler (rst_lazy_src.c), who owns it from here:
 * @segs (every segment), the units [first, first + nunits) of @units, the
 * frames read only for lazy VMAs, in their order, newest pass first; and
 * the VMAs registered (sd_rst_lazy_vmas_add, rst_lazy.c).
 */
struct rst_fill_lazy {
	struct rst_fill_seg *segs;
	struct rst_fill_unit *units;
	size_t first, nunits;
	uint64_t pages;		/* the lazy units' */
	uint64_t (*vmas)[2];	/* [start, end) of each VMA registered, nvmas of them */
	size_t nvmas, capvmas;
};

bool sd_rst_vma_lazy(const struct vma *v);
int sd_rst_lazy_vmas_add(struct rst_fill_lazy *l, uint64_t start, uint64_t end);

struct rst_fill_stats {
	uint64_t pages;		/* written: stored pages, and zero pages over private file mappings */
	uint64_t bytes;
	uint64_t uffd_pages;	/* of them, placed with UFFDIO_COPY */
	size_t frames;		/* decompressed */
	unsigned int threads;
};

/*
 * Write what the chain @c stores into the filled VMAs of @pid (traced and
 * stopped, its VMAs mapped as the newest pass lists them, writable, none
 * of their pages present yet), with process_vm_writev, or its /proc/PID/mem
 * @mem_fd where that cannot write. Fresh anonymous memory is zeros
 * already, so its zero pages are skipped. With @uffd, a userfaultfd of the
 * process's mm on which UFFDIO_API was not called yet (or -1), anonymous
 * VMAs written in long runs are registered with it and filled with
 * UFFDIO_COPY, which does not zero a page before it fills it; the caller
 * closes @uffd (which unregisters them) before the process runs anything.
 * With @lazy (and @uffd, on which the caller called UFFDIO_API), what
 * lazy VMAs alone need is left unwritten and handed over in @lazy.
 */
int sd_rst_fill(struct sdump_ctx *ctx, struct chain *c, pid_t pid, int mem_fd, int uffd,
	     struct rst_fill_lazy *lazy, struct rst_fill_stats *ret_stats);

/*
 * A restore built while its chain grows (rst_stage.c: a migration's
 * receiver fills the process round by round). Each VMA of the newest pass
 * is, by its index in c->p[0].vmas: just mapped, empty (RST_VMA_NEW: filled
 * whole, as sd_rst_fill does), mapped and filled already as the pass
 * before records it (RST_VMA_KEPT: only what changed since c->p[1]), or
 * not mapped yet (RST_VMA_LATER: left alone).
 */
enum rst_vma_stage { RST_VMA_NEW = 0, RST_VMA_KEPT = 1, RST_VMA_LATER = 2 };

struct rst_fill_range {
	uint64_t start, end;
};

/*
 * sd_rst_fill by @stage (NULL: every VMA new). Of a kept VMA, what the
 * newest pass stores is written (data and zeros), what it takes from its
 * parent is there already, and what the pass before held but this one
 * records nowhere (the process dropped it) goes in *@ret_drops
 * (*@ret_ndrops ranges, sorted, the caller's to free): the caller gives
 * them back with MADV_DONTNEED (anonymous memory: zeros; a private file
 * mapping: the file's pages).
 */
int sd_rst_fill_staged(struct sdump_ctx *ctx, struct chain *c, pid_t pid, int mem_fd, int uffd,
		    const uint8_t *stage, struct rst_fill_range **ret_drops, size_t *ret_ndrops,
		    struct rst_fill_stats *ret_stats);

#endif /* SDUMP_RST_FILL_H */
