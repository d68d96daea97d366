/* SPDX-License-Identifier: MIT */
/* What sdump show prints of an anonymous-inode fd's own state (eventfd, ...). */
#include <inttypes.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>

#include "infofmt.h"
#include "pstate.h"

static void timerfd_text(FILE *out, const struct timerfd_state *t)
{
	static const char *const clocks[] = {
		[CLOCK_REALTIME] = "CLOCK_REALTIME", [CLOCK_MONOTONIC] = "CLOCK_MONOTONIC",
		[CLOCK_BOOTTIME] = "CLOCK_BOOTTIME", [CLOCK_REALTIME_ALARM] = "CLOCK_REALTIME_ALARM",
		[CLOCK_BOOTTIME_ALARM] = "CLOCK_BOOTTIME_ALARM",
	};
	const char *c = (unsigned int)t->clockid < sizeof(clocks) / sizeof(clocks[0]) ? clocks[t->clockid] : NULL;

	fprintf(out, "             %s", c ? c : "clock ?");
	if (!t->value_ns)
		fprintf(out, ", disarmed");
	else if (t->settime_flags & TFD_TIMER_ABSTIME)
		fprintf(out, ", at %" PRIu64 ".%09" PRIu64 " s%s", t->value_ns / 1000000000u,
			t->value_ns % 1000000000u,
			(t->settime_flags & TFD_TIMER_CANCEL_ON_SET) ? " (cancelled if the clock is set)" : "");
	else
		fprintf(out, ", in %" PRIu64 ".%09" PRIu64 " s", t->value_ns / 1000000000u,
			t->value_ns % 1000000000u);
	if (t->interval_ns)
		fprintf(out, ", every %" PRIu64 ".%09" PRIu64 " s", t->interval_ns / 1000000000u,
			t->interval_ns % 1000000000u);
	fprintf(out, ", %" PRIu64 " expiration%s not read\n", t->ticks, t->ticks == 1 ? "" : "s");
}

void sd_anon_text(FILE *out, const struct fd_state *d)
{
	const struct fd_anon_state *a = &d->anon;

	switch (d->kind) {
	case FDK_EVENTFD:
		fprintf(out, "             counter %" PRIu64 "%s\n", a->efd_count,
			a->efd_semaphore ? ", EFD_SEMAPHORE" : "");
		break;
	case FDK_SIGNALFD:
		fprintf(out, "             signals %#" PRIx64 " (bit sig - 1)\n", a->sigmask);
		break;
	case FDK_TIMERFD:
		timerfd_text(out, &a->tfd);
		break;
	case FDK_EPOLL:
		for (size_t k = 0; k < a->nwatches; k++) {
			const struct epoll_watch *w = &a->watches[k];

			fprintf(out, "             watches fd %d", w->tfd);
			if (w->fd != w->tfd)
				fprintf(out, " (its file at fd %d now)", w->fd);
			fprintf(out, ", events %#x, data %#" PRIx64 "\n", w->events, w->data);
		}
		break;
	case FDK_FANOTIFY:
		fprintf(out, "             fanotify_init flags %#x, event flags %#x\n", a->fan_flags, a->fan_event_flags);
		for (size_t k = 0; k < a->nfanotify; k++) {
			static const char *const types[] = { "inode", "mount", "file system" };
			const struct fanotify_mark_state *m = &a->fanotify[k];
			char v[VIS_MAX];

			fprintf(out, "             marks %s %s, mask %#" PRIx64 ", ignored %#" PRIx64 ", flags %#x\n",
				types[m->type], sd_vis(v, sizeof(v), m->obj.path), m->mask, m->ignored_mask, m->mflags);
		}
		break;
	case FDK_INOTIFY:
		for (size_t k = 0; k < a->ninotify; k++) {
			char v[VIS_MAX];

			fprintf(out, "             watch %d on %s (inode %u:%u:%" PRIu64 "), mask %#x\n",
				a->inotify[k].wd, sd_vis(v, sizeof(v), a->inotify[k].path),
				(unsigned int)(a->inotify[k].dev >> 32), (unsigned int)a->inotify[k].dev,
				a->inotify[k].ino, a->inotify[k].mask);
		}
		break;
	default:
		break;
	}
}

void sd_anon_json(FILE *out, const struct fd_state *d)
{
	const struct fd_anon_state *a = &d->anon;

	fprintf(out, ",\"anon\":");
	switch (d->kind) {
	case FDK_EVENTFD:
		fprintf(out, "{\"count\":%" PRIu64 ",\"semaphore\":%s}", a->efd_count,
			a->efd_semaphore ? "true" : "false");
		break;
	case FDK_SIGNALFD:
		fprintf(out, "{\"sigmask\":%" PRIu64 "}", a->sigmask);
		break;
	case FDK_TIMERFD:
		fprintf(out, "{\"clockid\":%d,\"settime_flags\":%u,\"ticks\":%" PRIu64 ",\"value_ns\":%" PRIu64
			",\"interval_ns\":%" PRIu64 "}", a->tfd.clockid, a->tfd.settime_flags, a->tfd.ticks,
			a->tfd.value_ns, a->tfd.interval_ns);
		break;
	case FDK_EPOLL:
		fprintf(out, "{\"watches\":[");
		for (size_t k = 0; k < a->nwatches; k++)
			fprintf(out, "%s{\"tfd\":%d,\"fd\":%d,\"events\":%u,\"data\":%" PRIu64 "}", k ? "," : "",
				a->watches[k].tfd, a->watches[k].fd, a->watches[k].events, a->watches[k].data);
		fprintf(out, "]}");
		break;
	case FDK_FANOTIFY:
		fprintf(out, "{\"flags\":%u,\"event_flags\":%u,\"marks\":[", a->fan_flags, a->fan_event_flags);
		for (size_t k = 0; k < a->nfanotify; k++) {
			const struct fanotify_mark_state *m = &a->fanotify[k];

			fprintf(out, "%s{\"type\":%d,\"mflags\":%u,\"mask\":%" PRIu64 ",\"ignored_mask\":%" PRIu64
				",\"path\":", k ? "," : "", (int)m->type, m->mflags, m->mask, m->ignored_mask);
			sd_json_str(out, m->obj.path);
			fprintf(out, "}");
		}
		fprintf(out, "]}");
		break;
	case FDK_INOTIFY:
		fprintf(out, "{\"watches\":[");
		for (size_t k = 0; k < a->ninotify; k++) {
			fprintf(out, "%s{\"wd\":%d,\"mask\":%u,\"path\":", k ? "," : "", a->inotify[k].wd,
				a->inotify[k].mask);
			sd_json_str(out, a->inotify[k].path);
			fprintf(out, ",\"ino\":%" PRIu64 "}", a->inotify[k].ino);
		}
		fprintf(out, "]}");
		break;
	default:
		fprintf(out, "null");
		break;
	}
}
