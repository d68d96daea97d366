/* SPDX-License-Identifier: MIT */
/*
 * The steps of a restore, one file each (restore.c runs them in order), and
 * what they share: the restore in progress (struct rst) and the way every
 * step acts, a system call injected into the new process with its
 * arguments in the trampoline's data area (sd_rst_call.c).
 */
#ifndef SDUMP_RESTORE_H
#define SDUMP_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/user.h>
#include <termios.h>

#include "sdump.h"
#include "chain.h"
#include "ghost_img.h"
#include "inject.h"
#include "pstate.h"
#include "ptree.h"
#include "rst_fill.h"
#include "rst_lazy.h"
#include "seize.h"

/* The trampoline: page 0 holds "syscall", the rest is data for the calls. */
#define TRAMP_PAGES 64
#define TRAMP_DATA 4096
#define TRAMP_STACK_TOP (TRAMP_PAGES * 4096ul)
#define TASK_TOP 0x7ffffffff000ull

struct rst_tree;

struct rst {
	struct sdump_ctx *ctx;
	const struct sdump_restore_opts *opts;
	struct chain chain;
	struct process_state ps;
	struct files_state fs;
	pid_t pid;
	struct seized seized;		/* the new process's threads, traced */
	struct injector inj;
	int mem_fd;			/* /proc/PID/mem of the new process */
	uint64_t tramp;
	size_t data_used;
	bool started;
	/*
	 * The signal actions the new process has from its clone
	 * (CLONE_CLEAR_SIGHAND, rst_child.c): each SIG_DFL without flags or
	 * mask, but those we ignore, SIG_IGN (bit sig - 1 of sig_ign). False:
	 * not known, each action is set.
	 */
	bool sig_cleared;
	uint64_t sig_ign;
	struct rst_fill_stats fill;	/* of the memory fill */
	uint64_t t0, read_us, memory_us; /* now_us() at the start; the times of two steps */
	struct rst_lazy *lazy;		/* a lazy restore's filler, once it runs (rst_memory.c) */
	struct rst_lazy_stats lazy_st;	/* its statistics, once it is done */
	struct ghost_set ghosts;	/* the newest pass's saved deleted files */
	int *ghost_fds;			/* our copy of each, by id - 1 (rst_ghost.c) */
	/* the removed directories made again and removed (rst_fs.c), held open */
	struct rst_removed_dir {
		char *path;
		int fd;
		struct removed_dir want;	/* its mode and owner */
	} *removed;
	size_t nremoved, removed_cap;
	int *src;			/* by fd of r->fs: our fd it is a dup of, else -1 (rst_inherit.c) */
	int *pty_fds;			/* by fd of r->fs: our end of a pty made again, else -1 (rst_pty.c) */
	int *node_fds;			/* by fd of r->fs: ours on a file sdump opened for it, else -1 (rst_node.c) */
	int tty_fd;			/* our fd on the terminal that stands in (--shell-job), else -1 */
	/* rst_tty.c: what our terminal had before the process's settings, to put back */
	bool tty_is_ctty;		/* r->tty_fd is on our controlling terminal */
	bool tty_set, fg_set, ttou_blocked;
	struct termios tty_saved;
	struct winsize ws_saved;
	pid_t fg_saved;
	sigset_t ttou_oldmask;
	/* a member of a tree (rst_tree.c), else NULL */
	struct rst_tree *tree;
	const struct tree_member *member;
	int pidfd;			/* ours on the new process, or -1 */
	pid_t netlock_pid;		/* its TCP connections' network lock, removed at the end (0: none) */
	bool session_done;		/* its session and group are made (a tree makes them first) */
	/*
	 * A restore built over rounds (rst_stage.c): by VMA of the newest
	 * pass, an enum rst_vma_stage (NULL: every VMA new); a round before the
	 * last fills memory only; the leader was made at the first round.
	 */
	uint8_t *vma_stage;
	bool stage_round;
	size_t fill_drops;		/* ranges the last staged fill gave back (MADV_DONTNEED) */
	bool staged;
};

