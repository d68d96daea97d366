/* SPDX-License-Identifier: MIT */
/*
 * Live dumps: the image is the process at the instant it was frozen, but
 * the pages are copied after it runs on. A userfaultfd in synchronous
 * write-protect mode, created in the target and then held by sdump alone,
 * protects the pages to save; a handler thread copies a page before the
 * target's first write to it goes through, the copier copies the rest.
 *
 * Pages the target writes during the copy (they fault) are kept in
 * live->written: a tracker that lent its VMAs (uffd-wp) is given them back
 * and the next pass counts them as written (sd_live_handover()); any other
 * (soft-dirty) sees them by itself.
 */
#ifndef SDUMP_LIVE_H
#define SDUMP_LIVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "runs.h"
#include "proc.h"
#include "track.h"

struct live {
	struct sdump_ctx *ctx;
	pid_t pid;
	int pidfd, memfd;
	int uffd;		/* the only reference to the target's copy-before-write userfaultfd */
	int stopfd;		/* eventfd: the handler thread ends */
	size_t psz;
	bool lift;		/* the copier lifts the protection of what it copied */
	bool frozen;		/* every page was copied while frozen: no userfaultfd */
	const struct run_list *runs;	/* the pages of the pass (sorted) */
	uint64_t *first;	/* index of the first page of runs->r[i] among the pages to copy */
	uint64_t npages;	/* pages to copy */
	uint8_t *done;		/* per page to copy: the copier has it */
	void **saved;		/* per page to copy: its contents at the instant, or NULL */
	void **allocs;		/* the memory of the saved pages */
	size_t nallocs, cap_allocs;
	struct vma *regs;	/* the VMAs registered with uffd */
	size_t nregs;
	pthread_mutex_t lock;
	pthread_t thread;
	bool thread_running;
	struct run_list written;	/* written (or unmapped) by the target since the instant */
	uint64_t faults;	/* write faults served */
	uint64_t saved_pages;	/* pages copied ahead of a write or while frozen */
	int error;		/* the handler failed or saw the image stop being one instant */
	char errmsg[256];
	/* memory for the saved pages faulted in before the freeze (sd_live_prepare()), used first */
	uint8_t *arena;
	size_t arena_len, arena_used;
};

/* 0 when this kernel can protect pages with a synchronous userfaultfd; else -EOPNOTSUPP and *why. */
int sd_live_probe(const char **why);

/*
 * Before the seize: @bytes of memory for the pages saved while frozen,
 * faulted in now (the first write to fresh memory costs a fault per page,
 * which on a host that takes free memory back costs more than the copy:
 * 13-57 ms for 2700 pages here), taken before any other. Kept over
 * sd_live_arm(); sd_live_release() frees it. A failure only leaves none.
 */
void sd_live_prepare(struct live *l, uint64_t bytes);
/* The most memory a live dump copies into while frozen (sd_live_copy_frozen()). */
uint64_t sd_live_frozen_max(void);

/*
 * Whether copying the @copy pages to save (of @present in the pass) into
 * memory while frozen is quicker than write-protecting them all (few pages
 * written since the parent).
 */
bool sd_live_copy_frozen(uint64_t copy, uint64_t present, size_t page_size);

/*
 * While frozen, after the pass collected @runs in @vmas: create the
 * userfaultfd in the target (with @t's injector), take it and close it
 * there, register and protect, and copy at once what cannot be protected.
 * A tracker that lends its VMAs (track_lends_vmas()) lends those the live
 * userfaultfd registers (they are marked untracked, vma->tracked = false),
 * and tracking is armed (@t's arm) for the VMAs that stay with it.
 * With @frozen every page is copied now, and no userfaultfd is made.
 */
int sd_live_arm(struct tracker *t, int memfd, struct vma_list *vmas, const struct run_list *runs,
	     bool frozen, struct live *ret);
/* Start serving write faults (before the target resumes). */
int sd_live_start(struct live *l);
/*
 * The copier's hook: pages [addr, addr + npages) were just read into @buf.
 * Puts back the contents saved at the instant, marks them copied and, in
 * lift mode, lets the target write them without a fault.
 */
int sd_live_copied(void *data, uint64_t addr, void *buf, size_t npages);
/* End the handler; the error it saw, if any (logged). */
int sd_live_stop(struct live *l);
/*
 * For a tracker that lends its VMAs, with the target frozen again: drop the
 * copy-before-write protection and give the VMAs registered at the instant
 * (still there, unchanged: @now) back to the tracker (its take_back), so
 * that the next pass sees the pages written since the instant as written.
 */
int sd_live_handover(struct live *l, struct tracker *t, struct vma_list *now);
/* Close everything; the target's writers, if any are waiting, go on. */
void sd_live_release(struct live *l);

#endif /* SDUMP_LIVE_H */
