/* SPDX-License-Identifier: MIT */
/*
 * Restore steps 1 and 2: the new process, a traced child of ours with the
 * dumped PID, and its address space emptied but for a trampoline page (the
 * syscall instruction every injected call runs, their data, the threads'
 * first stacks) and the vdso where it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "fault.h"
#include "restore.h"
#include "seize.h"
#include "procfs.h"

#ifndef ARCH_MAP_VDSO_64
#define ARCH_MAP_VDSO_64 0x2003
#endif

/* The first place from @cand on for the trampoline that no VMA of @vl uses. */
static uint64_t tramp_in(const struct vma_list *vl, uint64_t cand)
{
	uint64_t len = TRAMP_PAGES * 4096ull;

	for (size_t i = 0; i <= vl->n; i++) {
		uint64_t next = i < vl->n ? vl->v[i].start : TASK_TOP;

		if (cand + len <= next && cand + len <= TASK_TOP)
			return cand;
		if (i < vl->n && vl->v[i].end > cand)
			cand = vl->v[i].end + 0x100000;
	}
	return TASK_TOP;
}

/*
 * A place for the trampoline that no saved VMA uses (and below the stack
 * gap); in a tree, none of any member (its children inherit it).
 */
static int pick_tramp(struct rst *r, uint64_t *ret)
{
	uint64_t cand = 0x10000000ull, prev;
	size_t n = r->tree ? sd_rst_tree_count(r->tree) : 1;

	do {
		prev = cand;
		for (size_t i = 0; i < n && cand < TASK_TOP; i++) {
			const struct rst *m = r->tree ? sd_rst_tree_member(r->tree, i) : r;

			if (m && m->chain.n)
				cand = tramp_in(&m->chain.p[0].vmas, cand);
		}
	} while (cand != prev && cand < TASK_TOP);
	if (cand >= TASK_TOP)
		return sd_errx(r->ctx, -ENOMEM, "restore: no room for a trampoline");
	*ret = cand;
	return 0;
}

/* The new process: a traced child of ours with the dumped PID. */
int sd_rst_start_child(struct rst *r)
{
	struct sdump_ctx *ctx = r->ctx;
	pid_t tid = r->pid;
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&tid,
		.set_tid_size = 1,
	};
	int status;
	long child, slack;

	/*
	 * Its signal actions cleared (ours ignored stay ignored): the restore
	 * sets only those the image has otherwise (rst_process.c), a call each.
	 */
	r->sig_ign = 0;
	for (int sig = 1; sig <= 64; sig++) {
		uint64_t ka[4];

		if (syscall(SYS_rt_sigaction, sig, NULL, ka, 8) == 0 && ka[0] == (uintptr_t)SIG_IGN)
			r->sig_ign |= 1ull << (sig - 1);
	}
	args.flags = CLONE_CLEAR_SIGHAND;
	/* the leader's default timer slack is our slack when we make it */
	slack = sd_rst_attrs_child_slack(r);
	pid_t self = getpid();

	child = syscall(SYS_clone3, &args, sizeof(args));
	if (child < 0 && errno == EINVAL) {
		/* a kernel before 5.5: every action is set */
		args.flags = 0;
		child = syscall(SYS_clone3, &args, sizeof(args));
	}
	if (child == 0) {
		/*
		 * Until it is traced, only the parent-death signal ends it if
		 * sdump dies (PTRACE_O_EXITKILL does once it is seized); the
		 * restore sets the dumped one last (sd_rst_restore_attrs_last()).
		 */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != self)
			_exit(127);
		/* the child only waits: every further step is done to it from outside */
		for (;;)
			pause();
	}
	sd_rst_attrs_child_slack_done(slack);
	if (child < 0) {
		if (errno == EEXIST)
			return sd_errx(ctx, -EEXIST, "cannot restore pid %d: it is in use", r->pid);
		return sd_err(ctx, -errno, "cannot create pid %d", r->pid);
	}
	r->started = true;
	r->sig_cleared = args.flags != 0;
	r->inj.pid = r->pid;
	/* a tree's root forks the other members: traced from birth too */
	r->inj.ptrace_opts = PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | (r->tree ? PTRACE_O_TRACEFORK : 0);
	if (sd_ptrace(PTRACE_SEIZE, r->pid, NULL,
		   (void *)(long)(r->inj.ptrace_opts | PTRACE_O_TRACESYSGOOD)) < 0 ||
	    sd_ptrace(PTRACE_INTERRUPT, r->pid, NULL, NULL) < 0)
		return sd_err(ctx, -errno, "cannot trace the new pid %d", r->pid);
	while (waitpid(r->pid, &status, __WALL) < 0)
		if (errno != EINTR)
			return sd_err(ctx, -errno, "cannot wait for pid %d", r->pid);
	r->seized.pid = r->pid;
	r->seized.t = calloc(r->ps.nthreads, sizeof(*r->seized.t));
	if (!r->seized.t)
		return -ENOMEM;
	r->seized.cap = r->ps.nthreads;
	r->seized.t[0] = (struct seized_thread){ .tid = r->pid };
	r->seized.n = 1;
	return 0;
}

