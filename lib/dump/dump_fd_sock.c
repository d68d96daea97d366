/* SPDX-License-Identifier: MIT */
/*
 * Unix sockets at the final dump: what sock_diag says of each (its name,
 * the file of a bound path, its peer, the clients in a listener's
 * backlog), its options, read through our copy of the fd (pidfd_getfd():
 * the same socket), and its receive queue peeked without consuming it
 * (SO_PEEK_OFF with MSG_PEEK, SO_PASSCRED on for the senders'
 * credentials, both put back as they were). Then, once the table is in,
 * every peer matched by inode (sd_dump_sock_table).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "compat.h"
#include "dump_fd_sock.h"
#include "procfs.h"
#include "pstate_sock.h"
#include "util.h"

/* What a message calls a socket of another family than unix. */
static const char *family_what(int family, int type)
{
	bool stream = type == SOCK_STREAM, dgram = type == SOCK_DGRAM;

	switch (family) {
	case AF_INET:
		return stream ? "an IPv4 TCP socket" : dgram ? "an IPv4 UDP socket" : "an IPv4 socket";
	case AF_INET6:
		return stream ? "an IPv6 TCP socket" : dgram ? "an IPv6 UDP socket" : "an IPv6 socket";
	case AF_NETLINK:
		return "a netlink socket";
	case AF_PACKET:
		return "a packet socket";
	default:
		return "a socket";
	}
}

static int get_int(int fd, int level, int name, int32_t *ret)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) < 0)
		return -errno;
	*ret = v;
	return 0;
}

static int get_timeo(int fd, int name, uint64_t *ret_us)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, name, &tv, &len) < 0)
		return -errno;
	*ret_us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	return 0;
}

int sd_dump_sock_options(int fd, struct sock_state *s)
{
	int32_t v = 0;
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int r;

	r = get_int(fd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf);
	if (r == 0)
		r = get_int(fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf);
	/* a socket whose protocol has no SO_PEEK_OFF: off */
	if (r == 0 && get_int(fd, SOL_SOCKET, SO_PEEK_OFF, &s->peek_off) == -EOPNOTSUPP)
		s->peek_off = -1;
	if (r == 0)
		r = get_int(fd, SOL_SOCKET, SO_RCVLOWAT, &s->rcvlowat);
	if (r == 0)
		r = get_int(fd, SOL_SOCKET, SO_PRIORITY, &s->priority);
	if (r == 0)
		r = get_int(fd, SOL_SOCKET, SO_MARK, &s->mark);
	/* newer kernels have them on unix (and netlink) sockets only: off elsewhere */
	if (r == 0 && (r = get_int(fd, SOL_SOCKET, SO_PASSCRED, &v)) == -EOPNOTSUPP && s->family != AF_UNIX)
		r = v = 0;
	s->passcred = v;
	if (r == 0 && (r = get_int(fd, SOL_SOCKET, SO_PASSSEC, &v)) == -EOPNOTSUPP && s->family != AF_UNIX)
		r = v = 0;
	s->passsec = v;
	/* older kernels have no SO_PASSPIDFD: then it is off */
	if (r == 0 && get_int(fd, SOL_SOCKET, SO_PASSPIDFD, &v) == 0)
		s->passpidfd = v;
	if (r == 0)
		r = get_timeo(fd, SO_RCVTIMEO_OLD, &s->rcvtimeo_us);
	if (r == 0)
		r = get_timeo(fd, SO_SNDTIMEO_OLD, &s->sndtimeo_us);
	if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0)
		s->peercred = (struct sock_creds){ .pid = uc.pid, .uid = uc.uid, .gid = uc.gid };
	return r == 0 ? sd_dump_sock_extra(fd, s) : r;
}