/*
 * One restore in parts, which restore.c runs for a process and rst_tree.c
 * member by member: sd_rst_init; sd_rst_read, the image of @dir read and
 * checked; the new process made (sd_rst_start_child and
 * sd_rst_clear_address_space, or a tree's own fork); sd_rst_build, all
 * of the rest; sd_rst_finish_prepare, the trampoline gone and every
 * thread's registers set; sd_rst_detach, it runs (with @stop_sig, in a
 * job-control stop by that signal). On a failure sd_rst_kill then sd_rst_reap (never a
 * half-restored process); sd_rst_started once it runs (the pidfile, the
 * network lock removed, a lazy restore's memory all in: before
 * sd_rst_release, which a lazy filler still needs the chain of);
 * sd_rst_release in any case; sd_rst_wait last: unless detached, the wait
 * for its end.
 */
void sd_rst_init(struct rst *r, struct sdump_ctx *ctx, const struct sdump_restore_opts *opts);
int sd_rst_read(struct rst *r, const char *dir, uint64_t *t);
int sd_rst_build(struct rst *r, uint64_t *t);
/*
 * The two halves of sd_rst_read and of sd_rst_build, for a restore built
 * over rounds (rst_stage.c): sd_rst_read_state, the state of the final
 * pass r->chain opened (sd_rst_open) read and checked; sd_rst_build_memory,
 * the VMAs mapped and filled (as r->vma_stage says); sd_rst_build_state,
 * everything after them. sd_rst_end: after the start (or a failure @e),
 * what sdump_restore does last, @r released; its result.
 */
int sd_rst_open(struct rst *r, const char *dir);
int sd_rst_read_state(struct rst *r, const char *dir, uint64_t *t);
int sd_rst_build_memory(struct rst *r, uint64_t *t);
int sd_rst_build_state(struct rst *r, uint64_t *t);
int sd_rst_end(struct rst *r, int e, uint64_t t0, int *ret_status);
/* sd_rst_finish_prepare then sd_rst_detach, no signal between (a tty started first). */
int sd_rst_start(struct rst *r);
int sd_rst_finish_prepare(struct rst *r);
int sd_rst_detach(struct rst *r, int stop_sig);
void sd_rst_kill(struct rst *r);
void sd_rst_reap(struct rst *r);
void sd_rst_release(struct rst *r);
int sd_rst_started(struct rst *r, int e);
/* @pid into @path, whole or not at all (sd_rst_started's, a tree's before its subreaper ends). */
int sd_rst_write_pidfile(struct sdump_ctx *ctx, const char *path, pid_t pid);
int sd_rst_wait(struct rst *r, int e, uint64_t t0, size_t nthreads, int *ret_status);
void sd_rst_stats(const struct rst *r, size_t nthreads, size_t nfds, uint64_t t0);

/*
 * Process trees (rst_tree.c). sd_rst_tree_restore: the restore of a tree
 * image, every member made by its parent, all started at once or none.
 * sd_rst_tree_shared_fd: fd @d of member @r, whose open file description
 * an earlier member has (d->has_shared), got from it into @r, at a number
 * of its own (*ret_tmp). sd_rst_tree_pipe: the ends of the pipe of fd @d
 * in @r: those of the pipe another member made already (true), else false
 * and none; sd_rst_tree_pipe_made: the pipe @r has just made, for the
 * members after it.
 */
/* rst_cgroup.c: its cgroups there (checked before anything is made), moved into before its memory is filled. */
/* rst_ghost.c: the copies of deleted files given their access and modification times, once nothing writes them. */
int sd_rst_ghost_times(struct rst *r);
/* rst_fs.c: the removed directories made (sd_rst_prepare_ghosts), and let go. */
int sd_rst_prepare_removed(struct rst *r);
void sd_rst_removed_release(struct rst *r);
int sd_rst_check_cgroup(struct rst *r);
int sd_rst_restore_cgroup(struct rst *r);
/* Thread @i, once made, into the cgroups of its own (a v1 hierarchy's tasks, a threaded v2 cgroup). */
int sd_rst_restore_thread_cgroup(struct rst *r, size_t i);
int sd_rst_tree_restore(struct sdump_ctx *ctx, const struct sdump_restore_opts *opts, int *ret_status);
/* The members of @t, by index in tree.img (a zombie's has no image: chain.n 0). */
size_t sd_rst_tree_count(const struct rst_tree *t);
struct rst *sd_rst_tree_member(struct rst_tree *t, size_t i);
int sd_rst_tree_shared_fd(struct rst *r, const struct fd_state *d, long *ret_tmp);
int sd_rst_tree_pipe(struct rst *r, const struct fd_state *d, int32_t pfd[2], bool *ret_found);
int sd_rst_tree_pipe_made(struct rst *r, const struct fd_state *d, const int32_t pfd[2]);
/*
 * The pidfds of a process dead at the dump, whose pidfs inode (@dev, @ino
 * of the dump) several members had: one process made for them all, so
 * that theirs are one inode again. sd_rst_tree_dead_pid: the one an
 * earlier member made (0: none); _made: the one @r has made, left alive
 * for the members after it; _end: each killed and reaped, once every
 * member is built (a pidfd of it then says Pid: -1).
 */
