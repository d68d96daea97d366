/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "inject: "
#include "ctx.h"
#include "compat.h"
#include "fault.h"
#include "inject.h"
#include "inject_priv.h"
#include "proc.h"
#include "procfs.h"
#include "util.h"

/* Find "syscall" (0f 05) in the vdso, else in any executable mapping. */
static int find_syscall_insn(struct sdump_ctx *ctx, struct injector *inj)
{
	_cleanup_free_ char *maps = NULL;
	_cleanup_close_ int mem = -1;
	struct vma_list l = { 0 };
	char path[PROC_PATH_MAX];
	int r;

	(void)sd_proc_path(path, inj->pid, "maps");
	r = sd_read_file(AT_FDCWD, path, &maps, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	r = sd_proc_parse_maps(maps, &l);
	if (r < 0)
		return sd_err(ctx, r, "cannot parse '%s'", path);
	(void)sd_proc_path(path, inj->pid, "mem");
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (mem < 0) {
		r = sd_err(ctx, -errno, "cannot open '%s'", path);
		goto out;
	}
	for (int pass = 0; pass < 2 && !inj->syscall_ip; pass++) {
		for (size_t i = 0; i < l.n && !inj->syscall_ip; i++) {
			const struct vma *v = &l.v[i];
			uint8_t buf[65536];
			uint64_t a;

			if (!(v->prot & PROT_EXEC) || (pass == 0) != (v->kind == VK_VDSO) ||
			    v->kind == VK_VSYSCALL)
				continue;
			for (a = v->start; a < v->end && !inj->syscall_ip; a += sizeof(buf) - 1) {
				size_t want = (size_t)MIN((uint64_t)sizeof(buf), v->end - a);
				ssize_t n = sd_pread_all(mem, buf, want, (off_t)a);

				for (ssize_t k = 0; k + 1 < n; k++) {
					if (buf[k] == 0x0f && buf[k + 1] == 0x05) {
						inj->syscall_ip = a + (uint64_t)k;
						break;
					}
				}
				if (n < (ssize_t)want)
					break;
			}
		}
	}
	r = inj->syscall_ip ? 0 : sd_errx(ctx, -ENOEXEC, "no syscall instruction found in pid %d", inj->pid);
	pr_debug(ctx, "pid %d: syscall instruction at 0x%" PRIx64, inj->pid, inj->syscall_ip);
out:
	sd_vma_list_release(&l);
	return r;
}

int sd_inject_wait_thread(pid_t tid, int *ret_status)
{
	struct timespec pause = { 0, 20000 };

	/*
	 * Not a blocking waitpid(): a killed leader is reported only once its
	 * other threads are reaped, and those are traced by us, stopped, dead
	 * and waiting for this very process: waiting for the leader would never
	 * return. Poll, and give up once the thread is a zombie.
	 */
	for (unsigned int i = 0;; i++) {
		pid_t w = waitpid(tid, ret_status, __WALL | WNOHANG);

		if (w == tid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (i < 32) {
			(void)sched_yield();
			continue;
		}
		if (i % 64 == 0 && sd_seize_task_is_dead(tid))
			return -ESRCH;
		(void)nanosleep(&pause, NULL);
	}
}

/*
 * Resume @t with PTRACE_SYSCALL until the next syscall stop. A signal that
 * arrives on the way is kept in t->pending_sig and sent again at detach
 * (t->resend_sig: resumed with none, the thread dropped it).
 */
static int step_to_syscall_stop(struct seized_thread *t, bool fault_point, bool *ret_moved)
{
	int status;

	for (;;) {
		int r;

		if ((fault_point && fault_fails(FAULT_PTRACE)) ||
		    ptrace(PTRACE_SYSCALL, t->tid, NULL, NULL) < 0)
			return -errno;
		*ret_moved = true;
		r = sd_inject_wait_thread(t->tid, &status);
		if (r < 0)
			return r;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (!WIFSTOPPED(status))
			return -EIO;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			return 0;
		/* resumed past it with no signal: dropped unless sent again at detach */
		if ((status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP && !t->pending_sig) {
			t->pending_sig = WSTOPSIG(status);
			t->resend_sig = true;
		}
	}
}

/* A thread at the entry stop of an injected call that must not run: the call skipped, to its exit stop. */
static int skip_to_exit(struct seized_thread *t)
{
	struct user_regs_struct regs;
	bool moved = false;

	if (ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0)
		return -errno;
	regs.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, t->tid, NULL, &regs) < 0)
		return -errno;
	return step_to_syscall_stop(t, false, &moved);
}

/* Put the saved registers back and park the thread in an event stop again. */
int sd_inject_restore_thread(struct seized_thread *t, const struct user_regs_struct *saved)
{
	int status;

	if (ptrace(PTRACE_SETREGS, t->tid, NULL, saved) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) < 0)
		return -errno;
	if (ptrace(PTRACE_CONT, t->tid, NULL, NULL) < 0)
		return -errno;
	for (;;) {
		int r = sd_inject_wait_thread(t->tid, &status);

		if (r < 0)
			return r;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* a signal on the way: the thread stays in signal-delivery-stop, as after seize */
		if (WIFSTOPPED(status) && (status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP) {
			if (!t->pending_sig)
				t->pending_sig = WSTOPSIG(status);
			return 0;
		}
		if (ptrace(PTRACE_CONT, t->tid, NULL, NULL) < 0)
			return -errno;
	}
}

void sd_inject_block_signals(sigset_t *ret_old)
{
	sigset_t all;

	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, ret_old);
}

