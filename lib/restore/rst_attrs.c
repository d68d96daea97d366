/* SPDX-License-Identifier: MIT */
/*
 * The attributes of the process and of its threads (proc/pattr.h) given
 * back, in four places of the restore:
 *  - around the clone3 of each task: the timer slack of its creator (sdump
 *    for the leader, the leader for the others), which the kernel makes the
 *    task's default slack;
 *  - process-wide, after the credentials and before the threads:
 *    oom_score_adj and coredump_filter (written from here), the child
 *    subreaper flag, membarrier registrations, KSM merging, the XSAVE
 *    features permitted (before any thread's XSAVE state is set), the
 *    autogroup's nice value;
 *  - per thread, after the rest of its state: affinity, I/O priority,
 *    personality, parent-death signal (after the credentials, whose change
 *    clears it), timer slack, keepcaps, TSC and CPUID modes, machine-check
 *    policy, speculation controls, then the scheduling attributes;
 *  - last, once every thread exists: the futex hash size, and
 *    memory-deny-write-execute, which forbids executable mappings that the
 *    earlier steps make.
 * The new process inherited each of them from sdump: every one is set, or
 * checked, whatever its value.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/prctl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "pattr.h"
#include "procfs.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

/* The kernel's default timer slack (init's), for a default the dump could not read. */
#define SLACK_KERNEL_DEFAULT 50000

static uint64_t default_slack(const struct attr_thread *a)
{
	return a->has_timerslack_default ? a->timerslack_default_ns : SLACK_KERNEL_DEFAULT;
}

long sd_rst_attrs_child_slack(struct rst *r)
{
	const struct attr_thread *a = &r->ps.threads[0].attrs;
	long ours = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	uint64_t d = default_slack(a);

	if (!a->valid || ours < 0)
		return -1;
	/* PR_SET_TIMERSLACK 0 is our own default, and a real-time sdump cannot set any */
	if (d == 0 || prctl(PR_SET_TIMERSLACK, d, 0, 0, 0) < 0 ||
	    prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) != (long)d)
		pr_warn(r->ctx, "pid %d: cannot give it its default timer slack of %" PRIu64 " ns, it gets sdump's",
			r->pid, d);
	return ours;
}

bool sd_rst_attrs_child_slack_was(const struct rst *r, long slack)
{
	const struct attr_thread *a = &r->ps.threads[0].attrs;

	return !a->valid || slack < 0 || default_slack(a) == (uint64_t)slack;
}

void sd_rst_attrs_child_slack_done(long ours)
{
	if (ours > 0)
		(void)prctl(PR_SET_TIMERSLACK, ours, 0, 0, 0);
}

int sd_rst_attrs_before_clone(struct rst *r, size_t i)
{
	const struct attr_thread *a = &r->ps.threads[i].attrs;
	uint64_t d = default_slack(a);
	long v;
	int e;

	if (!a->valid)
		return 0;
	if (d == 0) {
		pr_warn(r->ctx, "thread %d: cannot give it its default timer slack of 0 ns, it gets %d ns",
			r->ps.threads[i].tid, SLACK_KERNEL_DEFAULT);
		d = SLACK_KERNEL_DEFAULT;
	}
	e = sd_rst_try(r, SYS_prctl, PR_SET_TIMERSLACK, (long)d, 0, &v);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot set the timer slack of pid %d for its thread %d", r->pid,
			      r->ps.threads[i].tid);
	return 0;
}

