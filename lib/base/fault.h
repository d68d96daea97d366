/* SPDX-License-Identifier: MIT */
/*
 * Fault injection, for the tests: the N-th system call of one kind fails
 * with a chosen errno (sdump_fault_set(), SDUMP_FAULT on the command line).
 * Always compiled in: a check is one relaxed atomic add beside a system
 * call, and the tests then drive the very binary that ships.
 *
 * Only calls that go forward are fault points. A call that undoes what sdump
 * did to a target (restoring its registers, detaching, unmapping the scratch
 * page, closing a duplicate fd) is not: the kernel fails those only once the
 * thread is dead, and a fault there would fake a failure that cannot happen.
 *
 * The plan and the counters are process-wide, like the environment they come
 * from: the one set of mutable globals of the library, so that helpers
 * without a context (sd_write_all(), sd_read_file()) and the compression threads
 * count too.
 */
#ifndef SDUMP_FAULT_H
#define SDUMP_FAULT_H

#include <errno.h>
#include <stdbool.h>

enum fault_kind {
	FAULT_WRITE,	/* write, pwrite, fsync of sdump's output: image files, memory of a process being restored, state files */
	FAULT_PROCREAD,	/* reading a process: /proc files, pagemap, /proc/PID/mem, process_vm_readv */
	FAULT_PTRACE,	/* a ptrace request that goes forward (seize, interrupt, get/set registers, resume to a syscall stop) */
	FAULT_INJECT,	/* a system call injected into a target: it returns -errno instead of running */
	FAULT_OPEN,	/* creating an image directory or file */
	FAULT_NET,	/* a send or receive of a migration's stream: the connection cut */
	FAULT_DIE,	/* not a failure: sdump kills itself (SIGKILL) in an injected call, its thread at the call's entry stop */
	FAULT_NETKILL,	/* not a failure: sdump kills itself (SIGKILL) just after a send or receive of a migration's stream */
	FAULT_NKINDS,
};

/* Count one call of @kind: 0, or the negative errno the call must fail with. */
int sd_fault_check(enum fault_kind kind);

/* sd_fault_check() for a call that reports failure as -1 and errno. */
static inline bool fault_fails(enum fault_kind kind)
{
	int r = sd_fault_check(kind);

	if (r)
		errno = -r;
	return r != 0;
}

/* ptrace(2) as a fault point, for the requests that go forward (include <sys/ptrace.h>). */
#define sd_ptrace(req, ...) (fault_fails(FAULT_PTRACE) ? -1L : ptrace(req, __VA_ARGS__))

#endif /* SDUMP_FAULT_H */
