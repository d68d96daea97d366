/* SPDX-License-Identifier: MIT */
/*
 * TCP and UDP sockets, IPv4 and IPv6, at the final dump, through our copy
 * of the fd (pidfd_getfd(): the same socket): the bound and peer
 * addresses, the state (TCP_INFO), a listener's backlog, the options of
 * sd_sock_inet_opts[], a UDP socket's queue peeked without consuming it
 * (SO_PEEK_OFF with MSG_PEEK, put back as it was). A listener with
 * connections not accepted yet, and an established TCP connection, are
 * refused with one line.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "compat.h"
#include "dump_fd_sock.h"
#include "pstate_sock.h"
#include "util.h"

/* An address of @len bytes in @a, a bound one: port 0 is none. */
static uint8_t keep_addr(const struct sockaddr_storage *a, socklen_t len, uint8_t *out)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;

	if (len > SOCK_ADDR_MAX || (a->ss_family == AF_INET && !a4->sin_port) ||
	    (a->ss_family == AF_INET6 && !a6->sin6_port) || (a->ss_family != AF_INET && a->ss_family != AF_INET6))
		return 0;
	memcpy(out, a, len);
	return (uint8_t)len;
}

static const char *what(const struct sock_state *s)
{
	if (s->type == SOCK_STREAM)
		return s->family == AF_INET ? "an IPv4 TCP socket" : "an IPv6 TCP socket";
	return s->family == AF_INET ? "an IPv4 UDP socket" : "an IPv6 UDP socket";
}

/* The datagrams queued on UDP socket @fd, each with its sender's address. */
#define PEEK_BUF 65536
static int peek_udp(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct sock_state *s)
{
	_cleanup_free_ uint8_t *buf = malloc(PEEK_BUF);
	size_t total = 0;
	int zero = 0, r = 0;

	if (!buf)
		return -ENOMEM;
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return sd_err(ctx, -errno, "cannot peek the queue of fd %d of pid %d", p->fd, p->pid);
	while (r == 0) {
		struct sockaddr_storage from = { 0 };
		struct iovec iov = { .iov_base = buf, .iov_len = PEEK_BUF };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
		struct sock_pkt *q;

		if (n < 0) {
			if (errno != EAGAIN)
				r = sd_err(ctx, -errno, "cannot peek the queue of fd %d of pid %d", p->fd, p->pid);
			break;
		}
		if ((size_t)n > PEEK_BUF || s->npkts == SOCK_PKTS_MAX || total + (size_t)n > SOCK_QUEUE_MAX) {
			r = sd_refuse(ctx, -E2BIG, "cannot dump pid %d: fd %d has more datagrams queued than an image keeps",
				      p->pid, p->fd);
			break;
		}
		q = realloc(s->pkts, (s->npkts + 1) * sizeof(*q));
		if (!q) {
			r = -ENOMEM;
			break;
		}
		s->pkts = q;
		q = &s->pkts[s->npkts];
		memset(q, 0, sizeof(*q));
		q->data = malloc(n ? (size_t)n : 1);
		if (!q->data) {
			r = -ENOMEM;
			break;
		}
		memcpy(q->data, buf, (size_t)n);
		q->len = (size_t)n;
		if (mh.msg_namelen <= SOCK_ADDR_MAX) {
			q->from.len = (uint8_t)mh.msg_namelen;
			memcpy(q->from.path, &from, mh.msg_namelen);
		}
		s->npkts++;
		total += (size_t)n;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &s->peek_off, sizeof(s->peek_off)) < 0 && r == 0)
		r = sd_err(ctx, -errno, "cannot put back the options of fd %d of pid %d", p->fd, p->pid);
	return r == -ENOMEM ? sd_err(ctx, r, "cannot peek the queue of fd %d of pid %d", p->fd, p->pid) : r;
}

