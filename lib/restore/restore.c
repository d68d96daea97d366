/* SPDX-License-Identifier: MIT */
/*
 * sdump restore: the process of a final dump runs again, same PID and TIDs.
 *
 * Driven from outside with ptrace rather than with a restorer blob loaded
 * into the new process (CRIU's way): every step is a system call injected
 * into the new process from here (sd_rst_call.c), with the same machinery the
 * dump uses, so there is no second program to build, position-independently,
 * for each architecture, and every failure is seen and reported here. The
 * cost is a few hundred ptrace round trips, about a millisecond each at
 * worst, whatever the memory size; memory itself is written by a thread per
 * CPU, frame by frame (sd_rst_fill.c).
 *
 * Order matters:
 *  1. clone3(set_tid = PID) a child of ours, traced (PTRACE_O_EXITKILL: if
 *     we die, it dies: no half-restored process is ever left behind);
 *  2. map a trampoline page (syscall; int3, then data) where no saved VMA
 *     lies, unregister the rseq area it inherited from us, unmap everything
 *     else, map the vdso where it was (ARCH_MAP_VDSO_64);
 *  3. map every VMA (files from their files), fill memory from the chain,
 *     set final protections, PR_SET_MM_MAP (brk, args, auxv, exe);
 *  4. fds (a dup of ours where --inherit-fd or --shell-job's terminal says
 *     so), signal handlers, timers, limits, umask, session, cwd and root
 *     (a removed one made, entered and removed again), then the process's
 *     attributes (oom_score_adj, subreaper, membarrier, ...: rst_attrs.c);
 *  5. each other thread: clone3(set_tid = TID) from the leader;
 *  6. per thread: sigaltstack, robust list, clear_child_tid, rseq, comm,
 *     pending signals, FPU state, signal mask, scheduling, its attributes
 *     (affinity, personality, parent-death signal, ...), registers (with
 *     an interrupted system call set to start again, as the kernel would);
 *     then the POSIX timers (every thread they may signal exists; armed
 *     at the very end), then the credentials, in every thread (clone3 with
 *     set_tid needs the privileges a process of another user does not
 *     have; SECBIT_NO_SETUID_FIXUP first keeps our capabilities across the
 *     change of user), the fds' owners, then per thread capabilities
 *     (inheritable, bounding, ambient, securebits), no_new_privs and
 *     seccomp, from which on our own calls pass by the filters
 *     (PTRACE_O_SUSPEND_SECCOMP), and only then the last capset() narrows
 *     the effective and permitted sets (a filter installed without
 *     no_new_privs needs CAP_SYS_ADMIN, which the thread keeps until
 *     then: rst_sec.c); after them what they would
 *     undo or what needs every thread there (parent-death signals, futex
 *     hash, memory-deny-write-execute), then the address space is done:
 *     sealed (mseal) and every VMA's VmFlags read back and compared
 *     (rst_vmflags.c), and last the timers are armed;
 *  7. with --shell-job our terminal gets the process's settings and, if
 *     its group had it, the foreground (rst_tty.c); the leader unmaps the
 *     trampoline as its last system call; at its exit stop it gets its
 *     registers; everyone is detached and runs.
 *
 * This file checks what can be checked before anything is made, runs the
 * steps and unwinds; the steps live in their own files: 1-2 rst_child.c,
 * 3 rst_memory.c (shared memory rst_shmem.c, deleted files rst_ghost.c),
 * 4 rst_files.c (the fds), rst_process.c and rst_fs.c, 5-6
 * rst_threads.c (then the signals queued for the whole process and the
 * credentials, rst_process.c), the attributes in 4 and 6 rst_attrs.c, the
 * timers rst_timers.c, capabilities and seccomp rst_sec.c, 7 here (finish).
 * A restore built while its chain grows (a migration's receiver) runs the
 * same steps in parts, step 3 once per pass: rst_stage.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "chain.h"
#include "fault.h"
#include "inject.h"
#include "seize.h"
#include "pstate.h"
#include "restore.h"
#include "rst_sock.h"
#include "state_img.h"
#include "netlock.h"
#include "tree_img.h"
#include "util.h"
#include "procfs.h"
#include "proc.h"
#include "ptree.h"

/* -v: one line per step of the restore, with its time since *t (then reset). */
static void rst_step(struct rst *r, const char *step, uint64_t *t, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void rst_step(struct rst *r, const char *step, uint64_t *t, const char *fmt, ...)
{
	uint64_t now = now_us();
	char d[32], what[256];
	va_list ap;

	if (r->ctx->level >= SDUMP_LOG_INFO) {
		va_start(ap, fmt);
		(void)vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		sd_fmt_duration(d, sizeof(d), now - *t);
		/* sd_log, not pr_info: the line starts with "restore PID", as a pass's with its kind */
		sd_log(r->ctx, SDUMP_LOG_INFO, "restore %d: %s %s (%s)", r->pid, step, d, what);
	}
	*t = now;
}

/*
 * The leader's last call unmaps the trampoline; then everyone gets its
 * registers, still stopped (sd_rst_start_all detaches them).
 */
int sd_rst_finish_prepare(struct rst *r)
{
	struct user_regs_struct regs;
	struct seized_thread *leader = &r->seized.t[0];
	int status;

	for (size_t i = 1; i < r->seized.n; i++) {
		sd_rst_final_regs(&r->ps.threads[i], &regs);
		if (sd_ptrace(PTRACE_SETREGS, r->seized.t[i].tid, NULL, &regs) < 0)
			return sd_err(r->ctx, -errno, "cannot set the registers of thread %d",
				      r->seized.t[i].tid);
	}
	if (sd_ptrace(PTRACE_GETREGS, leader->tid, NULL, &regs) < 0)
		return sd_err(r->ctx, -errno, "cannot read the registers of pid %d", r->pid);
	regs.rax = SYS_munmap;
	regs.rdi = r->tramp;
	regs.rsi = TRAMP_PAGES * 4096ul;
	regs.rip = r->tramp;
	regs.orig_rax = (unsigned long long)-1;
	if (sd_ptrace(PTRACE_SETREGS, leader->tid, NULL, &regs) < 0)
		return sd_err(r->ctx, -errno, "cannot set the registers of pid %d", r->pid);
	for (int stop = 0; stop < 2;) {
		if (sd_ptrace(PTRACE_SYSCALL, leader->tid, NULL, NULL) < 0)
			return sd_err(r->ctx, -errno, "cannot resume pid %d", r->pid);
		if (sd_inject_wait_thread(leader->tid, &status) < 0 || !WIFSTOPPED(status))
			return sd_errx(r->ctx, -ESRCH, "the restored pid %d died", r->pid);
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			stop++;
	}
	sd_rst_final_regs(&r->ps.threads[0], &regs);
	if (sd_ptrace(PTRACE_SETREGS, leader->tid, NULL, &regs) < 0)
		return sd_err(r->ctx, -errno, "cannot set the registers of pid %d", r->pid);
	return 0;
}

/*
 * Every thread detached and running; with @stop_sig the process enters a
 * job-control stop by that signal instead (its parent's wait reports it).
 */
int sd_rst_detach(struct rst *r, int stop_sig)
{
	int e;

	/* the kernel discards the others in an orphaned group: that stop is SIGSTOP's here */
	if (stop_sig && stop_sig != SIGSTOP && sd_pgrp_orphaned(r->ps.pgid, r->ps.sid)) {
		pr_warn(r->ctx, "pid %d: stopped again by SIGSTOP, not %s: its process group is orphaned here, where the kernel discards that signal",
			r->pid, strsignal(stop_sig));
		stop_sig = SIGSTOP;
	}
	/* in its stop first, every thread, then its masks (a stopped process's are set only then) */
	e = stop_sig ? sd_rst_enter_stop(r, stop_sig) : r->ps.stop_sig ? sd_rst_restore_sigmasks(r) : 0;

	if (e < 0)
		return e;
	for (size_t i = 0; i < r->seized.n; i++)
		if (sd_ptrace(PTRACE_DETACH, r->seized.t[i].tid, NULL, NULL) < 0)
			return sd_err(r->ctx, -errno, "cannot start thread %d", r->seized.t[i].tid);
	r->seized.n = 0;
	return 0;
}

static int finish(struct rst *r)
{
	int e = sd_rst_finish_prepare(r);

	return e < 0 ? e : sd_rst_detach(r, r->ps.stop_sig);
}

/*
 * All or nothing: once the first thread is detached, no signal may end
 * us before the last one is (their PTRACE_O_EXITKILL would then kill
 * the process that was all but restored).
 */
int sd_rst_start(struct rst *r)
{
	sigset_t oldmask;
	int e = sd_rst_tty_start(r);

	if (e < 0)
		return e;
	sd_inject_block_signals(&oldmask);
	e = finish(r);
	sd_inject_unblock_signals(&oldmask);
	return e;
}

/* Whether we hold capability @cap in our effective set. */
static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

/*
 * Before anything is created: a process of another user comes back only for
 * a caller who may take on its credentials, and only a caller who may pick
 * a PID (clone3 set_tid) can restore at all. Said plainly, once, instead of
 * an EPERM from some system call half-way through.
 */
static int check_privileges(struct rst *r)
{
	const struct process_state *ps = &r->ps;
	uid_t uid = getuid();
	gid_t gid = getgid();
	bool ours = true;

	for (int i = 0; i < 4; i++)
		if (ps->uid[i] != uid || ps->gid[i] != gid)
			ours = false;
	if (!ours && (!has_cap(CAP_SETUID) || !has_cap(CAP_SETGID)))
		return sd_errx(r->ctx, -EPERM,
			       "cannot restore pid %d: permission denied: it ran as uid %u gid %u, and only root (CAP_SETUID and CAP_SETGID) may restore another user's process",
			       r->pid, ps->uid[1], ps->gid[1]);
	if (!has_cap(CAP_CHECKPOINT_RESTORE) && !has_cap(CAP_SYS_ADMIN))
		return sd_errx(r->ctx, -EPERM,
			       "cannot restore pid %d: permission denied: creating a process with a chosen PID needs CAP_CHECKPOINT_RESTORE; %s",
			       r->pid, sd_root_advice("restore"));
	return 0;
}

/*
 * Every id of the image free. Right after a dump the original is a zombie
 * until its parent reaps it, which a parent busy elsewhere does a moment
 * later: wait for that, a while (ZOMBIE_WAIT_US), before saying so.
 */
#define ZOMBIE_WAIT_US 2000000
static int check_pids_free(struct rst *r)
{
	uint64_t deadline = now_us() + ZOMBIE_WAIT_US;

	for (;;) {
		pid_t zombie = 0, parent = 0;
		size_t zi = 0;
		int e;

		/* built over rounds, the leader is ours already */
		for (size_t i = r->staged ? 1 : 0; i < r->ps.nthreads; i++) {
			_cleanup_free_ char *stat = NULL;
			char path[PROC_PATH_MAX];
			uint64_t f[5];

			e = sd_read_file(AT_FDCWD, sd_proc_path(path, r->ps.threads[i].tid, "stat"), &stat, NULL);
			if (e == -ENOENT || e == -ESRCH)
				continue;
			/* a zombie (or dying: X) waits for its parent; anything else holds the id */
			if (e < 0 || sd_proc_stat_fields(stat, f, 5) < 5 || (f[3] != 'Z' && f[3] != 'X'))
				return sd_errx(r->ctx, -EEXIST, "cannot restore pid %d: %s %d is in use", r->pid,
					       i ? "thread id" : "pid", r->ps.threads[i].tid);
			zombie = r->ps.threads[i].tid;
			parent = (pid_t)f[4];
			zi = i;
		}
		if (!zombie)
			return 0;
		if (now_us() >= deadline)
			return sd_errx(r->ctx, -EEXIST,
				       "cannot restore pid %d: %s %d is a zombie waiting for its parent (pid %d) to reap it; restore again once it has",
				       r->pid, zi ? "thread id" : "pid", zombie, parent);
		e = sd_check_cancel(r->ctx);
		if (e < 0)
			return e;
		(void)usleep(20000);
	}
}

int sd_rst_open(struct rst *r, const char *dir)
{
	int e = sd_chain_open(r->ctx, dir, &r->chain);

	if (e < 0)
		return e;
	/* post-copy: pages.img frames that have not arrived yet are asked for */
	r->chain.fetch = r->opts->lazy_fetch;
	r->chain.fetch_data = r->opts->lazy_fetch_data;
	if (r->chain.p[0].meta.kind != PASS_KIND_DUMP)
		return sd_errx(r->ctx, -EINVAL, "image '%s' is a pre-dump: only a final dump (sdump dump) can be restored",
			       dir);
	return 0;
}

/* Read the image of @r->dir (the image directory, or a tree member's) and check what can be. */
int sd_rst_read(struct rst *r, const char *dir, uint64_t *t)
{
	int e = sd_rst_open(r, dir);

	return e < 0 ? e : sd_rst_read_state(r, dir, t);
}

int sd_rst_read_state(struct rst *r, const char *dir, uint64_t *t)
{
	struct sdump_ctx *ctx = r->ctx;
	int e;

	e = sd_stateimg_read(ctx, &r->chain.p[0].dir, &r->ps, &r->fs);
	if (e < 0)
		return e;
	/* a tree member with its parent's fd table: its fds are the parent's, restored by the parent */
	if (r->member && r->member->files_of_parent)
		sd_files_state_release(&r->fs);
	r->pid = r->ps.pid;
	if (r->ps.threads[0].tid != r->pid)
		return sd_errx(ctx, -EBADMSG, "image '%s' is corrupt: the first thread is not the leader",
			       dir);
	e = check_privileges(r);
	/* before the PIDs: after a dump -R the process that holds them holds its locks too */
	if (e == 0)
		e = sd_rst_check_locks(r);
	if (e == 0)
		e = check_pids_free(r);
	if (e == 0)
		e = sd_rst_check_vma_files(r);
	if (e == 0)
		e = sd_rst_check_inherit(r);
	if (e == 0)
		e = sd_rst_check_terminal(r);
	if (e == 0)
		e = sd_rst_check_files(r);
	if (e == 0)
		e = sd_rst_check_fs(r);
	if (e == 0)
		e = sd_rst_check_timers(r);
	if (e == 0)
		e = sd_rst_check_sec(r);
	if (e == 0)
		e = sd_rst_check_cgroup(r);
	if (e == 0)
		e = sd_rst_prepare_ghosts(r);
	if (e == 0)
		e = sd_rst_prepare_ptys(r);
	if (e == 0)
		e = sd_rst_prepare_nodes(r);
	if (e < 0)
		return e;
	r->read_us = now_us() - r->t0;
	rst_step(r, "read", t, "%zu pass%s, %zu thread%s, %zu fd%s", r->chain.n,
		 r->chain.n == 1 ? "" : "es", r->ps.nthreads, r->ps.nthreads == 1 ? "" : "s",
		 r->fs.n, r->fs.n == 1 ? "" : "s");
	return 0;
}

/* Once the new process exists, emptied: everything up to its start. */
int sd_rst_build(struct rst *r, uint64_t *tp)
{
	int e = sd_rst_build_memory(r, tp);

	return e < 0 ? e : sd_rst_build_state(r, tp);
}

int sd_rst_build_memory(struct rst *r, uint64_t *tp)
{
	struct sdump_ctx *ctx = r->ctx;
	uint64_t t = *tp;
	char b[32];
	int e;

	/* before its pages are charged and its threads made: in its cgroups */
	e = sd_rst_restore_cgroup(r);
	if (e == 0)
		e = sd_rst_map_vmas(r);
	if (e < 0)
		return e;
	rst_step(r, "map", &t, "%zu VMAs", r->chain.p[0].vmas.n);
	e = sd_rst_fill_memory(r);
	if (e == 0)
		e = sd_check_cancel(ctx);
	if (e < 0)
		return e;
	r->memory_us = now_us() - t;
	sd_fmt_size(b, sizeof(b), r->fill.bytes);
	rst_step(r, "memory", &t,
		 "%s written, %" PRIu64 " pages (%" PRIu64 " by UFFDIO_COPY) from %zu frames, %u thread%s",
		 b, r->fill.pages, r->fill.uffd_pages, r->fill.frames, r->fill.threads,
		 r->fill.threads == 1 ? "" : "s");
	*tp = t;
	return 0;
}

int sd_rst_build_state(struct rst *r, uint64_t *tp)
{
	struct sdump_ctx *ctx = r->ctx;
	uint64_t t = *tp;
	int e;

	/* done with the memory but for a migration's receiver, whose final pass skips that step */
	e = sd_rst_restore_cgroup(r);
	if (e == 0)
		e = sd_rst_restore_mm(r);
	if (e == 0)
		e = sd_rst_pty_ctty(r);
	if (e == 0)
		e = sd_rst_restore_files(r);
	if (e == 0)
		e = sd_rst_restore_process(r);
	if (e == 0)
		e = sd_rst_restore_fs(r);
	if (e == 0)
		e = sd_rst_restore_attrs(r);
	if (e < 0)
		return e;
	rst_step(r, "process", &t, "mm fields, %zu fd%s, handlers, timers, limits, cwd and root",
		 r->fs.n, r->fs.n == 1 ? "" : "s");
	e = sd_rst_create_threads(r);
	for (size_t i = 0; e == 0 && i < r->seized.n; i++) {
		e = sd_rst_restore_thread_state(r, i);
		if (e == 0)
			e = sd_rst_restore_thread_attrs(r, i);
		if (e == 0)
			e = sd_rst_restore_thread_cgroup(r, i);
	}
	if (e == 0)
		e = sd_rst_restore_shared_signals(r);
	/* every thread a timer may signal exists; an alarm clock needs CAP_WAKE_ALARM */
	if (e == 0)
		e = sd_rst_create_timers(r);
	/* the threads above are made, and their state set, while we are privileged */
	if (e == 0)
		e = sd_rst_sec_before_creds(r);
	if (e == 0)
		e = sd_rst_restore_creds(r);
	/*
	 * The fds' owners once every thread exists (an owner may be one of
	 * them) and after the credentials: F_SETOWN_EX records the caller's
	 * as those its signals are sent with.
	 */
	if (e == 0)
		e = sd_rst_restore_fd_owners(r);
	/* after the credentials: capabilities, no_new_privs, seccomp, in rst_sec.c's order */
	if (e == 0)
		e = sd_rst_restore_sec(r);
	if (e == 0)
		e = sd_rst_restore_attrs_last(r);
	/* nothing changes the address space from here on: sealed, and the VmFlags checked */
	if (e == 0)
		e = sd_rst_vmflags_finish(r);
	/* a migration's receiver: the sender's word before the process may run (a tree's: once, rst_tree.c) */
	if (e == 0 && r->opts->before_start && !r->tree)
		e = r->opts->before_start(r->opts->before_start_data, r->pid);
	if (e == 0)
		e = sd_rst_ghost_times(r);
	/* the timers run from here: as little of the restore as can be in their time */
	if (e == 0)
		e = sd_rst_arm_timers(r);
	/* a process stopped at the dump gets its masks in its stop (sd_rst_detach) */
	if (e == 0 && !r->ps.stop_sig)
		e = sd_rst_restore_sigmasks(r);
	if (e == 0)
		e = sd_check_cancel(ctx);
	if (e < 0)
		return e;
	rst_step(r, "threads", &t, "%zu thread%s with registers and signals, credentials", r->seized.n,
		 r->seized.n == 1 ? "" : "s");
	*tp = t;
	return 0;
}

static int run_restore(struct rst *r)
{
	struct sdump_ctx *ctx = r->ctx;
	uint64_t t = now_us();
	int e;

	e = sd_rst_read(r, r->opts->dir, &t);
	if (e < 0)
		return e;
	e = sd_rst_start_child(r);
	if (e == 0)
		e = sd_rst_clear_address_space(r);
	if (e == 0)
		e = sd_check_cancel(ctx);
	if (e < 0)
		return e;
	rst_step(r, "create", &t, "a traced child with pid %d, its address space emptied", r->pid);
	e = sd_rst_build(r, &t);
	if (e == 0)
		e = sd_rst_start(r);
	if (e < 0)
		return e;
	if (r->lazy)
		sd_rst_lazy_running(r->lazy);
	if (r->opts->started)
		r->opts->started(r->opts->started_data, r->pid);
	rst_step(r, "start", &t, "trampoline unmapped, detached");
	return 0;
}

/* @pid into @path, whole or not at all: a temporary file renamed over it. */
int sd_rst_write_pidfile(struct sdump_ctx *ctx, const char *path, pid_t pid)
{
	char tmp[PATH_MAX], line[32];
	int fd, n, e = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return sd_errx(ctx, -ENAMETOOLONG, "cannot write the pidfile '%s': name too long", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return sd_err(ctx, -errno, "cannot write the pidfile '%s'", path);
	n = snprintf(line, sizeof(line), "%d\n", (int)pid);
	if (fchmod(fd, 0644) < 0 || sd_write_all(fd, line, (size_t)n) < 0 || fsync(fd) < 0)
		e = -errno;
	if (close(fd) < 0 && e == 0)
		e = -errno;
	if (e == 0 && rename(tmp, path) < 0)
		e = -errno;
	if (e < 0) {
		(void)unlink(tmp);
		return sd_err(ctx, e, "cannot write the pidfile '%s'", path);
	}
	return 0;
}

void sd_rst_init(struct rst *r, struct sdump_ctx *ctx, const struct sdump_restore_opts *opts)
{
	*r = (struct rst){ .ctx = ctx, .opts = opts, .mem_fd = -1, .chain = { .file_fd = -1 },
			   .tty_fd = -1, .pidfd = -1, .t0 = now_us() };
	r->inj.mem_fd = -1;
}

/* What opts->ret_stats gets of a restore that worked, before @r is released. */
void sd_rst_stats(const struct rst *r, size_t nthreads, size_t nfds, uint64_t t0)
{
	if (!r->opts->ret_stats)
		return;
	*r->opts->ret_stats = (struct sdump_restore_stats){
		.pid = r->pid,
		.passes = r->chain.n,
		.threads = nthreads,
		.fds = nfds,
		.vmas = r->chain.n ? r->chain.p[0].vmas.n : 0,
		.pages_restored = r->fill.pages,
		.bytes_restored = r->fill.bytes,
		.frames = r->fill.frames,
		.read_us = r->read_us,
		.memory_us = r->memory_us,
		.total_us = r->lazy_st.t_running_us ? r->lazy_st.t_running_us : now_us() - t0,
		.lazy = r->opts->lazy,
		.lazy_complete_us = r->lazy_st.t_complete_us,
		.lazy_faults = r->lazy_st.faults,
		.lazy_fault_pages = r->lazy_st.fault_pages,
		.lazy_pushed = r->lazy_st.pushed,
		.lazy_events = r->lazy_st.events,
	};
}

/*
 * Never a half-restored process: it goes, and we reap it, its traced
 * threads first (the leader's exit waits for them). Every thread id of the
 * image, not only those we got to wait for: a clone3 that went through
 * while its injection failed leaves a thread traced from birth that we
 * never heard of (ECHILD for those never made). sd_rst_kill sends the
 * SIGKILL, sd_rst_reap waits.
 */
void sd_rst_kill(struct rst *r)
{
	if (r->started)
		(void)kill(r->pid, SIGKILL);
}

void sd_rst_reap(struct rst *r)
{
	if (!r->started)
		return;
	for (size_t i = r->ps.nthreads; i-- > 1;)
		while (waitpid(r->ps.threads[i].tid, NULL, __WALL) < 0 && errno == EINTR)
			;
	while (waitpid(r->pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	r->started = false;
}

void sd_rst_release(struct rst *r)
{
	zclose(&r->mem_fd);
	zclose(&r->pidfd);
	zfree(&r->seized.t);
	zfree(&r->src);
	sd_rst_ghosts_release(r);
	sd_rst_ptys_release(r);
	sd_rst_nodes_release(r);
	sd_process_state_release(&r->ps);
	sd_files_state_release(&r->fs);
	sd_chain_release(&r->chain);
}

/*
 * The restored process @r->pid runs (@e: how the restore went): its
 * pidfile, the network lock of its TCP connections removed, and a lazy
 * restore's memory all in (a pidfile that failed killed the process: the
 * filler ends). What is left of @e.
 */
int sd_rst_started(struct rst *r, int e)
{
	struct sdump_ctx *ctx = r->ctx;
	const struct sdump_restore_opts *opts = r->opts;

	if (e == 0 && opts->pidfile) {
		e = sd_rst_write_pidfile(ctx, opts->pidfile, r->pid);
		if (e < 0) {
			/* it runs, but the caller cannot know it: it goes */
			(void)kill(r->pid, SIGKILL);
			while (waitpid(r->pid, NULL, __WALL) < 0 && errno == EINTR)
				;
		}
	}
	/* the network lock of its TCP connections goes, restored or not */
	if (r->netlock_pid)
		(void)sd_netlock_remove(ctx, r->netlock_pid);
	if (r->lazy && sd_rst_lazy_finish(r) < 0 && e == 0)
		e = -EIO;
	return e;
}

/*
 * Unless detached, we stay the parent of @r->pid and its exit status is
 * ours (@e: how the restore went; what it returns).
 */
int sd_rst_wait(struct rst *r, int e, uint64_t t0, size_t nthreads, int *ret_status)
{
	struct sdump_ctx *ctx = r->ctx;
	const struct sdump_restore_opts *opts = r->opts;
	int status;

	if (e == 0)
		sd_log(ctx, SDUMP_LOG_INFO, "restore %d: %zu thread%s running, %.2f s", r->pid,
		       nthreads, nthreads == 1 ? "" : "s", (now_us() - t0) / 1e6);
	if (e < 0 || opts->detach) {
		sd_rst_tty_end(r, false);
		if (e == 0 && ret_status)
			*ret_status = 0;
		return e;
	}
	/* stay the parent: the process's exit status is ours */
	while (waitpid(r->pid, &status, 0) < 0)
		if (errno != EINTR) {
			sd_rst_tty_end(r, false);
			return sd_err(ctx, -errno, "cannot wait for pid %d", r->pid);
		}
	sd_rst_tty_end(r, true);
	/* a process that dies of a signal says nothing itself: a write into a pipe nobody reads, say */
	if (WIFSIGNALED(status))
		pr_warn(ctx, "the restored pid %d was killed by signal %d (SIG%s)%s", r->pid, WTERMSIG(status),
			sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?",
			WCOREDUMP(status) ? ", core dumped" : "");
	if (ret_status)
		*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

SDUMP_API int sdump_restore(struct sdump_ctx *ctx, const struct sdump_restore_opts *opts,
			    int *ret_status)
{
	struct rst r;
	uint64_t t0 = now_us();
	int e;

	/* a tree image: every member made again (rst_tree.c) */
	if (opts->dir && sd_treeimg_present(opts->dir))
		return sd_rst_tree_restore(ctx, opts, ret_status);
	sd_rst_init(&r, ctx, opts);
	r.t0 = t0;
	e = run_restore(&r);
	return sd_rst_end(&r, e, t0, ret_status);
}

int sd_rst_end(struct rst *r, int e, uint64_t t0, int *ret_status)
{
	struct sdump_ctx *ctx = r->ctx;
	size_t nthreads;

	/* and a stale one some dump left */
	if (sd_rst_inet_locked(r)) {
		sd_netlock_sweep(ctx);
		r->netlock_pid = r->ps.pid;
	}
	r->inj.pid = r->pid;
	zclose(&r->mem_fd);
	if (e < 0)
		sd_rst_tty_undo(r);
	if (e < 0) {
		sd_rst_kill(r);
		sd_rst_reap(r);
	}
	if (e < 0 && r->lazy) {
		sd_rst_lazy_abort(r->lazy);
		r->lazy = NULL;
	}
	e = sd_rst_started(r, e);
	nthreads = r->ps.nthreads;
	if (e == 0)
		sd_rst_stats(r, nthreads, r->fs.n, t0);
	sd_rst_release(r);
	return sd_rst_wait(r, e, t0, nthreads, ret_status);
}
