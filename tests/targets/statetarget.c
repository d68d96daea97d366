/* SPDX-License-Identifier: MIT */
/*
 * A target whose process and thread state is set to known values, so that a
 * dump can be checked against what the target says about itself. Driven over
 * stdin/stdout one line at a time:
 *
 *   facts      -> one line, a JSON object: what the target knows of itself
 *   pipebytes  -> "ok N": bytes buffered in the "hello" pipe (FIONREAD)
 *   xmmcheck   -> wakes the xmm thread, which stores xmm0..xmm7 as they are
 *                 when its futex wait returns: "ok" if they still hold the
 *                 pattern, "bad xmmN ..." otherwise (the thread then exits)
 *   exit       -> exits 0
 *   log TEXT   -> write()s TEXT to the O_RDWR data file at its offset: "ok POS",
 *                 the offset after it
 *   readwake TEXT -> writes TEXT into the pipe thread 1 reads; once that
 *                 thread has read it: "ok ALL", everything it ever read
 *                 (also in the facts as "read_got")
 *   rseqcheck  -> moves the main thread to each CPU in turn and compares the
 *                 cpu_id of its rseq area with getcpu(): "ok N" (N CPUs
 *                 seen) or "bad ..."
 *   futexwake, sleepwake, mutexheld, unlock: see --more
 *
 * A thread woken by a command (xmmcheck, readwake and those of --more)
 * reports its own values again, live, as "facts" then shows them.
 * Every SIGHUP and SIGUSR1 the handlers see is counted: "hup_count" and
 * "usr1_count" in the facts.
 *
 * Set up before it prints "ready PID":
 *   - 3 extra threads, each with a __thread value and its own signal mask
 *     (thread i blocks SIGUSR1 and SIGRTMIN+i): 1 blocks in read() on an empty
 *     pipe, 2 in nanosleep(), 3 in a raw futex wait issued from inline asm
 *     right after loading xmm0..xmm7 with a pattern (byte j of xmm i is
 *     0x10 * i + j); the main thread (serving stdin) blocks SIGUSR2 and
 *     SIGRTMIN+5 and has a 64 KiB sigaltstack;
 *   - thread 2 runs at nice 7, thread 3 under SCHED_BATCH;
 *   - signals pending: SIGUSR1 for thread 1, SIGUSR2 for the main thread;
 *   - handlers: SIGUSR1 (SA_SIGINFO | SA_RESTART), SIGHUP (sa_mask holds
 *     SIGINT), SIGALRM; SIGTERM ignored; ITIMER_REAL 1000 s, interval 500 s
 *     (others as inherited: a shell ignores SIGINT and SIGQUIT for "cmd &");
 *   - umask 027, cwd DIR, RLIMIT_NOFILE soft 1000, RLIMIT_CORE soft 0,
 *     PR_SET_THP_DISABLE;
 *   - fds: DIR/statetarget-PID.dat O_RDWR|O_CLOEXEC at offset 1234, the same
 *     file O_WRONLY|O_APPEND, DIR O_DIRECTORY, /dev/null, a pipe holding
 *     "hello" (both ends), the empty pipe thread 1 reads (both ends);
 *   - a page-aligned 4 KiB static buffer, byte i = (i * 7 + 3) & 0xff.
 *
 * Options:
 *   --dir DIR   cwd and where the data file goes (default $TMPDIR or /tmp)
 *   --with KIND one more thing a dump must refuse: socket, eventfd, epoll,
 *               signalfd, timerfd, inotify, io_uring, deleted (a file opened,
 *               linked under another name, then unlinked: deleted there but
 *               linked elsewhere) or child (a child process). Its fd (or the
 *               child's pid) is in the facts: "with_fd", "child_pid"; with_fd
 *               is -1 if this kernel will not make one (io_uring disabled).
 *               Also restoreids (PR_TIMER_CREATE_RESTORE_IDS on: no fd).
 *               Several, comma-separated: the facts name the last one's fd.
 *   --more      three more threads (after the others in "tids"):
 *                - "nanosleep2" sleeps 1000000 s in a loop and blocks only
 *                  SIGHUP and SIGRTMIN+6; "sleepwake" interrupts it with
 *                  SIGUSR1 (pthread_kill): "ok R ERRNO REM N": what its
 *                  nanosleep returned, errno, the seconds left and how many
 *                  times it has returned;
 *                - "futexloop" loops on a raw FUTEX_WAIT on a word (blocks
 *                  SIGUSR1 and SIGHUP); "futexwake" bumps the word and
 *                  FUTEX_WAKEs it: "ok WOKEN RET N": how many the wake
 *                  woke, what the wait returned (0 or -errno), how many
 *                  waits have returned;
 *                - "mutex" holds a PTHREAD_PRIO_INHERIT mutex while it
 *                  blocks in read() on a pipe (blocks SIGUSR1 and SIGHUP);
 *                  "mutexheld" -> "ok busy" while it does (trylock from the
 *                  main thread), "unlock" lets it release the mutex, the
 *                  main thread locks it (10 s timeout) and unlocks: "ok".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif
#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif
#ifndef PR_GET_THP_DISABLE
#define PR_GET_THP_DISABLE 42
#endif

enum { T_MAIN, T_READ, T_SLEEP, T_FUTEX, NT, T_SLEEP2 = NT, T_FLOOP, T_MUTEX, NT_MORE };
static const char *const role[NT_MORE] = { "main",	 "read",      "nanosleep", "futex",
					   "nanosleep2", "futexloop", "mutex" };
static int nt = NT; /* threads in use: NT, or NT_MORE with --more */

