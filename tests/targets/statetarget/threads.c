/* SPDX-License-Identifier: MIT */
/* statetarget's threads: each sets its own state, then blocks where
   the facts say; and the commands that wake them. */
#include "statetarget.h"

void die(const char *what)
{
	fprintf(stderr, "statetarget: %s: %s\n", what, strerror(errno));
	exit(2);
}

void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	usr1_count++;
}

void on_hup(int sig)
{
	(void)sig;
	hup_count++;
}

void on_alrm(int sig)
{
	(void)sig;
}

static pid_t my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

unsigned long my_fs_base(void)
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

void block(int a, int b)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, a);
	sigaddset(&s, b);
	if (pthread_sigmask(SIG_SETMASK, &s, NULL))
		die("pthread_sigmask");
}

/* Everything a thread knows only of itself. */
void report_self(int idx)
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

void *read_main(void *arg)
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

void *sleep2_main(void *arg)
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

void *floop_main(void *arg)
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

void *mutex_main(void *arg)
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

void *sleep_main(void *arg)
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

void *futex_main(void *arg)
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

void wait_threads(void)
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

void xmmcheck(void)
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

void readwake(const char *text)
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

void sleepwake(pthread_t t)
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

void futexwake(void)
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

void mutexheld(void)
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

void unlock_mutex(void)
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
