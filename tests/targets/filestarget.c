/* SPDX-License-Identifier: MIT */
/*
 * A tree whose members share fd tables (CLONE_FILES): the root, its child
 * A forked with CLONE_FILES, A's child B forked so from A (all three one
 * table), and the root's child C forked plainly (a copy of its own). The
 * children pause. With --siblings instead: A and C forked with CLONE_FILES,
 * then the root's own table unshared (A and C share one, not the root's).
 * The root reads commands, one line each:
 *
 *   pids -> "pids ROOT A B C" (--siblings: B is C)
 *   open -> "fd N": /dev/zero opened by the root as fd N (A and B see it)
 *   exit -> every child killed, the root exits 0 (so at the end of stdin)
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* fork(), with @flags too */
static pid_t fork_with(unsigned long flags)
{
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
	bool siblings = argc > 1 && strcmp(argv[1], "--siblings") == 0;
	pid_t a, b = 0, c;
	int p[2];
	char line[128];

	if (pipe(p) < 0)
		return 1;
	if (siblings) {
		a = fork_with(CLONE_FILES);
		if (a == 0)
			for (;;)
				pause();
		c = fork_with(CLONE_FILES);
		if (c == 0)
			for (;;)
				pause();
		if (a < 0 || c < 0 || unshare(CLONE_FILES) < 0)
			return 1;
		b = c;
		goto ready;
	}
	a = fork_with(CLONE_FILES);
	if (a == 0) {
		b = fork_with(CLONE_FILES);
		if (b < 0 || write(p[1], &b, sizeof(b)) != sizeof(b))
			_exit(1);
		for (;;)
			pause();
	}
	if (a < 0 || read(p[0], &b, sizeof(b)) != sizeof(b) || b <= 0)
		return 1;
	c = fork_with(0);
	if (c == 0) {
		for (;;)
			pause();
	}
	if (c < 0)
		return 1;
ready:
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "pids", 4) == 0) {
			printf("pids %d %d %d %d\n", (int)getpid(), (int)a, (int)b, (int)c);
		} else if (strncmp(line, "open", 4) == 0) {
			printf("fd %d\n", open("/dev/zero", O_RDONLY));
		} else if (strncmp(line, "exit", 4) == 0) {
			break;
		} else {
			printf("unknown\n");
		}
		fflush(stdout);
	}
	/* at exit or at the end of stdin */
	if (!siblings)
		(void)kill(b, SIGKILL);
	(void)kill(a, SIGKILL);
	(void)kill(c, SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}
