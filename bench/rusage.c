/* SPDX-License-Identifier: MIT */
/*
 * Run a command and report what it cost, for bench/run:
 *
 *   rusage OUTFILE PROG [ARGS...]
 *
 * writes one line "wall_us user_us sys_us maxrss_kib status" to OUTFILE
 * (wall time from fork to reaping, CPU time and peak resident set of PROG and
 * of the children it waited for, as getrusage/wait4 report them; status is
 * the exit status, 128+N for signal N) and exits with that status. PROG's
 * stdin, stdout and stderr are ours. Used instead of /usr/bin/time because
 * the benchmark also runs inside a busybox VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static long long tv_us(struct timeval tv)
{
	return tv.tv_sec * 1000000LL + tv.tv_usec;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	long long t0, t1;
	int st, code;
	pid_t pid;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: rusage OUTFILE PROG [ARGS...]\n");
		return 2;
	}
	t0 = now_us();
	pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rusage: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("rusage: wait4");
			return 2;
		}
	}
	t1 = now_us();
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 2;
	}
	fprintf(out, "%lld %lld %lld %ld %d\n", t1 - t0, tv_us(ru.ru_utime), tv_us(ru.ru_stime),
		ru.ru_maxrss, code);
	if (fclose(out) != 0) {
		perror(argv[1]);
		return 2;
	}
	return code;
}