struct tinfo {
	pid_t tid;
	long syscall_nr; /* what it is blocked in, from /proc/self/task/TID/syscall */
	unsigned long fs_base, sigmask, tls_addr, tls_value, robust, tidaddr, rseq;
	int nice, policy;
	int ready;
};

static struct tinfo ti[NT_MORE];
static __thread unsigned long tls_value;

static int xmm_futex; /* the xmm thread waits while it is 0 */
static int xmm_done;
static unsigned char xmm_in[8][16] __attribute__((aligned(16)));
static unsigned char xmm_out[8][16] __attribute__((aligned(16)));
static unsigned char membuf[4096] __attribute__((aligned(4096)));

static int rpipe[2];                /* empty: thread 1 reads it */
static int hpipe[2];                /* "hello", never read */
static int fd_file, fd_append, fd_dir, fd_null, with_fd = -1;
static pid_t child_pid;
static const char *with = "none";
static char datapath[4096], delpath[4096], linkpath[4200];
static void *altstack;
static int pending_read_sig, pending_main_sig;
static volatile sig_atomic_t hup_count, usr1_count;

static char read_got[256]; /* what thread 1 read, NUL-terminated */
static int read_len;

static int sleep2_count, sleep2_ret, sleep2_errno;
static long sleep2_rem;
static int floop_word, floop_count;
static long floop_ret;
static pthread_mutex_t pi_mutex;
static int upipe[2]; /* the mutex thread reads it */
static int mutex_held;

static void die(const char *what)
{
	fprintf(stderr, "statetarget: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	usr1_count++;
}

static void on_hup(int sig)
{
	(void)sig;
	hup_count++;
}

static void on_alrm(int sig)
{
	(void)sig;
}

static pid_t my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static unsigned long my_fs_base(void)
{
	unsigned long v = 0;

	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &v) < 0)
		die("arch_prctl");
	return v;
}

static unsigned long my_sigmask(void)
{
	sigset_t s;
	unsigned long m;

	pthread_sigmask(SIG_BLOCK, NULL, &s);
	memcpy(&m, &s, sizeof(m)); /* bit n-1 = signal n, as the kernel has it */
	return m;
}

static void block(int a, int b)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, a);
	sigaddset(&s, b);
	if (pthread_sigmask(SIG_SETMASK, &s, NULL))
		die("pthread_sigmask");
}

/* Everything a thread knows only of itself. */
static void report_self(int idx)
{
	struct tinfo *t = &ti[idx];
	void *head = NULL;
	size_t len = 0;
	unsigned long tidaddr = 0;

	t->tid = my_tid();
	t->fs_base = my_fs_base();
	t->sigmask = my_sigmask();
	t->tls_addr = (unsigned long)&tls_value;
	t->tls_value = tls_value;
	if (syscall(SYS_get_robust_list, 0, &head, &len) == 0)
		t->robust = (unsigned long)head;
	if (prctl(PR_GET_TID_ADDRESS, &tidaddr, 0, 0, 0) == 0)
		t->tidaddr = tidaddr;
	t->rseq = __rseq_size ? t->fs_base + (unsigned long)__rseq_offset : 0;
	errno = 0;
	t->nice = getpriority(PRIO_PROCESS, 0); /* this thread's, on Linux */
	t->policy = sched_getscheduler(0);
	__atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
}

