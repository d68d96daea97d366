/* SPDX-License-Identifier: MIT */
/*
 * The state of one dump pass (dump.c), shared with the phase that has a
 * file of its own: the collection of the VMAs and of the pages to save
 * (dump_collect.c). Private to lib/dump/.
 */
#ifndef SDUMP_DUMP_PASS_H
#define SDUMP_DUMP_PASS_H

#include <stdbool.h>
#include <stdint.h>

#include "sdump.h"
#include "chain.h"
#include "image.h"
#include "live.h"
#include "pagemap_img.h"
#include "pages_img.h"
#include "pass_img.h"
#include "proc.h"
#include "pstate.h"
#include "runs.h"
#include "seize.h"
#include "track.h"
#include "dump_state.h"
#include "dump_mapped_files.h"
#include "bgread.h"

struct pass {
	struct sdump_ctx *ctx;
	const struct sdump_dump_opts *opts;
	struct pass_meta meta;
	struct img_dir dir;
	struct seized seized;
	bool frozen;
	int pidfd, pagemap_fd, mem_fd;
	struct vma_list vmas;
	struct run_list runs;
	struct pm_list entries;
	struct sdump_stats st;
	uint64_t t0;
	uint64_t cpu0;			/* cpu_us() at sd_pass_init() */
	struct chain parent;		/* the parent pass and its chain, if any */
	const struct track_ops *track;
	struct tracker tracker;
	bool tracker_open;
	bool rearm_in_scan;		/* the page scan protects the written pages again (sd_scanner_can_rearm()) */
	bool state_valid;		/* the tracking state of the target is the parent's */
	struct track_state state;
	bool final;			/* the final dump: frozen until the image is written */
	bool preflight;			/* sdump_preflight(): a final dump's checks, nothing written */
	const char *kind;		/* "pre-dump" or "dump", for messages */
	uint64_t pages_to_copy;		/* of runs: pages not in the parent */
	uint64_t t_copied;		/* now_us() at the end of the copy */
	struct process_state ps;
	struct files_state fs;
	struct live live;		/* dump --live: copy-before-write */
	bool live_frozen;		/* dump --live of few pages: copied while frozen */
	/* a member of a tree (dump_tree.c): the pipe ends its other members hold, else NULL */
	const struct tree_pipe_ends *tree_pipes;
	/* and what the members before it map and saved (shared memory, deleted files), else NULL */
	const struct tree_objs *tree_objs;
	/* made before the seize when the pages wait in memory for the resume (hold.c) */
	struct pagestore_writer *writer;
	bool resumed_early;		/* dump -R: resumed once the pages were copied */
	/* a final dump's /proc/locks, read from the seize on while the rest is collected */
	struct bg_read locks;
	/* and, a process alone, its smaps, read while its mapped files are checked */
	struct bg_read smaps;
	/* a final dump of a process alone: other users of its shared memory looked for before the seize */
	struct shmem_prewalk shmem_pre;
};

/* A final dump's handover (sdump_dump_opts.handover): the passes of a process, or of a tree's members. */
struct sdump_handover {
	struct pass *const *p;
	size_t n;
};

/*
 * A pass in phases, which dump.c runs one after the other for a process
 * and dump_tree.c member by member (every member frozen before any is
 * collected): sd_pass_init, then sd_pass_open (the checks, the parent, the
 * directory), sd_pass_seize, sd_pass_collect_all (a pre-dump's target runs
 * on after it), sd_pass_write (the commit), sd_pass_end (killed, or
 * resumed and still tracked). On a failure sd_pass_fail, and in any case
 * sd_pass_release; sd_pass_log_done says what a pass that worked did.
 */
void sd_pass_init(struct pass *p, struct sdump_ctx *ctx, const struct sdump_dump_opts *opts, bool final);
int sd_pass_open(struct pass *p);
int sd_pass_seize(struct pass *p);
int sd_pass_collect_all(struct pass *p);
int sd_pass_write(struct pass *p);
int sd_pass_end(struct pass *p);
/*
 * sd_pass_end once a handover hook said @handover (0: the destination
 * runs it, killed here; an error: resumed; SDUMP_HANDOVER_UNSURE: left
 * stopped, -ENOTCONN returned): a tree's members, whose hook is the
 * tree's, called once for all (dump_tree.c).
 */
