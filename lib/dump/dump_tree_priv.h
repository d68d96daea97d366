/* SPDX-License-Identifier: MIT */
/*
 * Between the two halves of a tree's dump: dump_tree.c (the members
 * frozen, collected, written, the commit) and dump_tree_share.c (what
 * members share).
 */
#ifndef SDUMP_DUMP_TREE_PRIV_H
#define SDUMP_DUMP_TREE_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "sdump.h"
#include "dump_pass.h"
#include "dump_state.h"
#include "image.h"
#include "ptree.h"

struct tmember {
	struct tree_member m;
	struct sdump_dump_opts o;
	char dir[PATH_MAX], parent[PATH_MAX];
	struct pass p;
	bool has_pass;		/* p initialised (every member but a zombie) */
};

struct tdump {
	struct sdump_ctx *ctx;
	bool final;
	const struct sdump_dump_opts *opts;
	struct tmember **t;	/* each its own allocation: a pass points into it */
	size_t n, cap;
	struct tree_pipe_ends ends;
	size_t ends_cap;
	struct tree_objs objs;		/* the shared memory and deleted files of the members collected */
	pid_t *pids;			/* of every member */
	struct img_dir top;
};

/* Every pipe end member @tm holds, into td->ends (a final dump). */
int sd_tree_read_pipe_ends(struct tdump *td, const struct tmember *tm);
/* The open file descriptions several members hold (kcmp), each recorded on its later holders. */
int sd_tree_find_shared(struct tdump *td);
/* Each pty master paired with the slaves other members hold. */
void sd_tree_pair_ptys(struct tdump *td);
/* The unix sockets of all members matched as one process's. */
int sd_tree_check_sockets(struct tdump *td);
/* A session whose leader is gone refused when its members have two parents; the rest made again. */
int sd_tree_check_ids(struct tdump *td);
/* What member @tm maps and holds, for the members after it (td->objs). */
int sd_tree_note_member(struct tdump *td, const struct tmember *tm);

#endif /* SDUMP_DUMP_TREE_PRIV_H */
