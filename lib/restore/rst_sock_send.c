/* SPDX-License-Identifier: MIT */
/*
 * The messages of a unix socket's queue sent again (rst_sock.c): one
 * message with its sender's credentials; and a datagram whose sender has
 * gone, from a socket bound to the sender's name in a mount namespace of
 * its own, over whose directory an empty tmpfs is mounted, so that nothing
 * is made, nor removed, where the sender's file was.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate_sock.h"
#include "rst_sock.h"
#include "util.h"

/* The control messages of one send: the credentials (if @uc), the files in flight (@n of @fds). */
static size_t put_cmsgs(struct msghdr *mh, const struct ucred *uc, const int *fds, size_t n)
{
	struct cmsghdr *c;
	size_t len = (uc ? CMSG_SPACE(sizeof(*uc)) : 0) + (n ? CMSG_SPACE(n * sizeof(int)) : 0);

	mh->msg_controllen = len;
	if (!len) {
		mh->msg_control = NULL;
		return 0;
	}
	memset(mh->msg_control, 0, len);
	c = CMSG_FIRSTHDR(mh);
	if (uc) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(*uc));
		memcpy(CMSG_DATA(c), uc, sizeof(*uc));
		c = CMSG_NXTHDR(mh, c);
	}
	if (n) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	return len;
}

int sd_rst_unix_send(struct sdump_ctx *ctx, pid_t pid, int fdno, int from, const struct sock_pkt *p,
		     const struct sock_name *to, const int *fds)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct iovec iov = { .iov_base = p->data, .iov_len = p->len };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(SOCK_RIGHTS_MAX * sizeof(int))];
	} cm;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ucred uc = { .pid = p->creds.pid, .uid = p->creds.uid, .gid = p->creds.gid };
	/* no credentials recorded: none were asked for when it was sent */
	bool creds = p->creds.pid != 0;
	size_t done = 0, nfds = p->nrights;

	if (to) {
		memcpy(a.sun_path, to->path, to->len);
		mh.msg_name = &a;
		mh.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + to->len);
	}
	for (;;) {
		ssize_t n;

		mh.msg_control = cm.b;
		(void)put_cmsgs(&mh, creds ? &uc : NULL, fds, nfds);
		n = sendmsg(from, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		/* a sender gone from this system: the message goes as ours, said so */
		if (n < 0 && (errno == ESRCH || errno == EPERM) && creds) {
			pr_warn(ctx, "pid %d: a message queued on fd %d was sent by pid %d, which is gone: it comes from pid %d now",
				pid, fdno, p->creds.pid, (int)getpid());
			creds = false;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return sd_errx(ctx, -ENOBUFS,
				       "cannot restore pid %d: the messages queued on fd %d do not fit in its queue again",
				       pid, fdno);
		if (n < 0)
			return sd_err(ctx, -errno, "cannot restore pid %d: cannot queue the messages of fd %d again",
				      pid, fdno);
		/* a stream may take part of it: the rest goes with the same credentials, the files went */
		done += (size_t)n;
		nfds = 0;
		if (done >= p->len)
			return 0;
		iov.iov_base = p->data + done;
		iov.iov_len = p->len - done;
	}
}

/* The deepest existing directory above path @p (in @p, cut there), "/" at least. */
static void existing_dir(char *p)
{
	struct stat st;
	char *slash;

	while ((slash = strrchr(p, '/'))) {
		if (slash == p) {
			p[1] = '\0';
			return;
		}
		*slash = '\0';
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return;
	}
	(void)strcpy(p, ".");
}

/*
 * In the child: a namespace of its own where @from's path is free (an
 * absolute one's deepest directory there, a relative one's /tmp, entered,
 * under an empty tmpfs, the directories below made again), @fd bound to it.
 */
static int bind_hidden(int fd, const struct sock_name *from)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[SOCK_NAME_MAX + 8] = "/tmp", sub[SOCK_NAME_MAX + 1] = { 0 };
	bool abs = from->path[0] == '/';
	char *s;

	memcpy(a.sun_path, from->path, from->len);
	memcpy(sub, from->path, from->len);
	if (from->path[0]) {
		if (abs) {
			memcpy(dir, sub, sizeof(sub));
			existing_dir(dir);
		}
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("sdump", dir, "tmpfs", 0, "mode=0755") < 0 || chdir(dir) < 0)
			return -errno;
		for (s = sub + (abs ? strlen(dir) + 1 : 0); (s = strchr(s, '/')); s++) {
			*s = '\0';
			if (s > sub && mkdir(sub, 0755) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	}
	return bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + from->len)) < 0 ?
		       -errno :
		       0;
}

int sd_rst_sock_send_hidden(int fd, const struct sock_name *from, int (*send)(int fd, void *arg), void *arg)
{
	int st = 0, e;
	pid_t c = fork();

	if (c < 0)
		return -errno;
	if (c == 0) {
		e = bind_hidden(fd, from);
		if (e == 0)
			e = send(fd, arg);
		_exit(e < 0 ? -e : 0);
	}
	while (waitpid(c, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? -WEXITSTATUS(st) : -EINTR;
}
