/* SPDX-License-Identifier: MIT */
/*
 * A target that owns fds on anonymous inodes, each kind with state a
 * restore must give back. Driven over stdin/stdout one line at a time:
 *
 *   facts  -> one line, a JSON object: "pid", "fds" (role -> number)
 *   check  -> each kind's state checked from inside, as the process sees
 *             it: "ok", or "bad: " and what differs (it consumes what it
 *             reads: once, after a restore)
 *   exit   -> exits 0
 *
 * --kinds LIST (comma-separated; default all) sets up, before it prints
 * "ready PID":
 *   eventfd: "efd" eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) holding
 *     0x123456789abcdef (more than eventfd2() takes), "efd_dup" a dup of
 *     it (F_DUPFD_CLOEXEC above 40), "efd_sem" eventfd(3, EFD_SEMAPHORE)
 *     holding 5; check: a read of efd gives the whole count, and the
 *     next EAGAIN; efd_sem reads 1, four times, then its count is 0 (its
 *     fdinfo); a write through efd_dup is read through efd.
 *   signalfd: SIGUSR1, SIGUSR2 and SIGRTMIN+1 blocked; "sfd"
 *     signalfd(SIGUSR1, SIGRTMIN+1, SFD_NONBLOCK | SFD_CLOEXEC), "sfd2"
 *     signalfd(SIGUSR2) blocking; SIGRTMIN+1 queued with value 42, pending
 *     at the dump; check: sfd reads SIGRTMIN+1 and 42, then EAGAIN; after
 *     kill(SIGUSR2) still EAGAIN, and sfd2 reads SIGUSR2; after
 *     kill(SIGUSR1) sfd reads SIGUSR1.
 *   timerfd: "tfd_rel" CLOCK_MONOTONIC, TFD_NONBLOCK, once in 1000 s;
 *     "tfd_abs" CLOCK_REALTIME, close-on-exec, TFD_TIMER_ABSTIME |
 *     TFD_TIMER_CANCEL_ON_SET at now + 500 s, then every 7 s; "tfd_per"
 *     CLOCK_MONOTONIC, TFD_NONBLOCK, every 50 ms, never read (its
 *     expirations pile up); "tfd_ticks" CLOCK_MONOTONIC, once in 1 ms,
 *     expired, then 5 expirations set with TFD_IOC_SET_TICKS; "tfd_boot"
 *     CLOCK_BOOTTIME, disarmed with an interval of 3 s. Command "mark"
 *     (say "ok" just before the dump) notes the time; check: tfd_rel has
 *     1000 s left less the time from its setting to the mark (and since
 *     the restore), tfd_abs fires at the very
 *     time it was set to (to 20 ms) every 7 s, tfd_per reads at least the
 *     expirations due up to the mark and then one every 50 ms (over a
 *     second, to one), tfd_ticks reads 5, tfd_boot is disarmed with its
 *     interval.
 *   epoll: "ep" epoll_create1(EPOLL_CLOEXEC) watching: "ep_pipe_r", a
 *     pipe's read end holding a byte (EPOLLIN, data 0x1111: ready);
 *     "ep_efd" an eventfd at 0 (EPOLLIN | EPOLLET, 0x2222); "ep_tfd" a
 *     timerfd every 100 ms (EPOLLIN, 0x3333); "ep_once" an eventfd at 0
 *     (EPOLLIN | EPOLLONESHOT, armed, 0x4444); "ep_excl" an eventfd at 0
 *     (EPOLLIN | EPOLLEXCLUSIVE, 0x5555); "ep_moved" another pipe's read
 *     end, added as fd "ep_moved_was" (0x6666), then moved there by dup()
 *     and its first number given to /dev/null; "ep2" an epoll watching
 *     ep (EPOLLIN, 0x7777). check: ep reports the pipe at once; each
 *     eventfd once written; the one-shot one once only; the timer within
 *     300 ms; the moved pipe once written to; ep2 reports ep.
 *   inotify (files in DIR, --dir DIR, named ev-PID.*): "in"
 *     inotify_init1(IN_NONBLOCK | IN_CLOEXEC) watching the directory
 *     ev-PID.d (IN_CREATE | IN_DELETE, wd 1), the file ev-PID.f
 *     (IN_MODIFY | IN_ONESHOT, wd 4: wd 2 was removed, 3 is /), and the
 *     symbolic link ev-PID.l itself (IN_DONT_FOLLOW, IN_ATTRIB |
 *     IN_EXCL_UNLINK, wd 5); "in2" a blocking inotify watching ev-PID.d
 *     (IN_ALL_EVENTS). check: the watch descriptors, then a write to
 *     ev-PID.f is reported on wd 4 (once: IN_ONESHOT, then IN_IGNORED), a
 *     file made in ev-PID.d on wd 1 with its name, and to in2; a new
 *     watch gets a descriptor above 5.
 *   pidfd: "pidfd" pidfd_open(getpid(), PIDFD_NONBLOCK); check: its
 *     fdinfo names this process, it does not poll readable (the process
 *     lives), pidfd_send_signal(0) through it works.
 *   fanotify (files in DIR): "fan" fanotify_init(FAN_CLASS_NOTIF |
 *     FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE, O_RDONLY |
 *     O_CLOEXEC) marking the file ev-PID.g (FAN_CLOSE_WRITE), the file
 *     ev-PID.h with an ignored mask only (FAN_MODIFY,
 *     FAN_MARK_IGNORED_SURV_MODIFY), the mount of DIR and the file system
 *     of /proc with ignored masks only (the same; no events come of
 *     them); --with fanotify_cleared: one more mark, of a file ev-PID.i
 *     opened, whose ignored mask a modification cleared, then removed;
 *     check: a
 *     write to ev-PID.g, closed, is reported with an fd of that file.
 *   --with disarmed: ep_once has fired (a dump must refuse it).
 *   --with queued: "in" holds an event not read (a dump must refuse it).
 *   --with KIND, "with" the fd of one more kind a dump refuses: io_uring,
 *     userfaultfd, perf_event (a software clock counter), bpf_map (an
 *     array), fanotify_perm (a FAN_CLASS_CONTENT group), pidfd_parent (a
 *     pidfd of the parent); "with" is
 *     -1 where this kernel or its settings will not make one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/syscall.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

enum {
	EFD, EFD_DUP, EFD_SEM, SFD, SFD2, TFD_REL, TFD_ABS, TFD_PER, TFD_TICKS, TFD_BOOT,
	EP, EP_PIPE_R, EP_PIPE_W, EP_EFD, EP_TFD, EP_ONCE, EP_EXCL, EP_MOVED, EP_MOVED_W, EP_MOVED_WAS, EP2,
	IN, IN2, PIDFD, FAN, NROLES
};
static const char *const role[NROLES] = {
	"efd", "efd_dup", "efd_sem", "sfd", "sfd2", "tfd_rel", "tfd_abs", "tfd_per", "tfd_ticks", "tfd_boot",
	"ep", "ep_pipe_r", "ep_pipe_w", "ep_efd", "ep_tfd", "ep_once", "ep_excl", "ep_moved", "ep_moved_w",
	"ep_moved_was", "ep2", "in", "in2", "pidfd", "fan",
};
static int fds[NROLES];
static bool want_eventfd, want_signalfd, want_timerfd, want_epoll, want_inotify, want_pidfd, want_fanotify;
static bool disarmed, queued;
static char dir[4096] = "/tmp", in_dir[4200], in_file[4200], in_link[4200], fan_g[4200], fan_h[4200];
static const char *with = "";
static int with_fd = -1;

/* One more fd, of a kind a dump refuses (-1 where the kernel will not make it). */
static void setup_with(void)
{
	if (!strcmp(with, "io_uring")) {
		unsigned char params[120] = { 0 }; /* struct io_uring_params */

		with_fd = (int)syscall(425 /* io_uring_setup */, 4, params);
	} else if (!strcmp(with, "userfaultfd")) {
		with_fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	} else if (!strcmp(with, "perf_event")) {
		struct perf_event_attr a = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(a),
					     .config = PERF_COUNT_SW_TASK_CLOCK, .disabled = 1 };

		with_fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	} else if (!strcmp(with, "bpf_map")) {
		union bpf_attr a = { .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8,
				     .max_entries = 1 };

		with_fd = (int)syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	} else if (!strcmp(with, "fanotify_perm")) {
		with_fd = fanotify_init(FAN_CLASS_CONTENT, O_RDONLY);
	} else if (!strcmp(with, "pidfd_parent")) {
		with_fd = (int)syscall(SYS_pidfd_open, getppid(), 0);
	} else if (with[0] && strcmp(with, "fanotify_cleared")) {
		fprintf(stderr, "evtarget: unknown --with '%s'\n", with);
		exit(2);
	}
}
static int64_t tfd_abs_at, tfd_per_start, mark_at;

