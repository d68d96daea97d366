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
#include <sys/signalfd.h>
#include <unistd.h>

enum { EFD, EFD_DUP, EFD_SEM, SFD, SFD2, NROLES };
static const char *const role[NROLES] = { "efd", "efd_dup", "efd_sem", "sfd", "sfd2" };
static int fds[NROLES];
static bool want_eventfd, want_signalfd;

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

static void facts(void)
{
	printf("{\"pid\":%d,\"fds\":{", (int)getpid());
	for (int i = 0, n = 0; i < NROLES; i++)
		if (fds[i] >= 0)
			printf("%s\"%s\":%d", n++ ? "," : "", role[i], fds[i]);
	printf("}}\n");
}

int main(int argc, char **argv)
{
	const char *kinds = "eventfd,signalfd";
	char line[256];

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--kinds") && i + 1 < argc)
			kinds = argv[++i];
	for (int i = 0; i < NROLES; i++)
		fds[i] = -1;
	want_eventfd = strstr(kinds, "eventfd") != NULL;
	want_signalfd = strstr(kinds, "signalfd") != NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (want_eventfd)
		setup_eventfd();
	if (want_signalfd)
		setup_signalfd();
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
			printf("%s%s\n", bad[0] ? "bad: " : "ok", bad);
		} else if (!strcmp(line, "exit")) {
			return 0;
		} else {
			printf("unknown command '%s'\n", line);
		}
	}
	return 0;
}