pid_t sd_rst_tree_dead_pid(struct rst *r, uint64_t dev, uint64_t ino);
int sd_rst_tree_dead_made(struct rst *r, uint64_t dev, uint64_t ino, pid_t pid);
void sd_rst_tree_dead_end(struct rst_tree *t);
/*
 * A lazy restore of a tree (rst_lazy_tree.c): every member's anonymous
 * memory filled by a filler of its own, all of them at once. _kin: what
 * a member's failed fill kills (every member), made once all members
 * exist; _running: every member runs, the fills push; _finish: every
 * fill done (or, detached, handed to one helper for all), their
 * statistics summed into the root's (m[0].lazy_st), a failure said once
 * (the whole tree killed); _abort: a failed restore's (every member
 * killed already). _release frees what _kin made.
 */
const struct rst_lazy_kin *sd_rst_tree_kin(struct rst_tree *t);
void sd_rst_tree_lazy_running(struct rst_tree *t);
int sd_rst_tree_lazy_finish(struct rst_tree *t);
void sd_rst_tree_lazy_abort(struct rst_tree *t);
void sd_rst_tree_lazy_release(struct rst_tree *t);
/*
 * Shared anonymous memory members of a tree share: made by the first
 * member that maps it, which gives it to the members after it.
 * sd_rst_tree_shmem_reach: whether a member after @r maps the object of
 * its VMA @v (its shared_pid @r's), *size raised to as far as they reach
 * into it; sd_rst_tree_shmem_made: the object @r has just mapped at @v,
 * kept for them; sd_rst_tree_shmem_fd: the object VMA @v of @r maps,
 * made by v->shared_pid, put into @r at a number of its own.
 * sd_rst_tree_ghost: deleted file @f of @r, saved by f->shared_pid: a
 * copy of our fd on that member's copy.
 */
bool sd_rst_tree_shmem_reach(struct rst *r, const struct vma *v, uint64_t *size);
int sd_rst_tree_shmem_made(struct rst *r, const struct vma *v);
int sd_rst_tree_shmem_fd(struct rst *r, const struct vma *v, long *ret_fd);
int sd_rst_tree_ghost(struct rst *r, const struct ghost_file *f, int *ret_fd);
/*
 * sd_rst_tree_give: our fd @ours put into member @r at a number of its
 * own (*ret_tmp). sd_rst_tree_unix: the unix sockets of member @r; the
 * first member to come makes every member's (sd_rst_unix_make), each
 * later one is given its own, kept by us meanwhile.
 */
int sd_rst_tree_give(struct rst *r, int ours, long *ret_tmp);
int sd_rst_tree_unix(struct rst *r);
/* Session and group (rst_process.c): as the image has them, of a process alone or a tree's root. */
int sd_rst_restore_session(struct rst *r);
/* Step 2 of a tree member: the vdso where it was (rst_child.c). */
int sd_rst_map_vdso(struct rst *r);

/*
 * System call @nr in thread @t of the new process (sd_rst_call: in the
 * leader). A failure of the call is an error with a message; its result
 * goes to @ret (when not NULL) either way.
 */
int sd_rst_call_in(struct rst *r, struct seized_thread *t, long nr, long a0, long a1, long a2,
		long a3, long a4, long a5, long *ret);
int sd_rst_call(struct rst *r, long nr, long a0, long a1, long a2, long a3, long a4, long a5,
	     long *ret);
/* The same in the leader, a failure of the call returned without a message (the caller says it). */
int sd_rst_try(struct rst *r, long nr, long a0, long a1, long a2, long *ret);
/* The same in thread @t. */
int sd_rst_try_in(struct rst *r, struct seized_thread *t, long nr, long a0, long a1, long a2,
	       long *ret);

