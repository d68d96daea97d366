/* SPDX-License-Identifier: MIT */
/*
 * A target that holds both ends of ptys (as openpty() leaves them), with
 * settings a restore must give back. Driven over stdin/stdout one line at
 * a time:
 *
 *   facts  -> one line, a JSON object: "pid", "fds" (role -> number),
 *             "pts" (role -> its pty number)
 *   check  -> each pty checked from inside: "ok", or "bad: " and what
 *             differs (it writes through them: once, after a restore)
 *   exit   -> exits 0
 *
 * Set up before it prints "ready PID":
 *   "ptm" a master (/dev/ptmx, O_RDWR | O_NOCTTY, close-on-exec) in packet
 *     mode (TIOCPKT), "pts" its slave (O_RDWR | O_NONBLOCK): raw (no
 *     ICANON, ECHO, ISIG), VMIN 1, VINTR ^G, 40 rows and 132 columns;
 *   "lkm" another master, never unlocked (its slave may not be opened);
 *   with --ctty: "ctm" a master and "cts" its slave, the process's
 *     controlling terminal (setsid(), then the slave opened without
 *     O_NOCTTY), its group the foreground one;
 *   with --ctty-nofd: as --ctty, then "dty" /dev/tty opened (O_RDWR |
 *     O_NONBLOCK) and cts closed: no fd on the slave of its terminal;
 *   with --inflight: "in flight" written to ptm, not read from pts.
 * check: each pty has its number; pts's settings and window size (read on
 *   ptm too); ptm in packet mode: a write to pts reads from ptm after a
 *   TIOCPKT_DATA byte, one to ptm reads from pts; lkm locked (TIOCGPTLCK,
 *   its slave cannot be opened); ctm's slave is the controlling terminal
 *   (/proc/self/stat) with the process's group in its foreground; with
 *   --ctty-nofd dty is that terminal (a write to ctm reads from it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

enum { PTM, PTS, LKM, CTM, CTS, DTY, NROLES };
static const char *const role[NROLES] = { "ptm", "pts", "lkm", "ctm", "cts", "dty" };
static int fds[NROLES], num[NROLES];
static char bad[4096];

static void die(const char *what)
{
	fprintf(stderr, "ptytarget: %s: %s\n", what, strerror(errno));
	exit(1);
}

static bool fail(const char *fmt, ...)
{
	size_t n = strlen(bad);
	va_list ap;

	if (n && n < sizeof(bad) - 2)
		bad[n++] = ';', bad[n++] = ' ', bad[n] = '\0';
	va_start(ap, fmt);
	vsnprintf(bad + n, sizeof(bad) - n, fmt, ap);
	va_end(ap);
	return false;
}

static int pty_number(int master)
{
	int n = -1;

	if (ioctl(master, TIOCGPTN, &n) < 0)
		die("TIOCGPTN");
	return n;
}

/* A new master, unlocked if @unlock, and its slave opened with @sflags (unless -1). */
static void make_pty(int m, int s, bool unlock, int sflags)
{
	char path[64];
	int zero = 0;

	fds[m] = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fds[m] < 0)
		die("/dev/ptmx");
	num[m] = pty_number(fds[m]);
	if (!unlock)
		return;
	if (ioctl(fds[m], TIOCSPTLCK, &zero) < 0)
		die("TIOCSPTLCK");
	snprintf(path, sizeof(path), "/dev/pts/%d", num[m]);
	fds[s] = open(path, sflags);
	if (fds[s] < 0)
		die(path);
	num[s] = num[m];
}

static void setup(bool ctty, bool nofd, bool inflight)
{
	struct winsize ws = { .ws_row = 40, .ws_col = 132 };
	struct termios t;
	int one = 1;

	make_pty(PTM, PTS, true, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (tcgetattr(fds[PTS], &t) < 0)
		die("tcgetattr");
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
	t.c_cc[VMIN] = 1;
	t.c_cc[VINTR] = 7;
	if (tcsetattr(fds[PTS], TCSANOW, &t) < 0 || ioctl(fds[PTS], TIOCSWINSZ, &ws) < 0 ||
	    ioctl(fds[PTM], TIOCPKT, &one) < 0)
		die("pts settings");
	make_pty(LKM, -1, false, 0);
	if (ctty) {
		if (setsid() < 0)
			die("setsid");
		make_pty(CTM, CTS, true, O_RDWR);
		if (tcsetpgrp(fds[CTS], getpgrp()) < 0)
			die("tcsetpgrp");
	}
	if (nofd) {
		fds[DTY] = open("/dev/tty", O_RDWR | O_NONBLOCK);
		if (fds[DTY] < 0)
			die("/dev/tty");
		close(fds[CTS]);
		fds[CTS] = num[CTS] = -1;
	}
	if (inflight && write(fds[PTM], "in flight", 9) != 9)
		die("write");
}

/* Read what is there on @fd within a second. */
static ssize_t read_within(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 1000) != 1)
		return -1;
	return read(fd, buf, len);
}

