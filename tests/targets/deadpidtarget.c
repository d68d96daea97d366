/* SPDX-License-Identifier: MIT */
/*
 * A tree of two (root, child) holding pidfds of one process that has
 * exited, the child's child: the root one, the child two (two pidfd_open()
 * calls: two open file descriptions, one pidfs inode for all three). The
 * child kills and reaps it before the root says "ready PID"; commands on
 * stdin, one line each:
 *
 *   fds  -> "fds CHILD ROOTFD CHILDFD1 CHILDFD2"
 *   exit -> the child killed and reaped, the root exits 0
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int main(void)
{
	int to_root[2], to_child[2], rfd, cfd[2] = { -1, -1 };
	pid_t child, grandchild;
	char line[128];

	if (pipe(to_root) < 0 || pipe(to_child) < 0)
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		grandchild = fork();
		if (grandchild == 0) {
			for (;;)
				pause();
		}
		/* the root opens its pidfd while it lives, then the child two */
		if (grandchild < 0 || write(to_root[1], &grandchild, sizeof(grandchild)) != sizeof(grandchild) ||
		    read(to_child[0], line, 1) != 1)
			_exit(1);
		cfd[0] = pidfd_open(grandchild);
		cfd[1] = pidfd_open(grandchild);
		(void)kill(grandchild, SIGKILL);
		if (cfd[0] < 0 || cfd[1] < 0 || waitpid(grandchild, NULL, 0) != grandchild)
			_exit(1);
		if (write(to_root[1], cfd, sizeof(cfd)) != sizeof(cfd))
			_exit(1);
		for (;;)
			pause();
	}
	if (read(to_root[0], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
		return 1;
	rfd = pidfd_open(grandchild);
	if (rfd < 0 || write(to_child[1], "x", 1) != 1 || read(to_root[0], cfd, sizeof(cfd)) != sizeof(cfd))
		return 1;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "fds", 3) == 0) {
			printf("fds %d %d %d %d\n", (int)child, rfd, cfd[0], cfd[1]);
		} else if (strncmp(line, "exit", 4) == 0) {
			(void)kill(child, SIGKILL);
			(void)waitpid(child, NULL, 0);
			return 0;
		} else {
			printf("unknown\n");
		}
		fflush(stdout);
	}
	return 0;
}
