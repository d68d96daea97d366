/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: the fds on anonymous inodes, made again in the new
 * process by the system call that makes each kind, with their state.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "pstate.h"
#include "restore.h"
#include "rst_fd_anon.h"

/*
 * An eventfd: eventfd2() takes only 32 bits of counter, so it starts at 0
 * and one write() adds the whole 64-bit value (never blocking: 0 plus at
 * most 2^64 - 2 fits).
 */
int sd_rst_eventfd_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	int flags = (d->anon.efd_semaphore ? EFD_SEMAPHORE : 0) | (int)(d->flags & (O_NONBLOCK | O_CLOEXEC));
	uint64_t a;
	long tmp;
	int e;

	e = sd_rst_call(r, SYS_eventfd2, 0, flags, 0, 0, 0, 0, &tmp);
	if (e == 0 && d->anon.efd_count) {
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, &d->anon.efd_count, sizeof(d->anon.efd_count), &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_write, tmp, (long)a, sizeof(d->anon.efd_count), 0, 0, 0, NULL);
		if (e < 0)
			(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
	}
	if (e == 0)
		*ret_tmp = tmp;
	return e;
}

/* A signalfd: its mask, 8 bytes, as the kernel's sigset_t on x86-64. */
int sd_rst_signalfd_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	uint64_t a;
	int e;

	sd_rst_data_reset(r);
	e = sd_rst_data_put(r, &d->anon.sigmask, sizeof(d->anon.sigmask), &a);
	if (e == 0)
		e = sd_rst_call(r, SYS_signalfd4, -1, (long)a, sizeof(d->anon.sigmask),
				(long)(d->flags & (O_NONBLOCK | O_CLOEXEC)), 0, 0, ret_tmp);
	return e;
}

/*
 * A timerfd: made on its clock, set as it was (a time left counts from
 * now: the time between dump and restore does not count; an absolute
 * time stays that time), then the expirations not read yet given back
 * with TFD_IOC_SET_TICKS (CONFIG_CHECKPOINT_RESTORE), after the settime,
 * which clears them.
 */
int sd_rst_timerfd_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	const struct timerfd_state *t = &d->anon.tfd;
	struct itimerspec its = {
		.it_interval = { (time_t)(t->interval_ns / 1000000000u), (long)(t->interval_ns % 1000000000u) },
		.it_value = { (time_t)(t->value_ns / 1000000000u), (long)(t->value_ns % 1000000000u) },
	};
	uint64_t a;
	long tmp;
	int e;

	e = sd_rst_call(r, SYS_timerfd_create, t->clockid, (long)(d->flags & (O_NONBLOCK | O_CLOEXEC)), 0,
			0, 0, 0, &tmp);
	if (e < 0)
		return e;
	sd_rst_data_reset(r);
	e = sd_rst_data_put(r, &its, sizeof(its), &a);
	if (e == 0)
		e = sd_rst_call(r, SYS_timerfd_settime, tmp, t->settime_flags, (long)a, 0, 0, 0, NULL);
	if (e == 0 && t->ticks) {
		sd_rst_data_reset(r);
		e = sd_rst_data_put(r, &t->ticks, sizeof(t->ticks), &a);
		if (e == 0)
			e = sd_rst_call(r, SYS_ioctl, tmp, (long)TFD_IOC_SET_TICKS, (long)a, 0, 0, 0, NULL);
	}
	if (e < 0) {
		(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
		return e;
	}
	*ret_tmp = tmp;
	return 0;
}

/*
 * A pidfd of the process itself: pidfd_open() of its pid, which is its own
 * again; of another member of its tree, of that member's (every member
 * exists, with its pid, before any has its fds).
 */
int sd_rst_pidfd_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	pid_t pid = d->pidfd_pid ? d->pidfd_pid : r->pid;
	bool member = !d->pidfd_pid;

	for (size_t m = 0; !member && r->tree && m < sd_rst_tree_count(r->tree); m++) {
		const struct rst *o = sd_rst_tree_member(r->tree, m);

		member = o->pid == pid && !o->member->zombie;
	}
	if (!member)
		return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: fd %d is a pidfd of pid %d, which is no process of the image",
			       r->chain.p[0].dir.path, d->fd, pid);
	return sd_rst_call(r, SYS_pidfd_open, pid, (long)(d->flags & O_NONBLOCK), 0, 0, 0, 0, ret_tmp);
}
