/* SPDX-License-Identifier: MIT */
/*
 * Freezing a process with ptrace: PTRACE_SEIZE + PTRACE_INTERRUPT of every
 * thread (never PTRACE_ATTACH, which sends SIGSTOP), and the detach that
 * resumes it. Knows nothing of images.
 */
#ifndef SDUMP_SEIZE_H
#define SDUMP_SEIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"

struct seized_thread {
	pid_t tid;
	int pending_sig;	/* stopped in signal-delivery-stop: re-delivered at detach */
	bool resend_sig;	/* no longer in that stop: send pending_sig again at detach */
	uint8_t siginfo[128];	/* of pending_sig, read at the seize */
	bool mask_saved;	/* its own mask is sigmask, put back after each injected call and at detach */
	uint64_t sigmask;
};

struct seized {
	pid_t pid;
	size_t n, cap;
	struct seized_thread *t;
	uint64_t t_first_us;	/* CLOCK_MONOTONIC of the first PTRACE_SEIZE */
	int group_stop_sig;	/* in a job-control stop when seized: the signal of that stop, else 0 */
};

/*
 * Stop every thread of @pid. Reads /proc/PID/task again until no new thread
 * appears. Each thread's own signal mask is kept in sigmask.
 * On failure every thread already seized is detached again and the error
 * is recorded: -ESRCH gone, -EPERM not allowed to trace.
 */
int sd_seize_process(struct sdump_ctx *ctx, pid_t pid, struct seized *ret_s);
/*
 * Detach every thread, its own signal mask back, resuming it as it was (a
 * thread that was in a job control stop stays stopped), and empty @s.
 * Returns the CLOCK_MONOTONIC time after the last detach in *ret_t_us
 * (may be NULL). Never fails: problems are warnings.
 */
void sd_seize_detach(struct sdump_ctx *ctx, struct seized *s, uint64_t *ret_t_us);

/*
 * While a thread runs sdump's code (an injected call, a batch), every
 * signal but @allow (0: none) is blocked: on the way out of a call the
 * kernel would take a pending signal its mask lets through (every one a
 * stopped process has) out of its queue. Only for that time, so that
 * sdump killed between calls leaves the thread with its own mask (killed
 * in a call, the trampoline's tail puts it back). sd_seize_mask_own()
 * puts the thread's own mask back once it is stopped again.
 */
int sd_seize_mask_run(struct seized_thread *t, int allow);
void sd_seize_mask_own(struct seized_thread *t);

/* Whether the process or thread @pid is gone, a zombie or exiting (state Z or X). */
bool sd_seize_task_is_dead(pid_t pid);

#endif /* SDUMP_SEIZE_H */
