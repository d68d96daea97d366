/* SPDX-License-Identifier: MIT */
/*
 * A target that owns fd flags and file locks: fds opened with every open
 * flag a process can hold, the owner and signal of their I/O signals, and
 * locks of each kind held through them. Driven over stdin/stdout one line
 * at a time:
 *
 *   facts   -> one line, a JSON object: "pid", "sig_tid" (the thread that
 *              takes the FIFO's signals), "fds" (role -> number), "fd"
 *              (number -> [F_GETFD, F_GETFL, owner type, owner pid,
 *              F_GETSIG], as fcntl() shows them from inside), "io_sigs"
 *              (signals seen for the FIFO), "io_fd", "io_tid" (si_fd and
 *              the thread of the last), "lease_breaks" (lease break
 *              signals seen, each answered by giving the lease up)
 *   unlock  -> every lock given up: "ok"
 *   exit    -> exits 0, its files removed
 *
 * Set up before it prints "ready PID" (all files in DIR, named lt-PID.*):
 *   - its own process group (setpgid(0, 0)), and a thread "sigthread";
 *   - "data" lt-PID.dat (4096 bytes) O_RDWR|O_CLOEXEC at offset 100, with
 *     POSIX locks: write on bytes 0-99, read on 1000 to the end; "data_dup"
 *     a dup of it (F_DUPFD, one open file description, no FD_CLOEXEC);
 *   - "ofd" lt-PID.dat O_RDONLY|O_NOATIME, with an OFD read lock on bytes
 *     200-299;
 *   - "flock" lt-PID.flk O_WRONLY|O_APPEND|O_SYNC with flock LOCK_EX;
 *     "shflock" lt-PID.shf O_RDONLY|O_DSYNC with flock LOCK_SH;
 *   - "lease" lt-PID.lse O_RDONLY|O_NONBLOCK|O_CLOEXEC with a read lease,
 *     its signal SIGRTMIN+3 (F_SETSIG): a break is answered by F_UNLCK;
 *   - "fifo" lt-PID.fifo O_RDONLY|O_NONBLOCK, then O_ASYNC by F_SETFL, its
 *     owner the thread sigthread (F_OWNER_TID), its signal SIGRTMIN+2;
 *   - "pkt_r", "pkt_w" an empty pipe in packet mode (pipe2 O_DIRECT |
 *     O_NONBLOCK), "pipe_rw" its read end opened again read-write through
 *     /proc/self/fd;
 *   - "path_dir" DIR O_PATH|O_DIRECTORY, "path_file" lt-PID.dat
 *     O_PATH|O_CLOEXEC, "dir_plain" DIR O_RDONLY without O_DIRECTORY;
 *   - "direct" lt-PID.dat O_RDONLY|O_DIRECT (-1 where the file system
 *     refuses O_DIRECT), "async_file" lt-PID.dat opened O_RDONLY|O_ASYNC;
 *   - "null_pid" /dev/null O_WRONLY|O_DSYNC|O_CLOEXEC owned by the process
 *     (F_SETOWN), "null_pgrp" /dev/null O_RDONLY owned by its group.
 *
 * --with KIND: one more thing: "mapped" (a flock lock on a file only
 * mapped, its fd closed: restored through the mapping), "inherited" (a
 * flock lock taken, the fd inherited by a child, which holds it, and
 * closed here: restored through the child's fd, the tree dumped whole),
 * or one a dump
 * must refuse: "owner" (an fd whose owner is the parent process), "given"
 * (a flock lock on a file whose only fd another process holds: a copy of
 * it, forked twice, not its child), "packet" (a pipe in packet mode
 * holding bytes).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
	DATA, DATA_DUP, OFD, FLOCK_EX, FLOCK_SH, LEASE, FIFO, PKT_R, PKT_W, PIPE_RW, PATH_DIR,
	PATH_FILE, DIR_PLAIN, DIRECT, ASYNC_FILE, NULL_PID, NULL_PGRP, NFDS
};
static const char *const role[NFDS] = {
	"data", "data_dup", "ofd", "flock", "shflock", "lease", "fifo", "pkt_r", "pkt_w", "pipe_rw",
	"path_dir", "path_file", "dir_plain", "direct", "async_file", "null_pid", "null_pgrp",
};
static int fds[NFDS];
static char dir[4096], files[5][4200];
static const char *const suffix[5] = { "dat", "flk", "shf", "lse", "fifo" };
static volatile pid_t sig_tid;
static volatile sig_atomic_t io_sigs, io_fd, io_tid, lease_breaks;

static void die(const char *what)
{
	fprintf(stderr, "locktarget: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void on_io(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	io_fd = si->si_fd;
	io_tid = (sig_atomic_t)syscall(SYS_gettid);
	io_sigs++;
}

/* another process wants the leased file: let go, as a lease holder must */
static void on_lease(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	lease_breaks++;
	(void)fcntl(si->si_fd, F_SETLEASE, F_UNLCK);
}

