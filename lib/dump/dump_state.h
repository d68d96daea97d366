/* SPDX-License-Identifier: MIT */
/*
 * Collecting the non-memory state of a frozen process (proc/pstate.h) for
 * the final dump: with ptrace, /proc and injected system calls. Written to
 * core-<tid>.img, process.img and files.img by image/state_img.c.
 */
#ifndef SDUMP_DUMP_STATE_H
#define SDUMP_DUMP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "sdump.h"
#include "inject.h"
#include "proc.h"
#include "pstate.h"
#include "seize.h"

/*
 * Refuse a process with children (unless it is a member of a tree dumped
 * whole, @in_tree), before anything of it changes (the fds are checked by
 * sd_files_collect()).
 */
int sd_state_check_supported(struct sdump_ctx *ctx, pid_t pid, const struct seized *s, bool in_tree);

/*
 * Collect everything while the process is frozen. Uses the injector (a
 * scratch page is mapped and unmapped again). @vmas gives the vdso/vvar.
 */
int sd_state_collect(struct sdump_ctx *ctx, struct seized *s, struct injector *inj,
		  const struct vma_list *vmas, struct process_state *ret_ps);
/*
 * After the cwd and root links are read into @ps: what their directories
 * were if they were removed (dump_fs.c); a removed cwd or root a restore
 * cannot make again is refused with one line.
 */
int sd_fs_collect_removed(struct sdump_ctx *ctx, pid_t pid, struct process_state *ps);
/*
 * Whether @procpath (a /proc/PID/{cwd,root,fd/N} link reading @link) is a
 * directory or file of /proc/N of a process that has ended (the kernel
 * unhashed it: "/proc/N... (deleted)" on procfs), N in *@ret_pid: nothing
 * a restore could open again.
 */
/*
 * Once @fs and @ps are collected: each fd of a removed directory marked as
 * the removed cwd's or root's directory it is (one directory, made once by
 * the restore), or given the parents removed with it.
 */
int sd_fs_removed_fds(struct sdump_ctx *ctx, pid_t pid, const struct process_state *ps,
		      struct files_state *fs);
bool sd_fs_is_ended_proc(const char *procpath, const char *link, long *ret_pid);
/*
 * Whether @path, which the restore opens (or maps) the file @dev_major:
 * @dev_minor:@ino by, leads to it here: 0 it does (or it is no path a
 * restore opens: " (deleted)", of /proc), 1 nothing is there, 2 another
 * file is. The /proc links and maps of a process read as paths from the
 * reader's root (sdump's, where the restore opens them), so it is walked
 * from there. A mount made since over a directory of the path, or over
 * the file, hides the file.
 */
int sd_fs_path_hidden(const char *path, uint32_t dev_major, uint32_t dev_minor, uint64_t ino);
/*
 * The pipe ends the other members of a tree hold (each by pid, pipe inode
 * and access): a pipe whose other end is one of them is no pipe to the
 * outside.
 */
struct tree_pipe_end {
	pid_t pid;
	uint64_t ino;
	bool rd, wr;
};
struct tree_pipe_ends {
	size_t n;
	struct tree_pipe_end *e;
	/* the pids of the tree's members (a pty's slave may be in another) */
	size_t nmembers;
	const pid_t *members;
};

/*
 * The fd table; @tree_pipes NULL for a process alone. Its locks are
 * checked against /proc/locks apart (sd_dump_fd_locks_seen()).
 */
int sd_files_collect(struct sdump_ctx *ctx, pid_t pid, int pidfd, int skip_fd,
		  const struct tree_pipe_ends *tree_pipes, struct files_state *ret_fs);

/*
 * A thread stopped in restart_syscall (dump_restart.c): the call it
 * restarts in t->restart_call (from t->regs and its code), or a refusal.
 */
int sd_restart_collect(struct sdump_ctx *ctx, pid_t pid, struct thread_state *t);

/*
 * The attributes (dump_attrs.c): what a dump refuses of them, checked with
 * the rest by sd_state_check_supported(); the process's and each thread's,
 * collected by sd_state_collect() inside its scratch mapping.
 */
int sd_attrs_check_supported(struct sdump_ctx *ctx, pid_t pid, const struct seized *s);
int sd_attrs_collect_process(struct sdump_ctx *ctx, struct seized *s, struct injector *inj,
			  struct attr_process *a);
int sd_attrs_collect_thread(struct sdump_ctx *ctx, struct seized *s, struct seized_thread *st,
			 struct injector *inj, int sched_policy, struct attr_thread *a);

/*
 * POSIX timers and thread security state (dump_sec.c). sd_sec_prepare,
 * right after the seize, before the first injected call: under seccomp,
 * the injections must pass by the filters (@required: a final dump, which
 * fails with one line where they cannot; a pre-dump warns). The timers and each thread's state are collected by
 * sd_state_collect() inside its scratch mapping; what a restore could not
 * create again is refused with one line.
 */
int sd_sec_prepare(struct sdump_ctx *ctx, struct seized *s, struct injector *inj, bool required);
int sd_sec_collect_timers(struct sdump_ctx *ctx, struct seized *s, struct injector *inj,
		       struct process_state *ps);
int sd_sec_collect_thread(struct sdump_ctx *ctx, struct seized *s, struct seized_thread *st,
		       struct injector *inj, struct sec_thread *sec);
#endif /* SDUMP_DUMP_STATE_H */
