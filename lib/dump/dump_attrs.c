/* SPDX-License-Identifier: MIT */
/*
 * Process and thread attributes at the final dump (proc/pattr.h): the
 * values of prctl(2), arch_prctl(2), the scheduler and /proc that a program
 * can read back and that no other collector saves, and the ones a dump
 * refuses because sdump cannot put them back yet.
 *
 * Read from outside where the kernel lets a tracer (affinity, ioprio,
 * sched_getattr, /proc files), by a system call injected into the thread
 * otherwise. A value the kernel does not have (an older kernel: EINVAL) is
 * recorded as the default, which is then what the process had.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "state: "
#include "ctx.h"
#include "compat.h"
#include "dump_state.h"
#include "pattr.h"
#include "proc.h"
#include "procfs.h"
#include "util.h"

/* Our part of dump_state.c's scratch page: its last quarter. */
#define SCR_ATTR 3072

/*
 * Syscall @nr in thread @t (NULL: any thread of @s); the kernel's answer,
 * -errno included, in *ret. Fails only when the injection itself does.
 */
static int ask(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
	       struct seized_thread *t, long nr, long a0, long a1, long a2, long *ret)
{
	const long args[6] = { a0, a1, a2, 0, 0, 0 };

	return sd_inject_call(ctx, inj, s, t, nr, args, 0, ret);
}

/* A kernel answer that is an error for a call the kernel has: an error of the dump. */
static int failed(struct sdump_ctx *ctx, long ret, const char *what, pid_t tid)
{
	return sd_err(ctx, (int)ret, "cannot read the %s of thread %d", what, tid);
}

static int read_proc_value(struct sdump_ctx *ctx, pid_t pid, const char *name, int base,
			   long *ret_val)
{
	_cleanup_free_ char *buf = NULL;
	char path[PROC_PATH_MAX], *end;
	int r;

	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "%s", name), &buf, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	errno = 0;
	*ret_val = strtol(buf, &end, base);
	if (errno || end == buf)
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
	return 0;
}

/*
 * What a dump refuses, per thread, before anything of the process changes:
 * state that changes how the injected system calls themselves behave, or
 * that sdump cannot set again.
 */
static int check_thread(struct sdump_ctx *ctx, pid_t pid, pid_t tid)
{
	_cleanup_free_ char *status = NULL, *stat = NULL;
	struct sdump_sud_config sud = { 0 };
	uint64_t f[10] = { 0 }, cookie = 0;
	char path[PROC_PATH_MAX], v[128];

	/* Linux 6.3; EIO before: a kernel that old cannot show it */
	if (ptrace(PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG, tid, sizeof(sud), &sud) == 0 && sud.mode)
		return sd_refuse_unsafe(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: thread %d uses syscall user dispatch (PR_SET_SYSCALL_USER_DISPATCH), not supported yet; it must switch it off first",
			       pid, tid);
	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "task/%d/stat", tid), &stat, NULL) == 0 &&
	    sd_proc_stat_fields(stat, f, 10) == 10 &&
	    (f[9] & PATTR_PF_IO_FLUSHER) == PATTR_PF_IO_FLUSHER)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: thread %d is an IO flusher (PR_SET_IO_FLUSHER), not supported yet",
			       pid, tid);
	/* EINVAL: no CONFIG_SCHED_CORE; ENODEV: no SMT; either way no cookie */
	if (prctl(PR_SCHED_CORE, PR_SCHED_CORE_GET, tid, 0 /* PR_SCHED_CORE_SCOPE_THREAD */,
		  &cookie) == 0 && cookie)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: thread %d has a core scheduling cookie (PR_SCHED_CORE), not supported yet",
			       pid, tid);
	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "task/%d/status", tid), &status, NULL) < 0)
		return 0;
	/* shadow stack and WRSS (Linux 6.6): a stack of its own sdump does not save */
	if (sd_pattr_status_value(status, "x86_Thread_features", v, sizeof(v)) == 0 && v[0])
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: thread %d has x86 thread features enabled (%s: arch_prctl ARCH_SHSTK_ENABLE), not supported yet",
			       pid, tid, v);
	/* linear address masking (Linux 6.4): per process, shown per thread */
	if (sd_pattr_status_value(status, "untag_mask", v, sizeof(v)) == 0 &&
	    strtoull(v, NULL, 0) != UINT64_MAX)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: it has tagged addresses enabled (untag_mask %s, arch_prctl ARCH_ENABLE_TAGGED_ADDR), not supported yet",
			       pid, v);
	return 0;
}