static int write_proc(struct rst *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int write_proc(struct rst *r, const char *name, const char *fmt, ...)
{
	char path[PROC_PATH_MAX], buf[64];
	va_list ap;
	int fd, e, n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(sd_proc_path(path, r->pid, "%s", name), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = sd_write_all(fd, buf, (size_t)n);
	(void)close(fd);
	return e;
}

static int read_own_int(const char *path, long *ret)
{
	_cleanup_free_ char *buf = NULL;
	int e = sd_read_file(AT_FDCWD, path, &buf, NULL);

	if (e == 0)
		*ret = strtol(buf, NULL, 10);
	return e;
}

static int restore_oom(struct rst *r, const struct attr_process *a)
{
	long ours = 0;
	int e = write_proc(r, "oom_score_adj", "%d", a->oom_score_adj);

	if (e == -EACCES && read_own_int("/proc/self/oom_score_adj", &ours) == 0)
		return sd_err(r->ctx, e, "cannot set the oom_score_adj of pid %d to %d (without CAP_SYS_RESOURCE not below the floor it inherits from sdump, whose own is %ld)",
			      r->pid, a->oom_score_adj, ours);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot set the oom_score_adj of pid %d to %d", r->pid,
			      a->oom_score_adj);
	return 0;
}

static int restore_membarrier(struct rst *r, const struct attr_process *a)
{
	long cur = 0, v;
	int e;

	if (!a->membarrier)
		return 0;
	/* the new process inherited ours: none, but look */
	e = sd_rst_try(r, SYS_membarrier, SDUMP_MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0, &cur);
	if (e < 0 && e != -EINVAL)
		return sd_err(r->ctx, e, "cannot read the membarrier registrations of pid %d", r->pid);
	for (int bit = 0; bit < 31; bit++) {
		long cmd = 1L << bit;

		if (!(a->membarrier & cmd) || (cur & cmd))
			continue;
		e = sd_rst_try(r, SYS_membarrier, cmd, 0, 0, &v);
		if (e < 0)
			return sd_err(r->ctx, e, "cannot register pid %d for membarrier command 0x%lx again",
				      r->pid, cmd);
	}
	return 0;
}

static int restore_memory_merge(struct rst *r, const struct attr_process *a)
{
	long cur = 0;
	int e = sd_rst_try(r, SYS_prctl, PR_GET_MEMORY_MERGE, 0, 0, &cur);

	/* EINVAL: a kernel without KSM, where nothing merges */
	if (e == -EINVAL && !a->memory_merge)
		return 0;
	if (e == 0 && cur == a->memory_merge)
		return 0;
	e = sd_rst_try(r, SYS_prctl, PR_SET_MEMORY_MERGE, a->memory_merge, 0, &cur);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot turn KSM merging of pid %d %s again (PR_SET_MEMORY_MERGE)",
			      r->pid, a->memory_merge ? "on" : "off");
	return 0;
}

/* Before any XSAVE state with AMX tiles is given to a thread: the permission to hold it. */
static int restore_xcomp_perm(struct rst *r, const struct attr_process *a)
{
	uint64_t cur = 0, addr, missing;
	long v;
	int e;

	sd_rst_data_reset(r);
	e = sd_rst_data_put(r, &cur, sizeof(cur), &addr);
	if (e < 0)
		return e;
	e = sd_rst_try(r, SYS_arch_prctl, ARCH_GET_XCOMP_PERM, (long)addr, 0, &v);
	if (e == 0 && sd_pread_all(r->mem_fd, &cur, sizeof(cur), (off_t)addr) != sizeof(cur))
		e = -EIO;
	if (e < 0 && e != -EINVAL)
		return sd_err(r->ctx, e, "cannot read the XSAVE features permitted to pid %d", r->pid);
	missing = a->xcomp_perm & ~cur;
	for (int bit = 0; bit < 64 && missing; bit++) {
		if (!(missing & (1ull << bit)))
			continue;
		e = sd_rst_try(r, SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, bit, 0, &v);
		if (e < 0)
			return sd_err(r->ctx, e,
				      "cannot permit XSAVE feature %d to pid %d again (ARCH_REQ_XCOMP_PERM)",
				      bit, r->pid);
		missing &= ~(1ull << bit);
	}
	return 0;
}

/*
 * The nice value of its autogroup: a session leader has an autogroup of its
 * own (setsid made one); any other process is in that of sdump's session,
 * whose nice value is not ours to change.
 */
