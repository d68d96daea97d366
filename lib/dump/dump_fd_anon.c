/* SPDX-License-Identifier: MIT */
/*
 * The fds on anonymous inodes the dump takes: each kind's state, from its
 * fdinfo (formats: proc/proc_anon.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "dump_fd_anon.h"
#include "dump_state.h"
#include "procfs.h"
#include "pstate_anon.h"
#include "util.h"

/* The counter (64 bits) and EFD_SEMAPHORE of an eventfd. */
int sd_dump_eventfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		    struct fd_state *d)
{
	int r = sd_proc_parse_eventfd(p->info, &d->anon);

	(void)done;
	if (r == -ENODATA)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is an eventfd whose EFD_SEMAPHORE flag this kernel's fdinfo does not show, and a restore could not tell",
			       p->pid, p->fd);
	if (r < 0)
		return sd_errx(ctx, -EBADMSG, "cannot read the counter of eventfd %d of pid %d in its fdinfo",
			       p->fd, p->pid);
	return 0;
}

/* The signals a signalfd reads (its mask; SIGKILL and SIGSTOP never in it). */
int sd_dump_signalfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		     struct fd_state *d)
{
	(void)done;
	if (sd_proc_parse_signalfd(p->info, &d->anon) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot read the mask of signalfd %d of pid %d in its fdinfo",
			       p->fd, p->pid);
	return 0;
}

/* The clock a timerfd of @clockid counts on, as clock_gettime() reads it. */
static clockid_t timerfd_clock(int clockid)
{
	if (clockid == CLOCK_REALTIME_ALARM)
		return CLOCK_REALTIME;
	if (clockid == CLOCK_BOOTTIME_ALARM)
		return CLOCK_BOOTTIME;
	return clockid;
}

/*
 * A timerfd: its clock, settime flags, interval, when it fires next and
 * the expirations not read yet.
 *
 * A periodic timer that expired is only moved on to its next expiration
 * (and its missed ones added to ticks) when someone reads it or asks for
 * its time; until then fdinfo shows it_value 0 and one tick, however many
 * intervals have gone by. So timerfd_gettime() first, on a copy of the fd
 * (the same timer; what it does is what the process's next read or
 * timerfd_gettime() would do anyway), then fdinfo: again if it expired in
 * between (timerfd_gettime() said armed, fdinfo 0 left; a timer disarmed
 * with an interval shows 0 left to both). it_value is the time left: for TFD_TIMER_ABSTIME the clock's
 * time is added, so that the timer stays absolute (to the microsecond).
 */
#define TIMERFD_TRIES 16
int sd_dump_timerfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		    struct fd_state *d)
{
	struct timerfd_state *t = &d->anon.tfd;
	char path[PROC_PATH_MAX];
	struct timespec now = { 0 };
	bool armed = false;
	int copy, r = 0;

	(void)done;
	copy = sd_fd_probe_take(ctx, p);
	if (copy < 0)
		return copy;
	(void)sd_proc_path(path, getpid(), "fdinfo/%d", copy);
	for (int i = 0; i < TIMERFD_TRIES; i++) {
		_cleanup_free_ char *info = NULL;
		struct itimerspec its;

		if (timerfd_gettime(copy, &its) < 0) {
			r = sd_err(ctx, -errno, "cannot read the timer of fd %d of pid %d", p->fd, p->pid);
			break;
		}
		r = sd_read_file(AT_FDCWD, path, &info, NULL);
		if (r == 0 && sd_proc_parse_timerfd(info, t) < 0)
			r = -EBADMSG;
		if (r == 0 && clock_gettime(timerfd_clock(t->clockid), &now) < 0)
			r = -errno;
		if (r < 0) {
			r = sd_err(ctx, r, "cannot read the timer of fd %d of pid %d in its fdinfo", p->fd,
				   p->pid);
			break;
		}
		armed = its.it_value.tv_sec || its.it_value.tv_nsec;
		if (t->value_ns || !armed)
			break;
	}
	(void)close(copy);
	if (r < 0)
		return r;
	/* still expired after as many tries: a period too short to catch; it fires at once */
	if (!t->value_ns && armed)
		t->value_ns = 1;
	if ((t->settime_flags & TFD_TIMER_ABSTIME) && t->value_ns)
		t->value_ns += (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	return 0;
}

/* the bits of a watch's events that are no events (fs/eventpoll.c EP_PRIVATE_BITS) */
#define EPOLL_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)

/*
 * An epoll: its watches, from the "tfd:" lines of its fdinfo. Which fd
 * holds each watch's file now is found once the whole table is in
 * (sd_dump_epoll_table).
 */
int sd_dump_epoll(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		  struct fd_state *d)
{
	struct fd_anon_state *a = &d->anon;
	size_t total = 0;
	int r;

	r = sd_proc_parse_epoll(p->info, &a->watches, &a->nwatches);
	if (r == -ENOMEM)
		return sd_err(ctx, r, "cannot read the watches of epoll %d of pid %d", p->fd, p->pid);
	if (r < 0)
		return sd_errx(ctx, -EBADMSG, "cannot read the watches of epoll %d of pid %d in its fdinfo",
			       p->fd, p->pid);
	for (size_t i = 0; i < done->n; i++)
		total += done->fds[i].anon.nwatches;
	if (total + a->nwatches > EPOLL_MAX_WATCHES)
		return sd_refuse(ctx, -E2BIG, "cannot dump pid %d: its epolls watch more than %u fds, more than an image keeps",
			       p->pid, EPOLL_MAX_WATCHES);
	for (size_t i = 0; i < a->nwatches; i++) {
		const struct epoll_watch *w = &a->watches[i];

		/*
		 * An EPOLLONESHOT watch that fired keeps only these bits until
		 * EPOLL_CTL_MOD arms it again; epoll_ctl() always adds EPOLLERR
		 * and EPOLLHUP, so no restore could make it so.
		 */
		if (!(w->events & ~(uint32_t)EPOLL_PRIVATE_BITS))
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: fd %d is an epoll whose EPOLLONESHOT watch of fd %d has fired and is not armed again, which a restore cannot make; dump it once the process has armed it again (EPOLL_CTL_MOD)",
				       p->pid, p->fd, w->tfd);
	}
	return 0;
}

