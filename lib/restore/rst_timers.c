/* SPDX-License-Identifier: MIT */
/*
 * POSIX timers: created again in the new process with their ids
 * (PR_TIMER_CREATE_RESTORE_IDS, Linux 6.16: timer_create() takes the id
 * it is given), clocks and sigevents once every thread they may signal
 * exists, and before the credentials (an alarm clock needs
 * CAP_WAKE_ALARM); armed at the end, just before the process runs, with
 * the time that was left at the dump, relative to now (also for a timer
 * armed with TIMER_ABSTIME: the image does not say, and CPU-time clocks
 * start again from the new process's own), with their interval. The
 * overrun count of the last expiry is not given back: no system call sets it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "psec.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

/* struct sigevent as the kernel reads it */
struct ksigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

static bool image_has_thread(const struct process_state *ps, int32_t tid)
{
	for (size_t i = 0; i < ps->nthreads; i++)
		if (ps->threads[i].tid == tid)
			return true;
	return false;
}

int sd_rst_check_timers(struct rst *r)
{
	const struct process_state *ps = &r->ps;

	if (!ps->ntimers)
		return 0;
	if (prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0) < 0)
		return sd_errx(r->ctx, -EOPNOTSUPP,
			       "cannot restore pid %d: it has %zu POSIX timers, and this kernel cannot create a timer with a chosen id (PR_TIMER_CREATE_RESTORE_IDS, Linux 6.16)",
			       r->pid, ps->ntimers);
	for (size_t i = 0; i < ps->ntimers; i++) {
		const struct posix_timer *t = &ps->timers[i];
		int32_t who;
		bool thread;

		if ((t->notify & PTIMER_SIGEV_THREAD_ID) ? !image_has_thread(ps, t->target) : t->target != ps->pid)
			return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: POSIX timer %d signals %d, no thread of pid %d",
				       r->opts->dir, t->id, t->target, ps->pid);
		if (sd_psec_cpu_clock(t->clock, &who, &thread) && who &&
		    (thread ? !image_has_thread(ps, who) : who != ps->pid))
			return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: POSIX timer %d counts the CPU time of %d, no thread of pid %d",
				       r->opts->dir, t->id, who, ps->pid);
	}
	return 0;
}

int sd_rst_create_timers(struct rst *r)
{
	const struct process_state *ps = &r->ps;
	int e;

	if (!ps->ntimers)
		return 0;
	e = sd_rst_call(r, SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0, 0,
			NULL);
	for (size_t i = 0; e == 0 && i < ps->ntimers; i++) {
		const struct posix_timer *t = &ps->timers[i];
		struct ksigevent sev = { .value = t->value, .signo = t->signo, .notify = t->notify,
					 .tid = t->target };
		int32_t id = t->id, got = -1;
		uint64_t asev, aid;

		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, &sev, sizeof(sev), &asev);
		if (e == 0)
			e = sd_rst_data_put(r, &id, sizeof(id), &aid);
		if (e == 0)
			e = sd_rst_call(r, SYS_timer_create, t->clock, (long)asev, (long)aid, 0, 0, 0, NULL);
		if (e == 0 && (sd_pread_all(r->mem_fd, &got, sizeof(got), (off_t)aid) != sizeof(got) || got != t->id))
			e = sd_errx(r->ctx, -EIO, "POSIX timer %d came back as %d", t->id, got);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot create POSIX timer %d (clock %d) in the restored pid %d",
				       t->id, t->clock, r->pid);
	}
	if (e == 0)
		e = sd_rst_call(r, SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0,
				0, NULL);
	return e;
}

int sd_rst_arm_timers(struct rst *r)
{
	const struct process_state *ps = &r->ps;

	for (size_t i = 0; i < ps->ntimers; i++) {
		const struct posix_timer *t = &ps->timers[i];
		int64_t its[4] = {
			(int64_t)(t->interval_ns / 1000000000u), (int64_t)(t->interval_ns % 1000000000u),
			(int64_t)(t->value_ns / 1000000000u), (int64_t)(t->value_ns % 1000000000u),
		};
		uint64_t a;
		int e;

		if (!t->value_ns)
			continue;
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, its, sizeof(its), &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_timer_settime, t->id, 0, (long)a, 0, 0, 0, NULL);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot arm POSIX timer %d in the restored pid %d", t->id, r->pid);
	}
	return 0;
}
