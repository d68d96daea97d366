/* SPDX-License-Identifier: MIT */
/* Threads and process state at the final dump (x86-64). */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "array.h"
#include "sdump.h"
#define LOG_PREFIX "state: "
#include "ctx.h"
#include "fault.h"
#include "compat.h"
#include "dump_state.h"
#include "procfs.h"
#include "util.h"

#ifndef PTRACE_PEEKSIGINFO_SHARED
#define PTRACE_PEEKSIGINFO_SHARED 1
#endif

struct peeksiginfo_args_s {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

/* Scratch layout: one area per kind of answer. */
#define SCR_SIGACTION 0		/* a batch's sigactions (SIGACTION_BATCH) */
#define SCR_ALTSTACK 1024
#define SCR_TIDADDR 1088
#define SCR_ITIMER 1152		/* the three of them */
#define SCR_RLIMIT 1280
#define SIGACTION_BATCH 32
/* 2048-3071: dump_sec.c's */
/* 3072-4095: dump_attrs.c's */
#define SCRATCH_LEN 4096

static int inject(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
		  struct seized_thread *t, long nr, long a0, long a1, long a2, long a3, long *ret)
{
	const long args[6] = { a0, a1, a2, a3, 0, 0 };
	int r;

	r = sd_inject_call(ctx, inj, s, t, nr, args, 0, ret);
	if (r == 0 && *ret < 0 && *ret > -4096)
		return sd_err(ctx, (int)*ret, "injected syscall %ld failed in pid %d", nr, s->pid);
	return r;
}

/* A batch's call as inject() would have it: its failure in the target said as there. */
static int batch_failed(struct sdump_ctx *ctx, const struct seized *s, const struct inject_batch_call *c,
			size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].ret < 0 && c[i].ret > -4096)
			return sd_err(ctx, (int)c[i].ret, "injected syscall %ld failed in pid %d", c[i].nr, s->pid);
	return 0;
}

/* Signals queued for a thread (or, @shared, for the process), without dequeuing them. */
static int peek_signals(struct sdump_ctx *ctx, pid_t tid, bool shared, uint8_t (**ret)[SIGINFO_SIZE],
			size_t *ret_n)
{
	uint8_t (*all)[SIGINFO_SIZE] = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		uint8_t buf[32][SIGINFO_SIZE];
		struct peeksiginfo_args_s a = { n, shared ? PTRACE_PEEKSIGINFO_SHARED : 0, 32 };
		long got = sd_ptrace(PTRACE_PEEKSIGINFO, tid, &a, buf);

		if (got < 0) {
			free(all);
			return sd_err(ctx, -errno, "cannot read pending signals of thread %d", tid);
		}
		if (got == 0)
			break;
		if (ARRAY_RESERVE(all, cap, n + (size_t)got, 32) < 0) {
			free(all);
			return -ENOMEM;
		}
		memcpy(all[n], buf, (size_t)got * SIGINFO_SIZE);
		n += (size_t)got;
	}
	*ret = all;
	*ret_n = n;
	return 0;
}

static int collect_thread(struct sdump_ctx *ctx, struct seized *s, struct seized_thread *st,
			  struct injector *inj, struct thread_state *t)
{
	pid_t tid = st->tid;
	struct sdump_rseq_configuration rc;
	struct iovec iov;
	_cleanup_free_ char *comm = NULL;
	struct sched_param sp;
	char path[PROC_PATH_MAX];
	uint64_t stack[3], addr;
	struct inject_batch_call c[] = {
		{ SYS_sigaltstack, { 0, (long)(inj->scratch + SCR_ALTSTACK) }, 0 },
		{ SYS_prctl, { PR_GET_TID_ADDRESS, (long)(inj->scratch + SCR_TIDADDR) }, 0 },
	};
	int r;