static void *sig_main(void *arg)
{
	sigset_t none;

	(void)arg;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	__atomic_store_n(&sig_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (;;)
		pause();
	return NULL;
}

static int xopen(const char *path, int flags)
{
	int fd = open(path, flags, 0600);

	if (fd < 0)
		die(path);
	return fd;
}

static void posix_lock(int cmd, int fd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, cmd, &fl) < 0)
		die("fcntl lock");
}

static void owner(int fd, int type, pid_t pid)
{
	struct f_owner_ex o = { .type = type, .pid = pid };

	if (fcntl(fd, F_SETOWN_EX, &o) < 0)
		die("F_SETOWN_EX");
}

static void setup(void)
{
	struct sigaction sa;
	char buf[4096], path[64];
	pthread_t t;
	sigset_t s;

	if (setpgid(0, 0) < 0)
		die("setpgid");
	for (int i = 0; i < 5; i++)
		snprintf(files[i], sizeof(files[i]), "%s/lt-%d.%s", dir, (int)getpid(), suffix[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_io;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(SIGRTMIN + 2, &sa, NULL) < 0)
		die("sigaction");
	sa.sa_sigaction = on_lease;
	if (sigaction(SIGRTMIN + 3, &sa, NULL) < 0)
		die("sigaction");
	/* the FIFO's signal goes to sigthread only; the main thread never takes it */
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	if (pthread_create(&t, NULL, sig_main, NULL))
		die("pthread_create");
	while (!__atomic_load_n(&sig_tid, __ATOMIC_ACQUIRE))
		usleep(1000);

	fds[DATA] = xopen(files[0], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC);
	memset(buf, 'd', sizeof(buf));
	if (write(fds[DATA], buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
	    lseek(fds[DATA], 100, SEEK_SET) != 100)
		die("write data");
	posix_lock(F_SETLK, fds[DATA], F_WRLCK, 0, 100);
	posix_lock(F_SETLK, fds[DATA], F_RDLCK, 1000, 0);
	fds[DATA_DUP] = fcntl(fds[DATA], F_DUPFD, 0);
	fds[OFD] = xopen(files[0], O_RDONLY | O_NOATIME);
	posix_lock(F_OFD_SETLK, fds[OFD], F_RDLCK, 200, 100);
	fds[FLOCK_EX] = xopen(files[1], O_WRONLY | O_CREAT | O_APPEND | O_SYNC);
	if (flock(fds[FLOCK_EX], LOCK_EX | LOCK_NB) < 0)
		die("flock ex");
	fds[FLOCK_SH] = xopen(files[2], O_RDONLY | O_CREAT | O_DSYNC);
	if (flock(fds[FLOCK_SH], LOCK_SH | LOCK_NB) < 0)
		die("flock sh");
	fds[LEASE] = xopen(files[3], O_RDONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC);
	if (fcntl(fds[LEASE], F_SETLEASE, F_RDLCK) < 0 || fcntl(fds[LEASE], F_SETSIG, SIGRTMIN + 3) < 0)
		die("lease");
	if (mkfifo(files[4], 0600) < 0)
		die("mkfifo");
	fds[FIFO] = xopen(files[4], O_RDONLY | O_NONBLOCK);
	owner(fds[FIFO], F_OWNER_TID, sig_tid);
	if (fcntl(fds[FIFO], F_SETSIG, SIGRTMIN + 2) < 0 ||
	    fcntl(fds[FIFO], F_SETFL, O_NONBLOCK | O_ASYNC) < 0)
		die("fifo O_ASYNC");
	if (pipe2(&fds[PKT_R], O_DIRECT | O_NONBLOCK) < 0)
		die("pipe2");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[PKT_R]);
	fds[PIPE_RW] = xopen(path, O_RDWR);
	fds[PATH_DIR] = xopen(dir, O_PATH | O_DIRECTORY);
	fds[PATH_FILE] = xopen(files[0], O_PATH | O_CLOEXEC);
	fds[DIR_PLAIN] = xopen(dir, O_RDONLY);
	fds[DIRECT] = open(files[0], O_RDONLY | O_DIRECT);
	fds[ASYNC_FILE] = xopen(files[0], O_RDONLY | O_ASYNC);
	fds[NULL_PID] = xopen("/dev/null", O_WRONLY | O_DSYNC | O_CLOEXEC);
	if (fcntl(fds[NULL_PID], F_SETOWN, getpid()) < 0)
		die("F_SETOWN");
	fds[NULL_PGRP] = xopen("/dev/null", O_RDONLY);
	owner(fds[NULL_PGRP], F_OWNER_PGRP, getpid());
}

static void setup_with(const char *with)
{
	char path[4200];
	int fd, p[2];

	if (!strcmp(with, "owner")) {
		fd = xopen("/dev/null", O_RDONLY);
		if (fcntl(fd, F_SETOWN, getppid()) < 0)
			die("F_SETOWN");
	} else if (!strcmp(with, "mapped")) {
		snprintf(path, sizeof(path), "%s/lt-%d.map", dir, (int)getpid());
		fd = xopen(path, O_RDWR | O_CREAT | O_TRUNC);
		if (ftruncate(fd, 4096) < 0 || flock(fd, LOCK_EX) < 0 ||
		    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED)
			die("mapped lock");
		close(fd);
	} else if (!strcmp(with, "inherited")) {
		snprintf(path, sizeof(path), "%s/lt-%d.inh", dir, (int)getpid());
		fd = xopen(path, O_RDWR | O_CREAT | O_TRUNC);
		if (flock(fd, LOCK_EX) < 0 || pipe(p) < 0)
			die("inherited lock");
		if (fork() == 0) {
			char c;

			/* it holds the fd until we end (our end of the pipe closes), nothing else of ours */
			for (int k = 3; k < 1024; k++)
				if (k != fd && k != p[0])
					(void)close(k);
			(void)read(p[0], &c, 1);
			_exit(0);
		}
		close(p[0]);
		close(fd);
	} else if (!strcmp(with, "given")) {
		snprintf(path, sizeof(path), "%s/lt-%d.given", dir, (int)getpid());
		fd = xopen(path, O_RDWR | O_CREAT | O_TRUNC);
		if (flock(fd, LOCK_EX) < 0 || pipe(p) < 0)
			die("given lock");
		if (fork() == 0) {
			/* its child keeps the fd until we end (our end of the pipe closes) */
			if (fork() == 0) {
				char c;

				close(p[1]);
				(void)read(p[0], &c, 1);
				_exit(0);
			}
			_exit(0);
		}
		(void)wait(NULL);
		close(p[0]);
		close(fd);
	} else if (!strcmp(with, "packet")) {
		if (pipe2(p, O_DIRECT) < 0 || write(p[1], "ab", 2) != 2 || write(p[1], "c", 1) != 1)
			die("packet pipe");
	} else {
		fprintf(stderr, "locktarget: unknown --with '%s'\n", with);
		exit(2);
	}
}

static char out[16384];
static size_t outlen;

static void jp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void jp(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	outlen += (size_t)vsnprintf(out + outlen, sizeof(out) - outlen, fmt, ap);
	va_end(ap);
}

static void facts(void)
{
	outlen = 0;
	jp("{\"pid\":%d,\"sig_tid\":%d,\"fds\":{", (int)getpid(), (int)sig_tid);
	for (int i = 0; i < NFDS; i++)
		jp("%s\"%s\":%d", i ? "," : "", role[i], fds[i]);
	jp("},\"fd\":{");
	for (int i = 0; i < NFDS; i++) {
		struct f_owner_ex o = { -1, -1 };
		int sig = -1;

		if (fds[i] < 0)
			continue;
		/* O_PATH: fcntl() refuses F_GETOWN_EX and F_GETSIG */
		(void)fcntl(fds[i], F_GETOWN_EX, &o);
		sig = fcntl(fds[i], F_GETSIG);
		jp("%s\"%d\":[%d,%d,%d,%d,%d]", i ? "," : "", fds[i], fcntl(fds[i], F_GETFD),
		   fcntl(fds[i], F_GETFL), o.type, o.pid, sig);
	}
	jp("},\"io_sigs\":%d,\"io_fd\":%d,\"io_tid\":%d,\"lease_breaks\":%d}", (int)io_sigs,
	   (int)io_fd, (int)io_tid, (int)lease_breaks);
	printf("%s\n", out);
}

static void unlock_all(void)
{
	posix_lock(F_SETLK, fds[DATA], F_UNLCK, 0, 0);
	posix_lock(F_OFD_SETLK, fds[OFD], F_UNLCK, 0, 0);
	if (flock(fds[FLOCK_EX], LOCK_UN) < 0 || flock(fds[FLOCK_SH], LOCK_UN) < 0)
		die("flock LOCK_UN");
	/* given up already if it was broken */
	if (fcntl(fds[LEASE], F_GETLEASE) != F_UNLCK && fcntl(fds[LEASE], F_SETLEASE, F_UNLCK) < 0)
		die("lease F_UNLCK");
	printf("ok\n");
}

int main(int argc, char **argv)
{
	const char *with = NULL;
	char line[256];

	snprintf(dir, sizeof(dir), "%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			snprintf(dir, sizeof(dir), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--with") && i + 1 < argc)
			with = argv[++i];
		else {
			fprintf(stderr, "usage: locktarget [--dir DIR] [--with owner|mapped|inherited|given|packet]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	if (with)
		setup_with(with);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "facts"))
			facts();
		else if (!strcmp(line, "unlock"))
			unlock_all();
		else if (!strcmp(line, "exit"))
			break;
		else
			printf("bad command '%s'\n", line);
	}
	for (int i = 0; i < 5; i++)
		(void)unlink(files[i]);
	return 0;
}
