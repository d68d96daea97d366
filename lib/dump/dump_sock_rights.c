/* SPDX-License-Identifier: MIT */
/*
 * Files in flight (SCM_RIGHTS) in a unix socket's queue, as the peek of
 * the queue (dump_fd_sock.c) gets them: MSG_PEEK installs a copy of each
 * in sdump (net/unix/af_unix.c, unix_peek_fds), the same open file
 * description, so that its flags and offset are the ones in flight. Kept:
 * a regular file still at its path, an end of a pipe (its bytes read with
 * tee(), which consumes nothing) whose other end is closed or in flight
 * too; anything else is refused with one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "dump_fd_sock.h"
#include "pstate_sock.h"
#include "util.h"

/* The bytes of the pipe whose read end is @fd, not consumed. */
static int pipe_bytes(int fd, struct sock_file *f)
{
	int n = 0, t[2];
	ssize_t got;

	if (ioctl(fd, FIONREAD, &n) < 0)
		return -errno;
	if (n <= 0)
		return 0;
	if ((size_t)n > SOCK_QUEUE_MAX)
		return -E2BIG;
	f->data = malloc((size_t)n);
	if (!f->data || pipe2(t, O_CLOEXEC | O_NONBLOCK) < 0)
		return -ENOMEM;
	(void)fcntl(t[1], F_SETPIPE_SZ, n);
	got = tee(fd, t[1], (size_t)n, SPLICE_F_NONBLOCK);
	if (got == n)
		got = read(t[0], f->data, (size_t)n);
	(void)close(t[0]);
	(void)close(t[1]);
	if (got != n)
		return got < 0 ? -errno : -EIO;
	f->data_len = (size_t)n;
	return 0;
}

int sd_dump_sock_right(int fd, struct sock_file *f, char *what, size_t size)
{
	char link[64], path[PATH_MAX];
	struct stat st, at;
	struct pollfd pf = { .fd = fd };
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	memset(f, 0, sizeof(*f));
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0 || fl < 0 || fstat(fd, &st) < 0)
		return -errno;
	path[n] = '\0';
	(void)snprintf(what, size, "%s", path);
	f->flags = (uint32_t)fl;
	f->ino = st.st_ino;
	if (S_ISREG(st.st_mode) && path[0] == '/') {
		/* still at its path: opened there again */
		if (stat(path, &at) < 0 || at.st_ino != st.st_ino || at.st_dev != st.st_dev)
			return -EOPNOTSUPP;
		f->kind = SKF_FILE;
		f->pos = (uint64_t)lseek(fd, 0, SEEK_CUR);
		f->path = strdup(path);
		return f->path ? 0 : -ENOMEM;
	}
	if (!S_ISFIFO(st.st_mode) || strncmp(path, "pipe:[", 6) || (fl & O_ACCMODE) == O_RDWR)
		return -EOPNOTSUPP;
	f->kind = (fl & O_ACCMODE) == O_RDONLY ? SKF_PIPE_READ : SKF_PIPE_WRITE;
	/* its other end: closed (POLLHUP, POLLERR), or open, then it must be in flight too (checked later) */
	pf.events = f->kind == SKF_PIPE_READ ? POLLIN : POLLOUT;
	(void)poll(&pf, 1, 0);
	f->peer_open = !(pf.revents & (f->kind == SKF_PIPE_READ ? POLLHUP : POLLERR));
	return f->kind == SKF_PIPE_READ ? pipe_bytes(fd, f) : 0;
}

/* Whether a file in flight somewhere in @fs is an end of pipe @ino of kind @kind. */
static bool in_flight(const struct files_state *fs, uint64_t ino, int kind)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;

		for (size_t k = 0; s && !fs->fds[i].has_dup_of && k < s->npkts; k++)
			for (size_t j = 0; j < s->pkts[k].nrights; j++)
				if (s->pkts[k].rights[j].ino == ino && s->pkts[k].rights[j].kind == kind)
					return true;
	}
	return false;
}

int sd_dump_sock_rights_check(struct sdump_ctx *ctx, const struct files_state *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;

		for (size_t k = 0; s && !fs->fds[i].has_dup_of && k < s->npkts; k++)
			for (size_t j = 0; j < s->pkts[k].nrights; j++) {
				const struct sock_file *f = &s->pkts[k].rights[j];
				int other = f->kind == SKF_PIPE_READ ? SKF_PIPE_WRITE : SKF_PIPE_READ;

				if (f->kind == SKF_FILE || !f->peer_open || in_flight(fs, f->ino, other))
					continue;
				return sd_refuse(ctx, -EOPNOTSUPP,
					       "cannot dump pid %d: fd %d is %s with the %s end of pipe:[%llu] in flight in its queue (SCM_RIGHTS), whose other end a process holds, not supported yet; dump once the program has received it",
					       s->pid, fs->fds[i].fd, sd_sock_unix_what(s->type),
					       f->kind == SKF_PIPE_READ ? "read" : "write", (unsigned long long)f->ino);
			}
	}
	return 0;
}