#define EFD_VALUE 0x123456789abcdefull

static void die(const char *what)
{
	fprintf(stderr, "evtarget: %s: %s\n", what, strerror(errno));
	exit(2);
}

static char bad[512];

static bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail(const char *fmt, ...)
{
	va_list ap;

	if (bad[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(bad, sizeof(bad), fmt, ap);
	va_end(ap);
	return false;
}

/* the value of "KEY" in /proc/self/fdinfo/FD, as text ("" if none) */
static void fdinfo_field(int fd, const char *key, char *out, size_t size)
{
	char path[64], buf[8192], *p;
	ssize_t n;
	int f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = strstr(buf, key);
	if (p)
		snprintf(out, size, "%.*s", (int)strcspn(p + strlen(key), "\n"), p + strlen(key));
}

static void setup_eventfd(void)
{
	uint64_t v = EFD_VALUE;

	fds[EFD] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fds[EFD_SEM] = eventfd(3, EFD_SEMAPHORE);
	if (fds[EFD] < 0 || fds[EFD_SEM] < 0)
		die("eventfd");
	fds[EFD_DUP] = fcntl(fds[EFD], F_DUPFD_CLOEXEC, 40);
	if (fds[EFD_DUP] < 0 || write(fds[EFD], &v, 8) != 8)
		die("eventfd write");
	v = 2;
	if (write(fds[EFD_SEM], &v, 8) != 8)
		die("eventfd write");
}

static bool check_eventfd(void)
{
	uint64_t v = 0;
	char c[64];

	if (read(fds[EFD], &v, 8) != 8 || v != EFD_VALUE)
		return fail("efd read %#" PRIx64 ", expected %#llx", v, EFD_VALUE);
	if (read(fds[EFD], &v, 8) >= 0 || errno != EAGAIN)
		return fail("efd: a second read did not say EAGAIN: %s", strerror(errno));
	for (int i = 0; i < 4; i++)
		if (read(fds[EFD_SEM], &v, 8) != 8 || v != 1)
			return fail("efd_sem read %d: %" PRIu64 ", expected 1", i, v);
	fdinfo_field(fds[EFD_SEM], "eventfd-count:", c, sizeof(c));
	if (strtoull(c, NULL, 16) != 1)
		return fail("efd_sem: count '%s' after four reads, expected 1", c);
	if (read(fds[EFD_SEM], &v, 8) != 8 || v != 1)
		return fail("efd_sem: the fifth read gave %" PRIu64, v);
	v = 77;
	if (write(fds[EFD_DUP], &v, 8) != 8 || read(fds[EFD], &v, 8) != 8 || v != 77)
		return fail("efd_dup is not the same eventfd as efd");
	return true;
}

static void setup_signalfd(void)
{
	union sigval v = { .sival_int = 42 };
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	sigaddset(&s, SIGRTMIN + 1);
	if (sigprocmask(SIG_BLOCK, &s, NULL) < 0)
		die("sigprocmask");
	sigdelset(&s, SIGUSR2);
	fds[SFD] = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	fds[SFD2] = signalfd(-1, &s, 0);
	if (fds[SFD] < 0 || fds[SFD2] < 0)
		die("signalfd");
	if (sigqueue(getpid(), SIGRTMIN + 1, v) < 0)
		die("sigqueue");
}

static bool check_signalfd(void)
{
	struct signalfd_siginfo si;

	if (read(fds[SFD], &si, sizeof(si)) != sizeof(si) || (int)si.ssi_signo != SIGRTMIN + 1 ||
	    si.ssi_int != 42)
		return fail("sfd did not read the pending SIGRTMIN+1 with 42 (%s)", strerror(errno));
	if (read(fds[SFD], &si, sizeof(si)) >= 0 || errno != EAGAIN)
		return fail("sfd: a second read did not say EAGAIN");
	kill(getpid(), SIGUSR2);
	if (read(fds[SFD], &si, sizeof(si)) >= 0 || errno != EAGAIN)
		return fail("sfd read SIGUSR2, not in its mask");
	if (read(fds[SFD2], &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR2)
		return fail("sfd2 did not read SIGUSR2");
	kill(getpid(), SIGUSR1);
	if (read(fds[SFD], &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR1)
		return fail("sfd did not read SIGUSR1");
	return true;
}

static int64_t now_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int xtimerfd(clockid_t c, int flags, int sflags, int64_t value, int64_t interval)
{
	struct itimerspec its = { { interval / 1000000000, interval % 1000000000 },
				  { value / 1000000000, value % 1000000000 } };
	int fd = timerfd_create(c, flags);

	if (fd < 0 || timerfd_settime(fd, sflags, &its, NULL) < 0)
		die("timerfd");
	return fd;
}

static void setup_timerfd(void)
{
	struct pollfd p;
	uint64_t five = 5;

	fds[TFD_REL] = xtimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK, 0, 1000000000000ll, 0);
	tfd_abs_at = now_ns(CLOCK_REALTIME) + 500000000000ll;
	fds[TFD_ABS] = xtimerfd(CLOCK_REALTIME, TFD_CLOEXEC, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
				tfd_abs_at, 7000000000ll);
	tfd_per_start = now_ns(CLOCK_MONOTONIC);
	fds[TFD_PER] = xtimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK, 0, 50000000, 50000000);
	fds[TFD_TICKS] = xtimerfd(CLOCK_MONOTONIC, 0, 0, 1000000, 0);
	p = (struct pollfd){ .fd = fds[TFD_TICKS], .events = POLLIN };
	if (poll(&p, 1, 10000) != 1 || ioctl(fds[TFD_TICKS], TFD_IOC_SET_TICKS, &five) < 0)
		die("TFD_IOC_SET_TICKS");
	fds[TFD_BOOT] = xtimerfd(CLOCK_BOOTTIME, 0, 0, 0, 3000000000ll);
}

static bool check_timerfd(void)
{
	struct itimerspec its;
	int64_t left = 0, t0, t1, n = 0;
	uint64_t v = 0;
	struct pollfd p;

	/*
	 * it ran from its setting to the mark (just before the dump) and since
	 * the restore: less than 1000 s less the first, more than 1000 s less
	 * all the time since it was set
	 */
	t0 = (mark_at ? mark_at : tfd_per_start) - tfd_per_start;
	t1 = now_ns(CLOCK_MONOTONIC) - tfd_per_start;
	if (timerfd_gettime(fds[TFD_REL], &its) < 0 || ts_ns(&its.it_interval) ||
	    (left = ts_ns(&its.it_value)) > 1000000000000ll - t0 + 1000000000 ||
	    left < 1000000000000ll - t1 - 1000000000)
		return fail("tfd_rel: %.3f s left, expected between %.3f and %.3f", left / 1e9,
			    (1000000000000ll - t1) / 1e9, (1000000000000ll - t0) / 1e9);
	if (timerfd_gettime(fds[TFD_ABS], &its) < 0 || ts_ns(&its.it_interval) != 7000000000ll)
		return fail("tfd_abs: interval %.3f s, expected 7", ts_ns(&its.it_interval) / 1e9);
	left = now_ns(CLOCK_REALTIME) + ts_ns(&its.it_value) - tfd_abs_at;
	if (left > 20000000 || left < -20000000)
		return fail("tfd_abs fires %.6f s from the time it was set to", left / 1e9);
	/* every expiration due by the mark, at least: they were pending at the dump */
	if (read(fds[TFD_PER], &v, 8) != 8 || (int64_t)v < (mark_at - tfd_per_start) / 50000000 - 1)
		return fail("tfd_per read %llu expirations, expected %lld at least", (unsigned long long)v,
			    (long long)((mark_at - tfd_per_start) / 50000000 - 1));
	t0 = now_ns(CLOCK_MONOTONIC);
	(void)read(fds[TFD_PER], &v, 8);
	while ((t1 = now_ns(CLOCK_MONOTONIC)) - t0 < 1000000000ll) {
		p = (struct pollfd){ .fd = fds[TFD_PER], .events = POLLIN };
		if (poll(&p, 1, 200) == 1 && read(fds[TFD_PER], &v, 8) == 8)
			n += (int64_t)v;
	}
	if (n < (t1 - t0) / 50000000 - 1 || n > (t1 - t0) / 50000000 + 1)
		return fail("tfd_per: %lld expirations in %.3f s, expected one every 50 ms", (long long)n,
			    (t1 - t0) / 1e9);
	if (read(fds[TFD_TICKS], &v, 8) != 8 || v != 5)
		return fail("tfd_ticks read %llu, expected 5", (unsigned long long)v);
	if (timerfd_gettime(fds[TFD_BOOT], &its) < 0 || ts_ns(&its.it_value) ||
	    ts_ns(&its.it_interval) != 3000000000ll)
		return fail("tfd_boot is not disarmed with an interval of 3 s");
	return true;
}

static void watch(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl");
}

static void setup_epoll(void)
{
	int p[2];

	fds[EP] = epoll_create1(EPOLL_CLOEXEC);
	fds[EP2] = epoll_create1(0);
	if (fds[EP] < 0 || fds[EP2] < 0 || pipe(&fds[EP_PIPE_R]) < 0 || write(fds[EP_PIPE_W], "x", 1) != 1)
		die("epoll");
	fds[EP_EFD] = eventfd(0, EFD_NONBLOCK);
	fds[EP_ONCE] = eventfd(0, EFD_NONBLOCK);
	fds[EP_EXCL] = eventfd(0, EFD_NONBLOCK);
	fds[EP_TFD] = xtimerfd(CLOCK_MONOTONIC, TFD_NONBLOCK, 0, 100000000, 100000000);
	watch(fds[EP], fds[EP_PIPE_R], EPOLLIN, 0x1111);
	watch(fds[EP], fds[EP_EFD], EPOLLIN | EPOLLET, 0x2222);
	watch(fds[EP], fds[EP_TFD], EPOLLIN, 0x3333);
	watch(fds[EP], fds[EP_ONCE], EPOLLIN | EPOLLONESHOT, 0x4444);
	watch(fds[EP], fds[EP_EXCL], EPOLLIN | EPOLLEXCLUSIVE, 0x5555);
	if (pipe(p) < 0)
		die("pipe");
	fds[EP_MOVED_WAS] = p[0];
	fds[EP_MOVED_W] = p[1];
	watch(fds[EP], p[0], EPOLLIN, 0x6666);
	fds[EP_MOVED] = fcntl(p[0], F_DUPFD, 50);
	close(p[0]);
	if (fds[EP_MOVED] < 0 || open("/dev/null", O_RDONLY) != p[0])
		die("moving a watched pipe");
	watch(fds[EP2], fds[EP], EPOLLIN, 0x7777);
	if (disarmed) {
		struct epoll_event ev[8];
		uint64_t one = 1;

		if (write(fds[EP_ONCE], &one, 8) != 8 || epoll_wait(fds[EP], ev, 8, 0) < 1)
			die("firing the one-shot watch");
		(void)read(fds[EP_ONCE], &one, 8);
	}
}

/* Whether epoll @ep reports @data within @ms (others it reports are dropped). */
static bool reports(int ep, uint64_t data, int ms)
{
	int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)ms * 1000000;
	struct epoll_event ev[16];

	do {
		int n = epoll_wait(ep, ev, 16, ms ? 20 : 0);

		for (int i = 0; i < n; i++)
			if (ev[i].data.u64 == data)
				return true;
	} while (now_ns(CLOCK_MONOTONIC) < end);
	return false;
}

static bool check_epoll(void)
{
	uint64_t one = 1, v;

	if (!reports(fds[EP2], 0x7777, 0))
		return fail("ep2 does not report ep, which has a pipe ready");
	if (!reports(fds[EP], 0x1111, 0))
		return fail("ep does not report the pipe holding a byte");
	if (reports(fds[EP], 0x2222, 0) || write(fds[EP_EFD], &one, 8) != 8 || !reports(fds[EP], 0x2222, 0))
		return fail("ep: the edge-triggered eventfd is not reported once written (only)");
	if (write(fds[EP_ONCE], &one, 8) != 8 || !reports(fds[EP], 0x4444, 0) || reports(fds[EP], 0x4444, 0))
		return fail("ep: the one-shot eventfd is not reported once, and once only");
	if (write(fds[EP_EXCL], &one, 8) != 8 || !reports(fds[EP], 0x5555, 0))
		return fail("ep: the EPOLLEXCLUSIVE eventfd is not reported once written");
	if (!reports(fds[EP], 0x3333, 300))
		return fail("ep: the timerfd is not reported within 300 ms");
	(void)read(fds[EP_TFD], &v, 8);
	if (reports(fds[EP], 0x6666, 0) || write(fds[EP_MOVED_W], "y", 1) != 1 || !reports(fds[EP], 0x6666, 0))
		return fail("ep: the moved pipe is not reported once written to (only)");
	return true;
}

static int xwatch(int fd, const char *path, uint32_t mask, int want)
{
	int wd = inotify_add_watch(fd, path, mask);

	if (wd != want)
		die(path);
	return wd;
}

static void setup_inotify(void)
{
	char buf[4096];
	int f;

	snprintf(in_dir, sizeof(in_dir), "%s/ev-%d.d", dir, (int)getpid());
	snprintf(in_file, sizeof(in_file), "%s/ev-%d.f", dir, (int)getpid());
	snprintf(in_link, sizeof(in_link), "%s/ev-%d.l", dir, (int)getpid());
	f = open(in_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (f < 0 || mkdir(in_dir, 0700) < 0 || symlink(in_file, in_link) < 0)
		die("inotify files");
	close(f);
	fds[IN] = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	fds[IN2] = inotify_init1(0);
	if (fds[IN] < 0 || fds[IN2] < 0)
		die("inotify_init1");
	xwatch(fds[IN], in_dir, IN_CREATE | IN_DELETE, 1);
	xwatch(fds[IN], dir, IN_CREATE, 2);
	xwatch(fds[IN], "/", IN_DELETE_SELF, 3);
	if (inotify_rm_watch(fds[IN], 2) < 0 || read(fds[IN], buf, sizeof(buf)) <= 0)
		die("inotify_rm_watch");
	xwatch(fds[IN], in_file, IN_MODIFY | IN_ONESHOT, 4);
	xwatch(fds[IN], in_link, IN_ATTRIB | IN_EXCL_UNLINK | IN_DONT_FOLLOW, 5);
	xwatch(fds[IN2], in_dir, IN_ALL_EVENTS, 1);
	if (queued) {
		f = open(in_file, O_WRONLY | O_CLOEXEC);
		if (f < 0 || write(f, "q", 1) != 1)
			die("inotify queued");
		close(f);
	}
}

/* The next event of @fd: its wd, mask and name ("" none); false if none comes in a second. */
static bool next_event(int fd, int *wd, uint32_t *mask, char *name, size_t size)
{
	static char buf[8192] __attribute__((aligned(8)));
	static ssize_t len, off;
	static int of = -1;
	struct inotify_event *ev;

	if (of != fd || off >= len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		of = fd;
		off = len = 0;
		if (poll(&p, 1, 1000) != 1 || (len = read(fd, buf, sizeof(buf))) <= 0)
			return false;
	}
	ev = (struct inotify_event *)(buf + off);
	off += (ssize_t)(sizeof(*ev) + ev->len);
	*wd = ev->wd;
	*mask = ev->mask;
	snprintf(name, size, "%s", ev->len ? ev->name : "");
	return true;
}

static bool check_inotify(void)
{
	char name[256], made[4300];
	uint32_t mask;
	int wd, f;

	f = open(in_file, O_WRONLY | O_CLOEXEC);
	if (f < 0 || write(f, "x", 1) != 1)
		return fail("writing %s: %s", in_file, strerror(errno));
	close(f);
	if (!next_event(fds[IN], &wd, &mask, name, sizeof(name)) || wd != 4 || !(mask & IN_MODIFY))
		return fail("in: no IN_MODIFY on wd 4 for the write (wd %d mask %#x)", wd, mask);
	/* IN_ONESHOT: the watch goes, IN_IGNORED says so */
	while (next_event(fds[IN], &wd, &mask, name, sizeof(name)) && wd == 4 && (mask & IN_MODIFY))
		;
	if (wd != 4 || !(mask & IN_IGNORED))
		return fail("in: the one-shot watch did not end with IN_IGNORED (wd %d mask %#x)", wd, mask);
	snprintf(made, sizeof(made), "%s/new", in_dir);
	f = open(made, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0)
		return fail("creating %s: %s", made, strerror(errno));
	close(f);
	if (!next_event(fds[IN], &wd, &mask, name, sizeof(name)) || wd != 1 || !(mask & IN_CREATE) ||
	    strcmp(name, "new"))
		return fail("in: no IN_CREATE of 'new' on wd 1 (wd %d mask %#x '%s')", wd, mask, name);
	if (!next_event(fds[IN2], &wd, &mask, name, sizeof(name)) || wd != 1 || !(mask & IN_CREATE) ||
	    strcmp(name, "new"))
		return fail("in2: no IN_CREATE of 'new' on wd 1 (wd %d mask %#x '%s')", wd, mask, name);
	unlink(made);
	wd = inotify_add_watch(fds[IN], dir, IN_CREATE);
	if (wd <= 5)
		return fail("in: a new watch got descriptor %d, not one above 5", wd);
	return true;
}

static void fan_mark(unsigned int flags, uint64_t mask, const char *path)
{
	if (fanotify_mark(fds[FAN], FAN_MARK_ADD | flags, mask, AT_FDCWD, path) < 0)
		die(path);
}

static void setup_fanotify(void)
{
	int f;

	snprintf(fan_g, sizeof(fan_g), "%s/ev-%d.g", dir, (int)getpid());
	snprintf(fan_h, sizeof(fan_h), "%s/ev-%d.h", dir, (int)getpid());
	if ((f = open(fan_g, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0 || close(f) < 0 ||
	    (f = open(fan_h, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0 || close(f) < 0)
		die("fanotify files");
	fds[FAN] = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
				 O_RDONLY | O_CLOEXEC);
	if (fds[FAN] < 0)
		die("fanotify_init");
	fan_mark(0, FAN_CLOSE_WRITE, fan_g);
	fan_mark(FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_MODIFY, fan_h);
	/* FAN_MARK_IGNORED_SURV_MODIFY: a modification would leave them marks of nothing */
	fan_mark(FAN_MARK_MOUNT | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_OPEN, dir);
	fan_mark(FAN_MARK_FILESYSTEM | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_MODIFY, "/proc");
	if (!strcmp(with, "fanotify_cleared")) {
		char i[4200];

		snprintf(i, sizeof(i), "%s/ev-%d.i", dir, (int)getpid());
		if ((f = open(i, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
			die(i);
		fan_mark(FAN_MARK_IGNORED_MASK, FAN_MODIFY, i);
		if (write(f, "m", 1) != 1 || close(f) < 0 || unlink(i) < 0)
			die("modifying a marked file");
	}
}

static bool check_fanotify(void)
{
	struct fanotify_event_metadata ev[8];
	char link[64], path[4200];
	struct pollfd p = { .fd = fds[FAN], .events = POLLIN };
	ssize_t n;
	int f;

	f = open(fan_g, O_WRONLY | O_CLOEXEC);
	if (f < 0 || write(f, "x", 1) != 1 || close(f) < 0)
		return fail("writing %s: %s", fan_g, strerror(errno));
	if (poll(&p, 1, 2000) != 1 || (n = read(fds[FAN], ev, sizeof(ev))) < (ssize_t)sizeof(ev[0]))
		return fail("fan: no event for the write to %s", fan_g);
	if (!(ev[0].mask & FAN_CLOSE_WRITE) || ev[0].fd < 0)
		return fail("fan: event %#llx, fd %d, not FAN_CLOSE_WRITE", (unsigned long long)ev[0].mask, ev[0].fd);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", ev[0].fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	close(ev[0].fd);
	if (strcmp(path, fan_g))
		return fail("fan: the event's fd is '%s', not %s", path, fan_g);
	return true;
}

static bool check_pidfd(void)
{
	struct pollfd p = { .fd = fds[PIDFD], .events = POLLIN };
	char pid[32];

	fdinfo_field(fds[PIDFD], "Pid:", pid, sizeof(pid));
	if (atoi(pid) != getpid())
		return fail("pidfd names process '%s', not %d", pid, (int)getpid());
	if (poll(&p, 1, 0) != 0)
		return fail("pidfd polls readable: the process it names has exited?");
	if (syscall(SYS_pidfd_send_signal, fds[PIDFD], 0, NULL, 0) < 0)
		return fail("pidfd_send_signal through pidfd: %s", strerror(errno));
	return true;
}

static void facts(void)
{
	printf("{\"pid\":%d,\"fds\":{", (int)getpid());
	for (int i = 0, n = 0; i < NROLES; i++)
		if (fds[i] >= 0)
			printf("%s\"%s\":%d", n++ ? "," : "", role[i], fds[i]);
	printf("},\"with\":%d}\n", with_fd);
}

int main(int argc, char **argv)
{
	const char *kinds = "eventfd,signalfd,timerfd,epoll,inotify,pidfd,fanotify";
	char line[256];

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--kinds") && i + 1 < argc)
			kinds = argv[++i];
		else if (!strcmp(argv[i], "--with") && i + 1 < argc && !strcmp(argv[i + 1], "disarmed"))
			disarmed = true, i++;
		else if (!strcmp(argv[i], "--with") && i + 1 < argc && !strcmp(argv[i + 1], "queued"))
			queued = true, i++;
		else if (!strcmp(argv[i], "--with") && i + 1 < argc)
			with = argv[++i];
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			snprintf(dir, sizeof(dir), "%s", argv[++i]);
	for (int i = 0; i < NROLES; i++)
		fds[i] = -1;
	want_eventfd = strstr(kinds, "eventfd") != NULL;
	want_signalfd = strstr(kinds, "signalfd") != NULL;
	want_timerfd = strstr(kinds, "timerfd") != NULL;
	want_epoll = strstr(kinds, "epoll") != NULL;
	want_inotify = strstr(kinds, "inotify") != NULL;
	want_pidfd = strstr(kinds, "pidfd") != NULL;
	want_fanotify = strstr(kinds, "fanotify") != NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (want_eventfd)
		setup_eventfd();
	if (want_signalfd)
		setup_signalfd();
	if (want_timerfd)
		setup_timerfd();
	if (want_epoll)
		setup_epoll();
	if (want_inotify)
		setup_inotify();
	if (want_pidfd && (fds[PIDFD] = (int)syscall(SYS_pidfd_open, getpid(), O_NONBLOCK)) < 0)
		die("pidfd_open");
	if (want_fanotify)
		setup_fanotify();
	setup_with();
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "facts")) {
			facts();
		} else if (!strcmp(line, "check")) {
			bad[0] = '\0';
			if (want_eventfd)
				check_eventfd();
			if (want_signalfd)
				check_signalfd();
			if (want_timerfd)
				check_timerfd();
			if (want_epoll)
				check_epoll();
			if (want_inotify)
				check_inotify();
			if (want_pidfd)
				check_pidfd();
			if (want_fanotify)
				check_fanotify();
			printf("%s%s\n", bad[0] ? "bad: " : "ok", bad);
		} else if (!strcmp(line, "mark")) {
			mark_at = now_ns(CLOCK_MONOTONIC);
			printf("ok\n");
		} else if (!strcmp(line, "exit")) {
			break;
		} else {
			printf("unknown command '%s'\n", line);
		}
	}
	if (want_fanotify) {
		unlink(fan_g);
		unlink(fan_h);
	}
	if (want_inotify) {
		unlink(in_link);
		unlink(in_file);
		rmdir(in_dir);
	}
	return 0;
}
