/* SPDX-License-Identifier: MIT */
/*
 * Between the halves of a restore built over rounds: rst_stage.c (the
 * public sdump_restore_stage_*, a process alone, and what every process
 * built so needs: its VMAs reconciled pass by pass, the final dump's
 * state) and rst_stage_tree.c (a process tree, every member built so).
 */
#ifndef SDUMP_RST_STAGE_PRIV_H
#define SDUMP_RST_STAGE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdump.h"
#include "restore.h"

/* One process built over rounds: a process alone, or a member of a tree. */
struct stage_proc {
	struct rst *r;
	uint64_t vvar;		/* where its vdso went, 0 none */
	uint8_t *mapped;	/* by VMA of r->chain.p[0].vmas: in the process as that pass has it */
	size_t nkept, nnew, ngone;	/* of the last pass applied: VMAs */
};

struct sdump_restore_stage {
	struct sdump_ctx *ctx;
	const struct sdump_restore_opts *opts;
	struct rst r;		/* a process alone */
	struct rst_tree *tree;	/* or a tree (rst_stage_tree.c): p[i].r is its member i */
	int subreaper;		/* ours before the tree made us one */
	struct stage_proc one;	/* a process alone's */
	struct stage_proc *p;	/* by member, or &one */
	size_t np;
	long slack;		/* our timer slack when the leader (the root) was made: its default */
	unsigned int passes;	/* applied so far */
	unsigned int made_at;	/* the pass it was made at (1, or later where it was made again) */
	char made_at_s[24];	/* "the first pass", "pass N" */
	uint64_t t0;
};

/* s->made_at and its words: the pass about to be applied first. */
void sd_rst_stage_made_at(struct sdump_restore_stage *s);

/*
 * sd_rst_stage_stand_in: what the first pass does not hold of @p's
 * process, until the final dump says it: one thread, no attributes, its
 * vdso where its VMAs say. sd_rst_stage_apply: the newest pass of
 * @p->r's chain into the process (VMAs reconciled, memory filled and, with
 * @final, protected); *@ret_why, a reason the final dump cannot be applied
 * (nothing changed then). sd_rst_stage_final_state: the final dump @dir
 * pushed on @p's chain and its state read in place of the stand-in;
 * *@ret_why as above (another pid, its vdso moved). sd_rst_stage_scratch:
 * everything built goes and the final dump is restored alone (@why said
 * at -v); @s is freed.
 */
int sd_rst_stage_stand_in(struct stage_proc *p);
int sd_rst_stage_apply(struct sdump_restore_stage *s, struct stage_proc *p, bool final, const char **ret_why);
int sd_rst_stage_final_state(struct stage_proc *p, const char *dir, const char **ret_why, uint64_t *t);
int sd_rst_stage_scratch(struct sdump_restore_stage *s, const char *why, int *ret_status);

/*
 * A tree (rst_stage_tree.c): sd_rst_stage_tree_begin, every member of the
 * tree pass @dir made and its memory in; sd_rst_stage_tree_same, whether
 * the tree of pass @dir has the members, parents, sessions and groups of
 * the one built; sd_rst_stage_tree_update, pass @dir (of the same tree)
 * applied to every member; sd_rst_stage_tree_finish, the final dump
 * (opts->dir) applied and the tree started, @s freed;
 * sd_rst_stage_tree_drop, every member killed and reaped, the tree freed.
 */
int sd_rst_stage_tree_begin(struct sdump_restore_stage *s, const char *dir);
bool sd_rst_stage_tree_same(struct sdump_restore_stage *s, const char *dir);
int sd_rst_stage_tree_update(struct sdump_restore_stage *s, const char *dir);
int sd_rst_stage_tree_finish(struct sdump_restore_stage *s, int *ret_status);
void sd_rst_stage_tree_drop(struct sdump_restore_stage *s);

#endif /* SDUMP_RST_STAGE_PRIV_H */