/* Whether fd @fd of pid @pid holds the file of the @toff-th watch of fd number @tfd of epoll @efd. */
static long kcmp_tfd(pid_t pid, int fd, int efd, int tfd, int toff)
{
	struct kcmp_epoll_slot slot = { .efd = (__u32)efd, .tfd = (__u32)tfd, .toff = (__u32)toff };

	return syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, fd, &slot);
}

/* The fd of @fs holding the file of watch @k of epoll @e (kcmp), -ENOENT if none, -errno. */
static int watch_holder(pid_t pid, const struct files_state *fs, const struct fd_state *e, size_t k)
{
	const struct epoll_watch *w = &e->anon.watches[k];
	int toff = 0;
	long c;

	/* the watches of one fd number are told apart by their order among them */
	for (size_t i = 0; i < k; i++)
		toff += e->anon.watches[i].tfd == w->tfd;
	for (size_t i = 0; i < fs->n; i++) {
		if (fs->fds[i].fd != w->tfd)
			continue;
		c = kcmp_tfd(pid, w->tfd, e->fd, w->tfd, toff);
		if (c < 0)
			return -errno;
		if (c == 0)
			return w->tfd;
	}
	for (size_t i = 0; i < fs->n; i++) {
		if (fs->fds[i].fd == w->tfd)
			continue;
		c = kcmp_tfd(pid, fs->fds[i].fd, e->fd, w->tfd, toff);
		if (c < 0)
			return -errno;
		if (c == 0)
			return fs->fds[i].fd;
	}
	return -ENOENT;
}

int sd_dump_epoll_table(struct sdump_ctx *ctx, pid_t pid, struct files_state *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		struct fd_state *e = &fs->fds[i];

		for (size_t k = 0; e->kind == FDK_EPOLL && k < e->anon.nwatches; k++) {
			struct epoll_watch *w = &e->anon.watches[k];
			int fd = watch_holder(pid, fs, e, k);

			if (fd == -ENOSYS)
				return sd_refuse(ctx, -EOPNOTSUPP,
					       "cannot dump pid %d: fd %d is an epoll, and this kernel has no kcmp() (CONFIG_KCMP) to tell which fds its watches are",
					       pid, e->fd);
			if (fd == -ENOENT)
				return sd_refuse(ctx, -EOPNOTSUPP,
					       "cannot dump pid %d: fd %d is an epoll watching a file that none of its fds holds now (it was fd %d when added), which a restore could not watch again",
					       pid, e->fd, w->tfd);
			if (fd < 0)
				return sd_err(ctx, fd, "cannot compare the watches of epoll %d of pid %d (kcmp)",
					      e->fd, pid);
			/* a watch added as the epoll's own number now: the restore could not move it there */
			if (fd != w->tfd && w->tfd == e->fd)
				return sd_refuse(ctx, -EOPNOTSUPP,
					       "cannot dump pid %d: fd %d is an epoll with a watch added as fd %d, its own number now, which a restore could not give it again",
					       pid, e->fd, w->tfd);
			w->fd = fd;
		}
	}
	return 0;
}

/*
 * A pidfd: one of the process itself comes back (pidfd_open() of its own
 * pid, which the restore gives it again), one of a member of its tree, and
 * one of a process that has exited (fdinfo's Pid -1: any exited process
 * is the same to it); one of a thread of it (PIDFD_THREAD) or of another
 * living process is refused.
 */
int sd_dump_pidfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		  struct fd_state *d)
{
	int pid;

	(void)done;
	if (sd_proc_parse_pidfd(p->info, &pid) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot read the process of pidfd %d of pid %d in its fdinfo",
			       p->fd, p->pid);
	if (pid == p->pid && !(d->flags & O_EXCL))
		return 0;
	/* of another member of its tree: the restore opens it on that member again */
	for (size_t k = 0; pid > 0 && !(d->flags & O_EXCL) && p->tree && k < p->tree->nmembers; k++)
		if (p->tree->members[k] == pid) {
			d->pidfd_pid = pid;
			return 0;
		}
	/* of one that has exited: the restore makes one of a process of its own that exits */
	if (pid == -1) {
		d->pidfd_pid = -1;
		return 0;
	}
	return sd_refuse(ctx, -EOPNOTSUPP,
		       "cannot dump pid %d: fd %d is a pidfd of %s %d; only a pidfd of the process itself or of a member of its tree is restored",
		       p->pid, p->fd, pid == p->pid || (d->flags & O_EXCL) ? "its thread" : "process", pid);
}