/* One message into s->pkts: a stream's run is added to the one before when from the same writer. */
static int add_pkt(struct sock_state *s, const uint8_t *buf, size_t len, const struct sock_creds *c,
		   const struct sock_name *from, bool stream, struct sock_file *rights, size_t nrights)
{
	struct sock_pkt *p, *last = s->npkts ? &s->pkts[s->npkts - 1] : NULL;

	/* a run with files in flight ends there (and a stream's read stops after it) */
	if (stream && last && !last->nrights && !nrights && !memcmp(&last->creds, c, sizeof(*c))) {
		uint8_t *n = realloc(last->data, last->len + len);

		if (!n)
			return -ENOMEM;
		memcpy(n + last->len, buf, len);
		last->data = n;
		last->len += len;
		return 0;
	}
	if (s->npkts == SOCK_PKTS_MAX || !(p = realloc(s->pkts, (s->npkts + 1) * sizeof(*p)))) {
		sd_sock_files_free(rights, nrights);
		return s->npkts == SOCK_PKTS_MAX ? -E2BIG : -ENOMEM;
	}
	s->pkts = p;
	p = &s->pkts[s->npkts];
	memset(p, 0, sizeof(*p));
	p->data = malloc(len ? len : 1);
	if (!p->data)
		return -ENOMEM;
	memcpy(p->data, buf, len);
	p->len = len;
	p->creds = *c;
	p->rights = rights;
	p->nrights = nrights;
	if (from)
		p->from = *from;
	s->npkts++;
	return 0;
}

/*
 * The credentials of the message, and the files an SCM_RIGHTS message gave
 * us (MSG_PEEK installs them in the receiver) into *@ret_rights (each
 * closed once read): -EOPNOTSUPP for one of a kind not kept, its link in
 * @what.
 */
static int scan_cmsgs(struct msghdr *mh, struct sock_creds *ret_creds, struct sock_file **ret_rights,
		      size_t *ret_n, char *what, size_t size)
{
	int r = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int *fds = (int *)CMSG_DATA(c);
			struct sock_file *f = realloc(*ret_rights, (*ret_n + n) * sizeof(*f));

			if (f)
				*ret_rights = f;
			if (!f)
				r = -ENOMEM;
			for (size_t i = 0; i < n; i++) {
				if (r == 0) {
					r = sd_dump_sock_right(fds[i], &f[*ret_n], what, size);
					if (r == 0)
						(*ret_n)++;
					else
						sd_sock_files_free_one(&f[*ret_n]);
				}
				(void)close(fds[i]);
			}
		} else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*ret_creds = (struct sock_creds){ .pid = uc.pid, .uid = uc.uid, .gid = uc.gid };
		}
	}
	return r;
}

