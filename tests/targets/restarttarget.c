/* SPDX-License-Identifier: MIT */
/*
 * A target whose threads sit in the calls the kernel restarts through a
 * restart block (restart_syscall) after a stop: poll() without a timeout
 * on a pipe, poll() with one, clock_nanosleep(), nanosleep() and a timed
 * futex wait through glibc (sem_timedwait), each 1.5 s at a time, and a
 * timed futex wait through syscall(), as Rust's std makes them. None of
 * these may fail with EINTR here (no handler runs): each thread counts
 * the EINTRs it sees. Driven over stdin/stdout one line at a time:
 *
 *   poke   -> a byte into the pipe the untimed poll() waits on; "ok"
 *   stats  -> "ok EINTR WOKEN ROUNDS": the EINTRs seen, the pokes the
 *             untimed poll() took, the rounds the timed calls made
 *   exit   -> exits 0
 *
 * It prints "ready PID" once every thread has started. With --generic
 * one more thread waits in poll() made through syscall() (100 s at a
 * time): interrupted, a dump cannot tell which call it restarts.
 */
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_long eintr, woken, rounds, started;
static int pipefd[2];
static sem_t sem;
static int futex_word;

static void count(int r)
{
	if (r == EINTR)
		eintr++;
	else
		rounds++;
}

static void *untimed_poll(void *arg)
{
	struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
	char c;

	(void)arg;
	started++;
	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			count(errno);
			continue;
		}
		if (read(pipefd[0], &c, 1) == 1)
			woken++;
	}
	return NULL;
}

static void *timed(void *arg)
{
	const struct timespec d = { 1, 500 * 1000 * 1000 };
	long kind = (long)arg;

	started++;
	for (;;) {
		struct timespec ts;

		switch (kind) {
		case 0:
			count(poll(NULL, 0, 1500) < 0 ? errno : 0);
			break;
		case 1:
			count(clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL));
			break;
		case 2:
			count(nanosleep(&d, NULL) < 0 ? errno : 0);
			break;
		case 3:
			(void)clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += d.tv_sec;
			ts.tv_nsec += d.tv_nsec;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			count(sem_timedwait(&sem, &ts) < 0 ? errno : 0);
			break;
		case 5:
			count(syscall(SYS_poll, NULL, 0, 100000) < 0 ? errno : 0);
			break;
		case 4:
			/* syscall(): no `mov $NR, %eax` before its `syscall`; EINTR is a spurious wakeup there */
			if (syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &d, NULL, 0) < 0 &&
			    errno != ETIMEDOUT && errno != EINTR)
				eintr += 1000;
			rounds++;
			break;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(pipefd) < 0 || sem_init(&sem, 0, 0) < 0)
		return 1;
	if (pthread_create(&t, NULL, untimed_poll, NULL) != 0)
		return 1;
	for (long k = 0; k < 5; k++)
		if (pthread_create(&t, NULL, timed, (void *)k) != 0)
			return 1;
	if (argc > 1 && !strcmp(argv[1], "--generic") && pthread_create(&t, NULL, timed, (void *)5L) != 0)
		return 1;
	/* every thread on its way into its call */
	while (started < (argc > 1 ? 7 : 6))
		usleep(1000);
	printf("ready %d\n", getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "poke\n")) {
			if (write(pipefd[1], "x", 1) != 1)
				return 1;
			printf("ok\n");
		} else if (!strcmp(line, "stats\n")) {
			printf("ok %ld %ld %ld\n", (long)eintr, (long)woken, (long)rounds);
		} else if (!strcmp(line, "exit\n")) {
			return 0;
		} else {
			printf("bad command\n");
		}
	}
	return 0;
}
