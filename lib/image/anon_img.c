/* SPDX-License-Identifier: MIT */
/* The anonymous-inode fds' own fields of files.img, to and from struct fd_anon_state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>

#include "anon_img.h"

/* the bits of a watch's events that are no events (fs/eventpoll.c EP_PRIVATE_BITS) */
#define EPOLL_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)

int sd_anonimg_to_pb(const struct fd_state *d, Fd *out)
{
	const struct fd_anon_state *a = &d->anon;
	FanotifyMark *fm;
	InotifyWatch *iw;
	EpollWatch *w;

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
	case FDK_EPOLL:
		if (!a->nwatches)
			break;
		w = calloc(a->nwatches, sizeof(*w));
		out->epoll_watches = calloc(a->nwatches, sizeof(*out->epoll_watches));
		if (!w || !out->epoll_watches) {
			free(w);
			return -ENOMEM;
		}
		for (size_t i = 0; i < a->nwatches; i++) {
			epoll_watch__init(&w[i]);
			w[i].tfd = a->watches[i].tfd;
			w[i].events = a->watches[i].events;
			w[i].data = a->watches[i].data;
			w[i].fd = a->watches[i].fd;
			out->epoll_watches[i] = &w[i];
		}
		out->n_epoll_watches = a->nwatches;
		break;
	case FDK_INOTIFY:
		if (!a->ninotify)
			break;
		iw = calloc(a->ninotify, sizeof(*iw));
		out->inotify_watches = calloc(a->ninotify, sizeof(*out->inotify_watches));
		if (!iw || !out->inotify_watches) {
			free(iw);
			return -ENOMEM;
		}
		for (size_t i = 0; i < a->ninotify; i++) {
			inotify_watch__init(&iw[i]);
			iw[i].wd = a->inotify[i].wd;
			iw[i].mask = a->inotify[i].mask;
			iw[i].dev = a->inotify[i].dev;
			iw[i].ino = a->inotify[i].ino;
			iw[i].path = a->inotify[i].path;
			out->inotify_watches[i] = &iw[i];
		}
		out->n_inotify_watches = a->ninotify;
		break;
	case FDK_FANOTIFY:
		out->has_fanotify_flags = out->has_fanotify_event_flags = true;
		out->fanotify_flags = a->fan_flags;
		out->fanotify_event_flags = a->fan_event_flags;
		if (!a->nfanotify)
			break;
		fm = calloc(a->nfanotify, sizeof(*fm));
		out->fanotify_marks = calloc(a->nfanotify, sizeof(*out->fanotify_marks));
		if (!fm || !out->fanotify_marks) {
			free(fm);
			return -ENOMEM;
		}
		for (size_t i = 0; i < a->nfanotify; i++) {
			const struct fanotify_mark_state *m = &a->fanotify[i];

			fanotify_mark__init(&fm[i]);
			fm[i].type = (FanotifyMarkType)m->type;
			fm[i].mflags = m->mflags;
			fm[i].mask = m->mask;
			fm[i].ignored_mask = m->ignored_mask;
			fm[i].dev = m->obj.dev;
			fm[i].has_ino = m->type == FANM_INODE;
			fm[i].ino = m->obj.ino;
			fm[i].has_mnt_id = m->type == FANM_MOUNT;
			fm[i].mnt_id = m->mnt_id;
			fm[i].path = m->obj.path;
			out->fanotify_marks[i] = &fm[i];
		}
		out->n_fanotify_marks = a->nfanotify;
		break;
	default:
		break;
	}
	return 0;
}

void sd_anonimg_free(Fd *out)
{
	/* the watches were allocated as one array, the first points at it */
	if (out->n_epoll_watches)
		free(out->epoll_watches[0]);
	free(out->epoll_watches);
	out->epoll_watches = NULL;
	out->n_epoll_watches = 0;
	if (out->n_inotify_watches)
		free(out->inotify_watches[0]);
	free(out->inotify_watches);
	out->inotify_watches = NULL;
	out->n_inotify_watches = 0;
	if (out->n_fanotify_marks)
		free(out->fanotify_marks[0]);
	free(out->fanotify_marks);
	out->fanotify_marks = NULL;
	out->n_fanotify_marks = 0;
}