static int restore_autogroup(struct rst *r, const struct attr_process *a)
{
	_cleanup_free_ char *buf = NULL;
	char path[PROC_PATH_MAX];
	int cur, e;

	if (!a->has_autogroup)
		return 0;
	e = sd_read_file(AT_FDCWD, sd_proc_path(path, r->pid, "autogroup"), &buf, NULL);
	if (e == -ENOENT)
		return 0; /* a kernel without autogroups: nothing to read it back from */
	if (e == 0) {
		e = sd_pattr_parse_autogroup(buf, &cur);
		/* in no autogroup (sdump runs in init's session): the root group's weight, nice 0 */
		if (e == -ENODATA) {
			cur = 0;
			e = 0;
		}
	}
	if (e < 0)
		return sd_err(r->ctx, e, "cannot read '%s'", path);
	if (cur == a->autogroup_nice)
		return 0;
	if (r->ps.sid != r->pid || r->opts->shell_job)
		return sd_errx(r->ctx, -EINVAL,
			       "cannot restore pid %d: its autogroup had nice %d, and it comes back in the autogroup of sdump's session, which has nice %d; restore it from a session whose autogroup has nice %d (/proc/self/autogroup)",
			       r->pid, a->autogroup_nice, cur, a->autogroup_nice);
	e = write_proc(r, "autogroup", "%d", a->autogroup_nice);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot set the autogroup nice value of pid %d to %d", r->pid,
			      a->autogroup_nice);
	return 0;
}

/*
 * The audit login uid: only the process itself may write its loginuid
 * (fs/proc/base.c, proc_loginuid_write), so the write is made in it. Once
 * set, a loginuid cannot change without CAP_AUDIT_CONTROL, or at all where
 * audit made it immutable: then the write fails, and the restore says so.
 */
static int restore_loginuid(struct rst *r, const struct attr_process *a)
{
	_cleanup_free_ char *cur = NULL;
	char path[PROC_PATH_MAX], text[16];
	uint64_t addr;
	long fd = -1, n = 0;
	int e, len;

	if (!a->has_loginuid)
		return 0;
	e = sd_read_file(AT_FDCWD, sd_proc_path(path, r->pid, "loginuid"), &cur, NULL);
	if (e == -ENOENT)
		return sd_errx(r->ctx, -EOPNOTSUPP,
			       "cannot restore pid %d: it had the audit login uid %u, and this kernel has no audit (no /proc/PID/loginuid)",
			       r->pid, a->loginuid);
	if (e == 0 && strtoull(cur, NULL, 10) == a->loginuid)
		return 0;
	len = snprintf(text, sizeof(text), "%u", a->loginuid);
	e = sd_rst_open_in_child(r, "/proc/self/loginuid", O_WRONLY | O_CLOEXEC, &fd);
	if (e < 0)
		return e;
	e = sd_rst_data_put(r, text, (size_t)len, &addr);
	if (e == 0)
		e = sd_rst_try(r, SYS_write, fd, (long)addr, len, &n);
	(void)sd_rst_call(r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot set the audit login uid of pid %d to %u (/proc/PID/loginuid; once set it changes only with CAP_AUDIT_CONTROL, never where audit made it immutable)",
			      r->pid, a->loginuid);
	return 0;
}

int sd_rst_restore_attrs(struct rst *r)
{
	const struct attr_process *a = &r->ps.attrs;
	long v;
	int e;

	if (!a->valid)
		return 0;
	e = restore_oom(r, a);
	if (e < 0)
		return e;
	e = write_proc(r, "coredump_filter", "0x%x", a->coredump_filter);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot set the coredump_filter of pid %d", r->pid);
	/* not inherited: the new process has none */
	if (a->child_subreaper) {
		e = sd_rst_try(r, SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, &v);
		if (e < 0)
			return sd_err(r->ctx, e, "cannot make pid %d a child subreaper again", r->pid);
	}
	e = restore_membarrier(r, a);
	if (e == 0)
		e = restore_memory_merge(r, a);
	if (e == 0)
		e = restore_xcomp_perm(r, a);
	if (e == 0)
		e = restore_autogroup(r, a);
	if (e == 0)
		e = restore_loginuid(r, a);
	/* sd_rst_restore_process set it, without the flag of Linux 6.18 */
	if (e == 0 && (a->thp_disable & PR_THP_DISABLE_EXCEPT_ADVISED)) {
		e = sd_rst_try(r, SYS_prctl, PR_SET_THP_DISABLE, 1, PR_THP_DISABLE_EXCEPT_ADVISED, &v);
		if (e < 0)
			return sd_err(r->ctx, e, "cannot disable THP for pid %d again, except where advised",
				      r->pid);
	}
	return e;
}

static long get_affinity(pid_t tid, uint8_t mask[ATTR_CPUMASK_MAX])
{
	long n = syscall(SYS_sched_getaffinity, tid, ATTR_CPUMASK_MAX, mask);

	return n < 0 ? -errno : n;
}