	t->tid = tid;
	if (sd_ptrace(PTRACE_GETREGS, tid, NULL, &t->regs) < 0)
		return sd_err(ctx, -errno, "cannot read registers of thread %d", tid);
	if (sd_ptrace(PTRACE_GETFPREGS, tid, NULL, &t->fpregs) < 0)
		return sd_err(ctx, -errno, "cannot read FPU registers of thread %d", tid);
	t->xsave = malloc(XSAVE_MAX);
	if (!t->xsave)
		return -ENOMEM;
	iov = (struct iovec){ t->xsave, XSAVE_MAX };
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) == 0) {
		t->xsave_len = iov.iov_len;
	} else {
		/* no XSAVE: the FXSAVE area in fpregs is all there is */
		zfree(&t->xsave);
	}
	/* its own mask: the seize blocked every signal */
	if (st->mask_saved)
		t->sigmask = st->sigmask;
	else if (sd_ptrace(PTRACE_GETSIGMASK, tid, sizeof(t->sigmask), &t->sigmask) < 0)
		return sd_err(ctx, -errno, "cannot read the signal mask of thread %d", tid);
	r = peek_signals(ctx, tid, false, &t->pending, &t->npending);
	if (r < 0)
		return r;
	if (st->pending_sig) {
		/* seized in signal-delivery-stop: the signal is dequeued, keep it */
		memcpy(t->stop_signal, st->siginfo, SIGINFO_SIZE);
		t->has_stop_signal = true;
	}
	if (syscall(SYS_get_robust_list, tid, &addr, &t->robust_list_len) == 0)
		t->robust_list = addr;
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(rc), &rc) > 0 && rc.rseq_abi_pointer) {
		t->has_rseq = true;
		t->rseq_abi = rc.rseq_abi_pointer;
		t->rseq_size = rc.rseq_abi_size;
		t->rseq_sig = rc.signature;
	}
	if (sd_read_file(AT_FDCWD, sd_proc_path(path, s->pid, "task/%d/comm", tid), &comm, NULL) == 0)
		sd_proc_parse_comm(comm, t->comm);
	t->sched_policy = sched_getscheduler(tid);
	if (t->sched_policy < 0)
		return sd_err(ctx, -errno, "cannot read the scheduling policy of thread %d", tid);
	if (sched_getparam(tid, &sp) == 0)
		t->sched_priority = sp.sched_priority;
	errno = 0;
	t->nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno)
		return sd_err(ctx, -errno, "cannot read the nice value of thread %d", tid);

	/* per-thread state only the thread itself can tell */
	r = sd_inject_batch(ctx, inj, s, st, c, ARRAY_SIZE(c));
	if (r == 0)
		r = batch_failed(ctx, s, c, ARRAY_SIZE(c));
	if (r == 0)
		r = sd_inject_scratch_read(ctx, inj, SCR_ALTSTACK, stack, sizeof(stack));
	if (r < 0)
		return r;
	t->altstack_sp = stack[0];
	t->altstack_flags = (int)(uint32_t)stack[1];
	t->altstack_size = stack[2];
	return sd_inject_scratch_read(ctx, inj, SCR_TIDADDR, &t->clear_child_tid, 8);
}

/*
 * What only the process can tell, in batches (sd_inject_batch()): its
 * sigactions, SIGACTION_BATCH at a time (the scratch area holds no more),
 * then with the last of them its interval timers, brk and two prctl() flags.
 */
static int process_calls(struct sdump_ctx *ctx, struct seized *s, struct injector *inj,
			 struct process_state *ps)
{
	_Static_assert(NSIG_MAX % SIGACTION_BATCH == 0, "whole batches of sigactions");
	_Static_assert(SCR_SIGACTION + SIGACTION_BATCH * sizeof(struct ksigaction) <= SCR_ALTSTACK,
		       "a batch's sigactions fit their area");
	struct inject_batch_call c[SIGACTION_BATCH + 6];
	uint64_t itv[3][4];
	int r;

	for (int first = 1; first <= NSIG_MAX; first += SIGACTION_BATCH) {
		const bool last = first + SIGACTION_BATCH > NSIG_MAX;
		size_t n = 0;

		for (int k = 0; k < SIGACTION_BATCH; k++)
			c[n++] = (struct inject_batch_call){
				SYS_rt_sigaction,
				{ first + k, 0,
				  (long)(inj->scratch + SCR_SIGACTION + (size_t)k * sizeof(struct ksigaction)), 8 },
				0 };
		for (int which = 0; last && which < 3; which++)
			c[n++] = (struct inject_batch_call){
				SYS_getitimer, { which, (long)(inj->scratch + SCR_ITIMER + (size_t)which * sizeof(itv[0])) },
				0 };
		if (last) {
			c[n++] = (struct inject_batch_call){ SYS_brk, { 0 }, 0 };
			c[n++] = (struct inject_batch_call){ SYS_prctl, { PR_GET_THP_DISABLE }, 0 };
			c[n++] = (struct inject_batch_call){ SYS_prctl, { PR_GET_DUMPABLE }, 0 };
		}
		r = sd_inject_batch(ctx, inj, s, NULL, c, n);
		if (r == 0)
			r = batch_failed(ctx, s, c, n);
		if (r == 0)
			r = sd_inject_scratch_read(ctx, inj, SCR_SIGACTION, &ps->sigactions[first - 1],
						SIGACTION_BATCH * sizeof(struct ksigaction));
		if (r < 0)
			return r;
	}
	r = sd_inject_scratch_read(ctx, inj, SCR_ITIMER, itv, sizeof(itv));
	if (r < 0)
		return r;
	for (int which = 0; which < 3; which++) {
		ps->itimer_interval_us[which] = itv[which][0] * 1000000 + itv[which][1];
		ps->itimer_value_us[which] = itv[which][2] * 1000000 + itv[which][3];
	}
	ps->mm.brk = (uint64_t)c[SIGACTION_BATCH + 3].ret;
	ps->thp_disabled = c[SIGACTION_BATCH + 4].ret != 0;
	ps->dumpable = (int)c[SIGACTION_BATCH + 5].ret;
	return 0;
}