/* The receive queue of our copy @fd of socket @p, every message peeked from offset 0 on. */
#define PEEK_BUF (4u << 20)
static int peek_queue(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct sock_state *s,
		      uint32_t rqlen)
{
	bool stream = s->type == SOCK_STREAM;
	_cleanup_free_ uint8_t *buf = malloc(PEEK_BUF);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(253 * sizeof(int))];
	} cm;
	size_t total = 0;
	int one = 1, zero = 0, r = 0;
	char what[256] = "";

	if (!buf)
		return -ENOMEM;
	/*
	 * An error not read yet, which a peek past the last byte would
	 * consume: a stream's whose peer closed with bytes unread
	 * (ECONNRESET) is kept, its queue peeked to its last byte only
	 * (rqlen), the restore closing the peer with a byte unread again.
	 */
	struct pollfd pf = { .fd = fd };

	if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLERR)) {
		if (!stream || s->shutdown != 3 || s->peer_ino)
			return sd_refuse(ctx, -EOPNOTSUPP,
					 "cannot dump pid %d: fd %d is %s with an error the process has not read yet, not supported yet; dump it once the process has read it",
					 p->pid, p->fd, sd_sock_unix_what(s->type));
		s->peer_reset = true;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		r = sd_err(ctx, -errno, "cannot peek the queue of fd %d of pid %d", p->fd, p->pid);
	while (r == 0 && !(s->peer_reset && total >= rqlen)) {
		struct sockaddr_un from = { 0 };
		struct iovec iov = { .iov_base = buf, .iov_len = PEEK_BUF };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				     .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
		struct sock_creds c = { 0 };
		struct sock_name fn = { 0 };
		struct sock_file *rights = NULL;
		size_t nrights = 0;
		ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);

		if (n < 0) {
			if (errno != EAGAIN)
				r = sd_err(ctx, -errno, "cannot peek the queue of fd %d of pid %d", p->fd, p->pid);
			break;
		}
		/*
		 * A stream's end (its peer shut down its writing); a seqpacket's
		 * too once every byte it holds (rqlen counts them all) is read.
		 */
		if (n == 0 && (stream || (s->type == SOCK_SEQPACKET && (s->shutdown & 1) && total >= rqlen)))
			break;
		r = scan_cmsgs(&mh, &c, &rights, &nrights, what, sizeof(what));
		if (r == -EOPNOTSUPP || (r == 0 && (mh.msg_flags & MSG_CTRUNC)))
			r = sd_refuse(ctx, -EOPNOTSUPP,
				    "cannot dump pid %d: fd %d is %s with %s in flight in its queue (SCM_RIGHTS), which sdump does not save (regular files and pipes in flight it does); dump once the program has received it",
				    p->pid, p->fd, sd_sock_unix_what(s->type), r == -EOPNOTSUPP ? what : "more fds than a message carries");
		else if (r < 0)
			r = sd_err(ctx, r, "cannot read the fds in flight of fd %d of pid %d", p->fd, p->pid);
		if (r < 0) {
			sd_sock_files_free(rights, nrights);
			break;
		}
		if ((size_t)n > PEEK_BUF || (mh.msg_flags & MSG_TRUNC) || total + (size_t)n > SOCK_QUEUE_MAX) {
			r = sd_refuse(ctx, -E2BIG, "cannot dump pid %d: fd %d has more bytes queued than an image keeps",
				    p->pid, p->fd);
			break;
		}
		if (!stream && mh.msg_namelen > sizeof(sa_family_t)) {
			fn.len = (uint8_t)MIN((size_t)mh.msg_namelen - sizeof(sa_family_t), (size_t)SOCK_NAME_MAX);
			memcpy(fn.path, from.sun_path, fn.len);
		}
		total += (size_t)n;
		r = add_pkt(s, buf, (size_t)n, &c, &fn, stream, rights, nrights);
		if (r == -E2BIG) {
			r = sd_refuse(ctx, r, "cannot dump pid %d: fd %d has more messages queued than an image keeps",
				      p->pid, p->fd);
			break;
		}
		if (r < 0)
			r = sd_err(ctx, r, "cannot peek the queue of fd %d of pid %d", p->fd, p->pid);
	}
	/* the process's own settings back */
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &s->peek_off, sizeof(s->peek_off)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ s->passcred }, sizeof(int)) < 0)
		r = r < 0 ? r : sd_err(ctx, -errno, "cannot put back the options of fd %d of pid %d", p->fd, p->pid);
	return r;
}

/* Whether @path is the file bind() made for socket @u (unix_diag's VFS), its stat in *@st. */
static bool is_vfs(const char *path, const struct unix_diag_info *u, struct stat *st)
{
	return u->has_vfs && stat(path, st) == 0 && st->st_ino == u->vfs_ino &&
	       ((uint64_t)major(st->st_dev) << 32 | minor(st->st_dev)) == u->vfs_dev;
}

/*
 * A relative path: the directory of pid @pid it is found in, its cwd or a
 * directory it holds open (/proc/PID/@link), as the process sees it, in
 * s->name_dir, the file's stat in *@st; -ENOENT if none.
 */
static int rel_in(const char *link, const struct unix_diag_info *u, struct sock_state *s, struct stat *st)
{
	char path[PROC_PATH_MAX + 300 + SOCK_NAME_MAX], dir[PATH_MAX];
	ssize_t len;

	(void)snprintf(path, sizeof(path), "%s/%.*s", link, (int)strnlen(s->name.path, s->name.len), s->name.path);
	if (!is_vfs(path, u, st) || (len = readlink(link, dir, sizeof(dir) - 1)) <= 0 || dir[0] != '/')
		return -ENOENT;
	dir[len] = '\0';
	s->name_dir = strdup(dir);
	return s->name_dir ? 0 : -ENOMEM;
}

