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
 */
int sd_rst_fill(struct sdump_ctx *ctx, struct chain *c, pid_t pid, int mem_fd, int uffd,
	     struct rst_fill_stats *ret_stats);

#endif /* SDUMP_RST_FILL_H */