static int collect_process(struct sdump_ctx *ctx, struct seized *s, struct injector *inj,
			   const struct vma_list *vmas, struct process_state *ps)
{
	_cleanup_free_ char *stat = NULL, *status = NULL, *pers = NULL;
	uint64_t f[64] = { 0 };
	char path[PROC_PATH_MAX];
	pid_t pid = s->pid;
	long ret;
	int r;

	ps->pid = pid;
	ps->stop_sig = s->group_stop_sig;
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "stat"), &stat, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	if (sd_proc_stat_fields(stat, f, 53) < 52)
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
	ps->ppid = (pid_t)f[4];
	ps->pgid = (pid_t)f[5];
	ps->sid = (pid_t)f[6];
	/* tty_nr as the kernel encodes a dev_t (new_encode_dev), which glibc's major() reads */
	if (f[7]) {
		ps->ctty = (uint64_t)major((dev_t)f[7]) << 32 | minor((dev_t)f[7]);
		ps->ctty_fg_pgrp = (int32_t)f[8] > 0 ? (pid_t)f[8] : 0;
	}
	ps->mm.start_code = f[26];
	ps->mm.end_code = f[27];
	ps->mm.start_stack = f[28];
	ps->mm.start_data = f[45];
	ps->mm.end_data = f[46];
	ps->mm.start_brk = f[47];
	ps->mm.arg_start = f[48];
	ps->mm.arg_end = f[49];
	ps->mm.env_start = f[50];
	ps->mm.env_end = f[51];

	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "auxv"), (char **)&ps->mm.auxv, &ps->mm.auxv_len);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	r = (int)sd_readlink_str(sd_proc_path(path, pid, "exe"), ps->mm.exe, sizeof(ps->mm.exe));
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	for (size_t i = 0; i < vmas->n; i++) {
		const struct vma *v = &vmas->v[i];

		if (v->kind == VK_VDSO)
			ps->mm.vdso = v->start;
		if (v->kind == VK_VVAR) {
			if (!ps->mm.vvar)
				ps->mm.vvar = v->start;
			ps->mm.vvar_end = v->end;
		}
	}
	r = (int)sd_readlink_str(sd_proc_path(path, pid, "cwd"), ps->cwd, sizeof(ps->cwd));
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	r = (int)sd_readlink_str(sd_proc_path(path, pid, "root"), ps->root, sizeof(ps->root));
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	r = sd_fs_collect_removed(ctx, pid, ps);
	if (r < 0)
		return r;
	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "personality"), &pers, NULL) == 0)
		ps->personality = (uint32_t)strtoul(pers, NULL, 16);
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "status"), &status, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	(void)sd_proc_parse_status_umask(status, &ps->umask);
	if (sd_proc_parse_status_ids(status, "\nUid:", ps->uid, 4, NULL) < 0 ||
	    sd_proc_parse_status_ids(status, "\nGid:", ps->gid, 4, NULL) < 0 ||
	    sd_proc_parse_status_ids(status, "\nGroups:", ps->groups, ARRAY_SIZE(ps->groups), &ps->ngroups) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);

	r = peek_signals(ctx, pid, true, &ps->shared, &ps->nshared);
	if (r < 0)
		return r;

	r = process_calls(ctx, s, inj, ps);
	if (r < 0)
		return r;
	for (int res = 0; res < NRLIMITS; res++) {
		/*
		 * Read from here (prlimit64 on its pid: the same values) where we
		 * may, a call less injected while it is frozen; else from inside.
		 */
		if (syscall(SYS_prlimit64, s->pid, res, NULL, &ps->rlimits[res]) == 0)
			continue;
		r = inject(ctx, inj, s, NULL, SYS_prlimit64, 0, res, 0, (long)(inj->scratch + SCR_RLIMIT),
			   &ret);
		if (r == 0)
			r = sd_inject_scratch_read(ctx, inj, SCR_RLIMIT, &ps->rlimits[res],
						sizeof(ps->rlimits[res]));
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Credentials are per thread: glibc's set*id() keeps them equal, a raw
 * system call (or setfsuid(), which glibc does not spread) sets one
 * thread's apart. Those of a thread that differ from the process's are its
 * own in the image (@a), each thread's put back by itself at restore.
 */
static int thread_creds(struct sdump_ctx *ctx, pid_t pid, pid_t tid, const struct process_state *ps,
			struct attr_thread *a)
{
	_cleanup_free_ char *status = NULL;
	char path[PROC_PATH_MAX];
	uint32_t uid[4], gid[4], groups[ARRAY_SIZE(ps->groups)];
	size_t ngroups = 0;
	int r;

	_Static_assert(ARRAY_SIZE(ps->groups) == ATTR_NGROUPS_MAX, "a thread's groups are as many");
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "task/%d/status", (int)tid), &status, NULL);
	if (r == -ENOENT)
		return 0; /* gone since the freeze could not be: it is a zombie thread */
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	if (sd_proc_parse_status_ids(status, "\nUid:", uid, 4, NULL) < 0 ||
	    sd_proc_parse_status_ids(status, "\nGid:", gid, 4, NULL) < 0 ||
	    sd_proc_parse_status_ids(status, "\nGroups:", groups, ARRAY_SIZE(groups), &ngroups) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
	a->own_creds = memcmp(uid, ps->uid, sizeof(uid)) || memcmp(gid, ps->gid, sizeof(gid)) ||
		       ngroups != ps->ngroups || memcmp(groups, ps->groups, ngroups * sizeof(*groups));
	if (!a->own_creds)
		return 0;
	memcpy(a->uid, uid, sizeof(uid));
	memcpy(a->gid, gid, sizeof(gid));
	a->ngroups = ngroups;
	memcpy(a->groups, groups, ngroups * sizeof(*groups));
	pr_debug(ctx, "pid %d: thread %d has credentials of its own (uid %u, gid %u)", (int)pid, (int)tid, uid[1],
		 gid[1]);
	return 0;
}