static int find_rel(pid_t pid, const struct unix_diag_info *u, struct sock_state *s, struct stat *st)
{
	char link[PROC_PATH_MAX + 300];
	struct dirent *e;
	DIR *d;
	int r = rel_in(sd_proc_path(link, pid, "cwd"), u, s, st);

	if (r != -ENOENT || !(d = opendir(sd_proc_path(link, pid, "fd"))))
		return r;
	while (r == -ENOENT && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(link, sizeof(link), "/proc/%d/fd/%s", (int)pid, e->d_name);
		r = rel_in(link, u, s, st);
	}
	(void)closedir(d);
	return r;
}

/*
 * A path the socket is bound to: the file there must be the one bind()
 * made (else it was removed or replaced since, and the restore binds and
 * removes it again), its mode and owner. A relative path is looked for in
 * the process's cwd and the directories it holds open.
 */
static int read_vfs(struct sdump_ctx *ctx, const struct fd_probe *p, const struct unix_diag_info *u,
		    struct sock_state *s)
{
	char path[PROC_PATH_MAX + SOCK_NAME_MAX + 8];
	struct stat st;
	int r;

	if (!s->name.len || !s->name.path[0])
		return 0;
	s->vfs_dev = u->vfs_dev;
	s->vfs_ino = u->vfs_ino;
	if (s->name.path[0] != '/') {
		r = find_rel(p->pid, u, s, &st);
		if (r == -ENOENT)
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: fd %d is %s bound to the relative path '%.*s', whose file is neither in its working directory nor in a directory it holds open (removed, or the process changed directory since the bind), not supported",
				       p->pid, p->fd, sd_sock_unix_what(s->type), (int)strnlen(s->name.path, s->name.len),
				       s->name.path);
		if (r < 0)
			return r;
	} else {
		(void)snprintf(path, sizeof(path), "/proc/%d/root%.*s", p->pid,
			       (int)strnlen(s->name.path, s->name.len), s->name.path);
		if (!is_vfs(path, u, &st)) {
			s->vfs_gone = true;
			return 0;
		}
	}
	s->vfs_mode = st.st_mode & 07777;
	s->vfs_uid = st.st_uid;
	s->vfs_gid = st.st_gid;
	return 0;
}

static int collect(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct fd_state *d,
		   struct sock_state *s)
{
	struct unix_diag_info u = { 0 };
	int32_t family = 0, type = 0;
	int r;

	if (get_int(fd, SOL_SOCKET, SO_DOMAIN, &family) < 0 || get_int(fd, SOL_SOCKET, SO_TYPE, &type) < 0)
		return sd_err(ctx, -errno, "cannot read the socket of fd %d of pid %d", p->fd, p->pid);
	s->family = family;
	s->type = type;
	if (family == AF_INET || family == AF_INET6)
		return sd_dump_inet_sock(ctx, p, fd, d, s);
	if (family == AF_NETLINK)
		return sd_dump_netlink_sock(ctx, p, fd, d, s);
	if (family == AF_PACKET)
		return sd_dump_packet_sock(ctx, p, fd, d, s);
	if (family != AF_UNIX)
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is %s (%s), not supported yet",
			       p->pid, p->fd, family_what(family, type), p->path);
	s->ino = d->ino;
	s->pid = p->pid;
	r = sd_sockdiag_unix(d->ino, &u);
	if (r == -ENOENT)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is a unix socket (%s) of another network namespace, not supported yet",
			       p->pid, p->fd, p->path);
	if (r < 0)
		return sd_err(ctx, r, "cannot read the socket of fd %d of pid %d (sock_diag)", p->fd, p->pid);
	s->state = u.state;
	s->name = u.name;
	s->peer_ino = u.peer_ino;
	s->shutdown = u.shutdown;
	s->icons = u.icons;
	s->nicons = u.nicons;
	if (s->state != SKS_ESTABLISHED && s->state != SKS_CLOSE && s->state != SKS_LISTEN)
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is %s in state %d, not supported yet",
			       p->pid, p->fd, sd_sock_unix_what(type), s->state);
	if (s->nicons > SOCK_ICONS_MAX)
		return sd_refuse(ctx, -E2BIG, "cannot dump pid %d: fd %d has more connections waiting than an image keeps",
			       p->pid, p->fd);
	if (s->state == SKS_LISTEN)
		s->backlog = u.wqlen;
	/* a client its listener has not accepted yet: what it sent waits where no peek reaches */
	if (s->state == SKS_ESTABLISHED && s->type != SOCK_DGRAM && !s->peer_ino && !s->shutdown && u.wqlen)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is %s whose connection has not been accepted yet and which has sent bytes on it, not supported yet",
			       p->pid, p->fd, sd_sock_unix_what(type));
	if (s->state != SKS_LISTEN) {
		struct sockaddr_un a = { 0 };
		socklen_t len = sizeof(a);

		s->has_peer = getpeername(fd, (struct sockaddr *)&a, &len) == 0;
		if (s->has_peer && len > sizeof(sa_family_t)) {
			s->peer_name.len = (uint8_t)MIN((size_t)len - sizeof(sa_family_t), (size_t)SOCK_NAME_MAX);
			memcpy(s->peer_name.path, a.sun_path, s->peer_name.len);
		}
	}
	r = read_vfs(ctx, p, &u, s);
	if (r == 0)
		r = sd_dump_sock_options(fd, s);
	if (r < 0)
		return r == -EOPNOTSUPP || r == -E2BIG ? r :
			sd_err(ctx, r, "cannot read the options of the socket of fd %d of pid %d", p->fd, p->pid);
	r = sd_dump_sock_check(ctx, p, fd, s);
	if (r < 0)
		return r;
	/* an unconnected stream has no queue (and recvmsg() says EINVAL) */
	if (s->state == SKS_ESTABLISHED || (s->type == SOCK_DGRAM && s->state != SKS_LISTEN))
		r = peek_queue(ctx, p, fd, s, u.rqlen);
	return r;
}

