/* SPDX-License-Identifier: MIT */
/*
 * Lazy restore (restore --lazy): the process runs before its anonymous
 * memory is in. Its lazy VMAs (sd_rst_vma_lazy) are registered, missing
 * mode, with a userfaultfd of its mm; a handler thread serves each fault
 * from the frame that holds the page, a copier thread pushes every other
 * frame, newest passes first, and once every page is in the userfaultfd is
 * closed: nothing of sdump stays attached (rst_lazy.c).
 *
 * Where the pages come from is a page source (struct rst_lazy_src): the
 * image's chain (rst_lazy_src.c). Post-copy migration reads the same chain
 * while the newest pass's pages.img still arrives: each read of it waits
 * for its bytes (sdump_restore_opts.lazy_fetch, the chain's fetch). Its
 * frames are numbered [0, nframes); each holds pieces, runs of bytes of
 * the image's address space (the addresses the dump saw: the filler maps
 * them onto where they are now, after the process moved or dropped some).
 */
#ifndef SDUMP_RST_LAZY_H
#define SDUMP_RST_LAZY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "chain.h"
#include "rst_fill.h"

struct rst_lazy_piece {
	uint64_t addr, len;	/* image address, bytes (whole pages) */
	const uint8_t *data;
};

struct rst_lazy_frame {
	const struct rst_lazy_piece *p;
	size_t n;
};

/*
 * The callbacks of a page source. RST_LAZY_SLOTS callers at most use a
 * source at the same time, each with its own @slot (0: the fault handler,
 * 1 and up: the copiers): a source keeps a decoder and a buffer per slot.
 * next_push may be called from any of them at once.
 */
#define RST_LAZY_SLOTS 5
struct rst_lazy_src {
	size_t nframes;
	uint64_t pages;		/* in all frames */
	/* The frame that holds image page @addr, or -1: no frame does (the page is zeros). */
	long (*frame_of)(struct rst_lazy_src *s, uint64_t addr);
	/*
	 * The next frame to push in the background, in the source's order
	 * (the working set first), or -1 once every frame was given once.
	 */
	long (*next_push)(struct rst_lazy_src *s);
	/*
	 * Frame @i, read, checked and decoded, into @f for @slot, valid until
	 * the next get of that slot. 0, or -errno with a message said.
	 */
	int (*get)(struct rst_lazy_src *s, unsigned int slot, size_t i, struct rst_lazy_frame *f);
	void (*release)(struct rst_lazy_src *s);
};

/*
 * The chain's source: the frames of @lazy (sd_rst_fill), read from @c's
 * passes; takes @lazy's segments and units, the chain stays the caller's
 * until the source is released.
 */
int sd_rst_lazy_src_chain(struct sdump_ctx *ctx, struct chain *c, struct rst_fill_lazy *lazy,
			  struct rst_lazy_src **ret);

/*
 * Where each image page of a lazy VMA is now in one process (rst_lazy_map.c):
 * spans, sorted and apart, the image's [start - shift, end - shift) now at
 * [start, end). The events of its userfaultfd change it: an munmap or
 * MADV_DONTNEED drops a range (its pages are zeros from then on, never the
 * image's), an mremap moves one (what was at the destination dropped).
 * Each returns 0 or -ENOMEM, the map as it was then.
 */
struct rst_lazy_span {
	uint64_t start, end;
	int64_t shift;
};

struct rst_lazy_map {
	struct rst_lazy_span *sp;
	size_t n, cap;
};

int sd_rst_lazy_map_add(struct rst_lazy_map *m, struct rst_lazy_span s);
int sd_rst_lazy_map_drop(struct rst_lazy_map *m, uint64_t start, uint64_t end);
int sd_rst_lazy_map_move(struct rst_lazy_map *m, uint64_t from, uint64_t to, uint64_t len);
/* The image address of the page now at @addr; false when no span has it. */
bool sd_rst_lazy_map_find(const struct rst_lazy_map *m, uint64_t addr, uint64_t *ret_img);
void sd_rst_lazy_map_release(struct rst_lazy_map *m);

