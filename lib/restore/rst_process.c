/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4, the rest: process-wide state (signal handlers, interval
 * timers, limits, umask, personality, session and group; cwd and root are
 * rst_fs.c's); the signals queued for the whole process, once its threads
 * exist; and the credentials, in every thread, last of all.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "inject.h"
#include "pattr.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

static const char *fmt_lim(uint64_t v, char buf[24])
{
	if (v == UINT64_MAX)
		return "unlimited";
	(void)snprintf(buf, 24, "%" PRIu64, v);
	return buf;
}

int sd_rst_restore_process(struct rst *r)
{
	const struct process_state *ps = &r->ps;
	uint64_t a;
	int e = 0;

	for (int sig = 1; sig <= NSIG_MAX && e == 0; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* as its clone left it (a tree's members are not its clones): nothing to set */
		if (r->sig_cleared && !r->tree) {
			struct ksigaction now = { .handler = (r->sig_ign >> (sig - 1)) & 1 ? 1 : 0 };

			if (!memcmp(&now, &ps->sigactions[sig - 1], sizeof(now)))
				continue;
		}
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, &ps->sigactions[sig - 1], sizeof(struct ksigaction), &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_rt_sigaction, sig, (long)a, 0, 8, 0, 0, NULL);
	}
	for (int which = 0; which < 3 && e == 0; which++) {
		uint64_t itv[4] = {
			ps->itimer_interval_us[which] / 1000000, ps->itimer_interval_us[which] % 1000000,
			ps->itimer_value_us[which] / 1000000, ps->itimer_value_us[which] % 1000000,
		};

		if (!itv[0] && !itv[1] && !itv[2] && !itv[3])
			continue;
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, itv, sizeof(itv), &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_setitimer, which, (long)a, 0, 0, 0, 0, NULL);
	}
	for (int res = 0; res < NRLIMITS && e == 0; res++) {
		struct rlimit64_s lim = ps->rlimits[res];
		struct rlimit ours;
		bool have = getrlimit(res, &ours) == 0;
		char cur[24], max[24];
		long v;

		/* its clone has ours (a tree's members are not its clones) */
		if (!r->tree && have && lim.cur == ours.rlim_cur && lim.max == ours.rlim_max)
			continue;
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, &lim, sizeof(lim), &a);
		if (e == 0) {
			const long args[6] = { 0, res, (long)a, 0, 0, 0 };

			e = sd_inject_call(r->ctx, &r->inj, NULL, &r->seized.t[0], SYS_prlimit64, args, 0, &v);
			/* without CAP_SYS_RESOURCE no hard limit rises above the one it inherits from us */
			if (e == 0 && v < 0)
				return sd_errx(r->ctx, (int)v,
					       "cannot restore pid %d: its resource limit %d (%s) of %s/%s cannot be set: %s%s",
					       r->pid, res, sd_rlimit_name(res), fmt_lim(lim.cur, cur),
					       fmt_lim(lim.max, max), strerror((int)-v),
					       have && lim.max > ours.rlim_max ?
						       "; a hard limit above sdump's own needs CAP_SYS_RESOURCE in sdump restore" :
						       "");
		}
	}
	if (e == 0)
		e = sd_rst_call(r, SYS_umask, ps->umask, 0, 0, 0, 0, 0, NULL);
	if (e == 0)
		e = sd_rst_call(r, SYS_personality, ps->personality, 0, 0, 0, 0, 0, NULL);
	if (e == 0 && ps->thp_disabled)
		e = sd_rst_call(r, SYS_prctl, PR_SET_THP_DISABLE, 1, 0, 0, 0, 0, NULL);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot restore the process state of pid %d", r->pid);
	return r->session_done ? 0 : sd_rst_restore_session(r);
}

int sd_rst_restore_session(struct rst *r)
{
	const struct process_state *ps = &r->ps;
	int e = 0;

	/*
	 * A session leader comes back as one, a group leader too. In our job
	 * (--shell-job) it stays in our session, and a group leader leads a
	 * group of its own there: a shell gives the terminal to its own group
	 * (rst_tty.c), and that group must be there.
	 */
	if (e == 0 && r->opts->shell_job && ps->pgid == ps->pid)
		e = sd_rst_call(r, SYS_setpgid, 0, 0, 0, 0, 0, 0, NULL);
	if (e == 0 && !r->opts->shell_job) {
		if (ps->sid == ps->pid)
			e = sd_rst_call(r, SYS_setsid, 0, 0, 0, 0, 0, 0, NULL);
		else if (ps->pgid == ps->pid)
			e = sd_rst_call(r, SYS_setpgid, 0, 0, 0, 0, 0, 0, NULL);
		else if (ps->sid != getsid(0) || ps->pgid != getpgid(0))
			return sd_errx(r->ctx, -EINVAL,
				       "cannot restore pid %d: it was in session %d, group %d of other processes; restore it with --shell-job",
				       r->pid, ps->sid, ps->pgid);
	}
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot restore the session and group of pid %d", r->pid);
	r->session_done = true;
	return 0;
}

