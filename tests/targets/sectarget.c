/* SPDX-License-Identifier: MIT */
/*
 * A target with POSIX timers, dropped capabilities and seccomp filters, so
 * that a restore can be checked from inside. Run as root; before it says
 * "ready PID":
 *
 *   - capabilities: CAP_SYS_BOOT and CAP_MKNOD dropped from the bounding
 *     set, keepcaps, then uid 65534 (setresuid), permitted
 *     NET_BIND_SERVICE, NET_RAW, KILL, effective NET_BIND_SERVICE and
 *     KILL, inheritable NET_BIND_SERVICE and NET_RAW, ambient
 *     NET_BIND_SERVICE, securebits KEEP_CAPS | NO_CAP_AMBIENT_RAISE;
 *     no_new_privs;
 *   - seccomp filter 1, every thread (installed before the worker thread
 *     exists): getppid() fails with EPERM, and so does getitimer(), which
 *     the target never calls but a dump injects (its own calls must pass
 *     by the filters); the worker thread adds filter 2
 *     (SECCOMP_FILTER_FLAG_LOG): getppid() fails with EACCES there, and
 *     drops CAP_KILL from its own effective set;
 *   - POSIX timers (raw timer_create, ids 0-5, 2 deleted: a gap):
 *       0 CLOCK_MONOTONIC, SIGRTMIN with value 0x5eed, every 100 ms: a
 *         handler counts, and keeps the si_timerid and si_value it saw;
 *       1 CLOCK_BOOTTIME, SIGUSR2 to the worker thread (SIGEV_THREAD_ID)
 *         in an hour, once;
 *       3 CLOCK_REALTIME, SIGEV_NONE, disarmed;
 *       4 CLOCK_PROCESS_CPUTIME_ID, SIGEV_NONE, in 1000 s then every 5 s;
 *       5 the worker's CPU-time clock (pthread_getcpuclockid), SIGEV_NONE,
 *         in 500 s.
 *
 * Commands, one a line on stdin, answers on stdout:
 *   fired -> "ok N", how often timer 0 fired
 *   check -> "ok" when everything above still holds as seen from inside
 *            (ids, times left, intervals, the last signal of timer 0,
 *            each thread's capability sets, ambient, bounding set,
 *            securebits, no_new_privs, uid, and getppid()'s errno in each
 *            thread), else "bad WHAT"
 *   exit  -> exits 0
 *
 * Options:
 *   --thread-clock  one more timer (6) on CLOCK_THREAD_CPUTIME_ID, whose
 *                   thread /proc does not say: a dump must refuse it
 *   --notify        one more filter in the main thread: acct() goes to a
 *                   supervisor (SECCOMP_RET_USER_NOTIF; there is none, so
 *                   it fails with ENOSYS): a dump must refuse it
 *   --strict        none of the above: one thread in seccomp strict mode,
 *                   which only reads and writes: "ping" -> "ok", "getppid"
 *                   -> killed by the kernel (SIGKILL), anything else ->
 *                   exits 0
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define C(x) (1ull << (x))
#define PRM (C(CAP_NET_BIND_SERVICE) | C(CAP_NET_RAW) | C(CAP_KILL))
#define EFF (C(CAP_NET_BIND_SERVICE) | C(CAP_KILL))
#define INH (C(CAP_NET_BIND_SERVICE) | C(CAP_NET_RAW))
#define WORKER_EFF C(CAP_NET_BIND_SERVICE)
#define SECBITS (SECBIT_KEEP_CAPS | SECBIT_NO_CAP_AMBIENT_RAISE)

struct ksigevent {
	uint64_t value;
	int32_t signo, notify, tid, pad[11];
};

static volatile sig_atomic_t fired, last_id = -1;
static volatile uint64_t last_value;
static pid_t worker_tid;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int worker_req, worker_done;
static char worker_bad[128];

static void die(const char *what)
{
	fprintf(stderr, "sectarget: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fired++;
	last_id = si->si_timerid;
	last_value = (uint64_t)si->si_value.sival_ptr;
}

static void on_usr2(int sig)
{
	(void)sig;
}

static int capset_self(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};

	return (int)syscall(SYS_capset, &h, d);
}

static void capget_self(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	(void)syscall(SYS_capget, &h, d);
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
}

static void deny_getppid(int err, unsigned int flags, bool getitimer)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, getitimer ? SYS_getitimer : SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned int)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { 5, f };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p) < 0)
		die("seccomp");
}

/* What one thread sees of itself; appended to @bad. */
static void check_thread(const char *who, uint64_t eff, int getppid_errno, char *bad, size_t size)
{
	uint64_t e, p, i;
	long r;
	size_t n = strlen(bad);

	capget_self(&e, &p, &i);
	if (e != eff || p != PRM || i != INH)
		n += (size_t)snprintf(bad + n, size - n, " %s:caps=%llx/%llx/%llx", who, (unsigned long long)e,
				      (unsigned long long)p, (unsigned long long)i);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) != 1 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0) != 0)
		n += (size_t)snprintf(bad + n, size - n, " %s:ambient", who);
	if (prctl(PR_CAPBSET_READ, CAP_SYS_BOOT, 0, 0, 0) != 0 || prctl(PR_CAPBSET_READ, CAP_MKNOD, 0, 0, 0) != 0 ||
	    prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 1)
		n += (size_t)snprintf(bad + n, size - n, " %s:bounding", who);
	if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != SECBITS)
		n += (size_t)snprintf(bad + n, size - n, " %s:securebits=%d", who, prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		n += (size_t)snprintf(bad + n, size - n, " %s:nnp", who);
	if (getuid() != 65534 || geteuid() != 65534)
		n += (size_t)snprintf(bad + n, size - n, " %s:uid", who);
	errno = 0;
	r = syscall(SYS_getppid);
	if (r != -1 || errno != getppid_errno)
		n += (size_t)snprintf(bad + n, size - n, " %s:getppid=%ld/%d", who, r, errno);
	errno = 0;
	r = syscall(SYS_getitimer, ITIMER_REAL, &(struct itimerval){ 0 });
	if (r != -1 || errno != EPERM)
		(void)snprintf(bad + n, size - n, " %s:getitimer=%ld/%d", who, r, errno);
}

