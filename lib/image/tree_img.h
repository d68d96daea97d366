/* SPDX-License-Identifier: MIT */
/*
 * tree.img: the members of a final dump of a process tree (proc/ptree.h),
 * at the top of its image; each member that is not a zombie has its pass
 * in pid-PID/. Written last, after every member's pass: it is what makes
 * the directory a tree image.
 */
#ifndef SDUMP_TREE_IMG_H
#define SDUMP_TREE_IMG_H

#include <stdbool.h>
#include <stdint.h>

#include "sdump.h"
#include "image.h"
#include "ptree.h"

int sd_treeimg_write(struct sdump_ctx *ctx, struct img_dir *dir, const struct proc_tree *t,
		     uint64_t *ret_size);
/*
 * Read and check @dir's tree: the root first, every other member's parent
 * a member before it, no pid twice, a zombie neither the root nor anyone's
 * parent. -EBADMSG (with a message) for anything else.
 */
int sd_treeimg_read(struct sdump_ctx *ctx, const char *path, struct proc_tree *ret_t);
void sd_tree_release(struct proc_tree *t);
/* Whether directory @path holds a tree.img (a tree image, not a pass). */
bool sd_treeimg_present(const char *path);

#endif /* SDUMP_TREE_IMG_H */