/* A copy in this process of the new process's fd @fd (pidfd_getfd), or -errno. */
int sd_rst_take_fd(struct rst *r, long fd);

int sd_rst_mem_write(struct rst *r, uint64_t addr, const void *buf, size_t len);
/* Put @len bytes in the trampoline's data area; their address in the new process. */
int sd_rst_data_put(struct rst *r, const void *buf, size_t len, uint64_t *ret_addr);
int sd_rst_data_str(struct rst *r, const char *s, uint64_t *ret_addr);
/* The data area empty again, for the next call's arguments. */
void sd_rst_data_reset(struct rst *r);
/* openat(AT_FDCWD, @path, @flags) in the new process, with a message on failure. */
int sd_rst_open_in_child(struct rst *r, const char *path, int flags, long *ret_fd);

/* Steps 1 and 2 (rst_child.c): the traced child with the dumped PID; its address space emptied. */
int sd_rst_start_child(struct rst *r);
int sd_rst_clear_address_space(struct rst *r);

/*
 * Step 3 (rst_memory.c): memory. sd_rst_check_vma_files before anything is
 * made: every mapped file must be the one of the dump, as large as it was.
 */
int sd_rst_check_vma_files(struct rst *r);
int sd_rst_map_vmas(struct rst *r);
/* VMA @v unmapped in the new process (a restore built over rounds: it went, or changed). */
int sd_rst_unmap_vma(struct rst *r, const struct vma *v);
/*
 * Shared anonymous memory (rst_shmem.c): VMA @v mapped as part of its
 * shmem object, one per inode of the dump.
 */
int sd_rst_map_shmem(struct rst *r, const struct vma *v);
/*
 * A System V shared memory segment (rst_sysv.c): VMA @v attached whole,
 * the segment found where it lived on or made again with its id.
 */
int sd_rst_map_sysv(struct rst *r, const struct vma *v);
/* Its protection once filled: attached again read-only (SHM_RDONLY) if it was. */
int sd_rst_sysv_protect(struct rst *r, const struct vma *v);
/* Whether @pid is a member of @r's tree made before @r (rst_tree_share.c). */
bool sd_rst_tree_made_before(struct rst *r, pid_t pid);
/*
 * Step 3, before anything is made (rst_ghost.c): a copy of each deleted
 * file the VMAs map or the fds hold, from the image (an fd that was an
 * O_TMPFILE gets its copy itself, through r->src). sd_rst_ghost_path: the path by which
 * the new process opens the copy of ghost @id, and the copy's stat.
 */
int sd_rst_prepare_ghosts(struct rst *r);
int sd_rst_ghost_path(struct rst *r, uint32_t id, char *buf, size_t size, struct stat *ret_st);
/* The opener of FDK_GHOST and FDK_MEMFD fds (rst_files.c's table): its copy, opened again. */
int sd_rst_ghost_open(struct rst *r, size_t i, long *ret_tmp);
/*
 * Step 3, once every mapping made before the seals is (sd_rst_map_vmas):
 * the memfds' seals, which the fds opened later keep. Whether ghost @id
 * is a memfd sealed against writes (F_SEAL_WRITE, F_SEAL_FUTURE_WRITE).
 */
int sd_rst_seal_ghosts(struct rst *r);
bool sd_rst_ghost_write_sealed(struct rst *r, uint32_t id);
void sd_rst_ghosts_release(struct rst *r);
int sd_rst_fill_memory(struct rst *r);
/*
 * A lazy restore (opts->lazy), once the process runs: until every page is
 * in, its statistics logged; 0, or the error that killed the process.
 */
int sd_rst_lazy_finish(struct rst *r);
int sd_rst_restore_mm(struct rst *r);
/*
 * Step 3 (rst_vmflags.c): the VmFlags and guard pages of the VMAs.
 * sd_rst_vmflags_guards: the guard pages of VMA @v installed again once it
 * is mapped. sd_rst_vmflags_before_fill once every VMA is
 * mapped (the madvise() flags), sd_rst_vmflags_lock after the final
 * protections; sd_rst_vmflags_finish once nothing else changes
 * the address space, just before the start: mseal(), then every VMA's
 * flags read back and compared with the image's.
 */