static void *worker(void *arg)
{
	(void)arg;
	worker_tid = gettid();
	if (capset_self(WORKER_EFF, PRM, INH) < 0)
		die("capset (worker)");
	deny_getppid(EACCES, SECCOMP_FILTER_FLAG_LOG, false);
	pthread_mutex_lock(&mu);
	worker_done = 1;
	pthread_cond_broadcast(&cv);
	for (;;) {
		while (!worker_req)
			pthread_cond_wait(&cv, &mu);
		worker_req = 0;
		worker_bad[0] = '\0';
		check_thread("worker", WORKER_EFF, EACCES, worker_bad, sizeof(worker_bad));
		worker_done = 1;
		pthread_cond_broadcast(&cv);
	}
	return NULL;
}

static int make_timer(clockid_t clock, int notify, int signo, uint64_t value, pid_t tid)
{
	struct ksigevent sev = { .value = value, .signo = signo, .notify = notify, .tid = tid };
	int id = -1;

	if (syscall(SYS_timer_create, clock, &sev, &id) < 0)
		die("timer_create");
	return id;
}

static void arm(int id, time_t value_s, long value_ns, time_t interval_s, long interval_ns)
{
	struct itimerspec its = { { interval_s, interval_ns }, { value_s, value_ns } };

	if (syscall(SYS_timer_settime, id, 0, &its, NULL) < 0)
		die("timer_settime");
}

/* Timer @id: time left within [lo, hi] s (0, 0: disarmed), interval as given. */
static void check_timer(int id, double lo, double hi, time_t interval_s, long interval_ns, char *bad, size_t size)
{
	struct itimerspec its;
	double left;
	size_t n = strlen(bad);

	if (syscall(SYS_timer_gettime, id, &its) < 0) {
		(void)snprintf(bad + n, size - n, " timer%d:%s", id, strerror(errno));
		return;
	}
	left = (double)its.it_value.tv_sec + its.it_value.tv_nsec / 1e9;
	if (left < lo || left > hi || its.it_interval.tv_sec != interval_s || its.it_interval.tv_nsec != interval_ns)
		(void)snprintf(bad + n, size - n, " timer%d:left=%.3f,interval=%ld.%09ld", id, left,
			       (long)its.it_interval.tv_sec, its.it_interval.tv_nsec);
}