int sd_attrs_check_supported(struct sdump_ctx *ctx, pid_t pid, const struct seized *s)
{
	for (size_t i = 0; i < s->n; i++) {
		int r = check_thread(ctx, pid, s->t[i].tid);

		if (r < 0)
			return r;
	}
	return 0;
}

/* VmLck of @pid, in kB. */
static int read_vmlck(struct sdump_ctx *ctx, pid_t pid, uint64_t *ret_kb)
{
	_cleanup_free_ char *status = NULL;
	char path[PROC_PATH_MAX];
	int r;

	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "status"), &status, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	if (sd_proc_parse_status_kb(status, "VmLck", ret_kb) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
	return 0;
}

/*
 * mlockall(MCL_FUTURE) leaves no trace in /proc but on the mappings made
 * after it: one page mapped for the question counts in VmLck when the
 * process locks what it maps (faulted in or not), and is present at once
 * unless with MCL_ONFAULT. Unmapped again.
 */
static int collect_mcl_future(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
			      uint32_t *ret)
{
	const long map[6] = { 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 };
	char path[PROC_PATH_MAX];
	uint64_t before, after, ent = 0;
	long addr, ret_un;
	int r, fd;

	*ret = 0;
	r = read_vmlck(ctx, s->pid, &before);
	if (r < 0)
		return r;
	r = sd_inject_call(ctx, inj, s, NULL, SYS_mmap, map, 0, &addr);
	if (r < 0)
		return r;
	if (addr < 0 && addr > -4096)
		return sd_errx(ctx, (int)addr,
			       "cannot tell whether pid %d locks its future mappings (mlockall MCL_FUTURE): a page mapped to see failed: %s",
			       s->pid, strerror((int)-addr));
	r = read_vmlck(ctx, s->pid, &after);
	if (r == 0 && after > before) {
		*ret = SDUMP_MCL_FUTURE;
		fd = open(sd_proc_path(path, s->pid, "pagemap"), O_RDONLY | O_CLOEXEC);
		if (fd < 0 || pread(fd, &ent, sizeof(ent), (off_t)((uint64_t)addr / 4096 * 8)) != sizeof(ent))
			r = sd_err(ctx, -errno, "cannot read '%s'", path);
		if (fd >= 0)
			close(fd);
		if (!(ent >> 63))
			*ret |= SDUMP_MCL_ONFAULT;
	}
	{
		const long unmap[6] = { addr, 4096 };
		int e = sd_inject_call(ctx, inj, s, NULL, SYS_munmap, unmap, INJECT_UNDO, &ret_un);

		if (r == 0 && e < 0)
			r = e;
		if (r == 0 && ret_un < 0)
			r = sd_errx(ctx, (int)ret_un, "cannot unmap a page of pid %d: %s", s->pid,
				    strerror((int)-ret_un));
	}
	return r;
}

int sd_attrs_collect_process(struct sdump_ctx *ctx, struct seized *s, struct injector *inj,
			  struct attr_process *a)
{
	_cleanup_free_ char *ag = NULL;
	char path[PROC_PATH_MAX];
	pid_t pid = s->pid;
	/* the two answers through memory, in our part of the scratch page */
	struct { uint64_t perm; int sub; } out = { 0, 0 };
	struct inject_batch_call c[] = {
		{ SYS_prctl, { PR_GET_CHILD_SUBREAPER, (long)(inj->scratch + SCR_ATTR + 8) }, 0 },
		{ SYS_membarrier, { SDUMP_MEMBARRIER_CMD_GET_REGISTRATIONS }, 0 },
		{ SYS_prctl, { PR_GET_MDWE }, 0 },
		{ SYS_prctl, { PR_GET_MEMORY_MERGE }, 0 },
		{ SYS_arch_prctl, { ARCH_GET_XCOMP_PERM, (long)(inj->scratch + SCR_ATTR) }, 0 },
		{ SYS_prctl, { PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS }, 0 },
		{ SYS_prctl, { PR_GET_THP_DISABLE }, 0 },
	};
	long v;
	int r;