int sd_rst_vmflags_before_fill(struct rst *r);
int sd_rst_vmflags_guards(struct rst *r, const struct vma *v);
int sd_rst_vmflags_lock(struct rst *r);
int sd_rst_vmflags_finish(struct rst *r);

/*
 * Step 4 (rst_files.c): the fd table. sd_rst_check_files before anything is
 * made: every regular file an fd has open must be as it was.
 */
int sd_rst_check_files(struct rst *r);
int sd_rst_restore_files(struct rst *r);
/*
 * Step 4 (rst_inherit.c), before anything is made: which of our fds each fd
 * of the image is to be a dup of (r->src): --inherit-fd, or a pipe to the
 * outside that we hold ourselves. A pipe to the outside without either, an
 * --inherit-fd that fits no fd or opened otherwise: one line.
 */
int sd_rst_check_inherit(struct rst *r);
/*
 * The terminal (rst_tty.c). sd_rst_check_terminal before anything is made:
 * the terminal fds and the controlling terminal of the image against
 * --shell-job and our own terminal (r->tty_fd). sd_rst_tty_start just
 * before the process runs: our terminal gets its settings, and its group
 * the foreground if it had it; sd_rst_tty_undo puts ours back (a failed
 * restore); sd_rst_tty_end, once the process is gone, takes the foreground
 * back and ends what sd_rst_tty_start blocked.
 */
int sd_rst_check_terminal(struct rst *r);
/* @t given the settings @s (termios and speeds); -EINVAL with a message for a speed it has not. */
int sd_rst_termios_of(struct rst *r, const struct tty_state *s, struct termios *t);
/*
 * The ptys whose both ends the process held (rst_pty.c). Step 3, before
 * anything is made: sd_rst_prepare_ptys makes each again with its number,
 * settings, packet mode and lock, and gives its fds to the new process
 * (r->src; sd_rst_pty_open, their opener, is never reached). Step 4, its
 * session made, before its fds: sd_rst_pty_ctty makes the slave its
 * controlling terminal again where it was (a slave of ours, given for the
 * ioctl and closed: it may have held no fd on it), with its foreground
 * group, so that a /dev/tty fd opens on it (sd_rst_pty_ctty_fd: the fd of
 * that slave, -1 if none).
 */
int sd_rst_prepare_ptys(struct rst *r);
int sd_rst_pty_open(struct rst *r, size_t i, long *ret_tmp);
int sd_rst_pty_ctty_fd(const struct rst *r);
int sd_rst_pty_ctty(struct rst *r);
void sd_rst_ptys_release(struct rst *r);
/*
 * The fds sdump opens itself and gives the new process (rst_node.c), as
 * the ptys: step 3, sd_rst_prepare_nodes makes again each deleted FIFO,
 * device node and symlink at its path and opens it for its fds, opens a
 * deleted file that keeps another name through its old name linked to it
 * again, and makes the pidfds of processes that have exited (r->src;
 * sd_rst_node_open, the opener of FDK_NODE, is never reached).
 */
int sd_rst_prepare_nodes(struct rst *r);
int sd_rst_node_open(struct rst *r, size_t i, long *ret_tmp);
void sd_rst_nodes_release(struct rst *r);
/*
 * A tree's ptys (rst_pty.c): a slave whose master another member held is
 * left by sd_rst_prepare_ptys for sd_rst_tree_ptys, once every member's
 * image is read (its masters made); sd_rst_pty_ctty_early, right after a
 * member's session is made and before its children are forked (they
 * inherit it), makes a pty of the tree the controlling terminal of a
 * session leader that had it; sd_rst_pty_leader_makes: whether @r's
 * session leader is another member, which makes it (@r has it from its
 * fork).
 */
int sd_rst_tree_ptys(struct rst *r);
int sd_rst_pty_ctty_early(struct rst *r);
bool sd_rst_pty_leader_makes(const struct rst *r);
/* Whether @r's controlling terminal is a pty the restore makes again, and makes its ctty. */
bool sd_rst_pty_ctty_here(const struct rst *r);
int sd_rst_tty_start(struct rst *r);
void sd_rst_tty_undo(struct rst *r);
void sd_rst_tty_end(struct rst *r, bool gone);
/*
 * Step 4 (rst_fdflags.c): each fd's flags as they were once the fds are at
 * their numbers (sd_rst_restore_files calls it), checked against the new
 * process's fdinfo; the owner and signal of each fd's I/O signals once its
 * threads exist (an owner may be one of them) and after the credentials
 * (F_SETOWN_EX records the caller's).
 */