/*
 * The kernel keeps of a mask only the CPUs that are online and in the
 * task's cpuset. A mask that held every CPU the thread may use here still
 * does; one naming a CPU it may not use here cannot be given back.
 */
static int restore_affinity(struct rst *r, pid_t tid, const struct attr_thread *a)
{
	uint8_t got[ATTR_CPUMASK_MAX], all[ATTR_CPUMASK_MAX], missing[ATTR_CPUMASK_MAX];
	char want[512], miss[512];
	long n;

	if (syscall(SYS_sched_setaffinity, tid, a->cpus_len, a->cpus) == 0) {
		n = get_affinity(tid, got);
		if (n < 0)
			return sd_err(r->ctx, (int)n, "cannot read the CPU affinity of thread %d", tid);
		if (sd_pattr_cpus_subset(a->cpus, a->cpus_len, got, (size_t)n) &&
		    sd_pattr_cpus_subset(got, (size_t)n, a->cpus, a->cpus_len))
			return 0;
	}
	memset(all, 0xff, sizeof(all));
	if (syscall(SYS_sched_setaffinity, tid, sizeof(all), all) < 0)
		return sd_err(r->ctx, -errno, "cannot set the CPU affinity of thread %d", tid);
	n = get_affinity(tid, got);
	if (n < 0)
		return sd_err(r->ctx, (int)n, "cannot read the CPU affinity of thread %d", tid);
	if (sd_pattr_cpus_subset(got, (size_t)n, a->cpus, a->cpus_len))
		return 0;
	sd_pattr_fmt_cpus(a->cpus, a->cpus_len, want, sizeof(want));
	sd_pattr_cpus_minus(a->cpus, a->cpus_len, got, (size_t)n, missing);
	sd_pattr_fmt_cpus(missing, a->cpus_len, miss, sizeof(miss));
	return sd_errx(r->ctx, -EINVAL,
		       "cannot restore the CPU affinity of thread %d (CPUs %s): CPUs %s are not online here or not in sdump's cpuset",
		       tid, want, miss);
}

static bool policy_is_fair(int policy)
{
	policy &= ~SCHED_RESET_ON_FORK;
	return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE;
}

/* SCHED_DEADLINE parameters, a fair thread's own time slice, utilization clamps. */
static int restore_sched_attr(struct rst *r, const struct thread_state *t)
{
	const struct attr_thread *a = &t->attrs;
	struct sdump_sched_attr cur = { 0 }, want;
	const char *what = NULL;
	pid_t tid = t->tid;

	if (syscall(SYS_sched_getattr, tid, &cur, sizeof(cur), 0) < 0)
		return sd_err(r->ctx, -errno, "cannot read the scheduling attributes of thread %d", tid);
	if ((t->sched_policy & ~SCHED_RESET_ON_FORK) == SCHED_DEADLINE) {
		want = (struct sdump_sched_attr){
			.size = sizeof(want),
			.sched_policy = SCHED_DEADLINE,
			/* reset-on-fork, reclaim, overrun signal */
			.sched_flags = a->sched_flags & 0x07,
			.sched_runtime = a->sched_runtime,
			.sched_deadline = a->sched_deadline,
			.sched_period = a->sched_period,
		};
		what = "SCHED_DEADLINE parameters";
	} else if (policy_is_fair(t->sched_policy) && a->sched_runtime &&
		   cur.sched_runtime != a->sched_runtime) {
		/* Linux 6.12: a slice of its own (sched_setattr's runtime for a fair policy) */
		want = cur;
		want.size = sizeof(want);
		want.sched_flags = cur.sched_flags & SCHED_FLAG_RESET_ON_FORK;
		want.sched_runtime = a->sched_runtime;
		what = "time slice";
	}
	if (what && syscall(SYS_sched_setattr, tid, &want, 0) < 0)
		return sd_err(r->ctx, -errno, "cannot restore the %s of thread %d", what, tid);
	/* util_max 0: a kernel without uclamp, where there is nothing to set */
	if (a->util_max && (cur.sched_util_min != a->util_min || cur.sched_util_max != a->util_max)) {
		want = (struct sdump_sched_attr){
			.size = sizeof(want),
			.sched_flags = SCHED_FLAG_KEEP_POLICY | SCHED_FLAG_KEEP_PARAMS |
				       SCHED_FLAG_UTIL_CLAMP_MIN | SCHED_FLAG_UTIL_CLAMP_MAX,
			.sched_util_min = a->util_min,
			.sched_util_max = a->util_max,
		};
		if (syscall(SYS_sched_setattr, tid, &want, 0) < 0)
			return sd_err(r->ctx, -errno, "cannot restore the utilization clamps of thread %d", tid);
	}
	return 0;
}

