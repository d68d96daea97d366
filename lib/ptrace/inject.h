/* SPDX-License-Identifier: MIT */
/*
 * Running a system call inside a seized process: the thread's registers
 * are pointed at a `syscall` instruction (one that already exists in the
 * process, in the vdso, or, while a final dump's scratch area is mapped,
 * the trampoline's: inject_tramp.c), the call is stepped over with
 * PTRACE_SYSCALL, and the registers are put back. The thread is then
 * stopped again with PTRACE_INTERRUPT, so that it sits in the same kind of
 * stop as before and the kernel itself performs any restart of a system
 * call it was interrupted in.
 */
#ifndef SDUMP_INJECT_H
#define SDUMP_INJECT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "sdump.h"
#include "seize.h"

struct injector {
	pid_t pid;
	uint64_t syscall_ip;	/* address of a 0f 05 in the process, or 0: not found yet */
	uint64_t scratch;	/* address of the scratch area, or 0 */
	uint64_t tramp;		/* address of the trampoline page (inject_tramp.c), or 0: the vdso's */
	bool seccomp_filtered;	/* a thread's seccomp filters see our calls (not suspended): no trampoline */
	size_t scratch_len;	/* the caller's part; a batch's table (INJECT_BATCH_MAX calls) follows it */
	int mem_fd;		/* /proc/PID/mem for reading the scratch area, or -1 */
	long ptrace_opts;	/* ptrace options to keep besides PTRACE_O_TRACESYSGOOD */
	/*
	 * A process of our own making (a restore's, never a target's): after a
	 * call its thread stays in the call's exit stop, its registers put
	 * back, instead of being stopped again with PTRACE_INTERRUPT (one
	 * round trip of the thread less a call). Whoever resumes it next (a
	 * call, a detach) does so from there.
	 */
	bool park;
};

/* sd_inject_call() flags */
enum inject_flags {
	/*
	 * The call undoes an earlier one (munmap of a mapping of ours, close
	 * of an fd of ours): never failed by the fault plan (fault.h).
	 */
	INJECT_UNDO = 1 << 0,
};

/*
 * Run system call @nr(@args) in thread @t of the seized process @s, or,
 * with @t NULL, in one of its threads not in signal-delivery-stop (@s may be
 * NULL when @t is given). The kernel's return value (a negative errno when
 * the call fails in the target) in *ret_val, without a message: the caller
 * knows what a failure means. Returns -errno, with its message, when the
 * injection itself fails; the thread is then still stopped with its
 * registers restored whenever that was possible. A thread that was in
 * signal-delivery-stop ends in an event stop (with inj->park, in the
 * call's exit stop): its signal is marked to be sent again at detach
 * (t->resend_sig).
 */
int sd_inject_call(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
		struct seized_thread *t, long nr, const long args[6], unsigned int flags,
		long *ret_val);

/*
 * Let every injected call of @inj through the seccomp filters (or strict
 * mode) of the threads of @s: PTRACE_O_SUSPEND_SECCOMP, set on each thread
 * now and kept by every injection; the kernel drops it at detach. Needs
 * CAP_SYS_ADMIN and a caller under no seccomp itself: -EPERM then, with a
 * message naming @pid's thread @tid and what it needs (none with @quiet).
 */
int sd_inject_suspend_seccomp(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
			   pid_t tid, bool quiet);

/*
 * The soft RLIMIT_NOFILE of @pid, at most 2^20 (1024 when /proc/PID/limits
 * cannot be read). INJECT_FD_MOVE_HIGH puts an fd among the 16 numbers
 * below it, out of the way of the fds the program uses.
 */
long sd_inject_fd_limit(pid_t pid);

/* sd_inject_take_fd() flags */
enum inject_fd_flags {
	/* leave the fd in the target (else it is closed there once taken, whatever happened) */
	INJECT_FD_KEEP = 1 << 0,
	/*
	 * with INJECT_FD_KEEP: move it first near the target's RLIMIT_NOFILE
	 * (sd_inject_fd_limit(), when that is above 64) with F_DUPFD_CLOEXEC;
	 * moved or not, the original is closed
	 */
	INJECT_FD_MOVE_HIGH = 1 << 1,
	/*
	 * no message of its own when the move or pidfd_getfd() fails (the
	 * caller does without the fd); a failed injection keeps sd_inject_call()'s
	 */
	INJECT_FD_QUIET = 1 << 2,
};

