/* SPDX-License-Identifier: MIT */
/*
 * The guard of a lazy fill (rst_lazy.h): a process of its own that holds a
 * copy of every userfaultfd the filler serves, so that the filler's death
 * (a SIGKILL, a crash) never closes them while pages are missing, which
 * would let the process fault them in as zeros. The kernel closes a dead
 * process's files before its tracees or its children hear of it; with the
 * guard's copies open, the restored process's faults only wait. The guard
 * sees the filler go (the end of their socket without a "done"), kills the
 * restored process and what it forked, waits until they are gone, says so
 * on its stderr (the restore's) and exits 1. A guard that dies makes the
 * filler do the same (rst_lazy.c).
 *
 * Messages on a SOCK_SEQPACKET socket, filler to guard: 'A' id + fd (a
 * userfaultfd: a fork's), 'C' id (closed by the filler: every page is in),
 * 'D' (done: everything closed, exit 0).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "array.h"
#include "compat.h"
#include "ctx.h"
#include "rst_lazy.h"
#include "orphan.h"
#include "util.h"

#define GUARD_FDS 4096

struct gmsg {
	char op;
	uint32_t id;
};

/* @pid and everything below it, by /proc/PID/task/TID/children, into @a. */
static void collect(pid_t pid, pid_t **a, size_t *n, size_t *cap, int depth)
{
	char path[64];
	DIR *d;
	struct dirent *de;

	if (ARRAY_RESERVE(*a, *cap, *n + 1, 16) < 0)
		return;
	(*a)[(*n)++] = pid;
	if (depth > 64)
		return;
	(void)snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char cp[320], *buf = NULL, *p;

		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(cp, sizeof(cp), "/proc/%d/task/%s/children", (int)pid, de->d_name);
		if (sd_read_file(AT_FDCWD, cp, &buf, NULL) < 0)
			continue;
		for (p = buf; *p;) {
			long c = strtol(p, &p, 10);

			if (c > 0)
				collect((pid_t)c, a, n, cap, depth + 1);
			while (*p == ' ' || *p == '\n')
				p++;
			if (*p && (*p < '0' || *p > '9'))
				break;
		}
		free(buf);
	}
	if (d)
		closedir(d);
}

static bool has(const pid_t *a, size_t n, pid_t p)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == p)
			return true;
	return false;
}

void sd_rst_lazy_kill(const struct rst_lazy_kin *k)
{
	pid_t *a = NULL, *b = NULL;
	size_t n = 0, cap = 0, nb = 0, capb = 0;

	/*
	 * Every one stopped first, until what they forked is all found: a
	 * stopped process forks nothing more, and the children of one killed
	 * would go to another parent before we read them; then all killed.
	 */
	for (size_t i = 0; i < k->n; i++)
		if (k->fd[i] >= 0)
			(void)syscall(SYS_pidfd_send_signal, k->fd[i], SIGSTOP, NULL, 0);
	for (int round = 0; round < 8; round++) {
		size_t before = n;

		nb = 0;
		for (size_t i = 0; i < k->n; i++)
			if (k->fd[i] >= 0)
				collect(k->pid[i], &b, &nb, &capb, 0);
		for (size_t i = 0; i < nb; i++)
			if (!has(a, n, b[i]) && ARRAY_RESERVE(a, cap, n + 1, 16) == 0) {
				a[n++] = b[i];
				(void)kill(b[i], SIGSTOP);
			}
		if (n == before && round > 0)
			break;
	}
	for (size_t i = 0; i < k->n; i++)
		if (k->fd[i] >= 0)
			(void)syscall(SYS_pidfd_send_signal, k->fd[i], SIGKILL, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		int fd = (int)syscall(SYS_pidfd_open, a[i], 0);
		struct pollfd p = { fd, POLLIN, 0 };

		if (fd < 0)
			continue;
		(void)syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		while (poll(&p, 1, 5000) < 0 && errno == EINTR)
			;
		(void)close(fd);
	}
	for (size_t i = 0; i < k->n; i++) {
		struct pollfd p = { k->fd[i], POLLIN, 0 };

		while (k->fd[i] >= 0 && poll(&p, 1, 5000) < 0 && errno == EINTR)
			;
	}
	free(a);
	free(b);
}

/* @fd copied above 1000 (where nothing else is), or -1. */
static int high(int fd)
{
	return fd >= 0 ? fcntl(fd, F_DUPFD, 1000) : -1;
}