int sd_pass_end_after(struct pass *p, int handover);
void sd_pass_fail(struct pass *p);
void sd_pass_release(struct pass *p);
void sd_pass_log_done(const struct pass *p);
struct copy_counts;
/* -v: what the copy of @p did, at what rate. */
void sd_pass_log_copy(const struct pass *p, const struct copy_counts *counts);
struct pagestore_writer;
/* The levels @w's frames got into the stats of @p, and said at -v. */
void sd_pass_note_levels(struct pass *p, struct pagestore_writer *w);

/*
 * Process trees (dump_tree.c). sd_tree_has_children: whether @pid has a
 * child process (a thread of it has); sd_tree_dump: the pass of the tree
 * rooted at opts->pid, every member frozen at once.
 */
bool sd_tree_has_children(pid_t pid);
int sd_tree_dump(struct sdump_ctx *ctx, const struct sdump_dump_opts *opts, bool final,
		 struct sdump_stats *ret_stats);
/*
 * A preflight's walk over the tree at @root, nothing seized: its members,
 * parents first (root first), into *ret_pids; what the tree's own checks
 * refuse (a member traced by another, in vfork(), in another PID
 * namespace, sharing memory, fds or fs with another, a session or group
 * whose leader is outside) as refusals (sd_refuse()). (*ret_check)[i]:
 * member i is to be checked as a process (no zombie, nothing that forbids
 * seizing it).
 */
int sd_tree_preflight_walk(struct sdump_ctx *ctx, pid_t root, pid_t **ret_pids, bool **ret_check,
			   size_t *ret_n);

/*
 * The target's identity into p->meta (start time, comm): a process, not a
 * thread, alive (dump.c).
 */
int sd_pass_read_target(struct pass *p);
/*
 * While frozen, after the seize: the VMAs of the target (p->vmas), with a
 * final dump's VmFlags, and their mapped files checked (and a final dump's
 * deleted ones saved); the first part of sd_pass_collect().
 */
int sd_pass_read_vmas(struct pass *p);
/*
 * While frozen, after the seize: the VMAs of the target (p->vmas) and the
 * pages to save (p->runs, those the parent has marked in_parent), with the
 * tracker opened, its state file removed and, unless a live dump arms it
 * itself, tracking armed afresh.
 */
int sd_pass_collect(struct pass *p);
/*
 * Each VMA's VmFlags and protection key from /proc/PID/smaps, and the VMAs
 * a restore could not give back refused, one line naming the VMA and the
 * flag (dump_vmflags.c). A final dump reads them in the collect phase,
 * frozen (smaps walks the page tables: some 10-15 ms per GiB present; a
 * process alone has it read on a thread, p->smaps, from the moment its
 * maps are read, while its mapped files are checked); a
 * pre-dump, whose flags no restore uses, once the target runs on again,
 * to refuse what the final dump would: a VMA made since the freeze is
 * left without flags then.
 */
int sd_pass_vmflags(struct pass *p);

/*
 * The pages held in memory (hold.c). sd_pass_resumes_early: whether the
 * pass resumes its target once the pages are copied, before they are
 * compressed and written (a final dump with leave_running, not live, no
 * handover). sd_pass_hold, before the seize, for such a pass: p->writer
 * made with room for as much of the target's memory as the budget
 * (opts->memory_budget; by default half the available memory) allows,
 * faulted in while the target still runs. sd_pass_writer_new: the page
 * writer of a pass, with sd_pass_threads() compressors.
 */
bool sd_pass_resumes_early(const struct pass *p);
int sd_pass_hold(struct pass *p);
int sd_pass_writer_new(struct pass *p, struct pagestore_writer **ret_w);
unsigned int sd_pass_threads(const struct pass *p);

#endif /* SDUMP_DUMP_PASS_H */
