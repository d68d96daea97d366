/* SPDX-License-Identifier: MIT */
/*
 * POSIX timers and each thread's capabilities, securebits, no_new_privs
 * and seccomp at the final dump (proc/psec.h).
 *
 * What /proc shows is read from outside: /proc/PID/timers (ids, clocks,
 * sigevents), the status of each thread (capability sets, no_new_privs,
 * seccomp mode and filter count). The times left of each timer, its
 * overrun and a thread's securebits only the process can tell: injected
 * timer_gettime, timer_getoverrun and PR_GET_SECUREBITS. The filters come
 * through ptrace (PTRACE_SECCOMP_GET_FILTER, oldest first, and their
 * flags with PTRACE_SECCOMP_GET_METADATA), which needs CAP_SYS_ADMIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>

#include "sdump.h"
#define LOG_PREFIX "state: "
#include "ctx.h"
#include "compat.h"
#include "dump_state.h"
#include "pattr.h"
#include "procfs.h"
#include "psec.h"
#include "util.h"

/* Our part of dump_state.c's scratch page. */
#define SCR_SEC 2048

struct seccomp_metadata_s {
	uint64_t filter_off;
	uint64_t flags;
};

static int status_hex(const char *status, const char *key, uint64_t *ret)
{
	char v[64], *end;

	if (sd_pattr_status_value(status, key, v, sizeof(v)) < 0)
		return -EBADMSG;
	errno = 0;
	*ret = strtoull(v, &end, 16);
	return errno || end == v || *end ? -EBADMSG : 0;
}

static int status_int(const char *status, const char *key, int *ret)
{
	char v[32], *end;
	long x;

	if (sd_pattr_status_value(status, key, v, sizeof(v)) < 0)
		return -EBADMSG;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < 0 || x > 1000000)
		return -EBADMSG;
	*ret = (int)x;
	return 0;
}

/*
 * Whether thread @tid is under seccomp (its mode, 0 for none): the dump's
 * own injected calls must then pass by its filters.
 */
static int thread_seccomp_mode(struct sdump_ctx *ctx, pid_t pid, pid_t tid, int *ret_mode)
{
	_cleanup_free_ char *status = NULL;
	char path[PROC_PATH_MAX];
	int r;

	*ret_mode = 0;
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "task/%d/status", (int)tid), &status, NULL);
	if (r == -ENOENT)
		return 0; /* gone since the freeze could not be: a zombie thread */
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	if (status_int(status, "Seccomp", ret_mode) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
	return 0;
}

int sd_sec_prepare(struct sdump_ctx *ctx, struct seized *s, struct injector *inj, bool required)
{
	for (size_t i = 0; i < s->n; i++) {
		int mode = 0, r = thread_seccomp_mode(ctx, s->pid, s->t[i].tid, &mode);

		if (r < 0)
			return r;
		if (!mode)
			continue;
		r = sd_inject_suspend_seccomp(ctx, inj, s, s->t[i].tid, !required);
		if (r < 0 && !required) {
			pr_warn(ctx, "pid %d: thread %d is under seccomp, and sdump's own calls cannot pass by its filters (that needs CAP_SYS_ADMIN): they may fail",
				s->pid, (int)s->t[i].tid);
			return 0;
		}
		return r;
	}
	return 0;
}