/*
 * Last of all, once every thread exists and has its state: made while the
 * restore is privileged, the threads could get their ids (clone3 with
 * set_tid needs CAP_CHECKPOINT_RESTORE, which dropping to another user
 * takes away). Credentials are per thread (the setresuid system call
 * changes only its caller's; glibc's setresuid() makes every thread call
 * it), so each thread drops them itself. Dumpable after them: a change of
 * effective id resets it.
 */
/*
 * The file-system ids, which setresuid and setresgid have just set to the
 * effective ones. setfsuid() never fails: it returns the old id, and a
 * second call with -1 (no change) tells whether the first one took.
 */
static int restore_fsid(struct rst *r, struct seized_thread *t, long nr, uint32_t want,
			const char *what)
{
	long got = -1;
	int e = sd_rst_call_in(r, t, nr, want, 0, 0, 0, 0, 0, NULL);

	if (e == 0)
		e = sd_rst_call_in(r, t, nr, -1, 0, 0, 0, 0, 0, &got);
	if (e == 0 && (uint32_t)got != want)
		return sd_errx(r->ctx, -EPERM,
			       "cannot restore pid %d: thread %d cannot be given its file-system %s %u back (it has %ld); restore as root",
			       r->pid, (int)t->tid, what, want, got);
	return e;
}

static int restore_fsids(struct rst *r, struct seized_thread *t, const uint32_t uid[4], const uint32_t gid[4])
{
	int e = restore_fsid(r, t, SYS_setfsgid, gid[3], "gid");

	return e < 0 ? e : restore_fsid(r, t, SYS_setfsuid, uid[3], "uid");
}

int sd_rst_restore_creds(struct rst *r)
{
	const struct process_state *ps = &r->ps;
	int e = 0;

	for (size_t i = 0; e == 0 && i < r->seized.n; i++) {
		struct seized_thread *t = &r->seized.t[i];
		/* a thread's own, apart from the process's (dump_state.c) */
		const struct attr_thread *own = i < ps->nthreads && ps->threads[i].attrs.own_creds ?
							&ps->threads[i].attrs : NULL;
		const uint32_t *uid = own ? own->uid : ps->uid, *gid = own ? own->gid : ps->gid;
		uint64_t a;

		sd_rst_data_reset(r);
		e = own ? sd_rst_data_put(r, own->groups, own->ngroups * sizeof(uint32_t), &a) :
			  sd_rst_data_put(r, ps->groups, ps->ngroups * sizeof(uint32_t), &a);
		if (e == 0)
			e = sd_rst_call_in(r, t, SYS_setgroups, (long)(own ? own->ngroups : ps->ngroups), (long)a, 0,
					   0, 0, 0, NULL);
		if (e == 0)
			e = sd_rst_call_in(r, t, SYS_setresgid, gid[0], gid[1], gid[2], 0, 0, 0, NULL);
		if (e == 0)
			e = sd_rst_call_in(r, t, SYS_setresuid, uid[0], uid[1], uid[2], 0, 0, 0, NULL);
		if (e == 0)
			e = restore_fsids(r, t, uid, gid);
	}
	if (e == 0 && ps->dumpable >= 0 && ps->dumpable <= 1)
		e = sd_rst_call(r, SYS_prctl, PR_SET_DUMPABLE, ps->dumpable, 0, 0, 0, 0, NULL);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot restore the credentials of pid %d", r->pid);
	return 0;
}

/* Signals queued for the whole process: from the leader, whose tid is the pid. */
int sd_rst_restore_shared_signals(struct rst *r)
{
	for (size_t k = 0; k < r->ps.nshared; k++) {
		uint64_t a;
		int signo, e;

		memcpy(&signo, r->ps.shared[k], sizeof(signo));
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, r->ps.shared[k], SIGINFO_SIZE, &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_rt_sigqueueinfo, r->pid, signo, (long)a, 0, 0, 0, NULL);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot queue signal %d for pid %d again", signo, r->pid);
	}
	return 0;
}