static void guard_main(const struct rst_lazy_kin *kin, int uffd, int sock)
{
	static int fds[GUARD_FDS];
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct rst_lazy_kin k = *kin;
	pid_t pid = kin->pid[0];
	int top;

	(void)prctl(PR_SET_NAME, "sdump-lazyguard", 0, 0, 0);
	/* no terminal's signals, no pipe of the caller's held open but stderr */
	(void)setsid();
	if (devnull >= 0) {
		(void)dup2(devnull, 0);
		(void)dup2(devnull, 1);
	}
	(void)signal(SIGPIPE, SIG_IGN);
	/* only what it needs kept (a pipe of the caller's held here would never end) */
	uffd = high(uffd);
	sock = high(sock);
	top = MAX(uffd, sock);
	k.fd = calloc(k.n, sizeof(*k.fd));
	if (uffd < 0 || sock < 0 || !k.fd)
		_exit(1);
	for (size_t i = 0; i < k.n; i++)
		top = MAX(top, k.fd[i] = high(kin->fd[i]));
	(void)syscall(SYS_close_range, 3u, 999u, 0u);
	(void)syscall(SYS_close_range, (unsigned int)top + 1, ~0u, 0u);
	for (size_t i = 0; i < GUARD_FDS; i++)
		fds[i] = -1;
	fds[0] = uffd;
	for (;;) {
		struct gmsg m;
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &m, sizeof(m) };
		struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		ssize_t n = recvmsg(sock, &h, MSG_CMSG_CLOEXEC);
		int fd = -1;

		if (n < 0 && errno == EINTR)
			continue;
		c = n > 0 ? CMSG_FIRSTHDR(&h) : NULL;
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		if (n == (ssize_t)sizeof(m) && m.op == 'D')
			break;
		if (n == (ssize_t)sizeof(m) && m.op == 'A' && m.id < GUARD_FDS && fd >= 0) {
			fds[m.id] = fd;
			continue;
		}
		if (n == (ssize_t)sizeof(m) && m.op == 'C' && m.id < GUARD_FDS) {
			if (fds[m.id] >= 0)
				(void)close(fds[m.id]);
			fds[m.id] = -1;
			continue;
		}
		if (fd >= 0)
			(void)close(fd);
		/* the filler is gone (or talks nonsense): the process cannot go on, nor its tree */
		sd_rst_lazy_kill(&k);
		/* a tree's members have a guard each: the first of them to see it says it */
		if (!kin->said)
			(void)dprintf(2, "sdump: the lazy fill of pid %d ended before its memory was in: pid %d is killed\n",
				      (int)pid, (int)pid);
		else if (!atomic_exchange(kin->said, 1))
			(void)dprintf(2, "sdump: the lazy fill of the tree of pid %d ended before the memory of pid %d was in: its %zu processes are killed\n",
				      (int)kin->root, (int)pid, k.n);
		_exit(1);
	}
	_exit(0);
}

struct guard_arg {
	const struct rst_lazy_kin *kin;
	int uffd, sock, ours;
};

static void guard_run(void *arg)
{
	struct guard_arg *g = arg;

	(void)close(g->ours);
	guard_main(g->kin, g->uffd, g->sock);
}

int sd_rst_lazy_guard_start(struct sdump_ctx *ctx, const struct rst_lazy_kin *kin, int uffd, int *ret_sock,
			    pid_t *ret_middle)
{
	struct guard_arg g = { kin, uffd, -1, -1 };
	int sv[2];
	pid_t c;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return sd_err(ctx, -errno, "cannot start the guard of the lazy fill of pid %d", kin->pid[0]);
	g.ours = sv[0];
	g.sock = sv[1];
	/*
	 * Nobody's child: a program restoring through the library reaps
	 * nothing. Not waited for here (on a busy machine the middle one's
	 * turn on a CPU is most of the time to the first instruction): a
	 * guard that was never made closes its end of the socket all the same,
	 * which the filler takes as the guard's end, before the process runs
	 * or after; the middle one is reaped once the process runs.
	 */
	c = sd_orphan_spawn_nowait(guard_run, &g);
	(void)close(sv[1]);
	if (c < 0) {
		(void)close(sv[0]);
		return sd_errx(ctx, -EAGAIN, "cannot start the guard of the lazy fill of pid %d", kin->pid[0]);
	}
	*ret_sock = sv[0];
	*ret_middle = c;
	return 0;
}

static int gsend(int sock, char op, uint32_t id, int fd)
{
	struct gmsg m = { op, id };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		h.msg_control = cbuf;
		h.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	while (sendmsg(sock, &h, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int sd_rst_lazy_guard_add(int sock, uint32_t id, int uffd)
{
	return id < GUARD_FDS ? gsend(sock, 'A', id, uffd) : -EMFILE;
}

int sd_rst_lazy_guard_close(int sock, uint32_t id)
{
	return gsend(sock, 'C', id, -1);
}

void sd_rst_lazy_guard_done(int sock)
{
	(void)gsend(sock, 'D', 0, -1);
}