static void *read_main(void *arg)
{
	char buf[64];

	(void)arg;
	block(SIGUSR1, SIGRTMIN + 1);
	tls_value = 0x1111111111111111ul;
	report_self(T_READ);
	for (;;) {
		ssize_t n = read(rpipe[0], buf, sizeof(buf));
		int have = __atomic_load_n(&read_len, __ATOMIC_ACQUIRE);

		if (n == 0)
			break;
		if (n < 0)
			continue;
		if ((size_t)have + (size_t)n >= sizeof(read_got))
			n = (ssize_t)(sizeof(read_got) - 1 - (size_t)have);
		memcpy(read_got + have, buf, (size_t)n);
		read_got[have + n] = '\0';
		report_self(T_READ); /* live again, after the wait */
		__atomic_store_n(&read_len, have + (int)n, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *sleep2_main(void *arg)
{
	struct timespec d = { 1000000, 0 }, rem;

	(void)arg;
	block(SIGHUP, SIGRTMIN + 6);
	tls_value = 0x4444444444444444ul;
	report_self(T_SLEEP2);
	for (;;) {
		int r;

		rem.tv_sec = rem.tv_nsec = 0;
		r = nanosleep(&d, &rem);
		sleep2_errno = r < 0 ? errno : 0;
		sleep2_ret = r;
		sleep2_rem = (long)rem.tv_sec;
		report_self(T_SLEEP2);
		__atomic_add_fetch(&sleep2_count, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *floop_main(void *arg)
{
	(void)arg;
	block(SIGUSR1, SIGHUP);
	tls_value = 0x5555555555555555ul;
	report_self(T_FLOOP);
	for (;;) {
		int seen = __atomic_load_n(&floop_word, __ATOMIC_ACQUIRE);
		long r = syscall(SYS_futex, &floop_word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);

		floop_ret = r < 0 ? -errno : r;
		report_self(T_FLOOP);
		__atomic_add_fetch(&floop_count, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *mutex_main(void *arg)
{
	char c;

	(void)arg;
	block(SIGUSR1, SIGHUP);
	tls_value = 0x6666666666666666ul;
	if (pthread_mutex_lock(&pi_mutex))
		die("pthread_mutex_lock");
	__atomic_store_n(&mutex_held, 1, __ATOMIC_RELEASE);
	report_self(T_MUTEX);
	while (read(upipe[0], &c, 1) != 1)
		;
	report_self(T_MUTEX);
	__atomic_store_n(&mutex_held, 0, __ATOMIC_RELEASE);
	if (pthread_mutex_unlock(&pi_mutex))
		die("pthread_mutex_unlock");
	for (;;)
		if (read(upipe[0], &c, 1) == 0)
			break;
	return NULL;
}

static void *sleep_main(void *arg)
{
	struct timespec d = { 1000000, 0 };

	(void)arg;
	block(SIGUSR1, SIGRTMIN + 2);
	if (setpriority(PRIO_PROCESS, 0, 7) < 0)
		die("setpriority");
	tls_value = 0x2222222222222222ul;
	report_self(T_SLEEP);
	for (;;)
		nanosleep(&d, NULL);
	return NULL;
}

/*
 * Load xmm0..xmm7, then wait on xmm_futex with raw syscalls, touching no
 * xmm register until the wait is over; then store them where xmmcheck
 * looks.
 */
static void xmm_wait(void)
{
	register long r10 __asm__("r10") = 0;
	long ret;

	__asm__ volatile("movdqu 0(%[in]), %%xmm0\n\t"
			 "movdqu 16(%[in]), %%xmm1\n\t"
			 "movdqu 32(%[in]), %%xmm2\n\t"
			 "movdqu 48(%[in]), %%xmm3\n\t"
			 "movdqu 64(%[in]), %%xmm4\n\t"
			 "movdqu 80(%[in]), %%xmm5\n\t"
			 "movdqu 96(%[in]), %%xmm6\n\t"
			 "movdqu 112(%[in]), %%xmm7\n\t"
			 "1:\n\t"
			 "movl $202, %%eax\n\t" /* SYS_futex */
			 "syscall\n\t"
			 "cmpl $0, (%%rdi)\n\t"
			 "je 1b\n\t"
			 "movdqu %%xmm0, 0(%[out])\n\t"
			 "movdqu %%xmm1, 16(%[out])\n\t"
			 "movdqu %%xmm2, 32(%[out])\n\t"
			 "movdqu %%xmm3, 48(%[out])\n\t"
			 "movdqu %%xmm4, 64(%[out])\n\t"
			 "movdqu %%xmm5, 80(%[out])\n\t"
			 "movdqu %%xmm6, 96(%[out])\n\t"
			 "movdqu %%xmm7, 112(%[out])\n\t"
			 : "=&a"(ret)
			 : [in] "r"(xmm_in), [out] "r"(xmm_out), "D"(&xmm_futex),
			   "S"((long)FUTEX_WAIT_PRIVATE), "d"(0L), "r"(r10)
			 : "rcx", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3",
			   "xmm4", "xmm5", "xmm6", "xmm7");
	(void)ret;
}

static void *futex_main(void *arg)
{
	struct sched_param sp = { 0 };

	(void)arg;
	block(SIGUSR1, SIGRTMIN + 3);
	if (sched_setscheduler(0, SCHED_BATCH, &sp) < 0)
		die("sched_setscheduler");
	tls_value = 0x3333333333333333ul;
	report_self(T_FUTEX);
	xmm_wait();
	report_self(T_FUTEX); /* live again, after the wait */
	__atomic_store_n(&xmm_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The number in /proc/self/task/TID/syscall, -1 while running. */
static long blocked_in(pid_t tid)
{
	char path[64], buf[256];
	FILE *f;
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "re");
	if (!f)
		die("open /proc/self/task/TID/syscall");
	if (fgets(buf, sizeof(buf), f) && buf[0] >= '0' && buf[0] <= '9')
		nr = strtol(buf, NULL, 10);
	fclose(f);
	return nr;
}

static int wanted_syscall(int idx, long nr)
{
	switch (idx) {
	case T_READ: return nr == SYS_read;
	case T_SLEEP: return nr == SYS_nanosleep || nr == SYS_clock_nanosleep;
	case T_FUTEX: return nr == SYS_futex;
	case T_SLEEP2: return nr == SYS_nanosleep || nr == SYS_clock_nanosleep;
	case T_FLOOP: return nr == SYS_futex;
	case T_MUTEX: return nr == SYS_read;
	default: return 1;
	}
}

static void wait_threads(void)
{
	struct timespec d = { 0, 1000000 };

	for (int i = 1; i < nt; i++) {
		int n = 0;

		while (!__atomic_load_n(&ti[i].ready, __ATOMIC_ACQUIRE) ||
		       !wanted_syscall(i, ti[i].syscall_nr = blocked_in(ti[i].tid))) {
			if (++n > 20000) {
				fprintf(stderr, "statetarget: thread %s never blocked\n", role[i]);
				exit(2);
			}
			nanosleep(&d, NULL);
		}
	}
	/* to be sure the asm is in its wait, not between a spurious wake and the next */
	nanosleep(&d, NULL);
	for (int i = 1; i < nt; i++)
		if (!wanted_syscall(i, blocked_in(ti[i].tid))) {
			fprintf(stderr, "statetarget: thread %s left its syscall\n", role[i]);
			exit(2);
		}
}

static void setup_signals(void)
{
	struct sigaction sa;
	stack_t ss;
	struct itimerval it = { { 500, 0 }, { 1000, 0 } };

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		die("sigaction SIGUSR1");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	if (sigaction(SIGHUP, &sa, NULL) < 0)
		die("sigaction SIGHUP");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alrm;
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		die("sigaction SIGALRM");
	if (signal(SIGTERM, SIG_IGN) == SIG_ERR)
		die("signal SIGTERM");
	altstack = malloc(65536);
	if (!altstack)
		die("malloc");
	ss.ss_sp = altstack;
	ss.ss_size = 65536;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) < 0)
		die("sigaltstack");
	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		die("setitimer");
}

static void setup_files(const char *dir)
{
	char buf[8192];
	struct rlimit rl;

	umask(027);
	if (chdir(dir) < 0)
		die("chdir");
	snprintf(datapath, sizeof(datapath), "%s/statetarget-%d.dat", dir, (int)getpid());
	fd_file = open(datapath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd_file < 0)
		die("open data file");
	memset(buf, 'x', sizeof(buf));
	if (write(fd_file, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		die("write data file");
	if (lseek(fd_file, 1234, SEEK_SET) != 1234)
		die("lseek");
	fd_append = open(datapath, O_WRONLY | O_APPEND);
	if (fd_append < 0)
		die("open append");
	fd_dir = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd_dir < 0)
		die("open dir");
	fd_null = open("/dev/null", O_RDWR);
	if (fd_null < 0)
		die("open /dev/null");
	if (pipe(hpipe) < 0 || pipe(rpipe) < 0)
		die("pipe");
	if (write(hpipe[1], "hello", 5) != 5)
		die("write pipe");

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	rl.rlim_cur = 1000;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 1000)
		rl.rlim_max = 1000;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit NOFILE");
	if (getrlimit(RLIMIT_CORE, &rl) < 0)
		die("getrlimit");
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		die("setrlimit CORE");
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		die("PR_SET_THP_DISABLE");

	for (size_t i = 0; i < sizeof(membuf); i++)
		membuf[i] = (unsigned char)(i * 7 + 3);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 16; j++)
			xmm_in[i][j] = (unsigned char)(0x10 * i + j);
}

static void setup_with(const char *dir)
{
	if (!strcmp(with, "none")) {
		return;
	} else if (!strcmp(with, "socket")) {
		/* unix, TCP and UDP sockets are taken (socktarget); a netlink one is not */
		with_fd = socket(AF_NETLINK, SOCK_RAW, 0);
		if (with_fd < 0)
			die("socket");
	} else if (!strcmp(with, "eventfd")) {
		with_fd = eventfd(0, 0);
	} else if (!strcmp(with, "epoll")) {
		with_fd = epoll_create1(0);
	} else if (!strcmp(with, "signalfd")) {
		sigset_t s;

		sigemptyset(&s);
		sigaddset(&s, SIGWINCH);
		with_fd = signalfd(-1, &s, 0);
	} else if (!strcmp(with, "timerfd")) {
		with_fd = timerfd_create(CLOCK_MONOTONIC, 0);
	} else if (!strcmp(with, "inotify")) {
		with_fd = inotify_init1(0);
	} else if (!strcmp(with, "io_uring")) {
		unsigned char params[120]; /* struct io_uring_params */

		memset(params, 0, sizeof(params));
		with_fd = (int)syscall(425 /* io_uring_setup */, 4, params);
		if (with_fd < 0)
			with_fd = -1; /* disabled here: the test skips the case */
		return;
	} else if (!strcmp(with, "deleted")) {
		snprintf(delpath, sizeof(delpath), "%s/statetarget-%d.del", dir, (int)getpid());
		with_fd = open(delpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
		snprintf(linkpath, sizeof(linkpath), "%s.link", delpath);
		if (with_fd >= 0 && (write(with_fd, "gone", 4) != 4 || link(delpath, linkpath) < 0 ||
				     unlink(delpath) < 0))
			die("write/link/unlink");
	} else if (!strcmp(with, "restoreids")) {
		/* PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON (Linux 6.16) */
		if (prctl(77, 1, 0, 0, 0) < 0)
			die("prctl(PR_TIMER_CREATE_RESTORE_IDS)");
		return;
	} else if (!strcmp(with, "child")) {
		child_pid = fork();
		if (child_pid < 0)
			die("fork");
		if (child_pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		return;
	} else {
		fprintf(stderr, "statetarget: unknown --with '%s'\n", with);
		exit(2);
	}
	if (with_fd < 0)
		die(with);
}

/* --with A,B,...: each in turn */
static void setup_with_list(const char *dir)
{
	static char list[256];
	char *save = NULL;

	(void)snprintf(list, sizeof(list), "%s", with);
	for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		with = k;
		setup_with(dir);
	}
}

/* JSON output, appended to one line. */
static char out[65536];
static size_t outlen;

static void jp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void jp(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	outlen += (size_t)vsnprintf(out + outlen, sizeof(out) - outlen, fmt, ap);
	va_end(ap);
	if (outlen >= sizeof(out))
		outlen = sizeof(out) - 1;
}

/* {"tid": value, ...} of one field of every thread */
static void jp_per_thread(const char *key, size_t off, int is_int)
{
	jp("\"%s\":{", key);
	for (int i = 0; i < nt; i++) {
		const char *p = (const char *)&ti[i] + off;

		if (is_int)
			jp("%s\"%d\":%d", i ? "," : "", (int)ti[i].tid, *(const int *)p);
		else
			jp("%s\"%d\":%lu", i ? "," : "", (int)ti[i].tid, *(const unsigned long *)p);
	}
	jp("},");
}

static void jp_str(const char *key, const char *s)
{
	jp("\"%s\":\"", key);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			jp("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			jp("\\u%04x", (unsigned char)*s);
		else
			jp("%c", *s);
	}
	jp("\",");
}

static void facts(void)
{
	char cwd[4096];
	struct rlimit nofile, core;
	struct itimerval it;
	stack_t ss;
	mode_t um;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t groups[256];
	int ng;
	int bytes = -1;

	/* the main thread's own values, live */
	report_self(T_MAIN);
	ti[T_MAIN].syscall_nr = SYS_read;
	outlen = 0;
	jp("{\"pid\":%d,\"ppid\":%d,\"pgid\":%d,\"sid\":%d,", (int)getpid(), (int)getppid(),
	   (int)getpgid(0), (int)getsid(0));
	jp("\"tids\":[");
	for (int i = 0; i < nt; i++)
		jp("%s%d", i ? "," : "", (int)ti[i].tid);
	jp("],\"thread_tids\":{");
	for (int i = 0; i < nt; i++)
		jp("\"%s\":%d,", role[i], (int)ti[i].tid);
	jp("\"xmm\":%d},", (int)ti[T_FUTEX].tid);
	jp_per_thread("syscalls", offsetof(struct tinfo, syscall_nr), 0);
	jp_per_thread("fs_base", offsetof(struct tinfo, fs_base), 0);
	jp_per_thread("sigmask", offsetof(struct tinfo, sigmask), 0);
	jp_per_thread("tls_addr", offsetof(struct tinfo, tls_addr), 0);
	jp_per_thread("tls_value", offsetof(struct tinfo, tls_value), 0);
	jp_per_thread("robust_list", offsetof(struct tinfo, robust), 0);
	jp_per_thread("clear_child_tid", offsetof(struct tinfo, tidaddr), 0);
	jp_per_thread("rseq", offsetof(struct tinfo, rseq), 0);
	jp_per_thread("nice", offsetof(struct tinfo, nice), 1);
	jp_per_thread("sched_policy", offsetof(struct tinfo, policy), 1);
	jp("\"pending\":{\"%d\":[%d],\"%d\":[%d]},", (int)ti[T_READ].tid, pending_read_sig,
	   (int)ti[T_MAIN].tid, pending_main_sig);
	jp("\"handlers\":{\"1\":%lu,\"10\":%lu,\"14\":%lu,\"15\":1},",
	   (unsigned long)(uintptr_t)on_hup, (unsigned long)(uintptr_t)on_usr1,
	   (unsigned long)(uintptr_t)on_alrm);
	jp("\"sa_flags\":{\"10\":%lu},", (unsigned long)(SA_SIGINFO | SA_RESTART));
	/* the kernel's table, as rt_sigaction gives it (SIG_DFL without flags left out) */
	jp("\"sigactions\":[");
	for (int sig = 1, n = 0; sig <= 64; sig++) {
		struct { unsigned long handler, flags, restorer, mask; } ka;

		if (syscall(SYS_rt_sigaction, sig, NULL, &ka, 8) < 0 || (!ka.handler && !ka.flags))
			continue;
		jp("%s{\"sig\":%d,\"handler\":%lu,\"flags\":%lu,\"restorer\":%lu,\"mask\":%lu}",
		   n++ ? "," : "", sig, ka.handler, ka.flags, ka.restorer, ka.mask);
	}
	jp("],");
	if (sigaltstack(NULL, &ss) < 0)
		die("sigaltstack");
	jp("\"altstack\":{\"sp\":%lu,\"size\":%zu,\"flags\":%d},", (unsigned long)ss.ss_sp,
	   ss.ss_size, ss.ss_flags);
	um = umask(0);
	umask(um);
	jp("\"umask\":%u,", (unsigned)um);
	if (!getcwd(cwd, sizeof(cwd)))
		die("getcwd");
	jp_str("cwd", cwd);
	jp_str("file_path", datapath);
	jp("\"fds\":{\"file\":%d,\"append\":%d,\"dir\":%d,\"null\":%d,\"pipe_r\":%d,"
	   "\"pipe_w\":%d,\"rpipe_r\":%d,\"rpipe_w\":%d},",
	   fd_file, fd_append, fd_dir, fd_null, hpipe[0], hpipe[1], rpipe[0], rpipe[1]);
	jp("\"file_pos\":{\"%d\":%ld,\"%d\":%ld},", fd_file, (long)lseek(fd_file, 0, SEEK_CUR),
	   fd_append, (long)lseek(fd_append, 0, SEEK_CUR));
	if (ioctl(hpipe[0], FIONREAD, &bytes) < 0)
		die("FIONREAD");
	jp("\"pipe\":{\"read_fd\":%d,\"write_fd\":%d,\"bytes\":%d},", hpipe[0], hpipe[1], bytes);
	jp("\"xmm_pattern\":[");
	for (int i = 0; i < 8; i++) {
		jp("%s\"", i ? "," : "");
		for (int j = 0; j < 16; j++)
			jp("%02x", xmm_in[i][j]);
		jp("\"");
	}
	jp("],");
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 || getrlimit(RLIMIT_CORE, &core) < 0)
		die("getrlimit");
	jp("\"nofile_soft\":%llu,\"nofile_hard\":%llu,\"core_soft\":%llu,\"core_hard\":%llu,",
	   (unsigned long long)nofile.rlim_cur, (unsigned long long)nofile.rlim_max,
	   (unsigned long long)core.rlim_cur, (unsigned long long)core.rlim_max);
	if (getitimer(ITIMER_REAL, &it) < 0)
		die("getitimer");
	jp("\"itimer_interval_us\":%ld,", (long)it.it_interval.tv_sec * 1000000L +
	   (long)it.it_interval.tv_usec);
	jp("\"brk\":%lu,", (unsigned long)sbrk(0));
	jp("\"personality\":%d,", personality(0xffffffff));
	jp("\"thp_disabled\":%s,", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1 ? "true" : "false");
	jp("\"dumpable\":%d,", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	jp("\"uid\":[%u,%u,%u],\"gid\":[%u,%u,%u],", ru, eu, su, rg, eg, sg);
	ng = getgroups(256, groups);
	jp("\"groups\":[");
	for (int i = 0; i < ng; i++)
		jp("%s%u", i ? "," : "", groups[i]);
	jp("],");
	jp("\"membuf\":{\"addr\":%lu,\"len\":%zu},", (unsigned long)membuf, sizeof(membuf));
	jp("\"hup_count\":%d,\"usr1_count\":%d,", (int)hup_count, (int)usr1_count);
	jp_str("read_got", read_got);
	jp_str("with", with);
	jp("\"with_fd\":%d,\"child_pid\":%d}", with_fd, (int)child_pid);
	printf("%s\n", out);
}

static void xmmcheck(void)
{
	struct timespec d = { 0, 1000000 };
	int n = 0;

	__atomic_store_n(&xmm_futex, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &xmm_futex, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	while (!__atomic_load_n(&xmm_done, __ATOMIC_ACQUIRE)) {
		if (++n > 10000) {
			printf("bad the xmm thread did not wake\n");
			return;
		}
		nanosleep(&d, NULL);
	}
	for (int i = 0; i < 8; i++) {
		if (memcmp(xmm_in[i], xmm_out[i], 16)) {
			printf("bad xmm%d", i);
			for (int j = 0; j < 16; j++)
				printf("%s%02x", j ? "" : " ", xmm_out[i][j]);
			printf("\n");
			return;
		}
	}
	printf("ok\n");
}

/* Wait (10 s at most) until *v is past old: 0, or -1. */
static int wait_past(int *v, int old)
{
	struct timespec d = { 0, 1000000 };

	for (int n = 0; n < 10000; n++) {
		if (__atomic_load_n(v, __ATOMIC_ACQUIRE) > old)
			return 0;
		nanosleep(&d, NULL);
	}
	return -1;
}

static void do_log(const char *text)
{
	size_t len = strlen(text);
	ssize_t n = write(fd_file, text, len);

	if (n != (ssize_t)len)
		printf("error %s\n", n < 0 ? strerror(errno) : "short write");
	else
		printf("ok %ld\n", (long)lseek(fd_file, 0, SEEK_CUR));
}

static void readwake(const char *text)
{
	int old = __atomic_load_n(&read_len, __ATOMIC_ACQUIRE);
	size_t len = strlen(text);

	if (!len || write(rpipe[1], text, len) != (ssize_t)len) {
		printf("error write\n");
		return;
	}
	if (wait_past(&read_len, old + (int)len - 1) < 0) {
		printf("bad the read thread did not read\n");
		return;
	}
	printf("ok %s\n", read_got);
}

static void rseqcheck(void)
{
	cpu_set_t old, one;
	int seen = 0;

	if (!__rseq_size) {
		printf("ok 0 no rseq\n");
		return;
	}
	if (sched_getaffinity(0, sizeof(old), &old) < 0) {
		printf("error sched_getaffinity %s\n", strerror(errno));
		return;
	}
	for (int c = 0; c < CPU_SETSIZE; c++) {
		volatile const struct rseq *rs;
		unsigned cpu = ~0u;

		if (!CPU_ISSET(c, &old))
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		if (sched_setaffinity(0, sizeof(one), &one) < 0)
			continue;
		sched_yield();
		if (syscall(SYS_getcpu, &cpu, NULL, NULL) < 0 || cpu != (unsigned)c)
			continue;
		rs = (volatile const struct rseq *)(my_fs_base() + (unsigned long)__rseq_offset);
		if (rs->cpu_id != (unsigned)c) {
			sched_setaffinity(0, sizeof(old), &old);
			printf("bad on cpu %d the rseq area says cpu %d\n", c, (int)rs->cpu_id);
			return;
		}
		seen++;
	}
	sched_setaffinity(0, sizeof(old), &old);
	printf("ok %d\n", seen);
}

static void sleepwake(pthread_t t)
{
	int old = __atomic_load_n(&sleep2_count, __ATOMIC_ACQUIRE);

	if (pthread_kill(t, SIGUSR1)) {
		printf("error pthread_kill\n");
		return;
	}
	if (wait_past(&sleep2_count, old) < 0) {
		printf("bad the nanosleep2 thread did not return\n");
		return;
	}
	printf("ok %d %s %ld %d\n", sleep2_ret, sleep2_errno == EINTR ? "EINTR" : strerror(sleep2_errno),
	       sleep2_rem, __atomic_load_n(&sleep2_count, __ATOMIC_ACQUIRE));
}

static void futexwake(void)
{
	int old = __atomic_load_n(&floop_count, __ATOMIC_ACQUIRE);
	long woken;

	__atomic_add_fetch(&floop_word, 1, __ATOMIC_RELEASE);
	woken = syscall(SYS_futex, &floop_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	if (wait_past(&floop_count, old) < 0) {
		printf("bad the futexloop thread did not return (wake gave %ld)\n", woken);
		return;
	}
	printf("ok %ld %ld %d\n", woken, floop_ret, __atomic_load_n(&floop_count, __ATOMIC_ACQUIRE));
}

static void mutexheld(void)
{
	int r = pthread_mutex_trylock(&pi_mutex);

	if (r == EBUSY) {
		printf("ok busy\n");
		return;
	}
	if (r == 0)
		pthread_mutex_unlock(&pi_mutex);
	printf("bad trylock gave %s\n", r ? strerror(r) : "0 (it was free)");
}

static void unlock_mutex(void)
{
	struct timespec ts;
	int r;

	if (write(upipe[1], "u", 1) != 1) {
		printf("error write\n");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	r = pthread_mutex_timedlock(&pi_mutex, &ts);
	if (r) {
		printf("bad lock: %s\n", strerror(r));
		return;
	}
	if (__atomic_load_n(&mutex_held, __ATOMIC_ACQUIRE)) {
		printf("bad locked while the mutex thread says it holds it\n");
		return;
	}
	r = pthread_mutex_unlock(&pi_mutex);
	printf(r ? "bad unlock: %s\n" : "ok\n", strerror(r));
}

int main(int argc, char **argv)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	pthread_t th[NT_MORE];
	void *(*fn[NT_MORE])(void *) = { NULL,	     read_main,	 sleep_main, futex_main,
					 sleep2_main, floop_main, mutex_main };
	char line[4096];
	pthread_mutexattr_t ma;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--with") && i + 1 < argc)
			with = argv[++i];
		else if (!strcmp(argv[i], "--more"))
			nt = NT_MORE;
		else {
			fprintf(stderr, "statetarget: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup_files(dir);
	setup_signals();
	setup_with_list(dir);
	tls_value = 0x0123456789abcdeful;
	if (nt == NT_MORE) {
		if (pipe(upipe) < 0)
			die("pipe");
		if (pthread_mutexattr_init(&ma) || pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT) ||
		    pthread_mutex_init(&pi_mutex, &ma))
			die("pthread_mutex_init");
	}
	block(SIGUSR2, SIGRTMIN + 5);
	for (int i = 1; i < nt; i++)
		if (pthread_create(&th[i], NULL, fn[i], NULL))
			die("pthread_create");
	wait_threads();
	/* a signal pending for one thread, one for the main thread (both blocked) */
	pending_read_sig = SIGUSR1;
	pending_main_sig = SIGUSR2;
	if (pthread_kill(th[T_READ], SIGUSR1) || pthread_kill(pthread_self(), SIGUSR2))
		die("pthread_kill");
	report_self(T_MAIN);
	printf("ready %d\n", (int)getpid());

	for (;;) {
		if (!fgets(line, sizeof(line), stdin)) {
			/* a handler without SA_RESTART (SIGHUP's) ran in our read */
			if (ferror(stdin) && errno == EINTR) {
				clearerr(stdin);
				continue;
			}
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "facts")) {
			facts();
		} else if (!strcmp(line, "pipebytes")) {
			int n = -1;

			if (ioctl(hpipe[0], FIONREAD, &n) < 0)
				printf("error %s\n", strerror(errno));
			else
				printf("ok %d\n", n);
		} else if (!strcmp(line, "xmmcheck")) {
			xmmcheck();
		} else if (!strncmp(line, "log ", 4)) {
			do_log(line + 4);
		} else if (!strncmp(line, "readwake ", 9)) {
			readwake(line + 9);
		} else if (!strcmp(line, "rseqcheck")) {
			rseqcheck();
		} else if (nt == NT_MORE && !strcmp(line, "sleepwake")) {
			sleepwake(th[T_SLEEP2]);
		} else if (nt == NT_MORE && !strcmp(line, "futexwake")) {
			futexwake();
		} else if (nt == NT_MORE && !strcmp(line, "mutexheld")) {
			mutexheld();
		} else if (nt == NT_MORE && !strcmp(line, "unlock")) {
			unlock_mutex();
		} else if (!strcmp(line, "exit")) {
			break;
		} else {
			printf("error unknown command\n");
		}
	}
	unlink(datapath);
	if (linkpath[0])
		unlink(linkpath);
	exit(0);
}