/* A classic BPF "ret #k" whose action is SECCOMP_RET_USER_NOTIF: a listener the image cannot hold. */
static bool filter_notifies(const struct sec_filter *f)
{
	for (size_t i = 0; i < f->len; i++) {
		const uint8_t *ins = (const uint8_t *)&f->insns[i];
		uint16_t code = (uint16_t)(ins[0] | ins[1] << 8);
		uint32_t k;

		memcpy(&k, ins + 4, sizeof(k));
		/* BPF_RET | BPF_K */
		if (code == 0x06 && (k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF)
			return true;
	}
	return false;
}

static int collect_filters(struct sdump_ctx *ctx, pid_t pid, pid_t tid, int count, struct sec_thread *sec)
{
	if (count <= 0 || count > SEC_FILTERS_MAX)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: thread %d has %d seccomp filters, more than an image holds (%d)",
			       (int)pid, (int)tid, count, SEC_FILTERS_MAX);
	sec->filters = calloc((size_t)count, sizeof(*sec->filters));
	if (!sec->filters)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		struct sec_filter *f = &sec->filters[i];
		struct seccomp_metadata_s md = { .filter_off = (uint64_t)i };
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)i, NULL);

		if (n < 0)
			return sd_err(ctx, -errno,
				      "cannot read seccomp filter %d of thread %d (PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN)",
				      i, (int)tid);
		if (n == 0 || n > SEC_FILTER_MAX_INSNS)
			return sd_errx(ctx, -EBADMSG, "seccomp filter %d of thread %d has %ld instructions", i,
				       (int)tid, n);
		f->insns = calloc((size_t)n, sizeof(*f->insns));
		if (!f->insns)
			return -ENOMEM;
		sec->nfilters++;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)i, f->insns) != n)
			return sd_err(ctx, errno ? -errno : -EAGAIN, "cannot read seccomp filter %d of thread %d",
				      i, (int)tid);
		f->len = (size_t)n;
		if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, (void *)sizeof(md), &md) < 0)
			return sd_err(ctx, -errno, "cannot read the flags of seccomp filter %d of thread %d", i,
				      (int)tid);
		f->flags = (uint32_t)(md.flags & SECCOMP_FILTER_FLAG_LOG);
		if (filter_notifies(f))
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: seccomp filter %d of thread %d hands system calls to a supervisor (SECCOMP_RET_USER_NOTIF), whose listener a restore cannot have; not supported",
				       (int)pid, i, (int)tid);
	}
	return 0;
}

int sd_sec_collect_thread(struct sdump_ctx *ctx, struct seized *s, struct seized_thread *st,
		       struct injector *inj, struct sec_thread *sec)
{
	_cleanup_free_ char *status = NULL;
	char path[PROC_PATH_MAX];
	int nnp = 0, nfilters = 0, r;
	const long args[6] = { PR_GET_SECUREBITS, 0, 0, 0, 0, 0 };
	long bits;

	*sec = (struct sec_thread){ 0 };
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, s->pid, "task/%d/status", (int)st->tid), &status, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	if (status_hex(status, "CapInh", &sec->cap_inh) < 0 || status_hex(status, "CapPrm", &sec->cap_prm) < 0 ||
	    status_hex(status, "CapEff", &sec->cap_eff) < 0 || status_hex(status, "CapBnd", &sec->cap_bnd) < 0 ||
	    status_hex(status, "CapAmb", &sec->cap_amb) < 0 || status_int(status, "NoNewPrivs", &nnp) < 0 ||
	    status_int(status, "Seccomp", &sec->seccomp_mode) < 0 || sec->seccomp_mode > 2 ||
	    (sec->seccomp_mode == 2 && status_int(status, "Seccomp_filters", &nfilters) < 0))
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
	sec->no_new_privs = nnp != 0;
	r = sd_inject_call(ctx, inj, s, st, SYS_prctl, args, 0, &bits);
	if (r < 0)
		return r;
	if (bits < 0)
		return sd_err(ctx, (int)bits, "cannot read the securebits of thread %d", (int)st->tid);
	sec->securebits = (uint32_t)bits;
	if (sec->seccomp_mode == 2) {
		r = collect_filters(ctx, s->pid, st->tid, nfilters, sec);
		if (r < 0) {
			sd_sec_thread_release(sec);
			return r;
		}
	}
	sec->valid = true;
	return 0;
}

static bool is_thread(const struct seized *s, pid_t tid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i].tid == tid)
			return true;
	return false;
}