	r = read_proc_value(ctx, pid, "oom_score_adj", 10, &v);
	if (r < 0)
		return r;
	a->oom_score_adj = (int)v;
	r = read_proc_value(ctx, pid, "coredump_filter", 16, &v);
	if (r < 0)
		return r;
	a->coredump_filter = (uint32_t)v;
	/* ENOENT: a kernel without CONFIG_AUDIT */
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "loginuid"), &ag, NULL);
	if (r == 0) {
		char *end;
		unsigned long long u = strtoull(ag, &end, 10);

		if (end == ag || u > UINT32_MAX)
			return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
		a->has_loginuid = true;
		a->loginuid = (uint32_t)u;
	} else if (r != -ENOENT) {
		return sd_err(ctx, r, "cannot read '%s'", path);
	}
	free(ag);
	ag = NULL;
	/* ENOENT: a kernel without CONFIG_SCHED_AUTOGROUP */
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "autogroup"), &ag, NULL);
	if (r == 0) {
		/* ENODATA: in no autogroup (init's session), as the restore's may be too */
		r = sd_pattr_parse_autogroup(ag, &a->autogroup_nice);
		if (r < 0 && r != -ENODATA)
			return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
		a->has_autogroup = r == 0;
	} else if (r != -ENOENT) {
		return sd_err(ctx, r, "cannot read '%s'", path);
	}

	free(ag);
	ag = NULL;
	/* the cgroups it is in, each hierarchy's line; the restore puts it back in them */
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "cgroup"), &ag, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	if (strlen(ag) >= sizeof(a->cgroup))
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: its cgroup paths (%s) are longer than an image keeps (%zu bytes)",
				 pid, path, sizeof(a->cgroup) - 1);
	memcpy(a->cgroup, ag, strlen(ag) + 1);
	a->has_cgroup = true;

	/* what only the process can tell, in one batch (sd_inject_batch()) */
	r = sd_inject_batch(ctx, inj, s, NULL, c, ARRAY_SIZE(c));
	if (r == 0)
		r = sd_inject_scratch_read(ctx, inj, SCR_ATTR, &out, sizeof(out));
	if (r < 0)
		return r;
	if (c[0].ret < 0)
		return failed(ctx, c[0].ret, "child subreaper flag", pid);
	a->child_subreaper = out.sub != 0;
	/* Linux 6.3; before it the registrations cannot be read */
	a->membarrier = c[1].ret > 0 ? (uint32_t)c[1].ret : 0;
	a->mdwe = c[2].ret > 0 ? (uint32_t)c[2].ret : 0;
	a->memory_merge = c[3].ret > 0;
	a->xcomp_perm = c[4].ret == 0 ? out.perm : 0;
	a->futex_slots = c[5].ret >= 0 ? (int)c[5].ret : -1;
	/* dump_state.c keeps whether it is set; this, how (Linux 6.18: except where advised) */
	a->thp_disable = c[6].ret > 0 ? (uint32_t)c[6].ret : 0;
	r = collect_mcl_future(ctx, inj, s, &a->mcl_future);
	if (r < 0)
		return r;
	a->valid = true;
	return 0;
}

/*
 * The timer slack a thread goes back to with PR_SET_TIMERSLACK 0 (its
 * parent's slack when it was made): set to 0, read, set back. Not for a
 * real-time thread, where the kernel ignores PR_SET_TIMERSLACK.
 */
static int collect_slack_default(struct sdump_ctx *ctx, struct injector *inj, struct seized *s,
				 struct seized_thread *st, struct attr_thread *a)
{
	const long back[6] = { PR_SET_TIMERSLACK, (long)a->timerslack_ns, 0, 0, 0, 0 };
	long ret, got = -1;
	int r, e;