struct rst_lazy_stats {
	uint64_t faults;	/* page faults served (from a frame, or zeros) */
	uint64_t fault_pages;	/* pages placed by the handler */
	uint64_t pushed;	/* pages placed by the copier */
	uint64_t zero_faults;	/* of the faults, on pages no frame holds */
	uint64_t events;	/* fork, mremap, munmap, MADV_DONTNEED seen */
	uint64_t forks;
	uint64_t t_running_us;	/* from the start of the restore to the process running */
	uint64_t t_complete_us;	/* from the start of the restore to every page in */
	pid_t helper;		/* with detach: the helper process that fills the rest */
};

struct rst_lazy;

/* The UFFDIO_API features a lazy fill needs (every event of the mm). */
uint64_t sd_rst_lazy_features(void);
/*
 * The handler runs from here (the restore's own injected calls may touch
 * lazy pages: the kernel's accesses wait on it too): @uffd (UFFDIO_API
 * done with sd_rst_lazy_features()) of @pid's mm, its lazy VMAs @vmas, the
 * pages from @src; @t0 the restore's start; @tree, a tree's member's: the
 * pids of every member (its own among them; fd unused), killed with it on
 * a failure (NULL: a process alone). Owns @uffd and @src from here,
 * whatever it returns.
 */
struct rst_lazy_kin;
int sd_rst_lazy_start(struct sdump_ctx *ctx, pid_t pid, int uffd, const struct rst_fill_lazy *vmas,
		      struct rst_lazy_src *src, uint64_t t0, bool detach, const struct rst_lazy_kin *tree,
		      struct rst_lazy **ret);
/* The process runs: the copier starts pushing (with @detach, in the helper). */
void sd_rst_lazy_running(struct rst_lazy *l);
/*
 * With detach, once the process runs: the fill goes on in a helper process
 * of its own ("sdump-lazy" in ps; nobody's child), which logs its
 * statistics and exits 0 once every page is in, or 1 when the fill failed
 * and the process was killed; here everything is freed. If no helper can
 * be made, the fill ends here first. @ret_stats: what is known by then.
 */
int sd_rst_lazy_detach(struct rst_lazy *l, struct rst_lazy_stats *ret_stats);
/*
 * The same for the @n fillers @ls of a tree's members, one helper for
 * all, which exits 0 once every member's memory is in; @ls[i] freed.
 * @ret_stats[i]: each one's; @root names the tree in the helper's log.
 */
int sd_rst_lazy_detach_all(struct rst_lazy **ls, size_t n, pid_t root, struct rst_lazy_stats *ret_stats);
/*
 * Until every page is in (or the fill failed: the process was killed, the
 * error said); then everything is closed and freed. @ret_stats may be NULL.
 */
int sd_rst_lazy_wait(struct rst_lazy *l, struct rst_lazy_stats *ret_stats);
/* A failed restore (the process killed already): stop and free. */
void sd_rst_lazy_abort(struct rst_lazy *l);

/*
 * What a failed fill kills (rst_lazy_guard.c): the restored process
 * (pid[0], fd[0] its pidfd), for a tree's member every other member too,
 * and everything below each. @said: a tree's flag shared by its members'
 * guards (MAP_SHARED), so that one of them says the tree's end; NULL for
 * a process alone.
 */
struct rst_lazy_kin {
	pid_t *pid;
	int *fd;
	size_t n;
	pid_t root;
	atomic_int *said;
};

/*
 * The guard (rst_lazy_guard.c): a process holding a copy of each
 * userfaultfd, that kills the restored process (and what it forked, and
 * with a tree its other members) if the filler dies first. Started with
 * the first userfaultfd (the caller single threaded); sd_rst_lazy_guard_add
 * gives it a fork's, _close has it close one (every page in), _done ends
 * it; *ret_middle: the process that forks it, to be reaped (sd_orphan_reap). sd_rst_lazy_kill: every process of @k and everything below them
 * killed (stopped first, so that none forks meanwhile), and waited for.
 */
int sd_rst_lazy_guard_start(struct sdump_ctx *ctx, const struct rst_lazy_kin *kin, int uffd, int *ret_sock,
			    pid_t *ret_middle);
int sd_rst_lazy_guard_add(int sock, uint32_t id, int uffd);
int sd_rst_lazy_guard_close(int sock, uint32_t id);
void sd_rst_lazy_guard_done(int sock);
void sd_rst_lazy_kill(const struct rst_lazy_kin *k);

#endif /* SDUMP_RST_LAZY_H */