int sd_dump_inet_sock(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct fd_state *d,
		      struct sock_state *s)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);
	char l[SOCK_ADDR_TEXT_MAX], r_[SOCK_ADDR_TEXT_MAX];
	int32_t proto = 0;
	int r;

	d->kind = FDK_INET;
	s->ino = d->ino;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
		return sd_err(ctx, -errno, "cannot read the socket of fd %d of pid %d", p->fd, p->pid);
	s->protocol = proto;
	if (!(s->type == SOCK_STREAM && proto == IPPROTO_TCP) && !(s->type == SOCK_DGRAM && proto == IPPROTO_UDP))
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is an %s socket of protocol %d (%s), not supported yet",
				 p->pid, p->fd, s->family == AF_INET ? "IPv4" : "IPv6", proto, p->path);
	len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		s->addr_len = keep_addr(&a, len, s->addr);
	len = sizeof(a);
	if (getpeername(fd, (struct sockaddr *)&a, &len) == 0) {
		s->peer_len = (uint8_t)MIN((size_t)len, (size_t)SOCK_ADDR_MAX);
		memcpy(s->peer, &a, s->peer_len);
	}
	s->state = s->peer_len ? SKS_ESTABLISHED : SKS_CLOSE;
	if (s->type == SOCK_STREAM) {
		struct tcp_info ti = { 0 };

		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
			return sd_err(ctx, -errno, "cannot read the TCP state of fd %d of pid %d", p->fd, p->pid);
		sd_sock_addr_text(s->addr, s->addr_len, l);
		sd_sock_addr_text(s->peer, s->peer_len, r_);
		if (ti.tcpi_state == SKS_LISTEN && ti.tcpi_unacked)
			return sd_refuse(ctx, -EOPNOTSUPP,
					 "cannot dump pid %d: fd %d is %s listening on %s with %u connections not accepted yet, which a restore cannot keep; dump it once they are accepted",
					 p->pid, p->fd, what(s), l, ti.tcpi_unacked);
		if (ti.tcpi_state != SKS_LISTEN && ti.tcpi_state != SKS_CLOSE)
			return sd_refuse(ctx, -EOPNOTSUPP,
					 "cannot dump pid %d: fd %d is %s connected (%s to %s, TCP state %u), not supported yet",
					 p->pid, p->fd, what(s), l, r_, ti.tcpi_state);
		s->state = ti.tcpi_state;
		if (s->state == SKS_LISTEN)
			s->backlog = ti.tcpi_sacked;
	}
	for (size_t i = 0; i < sd_sock_inet_nopts; i++) {
		const struct sock_opt_def *o = &sd_sock_inet_opts[i];
		int v = 0;

		if (!sd_sock_opt_applies(o, s->family, s->type))
			continue;
		len = sizeof(v);
		if (getsockopt(fd, o->level, o->name, &v, &len) < 0)
			return sd_err(ctx, -errno, "cannot read %s of fd %d of pid %d", o->what, p->fd, p->pid);
		s->opts[s->nopts++] = (struct sock_opt){ .level = o->level, .name = o->name, .value = v };
	}
	r = sd_dump_sock_options(fd, s);
	if (r < 0)
		return sd_err(ctx, r, "cannot read the options of the socket of fd %d of pid %d", p->fd, p->pid);
	if (s->type == SOCK_DGRAM)
		r = peek_udp(ctx, p, fd, s);
	return r;
}

int sd_dump_inet_table(struct sdump_ctx *ctx, pid_t pid, struct files_state *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;
		char a[SOCK_ADDR_TEXT_MAX];

		if (fs->fds[i].kind != FDK_INET || !s || fs->fds[i].has_dup_of)
			continue;
		for (size_t k = 0; k < s->npkts; k++) {
			if (sd_sock_inet_sender(fs, &s->pkts[k].from, s->type) >= 0)
				continue;
			sd_sock_addr_text((const uint8_t *)s->pkts[k].from.path, s->pkts[k].from.len, a);
			return sd_refuse(ctx, -EOPNOTSUPP,
					 "cannot dump pid %d: fd %d is %s with a datagram queued from %s, outside the process, which a restore cannot send again",
					 pid, fs->fds[i].fd, what(s), a);
		}
	}
	return 0;
}