	if (a->timerslack_ns == 0) {
		/* not real-time and no slack: only a default of 0 gives that */
		a->has_timerslack_default = true;
		return 0;
	}
	r = ask(ctx, inj, s, st, SYS_prctl, PR_SET_TIMERSLACK, 0, 0, &ret);
	if (r < 0 || ret < 0)
		return r < 0 ? r : failed(ctx, ret, "default timer slack", st->tid);
	r = ask(ctx, inj, s, st, SYS_prctl, PR_GET_TIMERSLACK, 0, 0, &got);
	/* the thread's own slack back, whatever happened */
	e = sd_inject_call(ctx, inj, NULL, st, SYS_prctl, back, INJECT_UNDO, &ret);
	if (e == 0 && ret < 0)
		e = failed(ctx, ret, "timer slack back", st->tid);
	if (r == 0 && got < 0)
		r = failed(ctx, got, "default timer slack", st->tid);
	if (r < 0 || e < 0)
		return r < 0 ? r : e;
	a->timerslack_default_ns = (uint64_t)got;
	a->has_timerslack_default = true;
	return 0;
}

/* The thread's NUMA memory policy (the VMAs' own are the memory's) and its nodes. */
/* A thread's answers through memory, as its batch lays them out in our part of the scratch page. */
struct thread_answers {
	int pdeathsig, tsc, mode, pad;
	uint8_t nodes[ATTR_NODEMASK_MAX];
};

/* The memory policy get_mempolicy() left in @out: its mode, and its nodes, trailing zeros dropped. */
static void take_mempolicy(const struct thread_answers *out, struct attr_thread *a)
{
	size_t n;

	for (n = sizeof(out->nodes); n && !out->nodes[n - 1]; n--)
		;
	a->mempolicy = out->mode;
	memcpy(a->mempolicy_nodes, out->nodes, n);
	a->mempolicy_nodes_len = n;
}

/* A thread in other cgroups than its process (a v1 hierarchy's tasks, a threaded v2 cgroup): those. */
static int collect_thread_cgroup(struct sdump_ctx *ctx, pid_t pid, pid_t tid, struct attr_thread *a)
{
	_cleanup_free_ char *cg = NULL, *tcg = NULL;
	char path[PROC_PATH_MAX];
	int r;

	a->cgroup = NULL;
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "cgroup"), &cg, NULL);
	if (r == 0)
		r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "task/%d/cgroup", tid), &tcg, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	if (!strcmp(cg, tcg))
		return 0;
	if (strlen(tcg) >= ATTR_CGROUP_MAX)
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: the cgroup paths of its thread %d (%s) are longer than an image keeps (%d bytes)",
				 pid, tid, path, ATTR_CGROUP_MAX - 1);
	a->cgroup = tcg;
	tcg = NULL;
	return 0;
}

static bool policy_is_rt(int policy)
{
	policy &= ~SCHED_RESET_ON_FORK;
	return policy == SCHED_FIFO || policy == SCHED_RR || policy == SCHED_DEADLINE;
}

int sd_attrs_collect_thread(struct sdump_ctx *ctx, struct seized *s, struct seized_thread *st,
			 struct injector *inj, int sched_policy, struct attr_thread *a)
{
	static const int spec_which[ATTR_NSPEC] = { PR_SPEC_STORE_BYPASS, PR_SPEC_INDIRECT_BRANCH,
						    PR_SPEC_L1D_FLUSH };
	struct sdump_sched_attr sa = { 0 };
	const long out_at = (long)(inj->scratch + SCR_ATTR);
	struct thread_answers out = { 0 };
	struct inject_batch_call c[] = {
		{ SYS_prctl, { PR_GET_PDEATHSIG, out_at + (long)offsetof(struct thread_answers, pdeathsig) }, 0 },
		{ SYS_prctl, { PR_GET_TIMERSLACK }, 0 },
		{ SYS_prctl, { PR_GET_TSC, out_at + (long)offsetof(struct thread_answers, tsc) }, 0 },
		{ SYS_prctl, { PR_MCE_KILL_GET }, 0 },
		{ SYS_prctl, { PR_GET_KEEPCAPS }, 0 },
		{ SYS_arch_prctl, { ARCH_GET_CPUID }, 0 },
		{ SYS_get_mempolicy,
		  { out_at + (long)offsetof(struct thread_answers, mode),
		    out_at + (long)offsetof(struct thread_answers, nodes), ATTR_NODEMASK_MAX * 8 },
		  0 },
	};
	char name[64];
	pid_t tid = st->tid;
	long v;
	int r;