void sd_inject_unblock_signals(const sigset_t *old)
{
	(void)pthread_sigmask(SIG_SETMASK, old, NULL);
}

int sd_inject_enter(struct seized_thread *t, int allow, const struct user_regs_struct *regs,
		    bool fault_point, sigset_t *ret_oldmask)
{
	int r;

	sd_inject_block_signals(ret_oldmask);
	r = sd_seize_mask_run(t, allow);
	if (r == 0 && ((fault_point && fault_fails(FAULT_PTRACE)) ||
		       ptrace(PTRACE_SETREGS, t->tid, NULL, regs) < 0))
		r = -errno;
	if (r < 0)
		sd_inject_leave(t, ret_oldmask);
	return r;
}

void sd_inject_leave(struct seized_thread *t, const sigset_t *oldmask)
{
	sd_seize_mask_own(t);
	sd_inject_unblock_signals(oldmask);
}

/* A thread not in signal-delivery-stop: resuming it must not consume a signal. */
struct seized_thread *sd_inject_pick_thread(struct seized *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->t[i].pending_sig)
			return &s->t[i];
	return &s->t[0];
}

int sd_inject_call(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
		struct seized_thread *t, long nr, const long args[6], unsigned int flags,
		long *ret_val)
{
	/* whether the fault plan may fail this call or its ptrace requests (see fault.h) */
	const bool fault_point = !(flags & INJECT_UNDO);
	struct user_regs_struct saved, regs;
	uint64_t tramp_ip;
	bool moved = false, via_tramp = false;
	sigset_t oldmask;
	int r, e;

	if (!t)
		t = sd_inject_pick_thread(s);

	if (fault_point) {
		r = sd_fault_check(FAULT_INJECT);
		if (r < 0) {
			pr_debug(ctx, "thread %d: syscall %ld = %d (injected fault)", t->tid, nr, r);
			*ret_val = r;
			return 0;
		}
	}
	if (!inj->syscall_ip) {
		r = find_syscall_insn(ctx, inj);
		if (r < 0)
			return r;
	}
	if ((fault_point && fault_fails(FAULT_PTRACE)) ||
	    ptrace(PTRACE_GETREGS, t->tid, NULL, &saved) < 0)
		return sd_err(ctx, -errno, "cannot read registers of thread %d", t->tid);
	/* options replace each other: keep the caller's */
	(void)ptrace(PTRACE_SETOPTIONS, t->tid, NULL,
		     (void *)(long)(PTRACE_O_TRACESYSGOOD | inj->ptrace_opts));
	/* resuming it from signal-delivery-stop drops its signal: send it again at detach */
	if (t->pending_sig)
		t->resend_sig = true;

	regs = saved;
	regs.rax = (unsigned long long)nr;
	regs.rdi = (unsigned long long)args[0];
	regs.rsi = (unsigned long long)args[1];
	regs.rdx = (unsigned long long)args[2];
	regs.r10 = (unsigned long long)args[3];
	regs.r8 = (unsigned long long)args[4];
	regs.r9 = (unsigned long long)args[5];
	regs.rip = inj->syscall_ip;
	if (inj->tramp && sd_inject_tramp_arm(inj, t, &saved, &tramp_ip) == 0) {
		regs.rip = tramp_ip;
		via_tramp = true;
	}
	/* not inside a system call: no restart logic may touch these registers */
	regs.orig_rax = (unsigned long long)-1;
	/*
	 * From here until its registers are back the thread is not as it was:
	 * no signal may end or divert us in between (a handler only sets a
	 * flag, but SIGUSR1, SIGPIPE, SIGALRM and the like kill by default).
	 * Only SIGKILL can still land in this window; sdump(1) says what then.
	 */
	r = sd_inject_enter(t, 0, &regs, fault_point, &oldmask);
	if (r < 0)
		return sd_err(ctx, r, "cannot set registers of thread %d", t->tid);
	r = step_to_syscall_stop(t, fault_point, &moved); /* entry */
	/*
	 * The tests' SIGKILL of sdump in the middle of a call (SDUMP_FAULT=die:N),
	 * a call through the trampoline: killed in one through the vdso the
	 * thread runs on with our registers (sdump(1)), a known limit not walked.
	 */
	if (r == 0 && via_tramp && sd_fault_check(FAULT_DIE))
		(void)raise(SIGKILL);
	if (r == 0) {
		moved = false;
		r = step_to_syscall_stop(t, fault_point, &moved); /* exit */
		/*
		 * Still at the call's entry stop: registers set there would make
		 * the kernel run the thread's own last call again (its orig_rax,
		 * a rename() that went through already, say). The call is
		 * skipped first, to its exit stop, where they are set as always.
		 */
		if (r < 0 && !moved)
			(void)skip_to_exit(t);
	}
	if (r == 0 && ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0)
		r = -errno;
	/* parked where the call left it, its registers back (inj->park) */
	if (r == 0 && inj->park)
		e = ptrace(PTRACE_SETREGS, t->tid, NULL, &saved) < 0 ? -errno : 0;
	else
		e = sd_inject_restore_thread(t, &saved);
	sd_inject_leave(t, &oldmask);
	if (r < 0)
		return sd_err(ctx, r, "cannot run syscall %ld in thread %d", nr, t->tid);
	if (e < 0)
		return sd_err(ctx, e, "cannot restore thread %d after a syscall", t->tid);
	pr_debug(ctx, "thread %d: syscall %ld = %lld", t->tid, nr, (long long)regs.rax);
	*ret_val = (long)regs.rax;
	return 0;
}