int sd_rst_restore_fd_flags(struct rst *r);
int sd_rst_restore_fd_owners(struct rst *r);
/*
 * Step 4 (rst_locks.c): sd_rst_check_locks before anything is made: every
 * lock of the image must be free by /proc/locks, and no file to reopen
 * under another process's lease. sd_rst_take_locks, last of the fds (called
 * by sd_rst_restore_files): each lock taken again through its fd, without
 * waiting.
 */
int sd_rst_check_locks(struct rst *r);
int sd_rst_take_locks(struct rst *r);

/*
 * Step 4 (rst_process.c): process-wide state; once every thread is there
 * and has its state, the signals queued for the whole process, then the
 * credentials of every thread, last.
 */
int sd_rst_restore_process(struct rst *r);
int sd_rst_restore_creds(struct rst *r);
int sd_rst_restore_shared_signals(struct rst *r);

/*
 * Step 4 (rst_fs.c): the working and root directories, a removed one made,
 * entered and removed again; after them no path of the new process may be
 * used (it may be in another root). sd_rst_check_fs before anything is made:
 * a removed directory's path must be free, its parent there.
 */
int sd_rst_check_fs(struct rst *r);
int sd_rst_restore_fs(struct rst *r);

/*
 * Steps 5 and 6 (rst_threads.c): every other thread made from the leader;
 * the state of thread @i of the image given back to it. sd_rst_final_regs:
 * the registers a thread resumes with.
 */
int sd_rst_create_threads(struct rst *r);
int sd_rst_restore_thread_state(struct rst *r, size_t i);
/*
 * Each thread's signal mask, the build's last step (a stopped process's: in
 * its stop, sd_rst_enter_stop): until then every signal is blocked in every
 * thread whose state is restored (rst_threads.c).
 */
int sd_rst_restore_sigmasks(struct rst *r);
/*
 * A process stopped at the dump: every thread put into its group stop by
 * @stop_sig, still traced, every signal blocked on the way; then each
 * thread's mask set, so that its pending signals stay pending there.
 */
int sd_rst_enter_stop(struct rst *r, int stop_sig);
void sd_rst_final_regs(const struct thread_state *t, struct user_regs_struct *regs);

/*
 * The attributes (rst_attrs.c). sd_rst_attrs_child_slack: before the clone3 of
 * the leader, our timer slack becomes its default (ours returned, for
 * sd_rst_attrs_child_slack_done after it); sd_rst_attrs_before_clone: the same
 * in the leader before it makes thread @i. sd_rst_restore_attrs: the
 * process's, after the credentials; rst_restore_thread_attrs: thread @i's,
 * after sd_rst_restore_thread_state; sd_rst_restore_attrs_last: once every
 * thread exists, just before the start.
 */
long sd_rst_attrs_child_slack(struct rst *r);
/* Whether a leader made while our timer slack was @slack has the default slack of the image. */
bool sd_rst_attrs_child_slack_was(const struct rst *r, long slack);
void sd_rst_attrs_child_slack_done(long ours);
int sd_rst_attrs_before_clone(struct rst *r, size_t i);
int sd_rst_restore_attrs(struct rst *r);
int sd_rst_restore_thread_attrs(struct rst *r, size_t i);
int sd_rst_restore_attrs_last(struct rst *r);

/*
 * POSIX timers (rst_timers.c): sd_rst_check_timers before anything is made;
 * sd_rst_create_timers once every thread exists, before the credentials;
 * sd_rst_arm_timers just before the start.
 */
int sd_rst_check_timers(struct rst *r);
int sd_rst_create_timers(struct rst *r);
int sd_rst_arm_timers(struct rst *r);
/*
 * Capabilities, securebits, no_new_privs, seccomp (rst_sec.c, which says
 * the order): sd_rst_check_sec before anything is made;
 * sd_rst_sec_before_creds just before the credentials; sd_rst_restore_sec
 * after them.
 */
int sd_rst_check_sec(struct rst *r);
int sd_rst_sec_before_creds(struct rst *r);
int sd_rst_restore_sec(struct rst *r);

#endif /* SDUMP_RESTORE_H */
