/* SPDX-License-Identifier: MIT */
/* A process that is nobody's child (orphan.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "orphan.h"
#include "util.h"

pid_t sd_orphan_spawn(void (*fn)(void *arg), void *arg)
{
	int p[2], st = 0, e = 0;
	pid_t c, pid = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	c = fork();
	if (c == 0) {
		pid_t h;

		(void)close(p[0]);
		h = fork();
		if (h == 0) {
			(void)close(p[1]);
			fn(arg);
			_exit(1);
		}
		/* its pid, which an exit status cannot hold, by the pipe */
		_exit(h < 0 || write(p[1], &h, sizeof(h)) != sizeof(h));
	}
	if (c < 0)
		e = -errno;
	(void)close(p[1]);
	while (c > 0 && waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	if (e == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || read(p[0], &pid, sizeof(pid)) != sizeof(pid)))
		e = -EAGAIN;
	(void)close(p[0]);
	return e < 0 ? e : pid;
}

pid_t sd_orphan_spawn_nowait(void (*fn)(void *arg), void *arg)
{
	pid_t c;

	fflush(NULL);
	c = fork();
	if (c == 0) {
		pid_t h = fork();

		if (h == 0) {
			fn(arg);
			_exit(1);
		}
		_exit(h < 0);
	}
	return c < 0 ? -errno : c;
}

void sd_orphan_reap(pid_t middle)
{
	while (middle > 0 && waitpid(middle, NULL, 0) < 0 && errno == EINTR)
		;
}
