/* SPDX-License-Identifier: MIT */
/*
 * A process (with --child, and a child of it) whose SIGUSR1 and SIGCHLD
 * have a handler (SA_NOCLDSTOP: no SIGCHLD for a child's stop or
 * continue; SIGUSR2 blocked while it runs). Each handler run appends the
 * signal's number, one line, to OUT (OUT.child in the child); otherwise
 * each sleeps in pause(). OUT.ready (OUT.child.ready) holds its pid once
 * it is set up.
 *
 *   sigpendtarget OUT [--child]
 *   sigpendtarget tgkill PID SIGNO   (SIGNO queued for thread PID alone,
 *                                     which kill(1) cannot)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char out[4096];

static void handler(int sig)
{
	char line[16];
	int fd = open(out, O_WRONLY | O_APPEND | O_CREAT, 0644);
	int n = snprintf(line, sizeof(line), "%d\n", sig);

	if (fd >= 0) {
		(void)!write(fd, line, (size_t)n);
		(void)close(fd);
	}
}

static void ready(void)
{
	char path[4200];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s.ready", out);
	f = fopen(path, "w");
	if (!f)
		exit(1);
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	if (argc == 4 && strcmp(argv[1], "tgkill") == 0) {
		int pid = atoi(argv[2]);

		return syscall(SYS_tgkill, pid, pid, atoi(argv[3])) == 0 ? 0 : 1;
	}
	if (argc < 2 || strlen(argv[1]) > 4000) {
		fprintf(stderr, "usage: sigpendtarget OUT [--child] | tgkill PID SIGNO\n");
		return 2;
	}
	(void)snprintf(out, sizeof(out), "%s", argv[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) < 0 || sigaction(SIGCHLD, &sa, NULL) < 0)
		return 1;
	if (argc > 2 && strcmp(argv[2], "--child") == 0 && fork() == 0)
		(void)snprintf(out, sizeof(out), "%s.child", argv[1]);
	ready();
	for (;;)
		pause();
}
