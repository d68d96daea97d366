/* SPDX-License-Identifier: MIT */
/*
 * Squashing a chain into one self-contained pass (chain_squash.c), and
 * pruning chains with it (chain_prune.c).
 */
#ifndef SDUMP_CHAIN_SQUASH_H
#define SDUMP_CHAIN_SQUASH_H

#include "sdump.h"
#include "chain.h"
#include "image.h"

/*
 * Write into the empty directory @out one pass equal to the newest pass of
 * @c: its files but pages.img, pagemap.img, stats.img and inventory.img
 * copied, its pages resolved through the chain and stored, no parent; the
 * inventory last, everything synced.
 */
int sd_chain_squash_into(struct sdump_ctx *ctx, struct chain *c, struct img_dir *out,
		      struct sdump_squash_info *ret_info);
/*
 * The same for the chain ending at @dir, in a new temporary directory
 * beside @beside (".NAME.squash-XXXXXX" in its directory), handed back
 * committed in *ret_out (whose path is the temporary one); on failure it
 * is removed again.
 */
int sd_chain_squash_tmp(struct sdump_ctx *ctx, const char *dir, const char *beside,
		     struct img_dir *ret_out, struct sdump_squash_info *ret_info);
/* fsync the directory holding @path. */
int sd_chain_sync_parent(struct sdump_ctx *ctx, const char *path);

#endif /* SDUMP_CHAIN_SQUASH_H */