int sd_state_collect(struct sdump_ctx *ctx, struct seized *s, struct injector *inj,
		  const struct vma_list *vmas, struct process_state *ret_ps)
{
	struct process_state ps = { 0 };
	sigset_t oldmask;
	int r, e;

	ps.threads = calloc(s->n, sizeof(*ps.threads));
	if (!ps.threads)
		return -ENOMEM;
	/* the scratch mapping is in the target until the unmap: nothing may end us in between */
	sd_inject_block_signals(&oldmask);
	r = sd_inject_scratch_map(ctx, inj, s, SCRATCH_LEN);
	if (r == 0)
		r = collect_process(ctx, s, inj, vmas, &ps);
	if (r == 0)
		r = sd_attrs_collect_process(ctx, s, inj, &ps.attrs);
	if (r == 0)
		r = sd_sec_collect_timers(ctx, s, inj, &ps);
	/* the leader first: restore creates the threads in this order */
	for (size_t i = 0; r == 0 && i < s->n; i++) {
		r = collect_thread(ctx, s, &s->t[i], inj, &ps.threads[i]);
		if (r == 0)
			r = sd_restart_collect(ctx, s->pid, &ps.threads[i]);
		if (r == 0)
			r = sd_attrs_collect_thread(ctx, s, &s->t[i], inj, ps.threads[i].sched_policy,
						 &ps.threads[i].attrs);
		if (r == 0)
			r = thread_creds(ctx, s->pid, s->t[i].tid, &ps, &ps.threads[i].attrs);
		if (r == 0)
			r = sd_sec_collect_thread(ctx, s, &s->t[i], inj, &ps.threads[i].sec);
		ps.nthreads++;
	}
	e = sd_inject_scratch_unmap(ctx, inj, s);
	sd_inject_unblock_signals(&oldmask);
	if (r == 0)
		r = e;
	if (r < 0) {
		sd_process_state_release(&ps);
		return r;
	}
	*ret_ps = ps;
	return 0;
}