int sd_dump_unix_sock(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		      struct fd_state *d)
{
	size_t refused = ctx->refusals.n;
	struct sock_state *s;
	int copy, r;

	(void)done;
	/* an O_PATH fd of a socket file is no socket */
	if (d->flags & O_PATH)
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is an O_PATH fd of a socket (%s), not supported yet",
			       p->pid, p->fd, p->path);
	copy = sd_fd_probe_take(ctx, p);
	if (copy < 0)
		return copy;
	s = calloc(1, sizeof(*s));
	r = s ? collect(ctx, p, copy, d, s) : -ENOMEM;
	(void)close(copy);
	if (r == -ENOMEM)
		r = sd_err(ctx, r, "cannot read the socket of fd %d of pid %d", p->fd, p->pid);
	/* refused (a preflight carries on): no socket for the pass over the table */
	if (r < 0 || ctx->refusals.n > refused) {
		sd_sock_state_free(s);
		return r;
	}
	d->sk = s;
	return 0;
}

/* sk_shutdown's bits */
#define RCV_SHUT 1
#define SEND_SHUT 2

/* The unix socket fd of @fs on inode @ino (its lowest fd), NULL if none. */
static struct fd_state *by_ino(struct files_state *fs, uint64_t ino)
{
	for (size_t i = 0; ino && i < fs->n; i++)
		if (fs->fds[i].sk && !fs->fds[i].has_dup_of && fs->fds[i].sk->ino == ino)
			return &fs->fds[i];
	return NULL;
}

static bool same_name(const struct sock_name *a, const struct sock_name *b)
{
	return a->len && a->len == b->len && !memcmp(a->path, b->path, a->len);
}

/* The socket of @fs of type @type bound to name @n (no accepted one: they carry their listener's). */
static struct fd_state *by_name(struct files_state *fs, const struct sock_name *n, int type)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;

		if (s && !fs->fds[i].has_dup_of && s->type == type && !s->listener_ino && same_name(&s->name, n))
			return &fs->fds[i];
	}
	return NULL;
}

static bool declared_external(const struct sdump_dump_opts *o, const struct sock_state *s)
{
	for (size_t i = 0; i < o->next_unix; i++)
		if (o->ext_unix[i] == s->ino || (s->peer_ino && o->ext_unix[i] == s->peer_ino))
			return true;
	return false;
}

