/* SPDX-License-Identifier: MIT */
/* sdump show of a process tree's image (info_tree.c). */
#ifndef SDUMP_INFO_TREE_H
#define SDUMP_INFO_TREE_H

#include <stdio.h>

#include "sdump.h"

/* sdump_image_info_load() of one pass (info.c). */
int sd_info_load_pass(struct sdump_ctx *ctx, const char *dir, struct sdump_image_info **ret_info);
/* sdump_image_info_load() of a tree image @dir: the root's pass, with the tree. */
int sd_info_load_tree(struct sdump_ctx *ctx, const char *dir, struct sdump_image_info **ret_info);
/* The tree of a tree image's description: text lines, or ,"tree":[...] (null for a pass). */
void sd_tree_text(FILE *out, const struct sdump_image_info *in);
void sd_tree_json(FILE *out, const struct sdump_image_info *in);

#endif /* SDUMP_INFO_TREE_H */
