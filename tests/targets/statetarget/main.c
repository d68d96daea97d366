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
 *   rtcheck    -> takes the main thread's queued SIGRTMIN+5 (sigtimedwait,
 *                 no wait): "ok CODE:VALUE ...", in the order they come
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
 *   - signals pending: SIGUSR1 for thread 1, SIGUSR2 for the main thread,
 *     and queued for the main thread three SIGRTMIN+5 with their own
 *     siginfo (si_code -10, -11, -12, si_value 100, 101, 102);
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
 *               linked under another name in another directory, then
 *               unlinked: deleted there but linked elsewhere) or child (a child process). Its fd (or the
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
#include "statetarget.h"

const char *const role[NT_MORE] = { "main",	 "read",      "nanosleep", "futex",
					   "nanosleep2", "futexloop", "mutex" };
int nt = NT; /* threads in use: NT, or NT_MORE with --more */


struct tinfo ti[NT_MORE];
__thread unsigned long tls_value;

int xmm_futex; /* the xmm thread waits while it is 0 */
int xmm_done;
unsigned char xmm_in[8][16] __attribute__((aligned(16)));
unsigned char xmm_out[8][16] __attribute__((aligned(16)));
unsigned char membuf[4096] __attribute__((aligned(4096)));

int rpipe[2];                /* empty: thread 1 reads it */
int hpipe[2];                /* "hello", never read */
int fd_file, fd_append, fd_dir, fd_null, with_fd = -1;
pid_t child_pid;
const char *with = "none";
char datapath[4096], delpath[4096], linkpath[4200];
static char linkdir[4200];
void *altstack;
int pending_read_sig, pending_main_sig;
static int rt_queued; /* SIGRTMIN+5 queued for the main thread */
volatile sig_atomic_t hup_count, usr1_count;

char read_got[256]; /* what thread 1 read, NUL-terminated */
int read_len;

int sleep2_count, sleep2_ret, sleep2_errno;
long sleep2_rem;
int floop_word, floop_count;
long floop_ret;
pthread_mutex_t pi_mutex;
int upipe[2]; /* the mutex thread reads it */
int mutex_held;

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
		/*
		 * unix, TCP, UDP and netlink sockets are taken (socktarget,
		 * skfamtarget); not a netlink one with the kernel's answer queued
		 */
		struct {
			struct nlmsghdr h;
			struct rtgenmsg g;
		} q = { { sizeof(q), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 }, { AF_UNSPEC } };

		with_fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
		if (with_fd < 0 || send(with_fd, &q, sizeof(q), 0) != (ssize_t)sizeof(q))
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
		/* its other name in another directory, where the dump does not look for one */
		snprintf(linkpath, sizeof(linkpath), "%s.d/link", delpath);
		(void)mkdir(strcat(strcpy(linkdir, delpath), ".d"), 0700);
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
	jp("\"pending\":{\"%d\":[%d],\"%d\":[%d", (int)ti[T_READ].tid, pending_read_sig,
	   (int)ti[T_MAIN].tid, pending_main_sig);
	for (int i = 0; i < rt_queued; i++)
		jp(",%d", SIGRTMIN + 5);
	jp("]},");
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

static void do_log(const char *text)
{
	size_t len = strlen(text);
	ssize_t n = write(fd_file, text, len);

	if (n != (ssize_t)len)
		printf("error %s\n", n < 0 ? strerror(errno) : "short write");
	else
		printf("ok %ld\n", (long)lseek(fd_file, 0, SEEK_CUR));
}

static void rtcheck(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t s;
	siginfo_t si;

	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 5);
	printf("ok");
	while (sigtimedwait(&s, &si, &zero) == SIGRTMIN + 5) {
		printf(" %d:%d", si.si_code, si.si_value.sival_int);
		rt_queued--;
	}
	printf("\n");
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
	for (rt_queued = 0; rt_queued < 3; rt_queued++) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		si.si_signo = SIGRTMIN + 5;
		si.si_code = -10 - rt_queued;
		si.si_value.sival_int = 100 + rt_queued;
		if (syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGRTMIN + 5, &si) < 0)
			die("rt_tgsigqueueinfo");
	}
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
		} else if (!strcmp(line, "rtcheck")) {
			rtcheck();
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
	if (linkdir[0])
		rmdir(linkdir);
	exit(0);
}