/* Whether a restore can create a timer of @t's clock, counting what it counted. */
static int check_timer_clock(struct sdump_ctx *ctx, const struct seized *s, const struct posix_timer *t)
{
	int32_t who;
	bool thread;

	if (sd_psec_cpu_clock(t->clock, &who, &thread)) {
		if (who == 0 && thread && s->n > 1)
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: POSIX timer %d counts the CPU time of the thread that created it (CLOCK_THREAD_CPUTIME_ID), and which thread that is cannot be read; create it on pthread_getcpuclockid()'s clock instead",
				       s->pid, t->id);
		if (who != 0 && (thread ? !is_thread(s, who) : who != s->pid))
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: POSIX timer %d counts the CPU time of %s %d, outside the process; not supported",
				       s->pid, t->id, thread ? "thread" : "process", (int)who);
		return 0;
	}
	switch (t->clock) {
	case 0:		/* CLOCK_REALTIME */
	case 1:		/* CLOCK_MONOTONIC */
	case 7:		/* CLOCK_BOOTTIME */
	case 8:		/* CLOCK_REALTIME_ALARM */
	case 9:		/* CLOCK_BOOTTIME_ALARM */
	case 11:	/* CLOCK_TAI */
		return 0;
	}
	return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: POSIX timer %d has clock %d, which sdump does not know; not supported",
		       s->pid, t->id, t->clock);
}

static int timer_cmp(const void *a, const void *b)
{
	const struct posix_timer *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

int sd_sec_collect_timers(struct sdump_ctx *ctx, struct seized *s, struct injector *inj,
		       struct process_state *ps)
{
	const long rargs[6] = { PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0, 0 };
	_cleanup_free_ char *buf = NULL;
	char path[PROC_PATH_MAX];
	long on;
	int r;

	/* a checkpoint tool's own switch (Linux 6.16): on, its next timer_create() would take an id */
	r = sd_inject_call(ctx, inj, s, NULL, SYS_prctl, rargs, 0, &on);
	if (r < 0)
		return r;
	if (on == 1)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: it has PR_TIMER_CREATE_RESTORE_IDS on (its timer_create() takes the ids it is given); turn it off first",
			       s->pid);
	r = sd_read_file(AT_FDCWD, sd_proc_path(path, s->pid, "timers"), &buf, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	r = sd_psec_parse_timers(buf, &ps->timers, &ps->ntimers);
	if (r == -E2BIG)
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: it has more than %d POSIX timers; not supported",
			       s->pid, PTIMERS_MAX);
	if (r < 0)
		return sd_errx(ctx, r, "cannot parse '%s'", path);
	if (ps->ntimers > 1)
		qsort(ps->timers, ps->ntimers, sizeof(*ps->timers), timer_cmp);
	for (size_t i = 0; i < ps->ntimers; i++) {
		struct posix_timer *t = &ps->timers[i];
		const long gargs[6] = { t->id, (long)(inj->scratch + SCR_SEC), 0, 0, 0, 0 };
		const long oargs[6] = { t->id, 0, 0, 0, 0, 0 };
		int64_t its[4];
		long ret;

		if ((t->notify & PTIMER_SIGEV_THREAD_ID) ? !is_thread(s, t->target) : t->target != s->pid)
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: POSIX timer %d signals %s %d, which is not one of its threads; not supported",
				       s->pid, t->id, (t->notify & PTIMER_SIGEV_THREAD_ID) ? "thread" : "process",
				       (int)t->target);
		r = check_timer_clock(ctx, s, t);
		if (r < 0)
			return r;
		r = sd_inject_call(ctx, inj, s, NULL, SYS_timer_gettime, gargs, 0, &ret);
		if (r == 0 && ret < 0)
			r = sd_err(ctx, (int)ret, "cannot read POSIX timer %d of pid %d", t->id, s->pid);
		if (r == 0)
			r = sd_inject_scratch_read(ctx, inj, SCR_SEC, its, sizeof(its));
		if (r == 0)
			r = sd_inject_call(ctx, inj, s, NULL, SYS_timer_getoverrun, oargs, 0, &ret);
		if (r < 0)
			return r;
		if (its[0] < 0 || its[1] < 0 || its[2] < 0 || its[3] < 0)
			return sd_errx(ctx, -EBADMSG, "POSIX timer %d of pid %d reads a negative time", t->id, s->pid);
		t->interval_ns = (uint64_t)its[0] * 1000000000ull + (uint64_t)its[1];
		t->value_ns = (uint64_t)its[2] * 1000000000ull + (uint64_t)its[3];
		t->overrun = ret < 0 ? 0 : (int32_t)ret;
	}
	return 0;
}
