/* SPDX-License-Identifier: MIT */
/*
 * A target that holds fds a restore opens by path or makes again at it.
 * Driven over stdin/stdout one line at a time:
 *
 *   facts  -> one line, a JSON object: "pid", "fds" (role -> number)
 *   check  -> each one's state checked from inside: "ok", or "bad: " and
 *             what differs (it reads and writes them: once, after a restore)
 *   exit   -> exits 0
 *
 * --dir DIR (its files, named nt-PID.*), --keep DIR2 (those it keeps: the
 * named file, symlink and linked pair, and the O_PATH directory; default
 * DIR), --proc PID (the file of another
 * process's /proc it holds; default 1) and --kinds LIST (comma-separated;
 * default "all") set up, before it prints "ready PID":
 *   all: "fifo_rw" DIR/nt-PID.fifo (mode 0640) open O_RDWR, 256 bytes
 *     written through it, "fifo_ro" the same FIFO O_RDONLY | O_NONBLOCK,
 *     "fifo_wo" O_WRONLY, then removed; "dev" DIR/nt-PID.null made as
 *     /dev/null (1:3, mode 0640) open O_RDWR, removed; "dsym" the symlink
 *     DIR/nt-PID.dsym to "no/such/target" open O_PATH | O_NOFOLLOW,
 *     removed; "sym" the symlink DIR2/nt-PID.sym to DIR2/nt-PID.file, and
 *     "ofile", "odir", "odev", "osock" O_PATH fds of DIR2/nt-PID.file, DIR2,
 *     /dev/null and the socket file DIR2/nt-PID.sock (its socket closed); "linked" DIR2/nt-PID.lnk1 open O_WRONLY, linked to
 *     DIR2/nt-PID.lnk2, removed, 1000 bytes written (its offset 1000);
 *     "pidfd" a PIDFD_NONBLOCK pidfd of a child that was killed and reaped,
 *     "pidfd2" another pidfd of it, without flags;
 *     "ns" /proc/self/ns/net, "nspc" /proc/self/ns/pid_for_children;
 *     "proc" /proc/PID/status, read 10 bytes in. check: names ("... (deleted)"
 *     where removed), types, modes, devices, owners, flags, offsets, the
 *     three FIFO fds one FIFO holding the 256 bytes, a symlink's target,
 *     the linked file the one at lnk2, the pidfd readable and its signal
 *     ESRCH, pidfd2 of the same process (pidfs: one inode), the namespaces ours, the proc file of process PID.
 *   nsother: "nsold" the UTS namespace it was in, before unshare(CLONE_NEWUTS)
 *   (for the refusal: no check).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

enum { FIFO_RW, FIFO_RO, FIFO_WO, DEV, DSYM, SYM, OFILE, ODIR, ODEV, OSOCK, LINKED, PIDFD, PIDFD2, NS, NSPC,
       PROC, NSOLD, NROLES };
static const char *const role[NROLES] = { "fifo_rw", "fifo_ro", "fifo_wo", "dev", "dsym", "sym", "ofile",
					  "odir", "odev", "osock", "linked", "pidfd", "pidfd2", "ns", "nspc",
					  "proc", "nsold" };
static int fds[NROLES];
static char dir[3000] = "/tmp", keep[3000], bad[4096];
static int other_pid = 1;

static void die(const char *what)
{
	fprintf(stderr, "nodetarget: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *fmt, ...)
{
	size_t n = strlen(bad);
	va_list ap;

	if (n && n < sizeof(bad) - 2)
		bad[n++] = ';', bad[n++] = ' ', bad[n] = '\0';
	va_start(ap, fmt);
	vsnprintf(bad + n, sizeof(bad) - n, fmt, ap);
	va_end(ap);
}

/* DIR/nt-PID.SUFFIX: the deleted nodes in DIR, the files kept (and the linked pair) in KEEP */
static const char *name(const char *suffix)
{
	static char buf[4][3100];
	static int k;
	bool kept = !strcmp(suffix, "file") || !strcmp(suffix, "sym") || !strcmp(suffix, "sock") ||
		    !strncmp(suffix, "lnk", 3);

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/nt-%d.%s", kept ? keep : dir, (int)getpid(), suffix);
	return buf[k];
}