/* Strict mode: read(), write() and _exit() only, so no stdio. */
static __attribute__((noreturn)) void strict_main(void)
{
	char buf[64], msg[32];
	int n = snprintf(msg, sizeof(msg), "ready %d\n", (int)getpid());

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) < 0)
		die("PR_SET_SECCOMP");
	if (write(1, msg, (size_t)n) != n)
		syscall(SYS_exit, 1);
	for (;;) {
		ssize_t got = read(0, buf, sizeof(buf));

		if (got == 5 && !memcmp(buf, "ping\n", 5)) {
			if (write(1, "ok\n", 3) != 3)
				syscall(SYS_exit, 1);
		} else if (got == 8 && !memcmp(buf, "getppid\n", 8)) {
			syscall(SYS_getppid);
		} else {
			syscall(SYS_exit, 0);
		}
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_tick, .sa_flags = SA_SIGINFO | SA_RESTART };
	clockid_t wclock;
	pthread_t th;
	char line[64];

	if (argc > 1 && !strcmp(argv[1], "--strict"))
		strict_main();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sigaction(SIGRTMIN, &sa, NULL) < 0 || signal(SIGUSR2, on_usr2) == SIG_ERR)
		die("sigaction");
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) < 0 || prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0) < 0)
		die("PR_CAPBSET_DROP");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || syscall(SYS_setresuid, 65534, 65534, 65534) < 0)
		die("setresuid");
	/* CAP_SETPCAP for a moment: the securebits need it */
	if (capset_self(PRM | C(CAP_SETPCAP), PRM | C(CAP_SETPCAP), INH) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0 ||
	    prctl(PR_SET_SECUREBITS, SECBITS, 0, 0, 0) < 0 || capset_self(EFF, PRM, INH) < 0)
		die("capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("PR_SET_NO_NEW_PRIVS");
	deny_getppid(EPERM, 0, true);
	if (pthread_create(&th, NULL, worker, NULL))
		die("pthread_create");
	pthread_mutex_lock(&mu);
	while (!worker_done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if (pthread_getcpuclockid(th, &wclock))
		die("pthread_getcpuclockid");

	if (make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN, 0x5eed, 0) != 0 ||
	    make_timer(CLOCK_BOOTTIME, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGUSR2, 7, worker_tid) != 1 ||
	    make_timer(CLOCK_REALTIME, SIGEV_SIGNAL, SIGUSR2, 0, 0) != 2 ||
	    make_timer(CLOCK_REALTIME, SIGEV_NONE, 0, 0x33, 0) != 3 ||
	    make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_NONE, 0, 0, 0) != 4 ||
	    make_timer(wclock, SIGEV_NONE, 0, 0, 0) != 5) {
		errno = EINVAL;
		die("timer ids are not 0-5");
	}
	if (argc > 1 && !strcmp(argv[1], "--notify")) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_acct, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog p = { 4, f };

		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) < 0)
			die("seccomp (notify)");
	}
	if (argc > 1 && !strcmp(argv[1], "--thread-clock"))
		(void)make_timer(CLOCK_THREAD_CPUTIME_ID, SIGEV_NONE, 0, 0, 0);
	if (syscall(SYS_timer_delete, 2) < 0)
		die("timer_delete");
	arm(0, 0, 100000000, 0, 100000000);
	arm(1, 3600, 0, 0, 0);
	arm(4, 1000, 0, 5, 0);
	arm(5, 500, 0, 0, 0);

	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "fired\n")) {
			printf("ok %d\n", (int)fired);
		} else if (!strcmp(line, "check\n")) {
			char bad[512] = "";
			size_t n;

			check_timer(1, 1800, 3600, 0, 0, bad, sizeof(bad));
			check_timer(3, 0, 0, 0, 0, bad, sizeof(bad));
			check_timer(4, 900, 1000, 5, 0, bad, sizeof(bad));
			check_timer(5, 400, 500, 0, 0, bad, sizeof(bad));
			check_timer(0, 0, 0.101, 0, 100000000, bad, sizeof(bad));
			n = strlen(bad);
			if (syscall(SYS_timer_gettime, 2, &(struct itimerspec){ 0 }) == 0 || errno != EINVAL)
				n += (size_t)snprintf(bad + n, sizeof(bad) - n, " timer2:exists");
			if (last_id != 0 || last_value != 0x5eed)
				(void)snprintf(bad + n, sizeof(bad) - n, " tick:id=%d,value=%llx", (int)last_id,
					       (unsigned long long)last_value);
			check_thread("main", EFF, EPERM, bad, sizeof(bad));
			pthread_mutex_lock(&mu);
			worker_done = 0;
			worker_req = 1;
			pthread_cond_broadcast(&cv);
			while (!worker_done)
				pthread_cond_wait(&cv, &mu);
			n = strlen(bad);
			(void)snprintf(bad + n, sizeof(bad) - n, "%s", worker_bad);
			pthread_mutex_unlock(&mu);
			printf(bad[0] ? "bad%s\n" : "ok\n", bad);
		} else if (!strcmp(line, "exit\n")) {
			return 0;
		} else {
			printf("unknown command\n");
		}
	}
	return 0;
}