/* Syscall @nr(@a0, @a1, @a2) in thread @st, to give back its @what. */
static int thread_call(struct rst *r, struct seized_thread *st, const char *what, long nr, long a0,
		       long a1, long a2, long *ret)
{
	long v;
	int e = sd_rst_try_in(r, st, nr, a0, a1, a2, ret ? ret : &v);

	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore the %s of thread %d", what, st->tid);
	return 0;
}

/* prctl @set_op to @want, unless @get_op says it is so already. */
static int set_if_differs(struct rst *r, struct seized_thread *st, const char *what, long nr,
			  long get_op, long set_op, long want)
{
	long cur = 0;
	int e = thread_call(r, st, what, nr, get_op, 0, 0, &cur);

	if (e == 0 && cur != want)
		e = thread_call(r, st, what, nr, set_op, want, 0, NULL);
	return e;
}

static const char *const spec_names[ATTR_NSPEC] = { "store bypass", "indirect branch", "L1D flush" };

static int restore_spec(struct rst *r, struct seized_thread *st, const struct attr_thread *a)
{
	static const int which[ATTR_NSPEC] = { PR_SPEC_STORE_BYPASS, PR_SPEC_INDIRECT_BRANCH,
					       PR_SPEC_L1D_FLUSH };

	for (int k = 0; k < ATTR_NSPEC; k++) {
		long want = (long)(a->spec[k] & ~(uint32_t)PR_SPEC_PRCTL), cur = 0;
		int e;

		if (!a->spec[k])
			continue; /* not affected, or a kernel that could not tell */
		e = thread_call(r, st, "speculation control", SYS_prctl, PR_GET_SPECULATION_CTRL,
				which[k], 0, &cur);
		if (e < 0)
			return e;
		if ((cur & ~(long)PR_SPEC_PRCTL) == want)
			continue;
		if (!(cur & PR_SPEC_PRCTL))
			return sd_errx(r->ctx, -EOPNOTSUPP,
				       "cannot restore the %s speculation control of thread %d (0x%lx): this kernel does not let a process set it (it is 0x%lx here)",
				       spec_names[k], st->tid, want, cur);
		e = thread_call(r, st, "speculation control", SYS_prctl, PR_SET_SPECULATION_CTRL,
				which[k], want, NULL);
		if (e < 0)
			return e;
	}
	return 0;
}

/* Its NUMA memory policy; set_mempolicy() reads one bit fewer than maxnode says. */
static int restore_mempolicy(struct rst *r, struct seized_thread *st, const struct attr_thread *a)
{
	uint64_t addr = 0;
	int e = 0;

	sd_rst_data_reset(r);
	if (a->mempolicy_nodes_len)
		e = sd_rst_data_put(r, a->mempolicy_nodes, a->mempolicy_nodes_len, &addr);
	if (e == 0)
		e = thread_call(r, st, "memory policy", SYS_set_mempolicy, a->mempolicy, (long)addr,
				a->mempolicy_nodes_len ? (long)a->mempolicy_nodes_len * 8 + 1 : 0, NULL);
	return e;
}

