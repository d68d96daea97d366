/* SPDX-License-Identifier: MIT */
/* The anonymous-inode fds' own fields of files.img, to and from struct fd_anon_state. */
#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>

#include "anon_img.h"

int sd_anonimg_to_pb(const struct fd_state *d, Fd *out)
{
	const struct fd_anon_state *a = &d->anon;

	switch (d->kind) {
	case FDK_EVENTFD:
		out->has_eventfd_count = out->has_eventfd_semaphore = true;
		out->eventfd_count = a->efd_count;
		out->eventfd_semaphore = a->efd_semaphore;
		break;
	case FDK_SIGNALFD:
		out->has_signalfd_mask = true;
		out->signalfd_mask = a->sigmask;
		break;
	case FDK_TIMERFD:
		out->has_timerfd_clockid = out->has_timerfd_flags = out->has_timerfd_ticks = true;
		out->has_timerfd_value_ns = out->has_timerfd_interval_ns = true;
		out->timerfd_clockid = a->tfd.clockid;
		out->timerfd_flags = a->tfd.settime_flags;
		out->timerfd_ticks = a->tfd.ticks;
		out->timerfd_value_ns = a->tfd.value_ns;
		out->timerfd_interval_ns = a->tfd.interval_ns;
		break;
	default:
		break;
	}
	return 0;
}

void sd_anonimg_free(Fd *out)
{
	(void)out;
}

int sd_anonimg_from_pb(const Fd *in, struct fd_state *d)
{
	struct fd_anon_state *a = &d->anon;
	bool efd = d->kind == FDK_EVENTFD, tfd = d->kind == FDK_TIMERFD;

	/* each kind's fields on its fds only, and all of them */
	if ((efd ? 2 : 0) != in->has_eventfd_count + in->has_eventfd_semaphore)
		return -EBADMSG;
	if (efd) {
		if (in->eventfd_count > EVENTFD_COUNT_MAX)
			return -EBADMSG;
		a->efd_count = in->eventfd_count;
		a->efd_semaphore = in->eventfd_semaphore;
	}
	if ((d->kind == FDK_SIGNALFD) != in->has_signalfd_mask)
		return -EBADMSG;
	a->sigmask = in->signalfd_mask;
	if ((tfd ? 5 : 0) != in->has_timerfd_clockid + in->has_timerfd_flags + in->has_timerfd_ticks +
				     in->has_timerfd_value_ns + in->has_timerfd_interval_ns)
		return -EBADMSG;
	if (tfd) {
		/* the clocks timerfd_create() takes, the flags timerfd_settime() does */
		switch (in->timerfd_clockid) {
		case CLOCK_REALTIME:
		case CLOCK_MONOTONIC:
		case CLOCK_BOOTTIME:
		case CLOCK_REALTIME_ALARM:
		case CLOCK_BOOTTIME_ALARM:
			break;
		default:
			return -EBADMSG;
		}
		if (in->timerfd_flags & ~(uint32_t)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
			return -EBADMSG;
		a->tfd = (struct timerfd_state){ .clockid = in->timerfd_clockid,
						 .settime_flags = in->timerfd_flags,
						 .ticks = in->timerfd_ticks,
						 .value_ns = in->timerfd_value_ns,
						 .interval_ns = in->timerfd_interval_ns };
	}
	return 0;
}
