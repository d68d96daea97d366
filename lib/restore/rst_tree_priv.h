/* SPDX-License-Identifier: MIT */
/*
 * Between the two halves of a tree's restore: rst_tree.c (the members
 * made, forked by their parents, started at once) and rst_tree_share.c
 * (what members share: open file descriptions, pipes, shmem objects,
 * deleted files and unix sockets an earlier member made, kept by sdump
 * for the members after it).
 */
#ifndef SDUMP_RST_TREE_PRIV_H
#define SDUMP_RST_TREE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "ptree.h"
#include "restore.h"

struct rst_pipe {
	uint64_t dev, ino;
	int fd[2];		/* ours: its read and write ends */
};

/* A shmem object a member made that members after it map too: our fd on it. */
struct rst_shm {
	pid_t pid;		/* the member that made it */
	uint32_t dev_major, dev_minor;
	uint64_t ino;		/* of the dump */
	int fd;
};

/* A unix socket made for a member not restored yet: ours, until its turn. */
struct rst_sock_kept {
	pid_t pid;
	int fd;			/* its number there */
	int ours;
};

/* The process made for the pidfds of a dead one (its pidfs inode at the dump), until all are built. */
struct rst_dead {
	uint64_t dev, ino;
	pid_t pid;
};

struct rst_tree {
	struct sdump_ctx *ctx;
	struct proc_tree tree;
	struct rst *m;		/* by index of tree.m */
	size_t npipes, cap_pipes;
	struct rst_pipe *pipes;
	size_t nshm, cap_shm;
	struct rst_shm *shm;
	bool socks_made;	/* every member's unix sockets, by the first with one */
	size_t nsocks, cap_socks;
	struct rst_sock_kept *socks;
	size_t ndead, cap_dead;
	struct rst_dead *dead;
	uint64_t t0;		/* the restore's start */
	struct rst_lazy_kin kin;	/* a lazy restore's: every member (rst_lazy_tree.c) */
	size_t nlost;		/* groups whose leader was gone: a helper with its pid each, until all joined */
	pid_t lost[64];
	pid_t lost_parent[64];	/* the member that forked it, and reaps it */
	size_t nsess;		/* sessions whose leader was gone: a helper each (a child of sess_parent) */
	struct rst *sess[16];
	size_t sess_parent[16];
};

/*
 * The parts of a tree's restore a restore built over rounds runs at its
 * own times (rst_stage_tree.c): sd_rst_tree_open, tree.img of @dir read
 * into @t (whose ctx and t0 the caller set); sd_rst_tree_make, every
 * member made, each by its parent, in its session and group (each
 * t->m[i] initialised first, its chain open: the trampoline goes where no
 * member has a VMA); sd_rst_tree_start, once every member is built, all
 * started; sd_rst_tree_end, the end whatever happened (@e), as
 * sdump_restore() ends (rst_tree_life.c); sd_rst_tree_kill_all, every
 * member made killed and reaped.
 */
int sd_rst_tree_open(struct sdump_ctx *ctx, const char *dir, struct rst_tree *t, int *ret_subreaper);
int sd_rst_tree_make(struct rst_tree *t);
int sd_rst_tree_start(struct rst_tree *t, const struct sdump_restore_opts *opts);
int sd_rst_tree_end(struct rst_tree *t, const struct sdump_restore_opts *opts, int e, uint64_t t0,
		    int subreaper, int *ret_status);
void sd_rst_tree_kill_all(struct rst_tree *t);

#endif /* SDUMP_RST_TREE_PRIV_H */