	v = syscall(SYS_sched_getaffinity, tid, sizeof(a->cpus), a->cpus);
	if (v < 0)
		return sd_err(ctx, -errno, "cannot read the CPU affinity of thread %d", tid);
	a->cpus_len = (size_t)v;
	errno = 0;
	v = syscall(SYS_ioprio_get, SDUMP_IOPRIO_WHO_PROCESS, tid);
	if (v < 0)
		return sd_err(ctx, -errno, "cannot read the I/O priority of thread %d", tid);
	a->ioprio = (int)v;
	if (syscall(SYS_sched_getattr, tid, &sa, sizeof(sa), 0) < 0)
		return sd_err(ctx, -errno, "cannot read the scheduling attributes of thread %d", tid);
	a->sched_flags = sa.sched_flags;
	a->sched_runtime = sa.sched_runtime;
	a->sched_deadline = sa.sched_deadline;
	a->sched_period = sa.sched_period;
	a->util_min = sa.sched_util_min;
	a->util_max = sa.sched_util_max;
	r = collect_thread_cgroup(ctx, s->pid, tid, a);
	if (r < 0)
		return r;
	(void)snprintf(name, sizeof(name), "task/%d/personality", tid);
	r = read_proc_value(ctx, s->pid, name, 16, &v);
	if (r < 0)
		return r;
	a->personality = (uint32_t)v;

	/* what only the thread can tell, in one batch (sd_inject_batch()) */
	r = sd_inject_batch(ctx, inj, s, st, c, ARRAY_SIZE(c));
	if (r == 0)
		r = sd_inject_scratch_read(ctx, inj, SCR_ATTR, &out, sizeof(out));
	if (r < 0)
		return r;
	if (c[0].ret < 0)
		return failed(ctx, c[0].ret, "parent-death signal", tid);
	a->pdeathsig = out.pdeathsig;
	if (c[1].ret < 0)
		return failed(ctx, c[1].ret, "timer slack", tid);
	a->timerslack_ns = (uint64_t)c[1].ret;
	a->tsc = c[2].ret == 0 ? out.tsc : 0;
	if (c[3].ret < 0)
		return failed(ctx, c[3].ret, "machine-check kill policy", tid);
	a->mce_kill = (int)c[3].ret;
	if (c[4].ret < 0)
		return failed(ctx, c[4].ret, "keep-capabilities flag", tid);
	a->keepcaps = c[4].ret != 0;
	/* ENODEV and the like: a CPU or kernel without CPUID faulting, where cpuid works */
	a->cpuid = c[5].ret != 0;
	if (!policy_is_rt(sched_policy)) {
		r = collect_slack_default(ctx, inj, s, st, a);
		if (r < 0)
			return r;
	}
	if (c[6].ret < 0)
		return failed(ctx, c[6].ret, "memory policy", tid);
	take_mempolicy(&out, a);
	for (int k = 0; k < ATTR_NSPEC; k++) {
		/*
		 * Not settable per task on this kernel (no PR_SPEC_PRCTL in our
		 * own answer): the target's is the system's, as ours.
		 */
		v = prctl(PR_GET_SPECULATION_CTRL, spec_which[k], 0, 0, 0);
		if (v < 0 || (v & PR_SPEC_PRCTL)) {
			r = ask(ctx, inj, s, st, SYS_prctl, PR_GET_SPECULATION_CTRL, spec_which[k], 0, &v);
			if (r < 0)
				return r;
		}
		a->spec[k] = v > 0 ? (uint32_t)v : 0;
	}
	a->valid = true;
	return 0;
}