int sd_inject_suspend_seccomp(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
			   pid_t tid, bool quiet)
{
	inj->ptrace_opts |= PTRACE_O_SUSPEND_SECCOMP;
	for (size_t i = 0; i < s->n; i++) {
		if (ptrace(PTRACE_SETOPTIONS, s->t[i].tid, NULL,
			   (void *)(long)(PTRACE_O_TRACESYSGOOD | inj->ptrace_opts)) == 0)
			continue;
		int r = -errno;

		inj->ptrace_opts &= ~(long)PTRACE_O_SUSPEND_SECCOMP;
		inj->seccomp_filtered = true;
		/* put the options back as they were on those done */
		for (size_t k = 0; k <= i; k++)
			(void)ptrace(PTRACE_SETOPTIONS, s->t[k].tid, NULL,
				     (void *)(long)(PTRACE_O_TRACESYSGOOD | inj->ptrace_opts));
		if (quiet)
			return r;
		return sd_err(ctx, r,
			      "cannot suspend the seccomp filters of pid %d for sdump's own system calls (thread %d is under seccomp); that needs CAP_SYS_ADMIN, and sdump under no seccomp itself",
			      s->pid, (int)tid);
	}
	return 0;
}

long sd_inject_fd_limit(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[PROC_PATH_MAX];
	uint64_t soft;

	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "limits"), &buf, NULL) < 0 ||
	    sd_proc_parse_limit_soft(buf, "Max open files", &soft) < 0)
		return 1024;
	return (long)MIN(soft, (uint64_t)1 << 20);
}