/* A peer outside the dump: taken if declared, with a name to connect to again and nothing queued. */
static int outside_peer(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, pid_t pid, struct fd_state *d)
{
	struct sock_state *s = d->sk;
	char name[SOCK_NAME_TEXT_MAX], peer[32];

	sd_sock_name_text(&s->peer_name, name);
	peer[0] = '\0';
	if (s->peer_ino)
		(void)snprintf(peer, sizeof(peer), "socket:[%llu], ", (unsigned long long)s->peer_ino);
	/* first: no --external can take an unbound peer (a socketpair another process holds, say) */
	if (!s->peer_name.len)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is %s connected to a peer outside the process (%sunbound), which a restore cannot connect to again; a socketpair shared with a process outside the dump is not supported (dump the tree they share)",
			       pid, d->fd, sd_sock_unix_what(s->type), peer);
	if (!declared_external(o, s))
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is %s connected to a peer outside the process (%s%s); --external unix:%llu connects it to %s again at restore",
			       pid, d->fd, sd_sock_unix_what(s->type), peer, name, (unsigned long long)s->ino, name);
	if (s->npkts)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is %s connected to a peer outside the process (%s%s) with messages from it queued, which a restore cannot send again",
			       pid, d->fd, sd_sock_unix_what(s->type), peer, name);
	s->external = true;
	return 0;
}

/* The listener of @fs on @s's name and type: s->listener_ino set to it, if there is one. */
static bool listener_of(struct files_state *fs, struct sock_state *s)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct sock_state *l = fs->fds[i].sk;

		if (l && !fs->fds[i].has_dup_of && l->state == SKS_LISTEN && l->type == s->type &&
		    same_name(&l->name, &s->name)) {
			s->listener_ino = l->ino;
			return true;
		}
	}
	return false;
}

/*
 * A connected stream or seqpacket socket whose peer @e is in the table:
 * the end accept() gave carries its listener's name, and is accepted
 * again from its listener, or from one made for it if the process closed
 * its own.
 */
static int accepted_end(struct files_state *fs, struct fd_state *d, const struct fd_state *e)
{
	struct sock_state *s = d->sk;

	if (!s->name.len)
		return 0;
	if (listener_of(fs, s))
		return 0;
	/* a client bound to a name of its own, connected to a listener's */
	if (e->sk->name.len && by_name(fs, &e->sk->name, s->type) &&
	    by_name(fs, &e->sk->name, s->type)->sk->state == SKS_LISTEN)
		return 0;
	/* a listener closed since: one is made on its name for the restore's accept() */
	s->listener_gone = true;
	return 0;
}

/* A listener: every connection waiting in its backlog is from a socket of the table. */
static int backlog_in(struct sdump_ctx *ctx, pid_t pid, struct files_state *fs, const struct fd_state *d)
{
	const struct sock_state *s = d->sk;
	char name[SOCK_NAME_TEXT_MAX];

	for (size_t k = 0; k < s->nicons; k++) {
		if (by_ino(fs, s->icons[k]))
			continue;
		sd_sock_name_text(&s->name, name);
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is %s listening on %s with a connection from outside the process waiting in its backlog (socket:[%llu]), not supported yet",
			       pid, d->fd, sd_sock_unix_what(s->type), name, (unsigned long long)s->icons[k]);
	}
	return 0;
}

/* Whether socket @ino waits in the backlog of a listener of @fs. */
static bool in_backlog(struct files_state *fs, uint64_t ino)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct sock_state *l = fs->fds[i].sk;

		for (size_t k = 0; l && l->state == SKS_LISTEN && k < l->nicons; k++)
			if (l->icons[k] == ino)
				return true;
	}
	return false;
}

/*
 * Whether a socket is bound to abstract name @n (in our network
 * namespace): a bind of ours to it fails then (a probe by connect() would
 * change the state of the socket there).
 */
static bool abstract_held(const struct sock_name *n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool held;

	if (fd < 0)
		return true;
	memcpy(a.sun_path, n->path, n->len);
	held = bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n->len)) < 0;
	(void)close(fd);
	return held;
}

/*
 * An unconnected datagram socket: each datagram queued is from a socket
 * of the table, an unbound one, or one that has gone (the restore sends it
 * from its name again); not from an abstract name held outside.
 */