/* Our own address space in the child goes; the trampoline and the vdso come. */
int sd_rst_clear_address_space(struct rst *r)
{
	struct sdump_ctx *ctx = r->ctx;
	uint8_t code[4096] = { 0x0f, 0x05, 0xcc };
	struct sdump_rseq_configuration rc;
	char path[PROC_PATH_MAX];
	uint64_t tramp = 0;
	long ret;
	int e;

	r->mem_fd = open(sd_proc_path(path, r->pid, "mem"), O_RDWR | O_CLOEXEC);
	if (r->mem_fd < 0)
		return sd_err(ctx, -errno, "cannot open '%s'", path);
	e = pick_tramp(r, &tramp);
	if (e < 0)
		return e;
	/*
	 * Ours, inherited: if the caller runs under READ_IMPLIES_EXEC (set
	 * after its exec, which clears it) every mapping made from here on
	 * would be executable. The process's own comes back in step 4.
	 */
	e = sd_rst_call(r, SYS_personality, 0, 0, 0, 0, 0, 0, NULL);
	if (e < 0)
		return e;
	/* our libc's syscall instruction still exists in the child: the injector finds one */
	e = sd_rst_call(r, SYS_mmap, (long)tramp, TRAMP_PAGES * 4096l, PROT_READ | PROT_WRITE | PROT_EXEC,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, &ret);
	if (e < 0)
		return e;
	r->tramp = tramp;
	e = sd_rst_mem_write(r, tramp, code, sizeof(code));
	if (e < 0)
		return e;
	r->inj.syscall_ip = tramp;
	/* our own child: its threads wait between calls where the last one left them */
	r->inj.park = !r->tree;
	/* the rseq area registered for the thread we forked lives in memory about to go */
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, r->pid, sizeof(rc), &rc) > 0 && rc.rseq_abi_pointer) {
		e = sd_rst_call(r, SYS_rseq, (long)rc.rseq_abi_pointer, rc.rseq_abi_size, 1 /* UNREGISTER */,
			     rc.signature, 0, 0, NULL);
		if (e < 0)
			return e;
	}
	e = sd_rst_call(r, SYS_munmap, 0x1000, (long)(tramp - 0x1000), 0, 0, 0, 0, NULL);
	if (e == 0)
		e = sd_rst_call(r, SYS_munmap, (long)(tramp + TRAMP_PAGES * 4096ull),
			     (long)(TASK_TOP - tramp - TRAMP_PAGES * 4096ull), 0, 0, 0, 0, NULL);
	if (e < 0)
		return e;
	/* a tree's members are made from it first, then each maps its own */
	return r->tree ? 0 : sd_rst_map_vdso(r);
}

int sd_rst_map_vdso(struct rst *r)
{
	long ret;
	int e;

	if (!r->ps.mm.vvar)
		return 0;
	e = sd_rst_call(r, SYS_arch_prctl, ARCH_MAP_VDSO_64, (long)r->ps.mm.vvar, 0, 0, 0, 0, &ret);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot map the vdso of pid %d at 0x%" PRIx64, r->pid,
			       r->ps.mm.vvar);
	return 0;
}