int sd_rst_restore_thread_attrs(struct rst *r, size_t i)
{
	const struct thread_state *t = &r->ps.threads[i];
	const struct attr_thread *a = &t->attrs;
	struct seized_thread *st = &r->seized.t[i];
	long cur = 0;
	int e;

	if (!a->valid)
		return 0;
	e = restore_affinity(r, t->tid, a);
	if (e < 0)
		return e;
	if (syscall(SYS_ioprio_set, SDUMP_IOPRIO_WHO_PROCESS, t->tid, a->ioprio) < 0)
		return sd_err(r->ctx, -errno, "cannot restore the I/O priority of thread %d (0x%x)",
			      t->tid, a->ioprio);
	e = thread_call(r, st, "personality", SYS_personality, a->personality, 0, 0, NULL);
	/* a real-time thread has none, and the kernel ignores the call */
	if (e == 0 && a->timerslack_ns)
		e = thread_call(r, st, "timer slack", SYS_prctl, PR_SET_TIMERSLACK,
				(long)a->timerslack_ns, 0, NULL);
	/* only when it differs: with SECBIT_KEEP_CAPS_LOCKED any PR_SET_KEEPCAPS fails */
	if (e == 0)
		e = set_if_differs(r, st, "keep-capabilities flag", SYS_prctl, PR_GET_KEEPCAPS,
				   PR_SET_KEEPCAPS, a->keepcaps);
	if (e == 0 && a->tsc)
		e = thread_call(r, st, "TSC mode", SYS_prctl, PR_SET_TSC, a->tsc, 0, NULL);
	/* setting it at all needs CPUID faulting in the CPU */
	if (e == 0)
		e = set_if_differs(r, st, "CPUID mode", SYS_arch_prctl, ARCH_GET_CPUID, ARCH_SET_CPUID,
				   a->cpuid);
	if (e == 0)
		e = thread_call(r, st, "machine-check kill policy", SYS_prctl, PR_MCE_KILL_GET, 0, 0,
				&cur);
	if (e == 0 && cur != a->mce_kill)
		e = thread_call(r, st, "machine-check kill policy", SYS_prctl, PR_MCE_KILL,
				PR_MCE_KILL_SET, a->mce_kill, NULL);
	if (e == 0)
		e = restore_spec(r, st, a);
	if (e == 0)
		e = restore_mempolicy(r, st, a);
	if (e < 0)
		return e;
	if (a->pdeathsig && r->opts->detach)
		pr_warn(r->ctx, "thread %d of pid %d has parent-death signal %d: it gets it when sdump returns, its parent then exiting",
			t->tid, r->pid, a->pdeathsig);
	/* last: a deadline thread runs the calls above slowly */
	return restore_sched_attr(r, t);
}

int sd_rst_restore_attrs_last(struct rst *r)
{
	const struct attr_process *a = &r->ps.attrs;
	long cur = 0;
	int e;

	/*
	 * The parent-death signal after the credentials, which clear it when
	 * they change; in every thread, the leader's SIGKILL of its creation
	 * (sd_rst_start_child()) replaced by what it had.
	 */
	for (size_t i = 0; i < r->seized.n; i++) {
		const struct attr_thread *ta = &r->ps.threads[i].attrs;

		e = thread_call(r, &r->seized.t[i], "parent-death signal", SYS_prctl, PR_SET_PDEATHSIG,
				ta->valid ? ta->pdeathsig : 0, 0, NULL);
		if (e < 0)
			return e;
	}
	if (!a->valid)
		return 0;
	/* Linux 6.16; EINVAL: no private futex hashes here, nor a size to read back */
	if (a->futex_slots >= 0) {
		e = sd_rst_try(r, SYS_prctl, PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, &cur);
		if (e == 0 && cur != a->futex_slots) {
			e = sd_rst_try(r, SYS_prctl, PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, a->futex_slots,
				    &cur);
			if (e < 0)
				return sd_err(r->ctx, e, "cannot give pid %d its futex hash of %d slots again",
					      r->pid, a->futex_slots);
		}
	}
	if (a->mdwe) {
		e = sd_rst_try(r, SYS_prctl, PR_SET_MDWE, a->mdwe, 0, &cur);
		if (e < 0)
			return sd_err(r->ctx, e, "cannot deny write-execute memory to pid %d again (PR_SET_MDWE 0x%x)",
				      r->pid, a->mdwe);
	}
	/* the mappings to come locked: every VMA of its own has its VmFlags already */
	if (a->mcl_future) {
		e = sd_rst_try(r, SYS_mlockall, a->mcl_future, 0, 0, &cur);
		if (e < 0)
			return sd_err(r->ctx, e,
				      "cannot make pid %d lock its future mappings again (mlockall MCL_FUTURE%s); that needs CAP_IPC_LOCK or an RLIMIT_MEMLOCK above 0",
				      r->pid, (a->mcl_future & SDUMP_MCL_ONFAULT) ? " | MCL_ONFAULT" : "");
	}
	return 0;
}