static int senders_in(struct sdump_ctx *ctx, pid_t pid, struct files_state *fs, const struct fd_state *d)
{
	const struct sock_state *s = d->sk;
	char name[SOCK_NAME_TEXT_MAX];

	for (size_t k = 0; k < s->npkts; k++) {
		const struct sock_name *from = &s->pkts[k].from;

		if (!from->len || by_name(fs, from, s->type) || from->path[0] || !abstract_held(from))
			continue;
		sd_sock_name_text(from, name);
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is %s with a datagram queued from %s, a socket outside the process that holds the name still, which a restore cannot send again",
			       pid, d->fd, sd_sock_unix_what(s->type), name);
	}
	return 0;
}

/*
 * Connected, its peer closed since (made again as a pair whose other end
 * closes once the queue is in). A named stream or seqpacket end is one
 * accept() gave its listener's name (and its file): it is accepted again
 * from that listener. A datagram one's
 * queue is its peer's (a connected socket takes no other's), but for
 * what others sent before it connected.
 */
static int peer_closed(struct sdump_ctx *ctx, pid_t pid, struct files_state *fs, struct fd_state *d)
{
	struct sock_state *s = d->sk;

	s->peer_gone = true;
	if (s->type == SOCK_DGRAM) {
		for (size_t k = 0; k < s->npkts; k++)
			if (s->pkts[k].from.len != s->peer_name.len ||
			    memcmp(s->pkts[k].from.path, s->peer_name.path, s->peer_name.len))
				return sd_refuse(ctx, -EOPNOTSUPP,
					       "cannot dump pid %d: fd %d is %s whose peer has closed, with datagrams queued from another sender before it connected, not supported yet",
					       pid, d->fd, sd_sock_unix_what(s->type));
		return 0;
	}
	if (!s->name.len)
		return 0;
	if (listener_of(fs, s))
		return 0;
	/*
	 * Accepted from a listener closed since, or bound by itself before it
	 * connected: alike to the program (the name, no peer, a path no
	 * listener is on), accepted again from a listener made for it.
	 */
	s->listener_gone = true;
	return 0;
}

static int check_one(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs,
		     struct fd_state *d)
{
	struct sock_state *s = d->sk;
	pid_t pid = s->pid;
	struct fd_state *e;

	if (s->state == SKS_LISTEN)
		return backlog_in(ctx, pid, fs, d);
	/* an unconnected stream or seqpacket socket has no peer */
	if (s->state == SKS_CLOSE && s->type != SOCK_DGRAM)
		return 0;
	if (s->state == SKS_ESTABLISHED && !s->peer_ino && in_backlog(fs, s->ino))
		return 0;
	/* its peer closed: a stream's is shut down both ways by then */
	if (s->state == SKS_ESTABLISHED && !s->peer_ino &&
	    ((s->type == SOCK_DGRAM && s->has_peer) || s->shutdown == (RCV_SHUT | SEND_SHUT)))
		return peer_closed(ctx, pid, fs, d);
	if (s->type == SOCK_DGRAM && !s->peer_ino)
		return senders_in(ctx, pid, fs, d);
	e = by_ino(fs, s->peer_ino);
	if (!e)
		return outside_peer(ctx, o, pid, d);
	if (s->type == SOCK_DGRAM) {
		/* an unbound peer has no name to connect to: only socketpair() makes the pair again */
		if (!e->sk->name.len && e->sk->peer_ino != s->ino)
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: fd %d is %s connected to the unbound fd %d, which is not connected to it, not supported yet",
				       pid, d->fd, sd_sock_unix_what(s->type), e->fd);
		return 0;
	}
	return accepted_end(fs, d, e);
}

int sd_dump_unix_table(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs)
{
	int r = sd_dump_sock_rights_check(ctx, fs);

	for (size_t i = 0; r == 0 && i < fs->n; i++) {
		if (!fs->fds[i].sk || fs->fds[i].has_dup_of || fs->fds[i].kind != FDK_UNIX)
			continue;
		r = check_one(ctx, o, fs, &fs->fds[i]);
	}
	return r;
}

int sd_dump_sock_table(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs)
{
	int r = sd_dump_inet_table(ctx, o, fs);

	return r == 0 ? sd_dump_unix_table(ctx, o, fs) : r;
}
