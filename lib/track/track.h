/* SPDX-License-Identifier: MIT */
/*
 * Tracking which pages a process wrote between passes. One small interface,
 * one file per backend:
 *   track_soft_dirty.c  clear_refs "4" + pagemap bit 55 (CONFIG_MEM_SOFT_DIRTY)
 *   track_uffd_wp.c     userfaultfd async write-protect + PAGEMAP_SCAN (6.7+)
 *   track_none.c        every pass copies everything
 *
 * Which pass last armed the tracking of a process is kept in a small state
 * file (track_state_*): a pass whose parent is not the pass that last armed
 * tracking, with the same backend, cannot trust the written bits and falls
 * back to a full pass.
 */
#ifndef SDUMP_TRACK_H
#define SDUMP_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "inject.h"
#include "runs.h"
#include "proc.h"
#include "ptscan.h"
#include "seize.h"

struct tracker {
	struct sdump_ctx *ctx;
	const struct track_ops *ops;
	pid_t pid;
	int pidfd;
	struct seized *seized;	/* the frozen threads, for injected syscalls */
	struct injector inj;
	bool incremental;	/* the written bits are valid since the parent pass */
	int fd;			/* the backend's own, or -1 (uffd-wp: our copy of its userfaultfd) */
	int target_fd;		/* the fd the backend keeps in the target between passes, or -1 */
};

/* Where tracking stands for one process (identified by pid and start time). */
struct track_state {
	char pass_id[33];	/* the last pass that armed tracking and was committed */
	char tracker[16];
	int fd;			/* the tracker's target_fd, or -1 */
};

struct track_ops {
	const char *name;
	enum sdump_track id;
	enum scan_written written;
	/* 0 when the backend works on this kernel; -EOPNOTSUPP with *why otherwise */
	int (*probe)(const char **why);
	/*
	 * While frozen, before the pages are scanned. @prev_fd is the state a
	 * previous pass left (uffd-wp: the fd number in the target, or -1).
	 */
	int (*open)(struct tracker *t, int prev_fd);
	/*
	 * In an incremental pass, for each VMA it scans with @sc: 1 when the
	 * VMA's writes have been tracked since the parent pass (vma->tracked),
	 * 0 when it is to be saved whole (uffd-wp: a VMA that is new, or the
	 * userfaultfd was closed), or -errno. NULL: the written bits hold for
	 * every VMA, and none is marked tracked.
	 */
	int (*vma_tracked)(struct tracker *t, struct scanner *sc, const struct vma *v);
	/*
	 * While frozen, after the scan: from now on, writes are tracked afresh.
	 * In VMAs marked tracked, only the pages of @saved not in the parent
	 * (the written ones) lost their protection.
	 */
	int (*arm)(struct tracker *t, const struct vma_list *vmas, const struct run_list *saved);
	void (*close)(struct tracker *t);
	/*
	 * Live dumps (dump/live.c), for a backend that tracks with the VMAs'
	 * userfaultfd registration (uffd-wp): a VMA has one userfaultfd, so
	 * a live dump borrows the VMAs its own userfaultfd registers.
	 * lend_vma() gives @v up (unregistered, v->tracked = false); after
	 * the copy, frozen again, take_back() tracks @vmas afresh as arm()
	 * does, the pages of @written (written since the instant) left so
	 * that the next pass counts them as written. Both NULL for a backend
	 * that sees every write by itself (soft-dirty, none).
	 */
	void (*lend_vma)(struct tracker *t, struct vma *v);
	int (*take_back)(struct tracker *t, const struct vma_list *vmas,
			 const struct run_list *written);
	/*
	 * The number of an fd a pass with this backend left in @pid (@st: the
	 * process's state file, or NULL), which is sdump's and not the
	 * program's; -1 if none. NULL: the backend leaves nothing there.
	 */
	int (*left_fd)(pid_t pid, const struct track_state *st);
};

extern const struct track_ops sd_track_soft_dirty_ops;
extern const struct track_ops sd_track_uffd_wp_ops;
extern const struct track_ops sd_track_none_ops;

/* Whether a live dump borrows the VMAs it protects from @t (track_ops.lend_vma). */
static inline bool track_lends_vmas(const struct tracker *t)
{
	return t->ops->lend_vma != NULL;
}

/*
 * userfaultfd write-protection (@wp) or its removal, with @uffd, of
 * [start, start + len) where it lies in the VMAs @v[0..n), one VMA per
 * call: older kernels (6.1) take ranges within one VMA only. Ranges gone
 * since (-ENOENT) are left alone when unprotecting. -errno, no message.
 */
int sd_track_uffd_wp_range(int uffd, const struct vma *v, size_t n, uint64_t start, uint64_t len,
			bool wp);

/* Run @fn in a child process: its exit status (0 = works), or -errno. */
int sd_track_probe_in_child(int (*fn)(void));

/* The backend for @track; for SDUMP_TRACK_AUTO the first whose probe succeeds. */
const struct track_ops *sd_track_select(struct sdump_ctx *ctx, enum sdump_track track);
const struct track_ops *sd_track_by_name(const char *name);

/*
 * The number of an fd a pass of any backend left in @pid (@st: its state
 * file, or NULL), or -1: the fd table of a final dump leaves it out.
 */
int sd_track_left_fd(pid_t pid, const struct track_state *st);

/* Whether fd @fd of @pid is a userfaultfd (its /proc link says so). */
bool sd_track_is_userfaultfd(pid_t pid, int fd);

/* -ENOENT if there is none; anything unreadable counts as none. */
int sd_track_state_read(pid_t pid, uint64_t start_time, struct track_state *ret);
int sd_track_state_write(pid_t pid, uint64_t start_time, const struct track_state *st);
void sd_track_state_remove(pid_t pid, uint64_t start_time);

#endif /* SDUMP_TRACK_H */