static int must(int fd, const char *what)
{
	if (fd < 0)
		die(what);
	return fd;
}

static void setup_all(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char data[256];
	pid_t child;
	int sk;

	for (int i = 0; i < 256; i++)
		data[i] = (char)(i * 7 + 1);
	if (mknod(name("fifo"), S_IFIFO | 0640, 0) < 0 || chmod(name("fifo"), 0640) < 0)
		die("mkfifo");
	fds[FIFO_RW] = must(open(name("fifo"), O_RDWR), "open fifo");
	fds[FIFO_RO] = must(open(name("fifo"), O_RDONLY | O_NONBLOCK), "open fifo ro");
	fds[FIFO_WO] = must(open(name("fifo"), O_WRONLY), "open fifo wo");
	if (write(fds[FIFO_RW], data, sizeof(data)) != (ssize_t)sizeof(data) || unlink(name("fifo")) < 0)
		die("fifo");
	if (mknod(name("null"), S_IFCHR | 0640, makedev(1, 3)) < 0 || chmod(name("null"), 0640) < 0)
		die("mknod");
	fds[DEV] = must(open(name("null"), O_RDWR), "open dev");
	if (unlink(name("null")) < 0 || symlink("no/such/target", name("dsym")) < 0)
		die("dsym");
	fds[DSYM] = must(open(name("dsym"), O_PATH | O_NOFOLLOW), "open dsym");
	if (unlink(name("dsym")) < 0)
		die("unlink dsym");
	close(must(open(name("file"), O_CREAT | O_WRONLY, 0600), "file"));
	if (symlink(name("file"), name("sym")) < 0)
		die("symlink");
	fds[SYM] = must(open(name("sym"), O_PATH | O_NOFOLLOW), "open sym");
	fds[OFILE] = must(open(name("file"), O_PATH), "ofile");
	fds[ODIR] = must(open(keep, O_PATH | O_DIRECTORY), "odir");
	fds[ODEV] = must(open("/dev/null", O_PATH), "odev");
	sk = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name("sock"));
	if (bind(sk, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	fds[OSOCK] = must(open(name("sock"), O_PATH), "osock");
	close(sk);
	fds[LINKED] = must(open(name("lnk1"), O_CREAT | O_WRONLY | O_TRUNC, 0644), "lnk1");
	if (link(name("lnk1"), name("lnk2")) < 0 || unlink(name("lnk1")) < 0)
		die("link");
	memset(data, '0', sizeof(data));
	for (int i = 0; i < 4; i++)
		if (write(fds[LINKED], data, 250) != 250)
			die("write linked");
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	fds[PIDFD] = must((int)syscall(SYS_pidfd_open, child, PIDFD_NONBLOCK), "pidfd_open");
	fds[PIDFD2] = must((int)syscall(SYS_pidfd_open, child, 0), "pidfd_open");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	fds[NS] = must(open("/proc/self/ns/net", O_RDONLY), "ns");
	fds[NSPC] = must(open("/proc/self/ns/pid_for_children", O_RDONLY), "nspc");
	snprintf(data, sizeof(data), "/proc/%d/status", other_pid);
	fds[PROC] = must(open(data, O_RDONLY), "proc");
	if (lseek(fds[PROC], 10, SEEK_SET) != 10)
		die("lseek proc");
}

static void link_is(int r, const char *want)
{
	char path[64], got[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[r]);
	n = readlink(path, got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	if (strcmp(got, want))
		fail("%s links to '%s', not '%s'", role[r], got, want);
}

static void flags_are(int r, int want)
{
	int got = fcntl(fds[r], F_GETFL) & ~0100000; /* O_LARGEFILE, as the kernel shows it */

	if (got != want)
		fail("%s has flags 0%o, not 0%o", role[r], got, want);
}

static void stat_is(int r, mode_t mode, dev_t rdev)
{
	struct stat st;

	if (fstat(fds[r], &st) < 0 || st.st_mode != mode || st.st_rdev != rdev || st.st_uid != getuid())
		fail("%s: mode 0%o rdev %u:%u, not 0%o %u:%u", role[r], st.st_mode, major(st.st_rdev),
		     minor(st.st_rdev), mode, major(rdev), minor(rdev));
}

static void check_fifo(void)
{
	char deleted[3200], buf[300];
	struct stat a, b, c;
	ssize_t n;

	snprintf(deleted, sizeof(deleted), "%s (deleted)", name("fifo"));
	for (int r = FIFO_RW; r <= FIFO_WO; r++) {
		link_is(r, deleted);
		stat_is(r, S_IFIFO | 0640, 0);
	}
	flags_are(FIFO_RW, O_RDWR);
	flags_are(FIFO_RO, O_RDONLY | O_NONBLOCK);
	flags_are(FIFO_WO, O_WRONLY);
	if (fstat(fds[FIFO_RW], &a) < 0 || fstat(fds[FIFO_RO], &b) < 0 || fstat(fds[FIFO_WO], &c) < 0 ||
	    a.st_ino != b.st_ino || a.st_ino != c.st_ino)
		fail("the FIFO fds are not one FIFO");
	n = read(fds[FIFO_RO], buf, sizeof(buf));
	if (n != 256)
		fail("the FIFO held %zd bytes, not 256", n);
	for (int i = 0; i < 256 && n == 256; i++)
		if (buf[i] != (char)(i * 7 + 1)) {
			fail("the FIFO's byte %d differs", i);
			break;
		}
	if (write(fds[FIFO_WO], "xy", 2) != 2 || read(fds[FIFO_RO], buf, 2) != 2 || memcmp(buf, "xy", 2))
		fail("a write to fifo_wo does not reach fifo_ro");
}

static void check_paths(void)
{
	char deleted[3200], target[4096];
	struct stat st, lnk2;
	ssize_t n;

	snprintf(deleted, sizeof(deleted), "%s (deleted)", name("null"));
	link_is(DEV, deleted);
	stat_is(DEV, S_IFCHR | 0640, makedev(1, 3));
	flags_are(DEV, O_RDWR);
	if (write(fds[DEV], "x", 1) != 1)
		fail("dev: cannot write");
	snprintf(deleted, sizeof(deleted), "%s (deleted)", name("dsym"));
	link_is(DSYM, deleted);
	flags_are(DSYM, O_PATH | O_NOFOLLOW);
	n = readlinkat(fds[DSYM], "", target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	if (strcmp(target, "no/such/target") || fstat(fds[DSYM], &st) < 0 || !S_ISLNK(st.st_mode))
		fail("dsym reads '%s', not a symlink to 'no/such/target'", target);
	link_is(SYM, name("sym"));
	flags_are(SYM, O_PATH | O_NOFOLLOW);
	n = readlinkat(fds[SYM], "", target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	if (strcmp(target, name("file")))
		fail("sym reads '%s'", target);
	link_is(OFILE, name("file"));
	flags_are(OFILE, O_PATH);
	link_is(ODIR, keep);
	flags_are(ODIR, O_PATH | O_DIRECTORY);
	link_is(ODEV, "/dev/null");
	flags_are(ODEV, O_PATH);
	link_is(OSOCK, name("sock"));
	flags_are(OSOCK, O_PATH);
	if (fstat(fds[OSOCK], &st) < 0 || !S_ISSOCK(st.st_mode))
		fail("osock is no socket file");
	snprintf(deleted, sizeof(deleted), "%s (deleted)", name("lnk1"));
	link_is(LINKED, deleted);
	flags_are(LINKED, O_WRONLY);
	if (fstat(fds[LINKED], &st) < 0 || stat(name("lnk2"), &lnk2) < 0 || st.st_ino != lnk2.st_ino ||
	    st.st_dev != lnk2.st_dev || st.st_size != 1000 || st.st_nlink != 1 ||
	    lseek(fds[LINKED], 0, SEEK_CUR) != 1000)
		fail("linked is not the file at lnk2 of 1000 bytes at offset 1000");
}

static void check_others(void)
{
	struct pollfd p = { .fd = fds[PIDFD], .events = POLLIN };
	char path[64], buf[4096];
	struct stat a, b;
	ssize_t n;

	flags_are(PIDFD, O_RDWR | O_NONBLOCK);
	flags_are(PIDFD2, O_RDWR);
	if (fstat(fds[PIDFD], &a) < 0 || fstat(fds[PIDFD2], &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		fail("pidfd and pidfd2 are not pidfds of one process");
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		fail("the pidfd of the child that exited is not readable");
	if (syscall(SYS_pidfd_send_signal, fds[PIDFD], 0, NULL, 0) == 0 || errno != ESRCH)
		fail("a signal through the pidfd of the child that exited: %s, not ESRCH", strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fds[PIDFD]);
	n = read(must(open(path, O_RDONLY), "fdinfo"), buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (!strstr(buf, "Pid:\t-1\n"))
		fail("the pidfd's fdinfo reads '%s'", buf);
	if (fstat(fds[NS], &a) < 0 || stat("/proc/self/ns/net", &b) < 0 || a.st_ino != b.st_ino)
		fail("ns is not our network namespace");
	if (fstat(fds[NSPC], &a) < 0 || stat("/proc/self/ns/pid_for_children", &b) < 0 || a.st_ino != b.st_ino)
		fail("nspc is not our pid_for_children namespace");
	snprintf(path, sizeof(path), "/proc/%d/status", other_pid);
	link_is(PROC, path);
	if (lseek(fds[PROC], 0, SEEK_CUR) != 10)
		fail("proc is not at offset 10");
	n = pread(fds[PROC], buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(path, sizeof(path), "\nPid:\t%d\n", other_pid);
	if (!strstr(buf, path))
		fail("proc is no status of pid %d", other_pid);
}

int main(int argc, char **argv)
{
	const char *kinds = "all";
	char line[256];

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--kinds") && i + 1 < argc)
			kinds = argv[++i];
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			snprintf(dir, sizeof(dir), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
			snprintf(keep, sizeof(keep), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--proc") && i + 1 < argc)
			other_pid = atoi(argv[++i]);
	if (!keep[0])
		snprintf(keep, sizeof(keep), "%s", dir);
	for (int i = 0; i < NROLES; i++)
		fds[i] = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strstr(kinds, "all"))
		setup_all();
	if (strstr(kinds, "nsother")) {
		fds[NSOLD] = must(open("/proc/self/ns/uts", O_RDONLY), "uts");
		if (unshare(CLONE_NEWUTS) < 0)
			die("unshare");
	}
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "facts")) {
			printf("{\"pid\":%d,\"fds\":{", (int)getpid());
			for (int i = 0, n = 0; i < NROLES; i++)
				if (fds[i] >= 0)
					printf("%s\"%s\":%d", n++ ? "," : "", role[i], fds[i]);
			printf("}}\n");
		} else if (!strcmp(line, "check")) {
			bad[0] = '\0';
			if (strstr(kinds, "all")) {
				check_fifo();
				check_paths();
				check_others();
			}
			printf("%s%s\n", bad[0] ? "bad: " : "ok", bad);
		} else if (!strcmp(line, "exit")) {
			break;
		} else {
			printf("unknown command '%s'\n", line);
		}
	}
	return 0;
}
