/* SPDX-License-Identifier: MIT */
/*
 * Restore steps 5 and 6: the threads. Each thread but the leader is made
 * with clone3(set_tid = TID) from the leader, then every thread gets its
 * own state back (sigaltstack, robust list, clear_child_tid, rseq, comm,
 * pending signals, FPU state, signal mask, scheduling); the registers it
 * resumes with are set last, at the start (restore.c).
 */
#include <elf.h>
#include <errno.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "fault.h"
#include "inject.h"
#include "pattr.h"
#include "pstate.h"
#include "restore.h"
#include "seize.h"

/* The -ERESTART* values a system call interrupted by a stop leaves in rax. */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

int sd_rst_create_threads(struct rst *r)
{
	for (size_t i = 1; i < r->ps.nthreads; i++) {
		pid_t tid = r->ps.threads[i].tid;
		uint64_t stack_top = r->tramp + TRAMP_STACK_TOP - 8192 * i;
		struct clone_args args = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				 CLONE_SYSVSEM,
			.stack = stack_top - 4096,
			.stack_size = 4096,
		};
		uint64_t a = 0, at = 0;
		int status, e;

		/* its default timer slack is the leader's slack when it makes it */
		e = sd_rst_attrs_before_clone(r, i);
		if (e < 0)
			return e;
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, &tid, sizeof(tid), &at);
		args.set_tid = at;
		args.set_tid_size = 1;
		if (e == 0)
			e = sd_rst_data_put(r, &args, sizeof(args), &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_clone3, (long)a, sizeof(args), 0, 0, 0, 0, NULL);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot create thread %d of pid %d", tid, r->pid);
		/* traced from birth (PTRACE_O_TRACECLONE): it starts stopped */
		while (waitpid(tid, &status, __WALL) < 0)
			if (errno != EINTR)
				return sd_err(r->ctx, -errno, "cannot wait for thread %d", tid);
		r->seized.t[r->seized.n++] = (struct seized_thread){ .tid = tid };
	}
	return 0;
}

/* The registers a thread resumes with: a system call it was stopped in starts again. */
void sd_rst_final_regs(const struct thread_state *t, struct user_regs_struct *regs)
{
	*regs = t->regs;
	if ((long long)regs->orig_rax >= 0) {
		switch ((long long)regs->rax) {
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
		case -ERESTARTNOHAND:
		case -ERESTART_RESTARTBLOCK:
			/*
			 * ERESTART_RESTARTBLOCK would mean restart_syscall() with a
			 * restart block this new thread does not have: the
			 * original call starts again instead (a sleep sleeps its
			 * whole time again, a timed wait waits again). In
			 * restart_syscall itself, the call it restarts
			 * (dump_restart.c), its arguments still in the registers.
			 */
			regs->rax = regs->orig_rax;
			if ((long long)regs->orig_rax == SYS_restart_syscall && t->restart_call)
				regs->rax = (unsigned long long)t->restart_call;
			regs->rip -= 2;
			break;
		}
	}
	regs->orig_rax = (unsigned long long)-1;
}

int sd_rst_restore_thread_state(struct rst *r, size_t i)
{
	const struct thread_state *t = &r->ps.threads[i];
	struct seized_thread *st = &r->seized.t[i];
	uint64_t stack[3] = { t->altstack_sp, (uint64_t)(uint32_t)t->altstack_flags, t->altstack_size };
	struct iovec iov;
	struct sched_param sp = { .sched_priority = t->sched_priority };
	uint64_t a, all = ~0ull;
	int e;

	sd_rst_data_reset(r);
	/*
	 * Always: the leader inherits ours (an sdump built with AddressSanitizer
	 * has one), on memory that is gone now.
	 */
	if (t->altstack_size && !(t->altstack_flags & SS_DISABLE)) {
		stack[1] = 0;
	} else {
		stack[0] = stack[2] = 0;
		stack[1] = SS_DISABLE;
	}
	e = sd_rst_data_put(r, stack, sizeof(stack), &a);
	if (e == 0)
		e = sd_rst_call_in(r, st, SYS_sigaltstack, (long)a, 0, 0, 0, 0, 0, NULL);
	if (e < 0)
		return e;
	e = 0;
	if (t->robust_list_len)
		e = sd_rst_call_in(r, st, SYS_set_robust_list, (long)t->robust_list, (long)t->robust_list_len,
				0, 0, 0, 0, NULL);
	if (e == 0)
		e = sd_rst_call_in(r, st, SYS_set_tid_address, (long)t->clear_child_tid, 0, 0, 0, 0, 0, NULL);
	if (e == 0 && t->has_rseq)
		e = sd_rst_call_in(r, st, SYS_rseq, (long)t->rseq_abi, t->rseq_size, 0, t->rseq_sig, 0, 0,
				NULL);
	if (e == 0) {
		sd_rst_data_reset(r);
		e = sd_rst_data_str(r, t->comm, &a);
		if (e == 0)
			e = sd_rst_call_in(r, st, SYS_prctl, PR_SET_NAME, (long)a, 0, 0, 0, 0, NULL);
	}
	/*
	 * Every signal blocked until sd_rst_restore_sigmasks, the build's last
	 * step: a signal queued here and not blocked would be delivered at the
	 * next system call injected in the thread, and the injector would put
	 * it back at detach without its siginfo, once for all its queued copies.
	 */
	if (e == 0 && sd_ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(all), &all) < 0)
		e = -errno;
	/* signals queued for it, and the one it was being delivered when seized */
	for (size_t k = 0; e == 0 && k <= t->npending; k++) {
		const uint8_t *si = k < t->npending ? t->pending[k] : (t->has_stop_signal ? t->stop_signal : NULL);
		int signo;

		if (!si)
			continue;
		memcpy(&signo, si, sizeof(signo));
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, si, SIGINFO_SIZE, &a);
		/* in the thread itself: only it may queue itself a kernel's or kill()'s siginfo */
		if (e == 0)
			e = sd_rst_call_in(r, st, SYS_rt_tgsigqueueinfo, r->pid, t->tid, signo, (long)a, 0, 0,
					NULL);
	}
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot restore thread %d of pid %d", t->tid, r->pid);
	if (t->xsave) {
		iov = (struct iovec){ t->xsave, t->xsave_len };
		if (sd_ptrace(PTRACE_SETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) < 0)
			return sd_err(r->ctx, -errno, "cannot restore the xstate of thread %d", t->tid);
	} else if (sd_ptrace(PTRACE_SETFPREGS, t->tid, NULL, &t->fpregs) < 0) {
		return sd_err(r->ctx, -errno, "cannot restore the FPU state of thread %d", t->tid);
	}
	/* SCHED_DEADLINE needs sched_setattr: sd_rst_restore_thread_attrs */
	if (!t->attrs.valid || (t->sched_policy & ~SCHED_RESET_ON_FORK) != SCHED_DEADLINE) {
		if (sched_setscheduler(t->tid, t->sched_policy, &sp) < 0)
			return sd_err(r->ctx, -errno,
				      "cannot restore the scheduling policy of thread %d (%s, priority %d%s); a real-time policy needs CAP_SYS_NICE or RLIMIT_RTPRIO in sdump restore",
				      t->tid, sd_sched_policy_name(t->sched_policy), t->sched_priority,
				      (t->sched_policy & SCHED_RESET_ON_FORK) ? ", reset-on-fork" : "");
	}
	if (setpriority(PRIO_PROCESS, (id_t)t->tid, t->nice) < 0)
		return sd_err(r->ctx, -errno,
			      "cannot restore the nice value %d of thread %d; a value below sdump's own needs CAP_SYS_NICE or RLIMIT_NICE in sdump restore",
			      t->nice, t->tid);
	return 0;
}