static void check_pts(void)
{
	struct winsize ws;
	struct termios t;
	char buf[64];
	int pkt = 0;
	ssize_t n;

	if (pty_number(fds[PTM]) != num[PTM])
		fail("ptm is pty %d, not %d", pty_number(fds[PTM]), num[PTM]);
	if (tcgetattr(fds[PTS], &t) < 0 || (t.c_lflag & (ICANON | ECHO | ISIG)) || t.c_cc[VMIN] != 1 ||
	    t.c_cc[VINTR] != 7)
		fail("pts's settings: lflag %#x, VMIN %d, VINTR %d", t.c_lflag, t.c_cc[VMIN], t.c_cc[VINTR]);
	if (ioctl(fds[PTS], TIOCGWINSZ, &ws) < 0 || ws.ws_row != 40 || ws.ws_col != 132)
		fail("pts's window: %dx%d", ws.ws_col, ws.ws_row);
	if (ioctl(fds[PTM], TIOCGWINSZ, &ws) < 0 || ws.ws_row != 40 || ws.ws_col != 132)
		fail("ptm's window: %dx%d", ws.ws_col, ws.ws_row);
	if (ioctl(fds[PTM], TIOCGPKT, &pkt) < 0 || !pkt)
		fail("ptm is not in packet mode");
	if ((fcntl(fds[PTS], F_GETFL) & O_NONBLOCK) == 0 || (fcntl(fds[PTM], F_GETFD) & FD_CLOEXEC) == 0)
		fail("the flags of pts or ptm");
	/* what was in flight is lost (documented): nothing to read on pts but what follows */
	if (write(fds[PTS], "pong", 4) != 4)
		fail("write to pts: %s", strerror(errno));
	n = read_within(fds[PTM], buf, sizeof(buf));
	if (n != 5 || buf[0] != TIOCPKT_DATA || memcmp(buf + 1, "pong", 4))
		fail("ptm read %zd bytes after a write to pts", n);
	if (write(fds[PTM], "ping", 4) != 4)
		fail("write to ptm: %s", strerror(errno));
	n = read_within(fds[PTS], buf, sizeof(buf));
	if (n < 4 || memcmp(buf + n - 4, "ping", 4))
		fail("pts read %zd bytes after a write to ptm", n);
}

static void check_locked(void)
{
	char path[64];
	int lck = 0, fd;

	if (pty_number(fds[LKM]) != num[LKM])
		fail("lkm is pty %d, not %d", pty_number(fds[LKM]), num[LKM]);
	if (ioctl(fds[LKM], TIOCGPTLCK, &lck) < 0 || !lck)
		fail("lkm is not locked");
	snprintf(path, sizeof(path), "/dev/pts/%d", num[LKM]);
	fd = open(path, O_RDWR | O_NOCTTY);
	if (fd >= 0)
		fail("lkm's slave can be opened");
}

static void check_ctty(void)
{
	char buf[1024], *p;
	unsigned long tty = 0;
	struct stat st;
	ssize_t n;
	int ct;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f || !fgets(buf, sizeof(buf), f))
		die("/proc/self/stat");
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %lu", &tty) != 1)
		die("stat");
	snprintf(buf, sizeof(buf), "/dev/pts/%d", num[CTM]);
	if (stat(buf, &st) < 0 || tty != (unsigned long)st.st_rdev)
		fail("the controlling terminal is %lu:%lu, not cts", (unsigned long)major(tty),
		     (unsigned long)minor(tty));
	ct = fds[CTS] >= 0 ? fds[CTS] : fds[DTY];
	if (tcgetpgrp(ct) != getpgrp())
		fail("its terminal's foreground group is %d, not %d", (int)tcgetpgrp(ct), (int)getpgrp());
	if (getsid(0) != getpid())
		fail("not a session leader");
	if (fds[DTY] < 0)
		return;
	if (write(fds[CTM], "tty\n", 4) != 4)
		fail("write to ctm: %s", strerror(errno));
	n = read_within(fds[DTY], buf, sizeof(buf));
	if (n != 4 || memcmp(buf, "tty\n", 4))
		fail("dty read %zd bytes after a write to ctm", n);
	/* its echo read back: the pty is left with nothing in flight (a dump refuses that) */
	for (size_t got = 0; got < 5; got += (size_t)n) {
		n = read_within(fds[CTM], buf + got, 5 - got);
		if (n <= 0) {
			fail("ctm read %zu bytes of the echo of \"tty\\n\"", got);
			break;
		}
	}
}

int main(int argc, char **argv)
{
	bool ctty = false, nofd = false, inflight = false;
	char line[256];

	for (int i = 1; i < argc; i++) {
		ctty |= !strcmp(argv[i], "--ctty");
		nofd |= !strcmp(argv[i], "--ctty-nofd");
		inflight |= !strcmp(argv[i], "--inflight");
	}
	ctty |= nofd;
	for (int i = 0; i < NROLES; i++)
		fds[i] = num[i] = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup(ctty, nofd, inflight);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "facts")) {
			printf("{\"pid\":%d,\"fds\":{", (int)getpid());
			for (int i = 0, n = 0; i < NROLES; i++)
				if (fds[i] >= 0)
					printf("%s\"%s\":%d", n++ ? "," : "", role[i], fds[i]);
			printf("},\"pts\":{");
			for (int i = 0, n = 0; i < NROLES; i++)
				if (num[i] >= 0)
					printf("%s\"%s\":%d", n++ ? "," : "", role[i], num[i]);
			printf("}}\n");
		} else if (!strcmp(line, "check")) {
			bad[0] = '\0';
			check_pts();
			check_locked();
			if (ctty)
				check_ctty();
			printf("%s%s\n", bad[0] ? "bad: " : "ok", bad);
		} else if (!strcmp(line, "exit")) {
			break;
		} else {
			printf("unknown command '%s'\n", line);
		}
	}
	return 0;
}
