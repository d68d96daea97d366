/* SPDX-License-Identifier: MIT */
/*
 * Running a system call inside a seized process, without writing to its
 * memory: the thread's registers are pointed at a `syscall` instruction
 * that already exists in the process (in the vdso), the call is stepped
 * over with PTRACE_SYSCALL, and the registers are put back. The thread is
 * then stopped again with PTRACE_INTERRUPT, so that it sits in the same
 * kind of stop as before and the kernel itself performs any restart of a
 * system call it was interrupted in.
 */
#ifndef SDUMP_INJECT_H
#define SDUMP_INJECT_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "seize.h"

struct injector {
	pid_t pid;
	uint64_t syscall_ip;	/* address of a 0f 05 in the process, or 0: not found yet */
	uint64_t scratch;	/* address of the scratch area, or 0 */
	size_t scratch_len;
	int mem_fd;		/* /proc/PID/mem for reading the scratch area, or -1 */
	long ptrace_opts;	/* ptrace options to keep besides PTRACE_O_TRACESYSGOOD */
};

/*
 * Execute syscall @nr(@args) in one thread of the seized process @s; the
 * kernel's return value (a negative errno on failure) in *ret_val.
 * Returns -errno when the injection itself fails; the thread is then still
 * stopped with its registers restored whenever that was possible.
 */
int inject_syscall(struct sdump_ctx *ctx, struct injector *inj, struct seized *s, long nr,
		   const long args[6], long *ret_val);
/*
 * The same in thread @t (for per-thread state). A thread that was in
 * signal-delivery-stop ends in an event stop: its signal is marked to be
 * sent again at detach (t->resend_sig).
 */
int inject_syscall_thread(struct sdump_ctx *ctx, struct injector *inj, struct seized_thread *t,
			  long nr, const long args[6], long *ret_val);

/*
 * The same for a call that undoes an earlier one (munmap of a mapping of
 * ours, close of an fd of ours): never failed by the fault plan (fault.h).
 */
int inject_undo_syscall(struct sdump_ctx *ctx, struct injector *inj, struct seized *s, long nr,
			const long args[6], long *ret_val);
int inject_undo_syscall_thread(struct sdump_ctx *ctx, struct injector *inj,
			       struct seized_thread *t, long nr, const long args[6], long *ret_val);

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
 * unmapped again with sd_inject_scratch_unmap() before the target resumes.
 */
int sd_inject_scratch_map(struct sdump_ctx *ctx, struct injector *inj, struct seized *s, size_t len);
int sd_inject_scratch_read(struct sdump_ctx *ctx, struct injector *inj, size_t off, void *out,
			size_t len);
int sd_inject_scratch_unmap(struct sdump_ctx *ctx, struct injector *inj, struct seized *s);

#endif /* SDUMP_INJECT_H */