int sd_anonimg_from_pb(const Fd *in, struct fd_state *d)
{
	struct fd_anon_state *a = &d->anon;
	bool efd = d->kind == FDK_EVENTFD, tfd = d->kind == FDK_TIMERFD, ep = d->kind == FDK_EPOLL;
	bool in_ = d->kind == FDK_INOTIFY, fan = d->kind == FDK_FANOTIFY;

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
	if (!ep && in->n_epoll_watches)
		return -EBADMSG;
	if (in->n_epoll_watches > EPOLL_MAX_WATCHES)
		return -EBADMSG;
	if (in->n_epoll_watches) {
		a->watches = calloc(in->n_epoll_watches, sizeof(*a->watches));
		if (!a->watches)
			return -ENOMEM;
	}
	for (size_t i = 0; i < in->n_epoll_watches; i++) {
		const EpollWatch *w = in->epoll_watches[i];

		/* a watch of no events at all is one a dump refuses (a fired EPOLLONESHOT) */
		if (w->tfd < 0 || w->fd < 0 || !(w->events & ~(uint32_t)EPOLL_PRIVATE_BITS))
			return -EBADMSG;
		a->watches[a->nwatches++] = (struct epoll_watch){ .tfd = w->tfd, .events = w->events,
								  .data = w->data, .fd = w->fd };
	}
	if ((!in_ && in->n_inotify_watches) || in->n_inotify_watches > INOTIFY_MAX_WATCHES)
		return -EBADMSG;
	if (in->n_inotify_watches) {
		a->inotify = calloc(in->n_inotify_watches, sizeof(*a->inotify));
		if (!a->inotify)
			return -ENOMEM;
	}
	for (size_t i = 0; i < in->n_inotify_watches; i++) {
		const InotifyWatch *w = in->inotify_watches[i];

		/* increasing watch descriptors, as a restore gives them back; absolute paths */
		if (w->wd < 1 || w->wd > INOTIFY_MAX_WD || (i && w->wd <= in->inotify_watches[i - 1]->wd) ||
		    !w->path || w->path[0] != '/')
			return -EBADMSG;
		a->inotify[i] = (struct inotify_watch){ .wd = w->wd, .mask = w->mask, .dev = w->dev,
							.ino = w->ino, .path = strdup(w->path) };
		if (!a->inotify[i].path)
			return -ENOMEM;
		a->ninotify++;
	}
	if ((fan ? 2 : 0) != in->has_fanotify_flags + in->has_fanotify_event_flags ||
	    (!fan && in->n_fanotify_marks) || in->n_fanotify_marks > FANOTIFY_MAX_MARKS)
		return -EBADMSG;
	a->fan_flags = in->fanotify_flags;
	a->fan_event_flags = in->fanotify_event_flags;
	if (in->n_fanotify_marks) {
		a->fanotify = calloc(in->n_fanotify_marks, sizeof(*a->fanotify));
		if (!a->fanotify)
			return -ENOMEM;
	}
	for (size_t i = 0; i < in->n_fanotify_marks; i++) {
		const FanotifyMark *m = in->fanotify_marks[i];
		struct fanotify_mark_state *s = &a->fanotify[i];

		/* an inode's with its number, a mount's with its id; absolute paths */
		if ((int)m->type < FANM_INODE || (int)m->type > FANM_FS ||
		    m->has_ino != (m->type == FANOTIFY_MARK_TYPE__FANOTIFY_INODE) ||
		    m->has_mnt_id != (m->type == FANOTIFY_MARK_TYPE__FANOTIFY_MOUNT) ||
		    (m->has_mnt_id && m->mnt_id < 0) || !m->path || m->path[0] != '/')
			return -EBADMSG;
		*s = (struct fanotify_mark_state){ .type = (enum fanotify_mark_type)m->type, .mflags = m->mflags,
						   .mask = m->mask, .ignored_mask = m->ignored_mask,
						   .mnt_id = m->has_mnt_id ? m->mnt_id : -1 };
		s->obj.dev = m->dev;
		s->obj.ino = m->ino;
		s->obj.path = strdup(m->path);
		if (!s->obj.path)
			return -ENOMEM;
		a->nfanotify++;
	}
	return 0;
}

int sd_anonimg_check_table(const struct files_state *fs)
{
	size_t total = 0, inotify = 0, fanotify = 0;

	for (size_t i = 0; i < fs->n; i++) {
		const struct fd_anon_state *a = &fs->fds[i].anon;

		total += a->nwatches;
		inotify += a->ninotify;
		fanotify += a->nfanotify;
		for (size_t k = 0; k < a->nwatches; k++) {
			size_t lo = 0, hi = fs->n;

			/* the table is sorted by fd (state_img.c checks it) */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (fs->fds[mid].fd < a->watches[k].fd)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo == fs->n || fs->fds[lo].fd != a->watches[k].fd || lo == i)
				return -EBADMSG;
		}
	}
	return total > EPOLL_MAX_WATCHES || inotify > INOTIFY_MAX_WATCHES || fanotify > FANOTIFY_MAX_MARKS ?
		       -EBADMSG : 0;
}