/* An fd to make in the target, for sd_inject_take_fd(). */
struct inject_fd_req {
	const char *name;	/* what it is, for messages: "userfaultfd" */
	long nr;		/* the system call that makes it, in thread @t (see sd_inject_call()) */
	long args[6];
	unsigned int flags;	/* INJECT_FD_* */
};

/*
 * Make an fd in the target with the injected call @req, and take a copy of
 * it with pidfd_getfd() on @pidfd: *ret_fd, O_CLOEXEC, ours to close. Where
 * it stays in the target (INJECT_FD_KEEP), its number there in
 * *ret_target_fd (may be NULL). Every catchable signal is blocked while the
 * target holds an fd that is not to stay there, so that sdump cannot end
 * and leave it behind.
 *
 * As for sd_inject_call(), the creating call's own failure, the kernel's answer
 * in the target, is not an error here: *ret_fd is then that negative errno,
 * without a message, for the caller to say what it means. Returns -errno
 * when anything else fails (the injection, the move, pidfd_getfd), with a
 * message unless INJECT_FD_QUIET; nothing of ours is then left in the
 * target but a kept fd.
 */
int sd_inject_take_fd(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
		   struct seized_thread *t, int pidfd, const struct inject_fd_req *req,
		   int *ret_fd, int *ret_target_fd);

/*
 * waitpid(@tid, __WALL) for a traced thread, that returns -ESRCH instead of
 * hanging when the thread is a zombie whose report waits on other threads.
 */
int sd_inject_wait_thread(pid_t tid, int *ret_status);

/*
 * Block every catchable signal of the calling thread around a window in
 * which a target is not as it was (registers, a mapping or an fd of ours),
 * so that no signal can end sdump in the middle; *ret_old for the unblock.
 */
void sd_inject_block_signals(sigset_t *ret_old);
void sd_inject_unblock_signals(const sigset_t *old);

/*
 * A scratch area in the target for system calls that return data through
 * a pointer: mapped with an injected mmap, read with /proc/PID/mem, and
 * unmapped again with sd_inject_scratch_unmap() before the target resumes;
 * the trampoline is mapped before it and unmapped after it.
 */
int sd_inject_scratch_map(struct sdump_ctx *ctx, struct injector *inj, struct seized *s, size_t len);
int sd_inject_scratch_read(struct sdump_ctx *ctx, struct injector *inj, size_t off, void *out,
			size_t len);
int sd_inject_scratch_unmap(struct sdump_ctx *ctx, struct injector *inj, struct seized *s);

/* The calls one batch runs at most: its table fills the page after the caller's scratch area. */
#define INJECT_BATCH_MAX 64

/* One call of a batch (sd_inject_batch()), as the trampoline's table holds it. */
struct inject_batch_call {
	long nr;
	long args[6];
	long ret;	/* the kernel's answer (a negative errno when it fails in the target) */
};

/*
 * Run the @n independent calls @calls in thread @t of @s (or one not in
 * signal-delivery-stop, with @t NULL), each's answer in its ret, as that
 * many sd_inject_call() would (the fault plan counts each one), but with
 * one resume of the thread for all of them while the trampoline and scratch
 * area are mapped (inject_batch.c): the trampoline runs them one after the
 * other and ends on a signal the thread ignores, which stops it for us.
 * Without a trampoline, or no such signal free, one call at a time. Only
 * calls that read: a batch is not stopped at the first that fails. Returns
 * -errno, with a message, when the injection itself fails.
 */
int sd_inject_batch(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
		 struct seized_thread *t, struct inject_batch_call *calls, size_t n);

/*
 * The trampoline (inject_tramp.c), mapped with the scratch area: while it
 * is there every call goes through it, and a thread whose tracer dies in
 * the middle of one returns to its own registers. sd_inject_tramp_map()
 * maps it (none, and 0, where the target refuses the mapping; -ESRCH when
 * the injection fails); sd_inject_tramp_unmap() unmaps it;
 * sd_inject_tramp_arm() writes the registers @saved and the signal mask
 * of @t for it to return to, and where the call's registers are to point
 * in *ret_ip.
 */
int sd_inject_tramp_map(struct sdump_ctx *ctx, struct injector *inj, struct seized *s);
int sd_inject_tramp_unmap(struct sdump_ctx *ctx, struct injector *inj, struct seized *s);
int sd_inject_tramp_arm(struct injector *inj, const struct seized_thread *t,
			const struct user_regs_struct *saved, uint64_t *ret_ip);

#endif /* SDUMP_INJECT_H */