int sd_rst_restore_sigmasks(struct rst *r)
{
	for (size_t i = 0; i < r->seized.n; i++) {
		const struct thread_state *t = &r->ps.threads[i];

		if (sd_ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->sigmask), &t->sigmask) < 0)
			return sd_err(r->ctx, -errno, "cannot restore the signal mask of thread %d", t->tid);
	}
	return 0;
}

/*
 * Resume thread @tid with @sig and wait for its next stop, which must be
 * by @want_sig: @event PTRACE_EVENT_STOP (a group stop), 0 a
 * signal-delivery-stop.
 */
static int cont_until(struct rst *r, pid_t tid, int sig, int want_sig, int event)
{
	int status;

	if (sd_ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig) < 0)
		return sd_err(r->ctx, -errno, "cannot resume thread %d into its stop", tid);
	if (sd_inject_wait_thread(tid, &status) < 0 || !WIFSTOPPED(status))
		return sd_errx(r->ctx, -ESRCH, "the restored thread %d died on the way to its stop", tid);
	if (WSTOPSIG(status) != want_sig || status >> 16 != event)
		return sd_errx(r->ctx, -EPROTO, "the restored thread %d stopped by signal %d (event %d), not %s",
			       tid, WSTOPSIG(status), status >> 16, strsignal(want_sig));
	return 0;
}

/*
 * Every thread of a process stopped at the dump put into its group stop
 * by @stop_sig while traced, every signal still blocked; only then is each
 * thread's own mask set. Detached so (sd_rst_detach), the process stays in
 * that stop without a look at its signals: those pending stay so until
 * SIGCONT. A stop signal given at detach instead would be taken while the
 * image's masks let the pending signals through, which the kernel takes
 * first (lower numbers first): the handler entered, then the stop.
 *
 * The leader takes a SIGSTOP of ours (no other signal is deliverable),
 * changed in its signal-delivery-stop to @stop_sig, which it alone lets
 * through then (a blocked one would be queued again, not taken).
 */
int sd_rst_enter_stop(struct rst *r, int stop_sig)
{
	pid_t leader = r->seized.t[0].tid;
	uint64_t mask;
	int e;

	/* one caught or ignored would not stop it (it stopped by its default action, once) */
	if (stop_sig != SIGSTOP && r->ps.sigactions[stop_sig - 1].handler != 0) {
		pr_warn(r->ctx, "pid %d: stopped again by SIGSTOP, not %s, which it now catches or ignores",
			r->pid, strsignal(stop_sig));
		stop_sig = SIGSTOP;
	}
	mask = ~0ull & ~(1ull << (stop_sig - 1));

	if (syscall(SYS_tgkill, r->pid, leader, SIGSTOP) < 0)
		return sd_err(r->ctx, -errno, "cannot stop the restored pid %d", r->pid);
	e = cont_until(r, leader, 0, SIGSTOP, 0);
	if (e == 0 && sd_ptrace(PTRACE_SETSIGMASK, leader, sizeof(mask), &mask) < 0)
		e = sd_err(r->ctx, -errno, "cannot set the signal mask of thread %d", leader);
	if (e == 0)
		e = cont_until(r, leader, stop_sig, stop_sig, PTRACE_EVENT_STOP);
	for (size_t i = 1; e == 0 && i < r->seized.n; i++)
		e = cont_until(r, r->seized.t[i].tid, 0, stop_sig, PTRACE_EVENT_STOP);
	return e < 0 ? e : sd_rst_restore_sigmasks(r);
}
