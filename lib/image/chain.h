/* SPDX-License-Identifier: MIT */
/*
 * Reading a chain of passes: an image directory and its parents, newest
 * first, each checked against the pass id its child recorded.
 */
#ifndef SDUMP_CHAIN_H
#define SDUMP_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "sdump.h"
#include "ghost_img.h"
#include "image.h"
#include "pages_img.h"
#include "pass_img.h"
#include "pagemap_img.h"
#include "proc.h"

/* A chain longer than this is refused: it is a loop or a corrupt link. */
#define CHAIN_MAX_PASSES 4096

struct chain_pass {
	struct img_dir dir;
	struct pass_meta meta;
	struct vma_list vmas;
	struct pmimg pm;
	struct pagestore_reader rd;
	bool rd_open;
	struct sdump_stats stats;
	struct ghost_set ghosts;	/* its saved deleted files, read on first use */
	bool ghosts_read;
};

struct chain_tree;

struct chain {
	size_t n;
	struct chain_pass *p;	/* p[0] is the newest pass */
	int file_fd;		/* the mapped file last read for unsaved pages */
	const struct vma *file_vma;
	uint8_t *page;
	/* a member's pass of a tree image: the tree and its other members' chains, on first use */
	struct chain_tree *tree;
	bool in_tree;		/* a chain chain_member.c opened: it looks no further */
};

/* Open @dir and all its parents. -ENOENT missing parent, -EBADMSG wrong or corrupt link. */
int sd_chain_open(struct sdump_ctx *ctx, const char *dir, struct chain *ret_chain);
void sd_chain_release(struct chain *c);
/*
 * Pass @dir, the child of @c's newest, added in front of @c (a restore
 * built while its chain grows: the passes below are not read again).
 * -EBADMSG when it is not that pass's child; @c as it was on any failure.
 */
int sd_chain_push(struct sdump_ctx *ctx, const char *dir, struct chain *c);

/*
 * The dumped memory of [addr, addr + len) into @out, as the newest pass and
 * its parents record it: stored pages, zero pages, pages of file mappings
 * never saved from their file (which must be the file that was mapped:
 * -ESTALE; with @lenient, zeros when the file is gone or changed), of a
 * deleted file from its contents in the newest pass (a pre-dump has none:
 * -ENOENT, or with @lenient zeros), anything else zeros. The caller checks
 * that the range lies inside recorded VMAs.
 */
int sd_chain_read_range(struct sdump_ctx *ctx, struct chain *c, uint64_t addr, void *out, size_t len,
		     bool lenient);
/*
 * The lowest address >= @addr that the newest pass records (data, zero or
 * in a parent), or UINT64_MAX. Every page below it is PAGE_ABSENT: a walk
 * over a large sparse VMA jumps there instead of resolving page by page.
 */
uint64_t sd_chain_next_recorded(const struct chain *c, uint64_t addr);
/*
 * A page of @c's newest pass that another member of its tree saves
 * (chain_member.c): shared memory VMA @v maps (v->shared_pid) at @page,
 * read from the pass of the first member of tree.img (in the directory
 * above the pass) that maps that part of its object, zeros if none
 * does; a deleted file's saved by another member (GhostFile.shared_pid),
 * at @off, from that member's ghosts.img. -EBADMSG where the tree does not
 * have it.
 */
int sd_chain_member_page(struct sdump_ctx *ctx, struct chain *c, const struct vma *v, uint64_t page,
		      uint8_t *out, size_t psz, bool lenient);
int sd_chain_member_ghost(struct sdump_ctx *ctx, struct chain *c, const struct ghost_file *f,
		       uint64_t off, uint8_t *out, size_t psz, bool lenient);
void sd_chain_tree_release(struct chain *c);

/*
 * Where the pages of [a, b) come from, as pass @pass and its parents
 * record them: @fn once per run, in address order, with PM_DATA (the
 * pass whose stream holds it, at @off) or PM_ZERO; what no pass records
 * is left out. -EBADMSG for a run in a parent the chain does not have.
 */
typedef int (*sd_chain_walk_fn)(void *data, enum pm_kind kind, size_t pass, uint64_t off,
				uint64_t addr, uint64_t len);
int sd_chain_walk(struct sdump_ctx *ctx, const struct chain *c, size_t pass, uint64_t a, uint64_t b,
	       sd_chain_walk_fn fn, void *data);
/* The page reader of pass @pass, opened on first use. */
int sd_chain_reader(struct sdump_ctx *ctx, struct chain *c, size_t pass,
		 struct pagestore_reader **ret_rd);

#endif /* SDUMP_CHAIN_H */