int sd_inject_take_fd(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
		   struct seized_thread *t, int pidfd, const struct inject_fd_req *req,
		   int *ret_fd, int *ret_target_fd)
{
	const bool keep = req->flags & INJECT_FD_KEEP, quiet = req->flags & INJECT_FD_QUIET;
	const long limit = (req->flags & INJECT_FD_MOVE_HIGH) ? sd_inject_fd_limit(inj->pid) : 0;
	long fd, ign;
	sigset_t oldmask;
	int r, e, copy;

	assert(keep || !(req->flags & INJECT_FD_MOVE_HIGH));
	/* not to stay in the target: from its creation to its close nothing may end us */
	if (!keep)
		sd_inject_block_signals(&oldmask);
	r = sd_inject_call(ctx, inj, s, t, req->nr, req->args, 0, &fd);
	if (r < 0 || fd < 0) {
		if (!keep)
			sd_inject_unblock_signals(&oldmask);
		if (r == 0)
			*ret_fd = (int)fd;
		return r;
	}
	if (limit > 64) {
		const long dup_args[6] = { fd, F_DUPFD_CLOEXEC, limit - 16 };
		const long close_args[6] = { fd };
		long high;

		/* the target holds two of them until the close: nothing may end us in between */
		sd_inject_block_signals(&oldmask);
		r = sd_inject_call(ctx, inj, s, t, SYS_fcntl, dup_args, 0, &high);
		/*
		 * Moved or not, the original goes: left low in the table, a kept
		 * fd would not be found where it is looked for (the uffd-wp
		 * tracker's, when its state file is lost).
		 */
		e = sd_inject_call(ctx, inj, s, t, SYS_close, close_args, INJECT_UNDO, &ign);
		sd_inject_unblock_signals(&oldmask);
		if (r == 0 && high < 0) {
			r = (int)high;
			if (!quiet)
				(void)sd_err(ctx, r, "cannot move the %s of pid %d up to fd %ld",
					     req->name, inj->pid, limit - 16);
		}
		if (r == 0)
			r = e;
		if (r < 0)
			return r;
		fd = high;
	}
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
	r = copy < 0 ? -errno : 0;
	e = 0;
	if (!keep) {
		const long close_args[6] = { fd };

		/* closed in the target whatever happened: nothing of ours is left there */
		e = sd_inject_call(ctx, inj, s, t, SYS_close, close_args, INJECT_UNDO, &ign);
		sd_inject_unblock_signals(&oldmask);
	}
	if (r < 0)
		return quiet ? r : sd_err(ctx, r, "cannot take the %s of pid %d", req->name, inj->pid);
	if (e < 0) {
		(void)close(copy);
		return e;
	}
	*ret_fd = copy;
	if (ret_target_fd)
		*ret_target_fd = keep ? (int)fd : -1;
	return 0;
}

int sd_inject_scratch_map(struct sdump_ctx *ctx, struct injector *inj, struct seized *s, size_t len)
{
	/*
	 * Write-only: under the personality READ_IMPLIES_EXEC a readable
	 * mapping is made executable too, which memory-deny-write-execute
	 * refuses. The kernel writes the answers (x86 pages that can be
	 * written can be read), /proc/PID/mem reads them (FOLL_FORCE).
	 */
	const long args[6] = { 0, (long)(len + INJECT_BATCH_BYTES), PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0 };
	char path[PROC_PATH_MAX];
	long addr;
	int r;

	(void)sd_proc_path(path, inj->pid, "mem");
	inj->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	if (inj->mem_fd < 0)
		return sd_err(ctx, -errno, "cannot open '%s'", path);
	/* the trampoline first: the scratch page's own mmap goes through it */
	r = sd_inject_tramp_map(ctx, inj, s);
	if (r == 0)
		r = sd_inject_call(ctx, inj, s, NULL, SYS_mmap, args, 0, &addr);
	if (r < 0)
		return r;
	if (addr < 0 && addr > -4096)
		return sd_err(ctx, (int)addr, "cannot map a scratch page in pid %d", inj->pid);
	inj->scratch = (uint64_t)addr;
	inj->scratch_len = len;
	return 0;
}

int sd_inject_scratch_read(struct sdump_ctx *ctx, struct injector *inj, size_t off, void *out,
			size_t len)
{
	ssize_t n;

	if (off + len > inj->scratch_len)
		return -EINVAL;
	n = sd_fault_check(FAULT_PROCREAD);
	if (n == 0)
		n = sd_pread_all(inj->mem_fd, out, len, (off_t)(inj->scratch + off));
	if (n != (ssize_t)len)
		return sd_err(ctx, n < 0 ? (int)n : -EIO, "cannot read the scratch page of pid %d",
			      inj->pid);
	return 0;
}

int sd_inject_scratch_unmap(struct sdump_ctx *ctx, struct injector *inj, struct seized *s)
{
	const long args[6] = { (long)inj->scratch, (long)(inj->scratch_len + INJECT_BATCH_BYTES), 0, 0, 0, 0 };
	long ret;
	int r = 0, e;

	/* the scratch page through the trampoline, then the trampoline itself */
	if (inj->scratch) {
		r = sd_inject_call(ctx, inj, s, NULL, SYS_munmap, args, INJECT_UNDO, &ret);
		if (r == 0 && ret < 0)
			r = sd_err(ctx, (int)ret, "cannot unmap the scratch page of pid %d", inj->pid);
		if (r == 0)
			inj->scratch = 0;
	}
	e = sd_inject_tramp_unmap(ctx, inj, s);
	if (r == 0)
		r = e;
	zclose(&inj->mem_fd);
	return r;
}
