/* SPDX-License-Identifier: MIT */
/*
 * TCP, UDP, UDP-Lite, ICMP ("ping") and raw sockets, IPv4 and IPv6, at
 * the final dump, through our copy of the fd (pidfd_getfd(): the same
 * socket): the bound and peer addresses (a ping or raw socket's peer from
 * /proc/PID/net), the state (TCP_INFO), a listener's backlog, the options
 * of sd_sock_inet_opts[], a UDP or UDP-Lite socket's queue peeked without
 * consuming it (SO_PEEK_OFF with MSG_PEEK, put back as it was); a ping or
 * raw socket with packets queued is refused, as a socket of another
 * network namespace. A listener with connections not accepted yet is
 * refused with one line; a connection, established or half closed, is
 * read in repair mode with --tcp-established (refused without); one that
 * ended is saved as shut down both ways. A UDP datagram from a sender
 * outside the process is kept with its sender's address, which the
 * restore sends it from.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "compat.h"
#include "dump_fd_sock.h"
#include "netlock.h"
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
	return sd_sock_inet_what(s);
}

/* An ICMP "ping" socket (SOCK_DGRAM, IPPROTO_ICMP or IPPROTO_ICMPV6 of its family). */
static bool is_ping(const struct sock_state *s)
{
	return s->type == SOCK_DGRAM && ((s->family == AF_INET && s->protocol == IPPROTO_ICMP) ||
					 (s->family == AF_INET6 && s->protocol == IPPROTO_ICMPV6));
}

/* A raw ICMPv6 socket's ICMP6_FILTER, kept where some type is blocked (a new socket passes every one). */
static int icmp6_filter(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct sock_state *s)
{
	socklen_t len = sizeof(s->icmp6_filter);
	static const uint8_t none[sizeof(s->icmp6_filter)];

	if (getsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, s->icmp6_filter, &len) < 0)
		return sd_err(ctx, -errno, "cannot read ICMP6_FILTER of fd %d of pid %d", p->fd, p->pid);
	s->has_icmp6_filter = len == sizeof(s->icmp6_filter) && memcmp(s->icmp6_filter, none, len);
	return 0;
}

/*
 * The echo replies (and errors) queued on ping socket @fd, or the packets
 * on a raw one, cannot be queued again by a restore: refused, told by
 * poll() without consuming them.
 */
static int ping_queue(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, const struct sock_state *s)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	if (poll(&pf, 1, 0) < 0)
		return sd_err(ctx, -errno, "cannot read the socket of fd %d of pid %d", p->fd, p->pid);
	if (pf.revents & (POLLIN | POLLERR))
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is %s with %s queued, which a restore cannot queue again; dump it once the program has read them",
				 p->pid, p->fd, what(s),
				 (pf.revents & POLLIN) ? (s->type == SOCK_RAW ? "packets" : "echo replies") : "an error");
	return 0;
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

/*
 * A TCP socket in state CLOSE: never connected (or only bound), or a
 * connection that ended (both FINs, a reset, a connect that failed), whose
 * reads give end of file, writes EPIPE: poll() tells them apart without
 * consuming anything (POLLRDHUP: reading shut down). An ended one is made
 * again unbound and shut down both ways (its port went when it ended);
 * one with bytes left to read, or an error not read yet, is refused.
 */
static int ended(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct sock_state *s)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLRDHUP };
	int inq = 0;

	if (poll(&pf, 1, 0) < 0 || ioctl(fd, SIOCINQ, &inq) < 0)
		return sd_err(ctx, -errno, "cannot read the TCP state of fd %d of pid %d", p->fd, p->pid);
	if (!(pf.revents & POLLRDHUP))
		return 0;
	if (pf.revents & POLLERR)
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is %s whose connection ended with an error the process has not read yet, which a restore cannot make again; dump it once it has",
				 p->pid, p->fd, what(s));
	if (inq)
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is %s whose connection ended with %d bytes the process has not read yet, not supported yet; dump it once it has read them",
				 p->pid, p->fd, what(s), inq);
	s->shutdown = 3; /* RCV_SHUTDOWN | SEND_SHUTDOWN */
	s->addr_len = 0;
	return 0;
}

int sd_dump_inet_sock(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct fd_state *d,
		      struct sock_state *s)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(a);
	char l[SOCK_ADDR_TEXT_MAX], r_[SOCK_ADDR_TEXT_MAX];
	int32_t proto = 0;
	size_t refused = ctx->refusals.n;
	int r;

	d->kind = FDK_INET;
	s->ino = d->ino;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
		return sd_err(ctx, -errno, "cannot read the socket of fd %d of pid %d", p->fd, p->pid);
	s->protocol = proto;
	if (!(s->type == SOCK_STREAM && proto == IPPROTO_TCP) && !(s->type == SOCK_RAW && proto >= 0 && proto < IPPROTO_MAX) &&
	    !(s->type == SOCK_DGRAM && (proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE)) && !is_ping(s))
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is an %s socket of type %d and protocol %d (%s), not supported yet; close it before the dump",
				 p->pid, p->fd, s->family == AF_INET ? "IPv4" : "IPv6", s->type, proto, p->path);
	r = sd_dump_sock_netns(ctx, p, fd, what(s));
	if (r < 0 || ctx->refusals.n > refused)
		return r;
	len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		s->addr_len = keep_addr(&a, len, s->addr);
	len = sizeof(a);
	if (getpeername(fd, (struct sockaddr *)&a, &len) == 0) {
		s->peer_len = (uint8_t)MIN((size_t)len, (size_t)SOCK_ADDR_MAX);
		memcpy(s->peer, &a, s->peer_len);
	}
	/*
	 * A connected ping or raw socket's peer has port 0, which getpeername()
	 * takes for none: /proc/PID/net tells. A ping socket not in its table
	 * is unbound, so not connected (connect() binds); a raw one is always
	 * there.
	 */
	if ((is_ping(s) || s->type == SOCK_RAW) &&
	    (r = sd_proc_dgram_peer(p->pid, s->family, is_ping(s) ? "icmp" : "raw", s->ino, s->peer, &s->peer_len)) < 0 &&
	    r != -ENOENT)
		return sd_err(ctx, r, "cannot read the socket of fd %d of pid %d (/proc/%d/net)", p->fd, p->pid, p->pid);
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
		/* a connection, established or half closed, is saved with --tcp-established, or refused (sd_dump_inet_table) */
		if (ti.tcpi_state == SKS_CLOSE)
			r = ended(ctx, p, fd, s);
		else if (ti.tcpi_state == 2)
			r = sd_refuse(ctx, -EOPNOTSUPP,
				      "cannot dump pid %d: fd %d is %s connecting (%s to %s, SYN_SENT), not supported yet; dump it once it is connected",
				      p->pid, p->fd, what(s), l, r_);
		else if (ti.tcpi_state != SKS_LISTEN && !sd_sock_tcp_conn_state(ti.tcpi_state))
			r = sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is %s in TCP state %s (%s to %s), not supported yet",
				      p->pid, p->fd, what(s), sd_sock_tcp_state_name(ti.tcpi_state), l, r_);
		else
			r = 0;
		if (r < 0)
			return r;
		if (ti.tcpi_state != SKS_CLOSE)
			s->state = ti.tcpi_state;
		if (s->state == SKS_LISTEN)
			s->backlog = ti.tcpi_sacked;
	}
	for (size_t i = 0; i < sd_sock_inet_nopts; i++) {
		const struct sock_opt_def *o = &sd_sock_inet_opts[i];
		int v = 0;

		if (!sd_sock_opt_applies(o, s->family, s->type, s->protocol) ||
		    ((o->flags & SOCK_OPT_UNCONNECTED) &&
		     ((s->state != SKS_LISTEN && s->state != SKS_CLOSE) || s->shutdown)))
			continue;
		len = sizeof(v);
		if (getsockopt(fd, o->level, o->name, &v, &len) < 0) {
			/* an option this kernel has not: nobody set it */
			if ((o->flags & SOCK_OPT_NEWER) && (errno == ENOPROTOOPT || errno == EOPNOTSUPP))
				continue;
			return sd_err(ctx, -errno, "cannot read %s of fd %d of pid %d", o->what, p->fd, p->pid);
		}
		s->opts[s->nopts++] = (struct sock_opt){ .level = o->level, .name = o->name, .value = v };
	}
	r = sd_dump_sock_options(fd, s);
	if (r < 0)
		return sd_err(ctx, r, "cannot read the options of the socket of fd %d of pid %d", p->fd, p->pid);
	r = sd_dump_inet_extra(ctx, p, fd, s);
	if (r < 0)
		return r;
	if (s->type == SOCK_RAW && s->family == AF_INET6 && s->protocol == IPPROTO_ICMPV6)
		r = icmp6_filter(ctx, p, fd, s);
	if (r < 0)
		return r;
	if (is_ping(s) || s->type == SOCK_RAW)
		r = ping_queue(ctx, p, fd, s);
	else if (s->type == SOCK_DGRAM)
		r = peek_udp(ctx, p, fd, s);
	return r;
}

/*
 * An established connection read in repair mode through our copy @fd,
 * which it stays in: a process killed in it closes it without a packet.
 */
static int repair_read(struct sdump_ctx *ctx, pid_t pid, int fd, int num, struct sock_state *s)
{
	struct tcp_repair_window w;
	struct tcp_info ti = { 0 };
	socklen_t len;
	int on = TCP_REPAIR_ON, q, outq = 0, unsent = 0, inq = 0, off = -1, e = 0;
	unsigned fins;
	uint32_t v;

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)) < 0)
		return sd_err(ctx, -errno, "cannot dump pid %d: cannot put the TCP connection of fd %d in repair mode", pid,
			      num);
	s->repaired = true;
	len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || ioctl(fd, SIOCOUTQ, &outq) < 0 ||
	    ioctl(fd, SIOCOUTQNSD, &unsent) < 0 || ioctl(fd, SIOCINQ, &inq) < 0)
		e = -errno;
	/* the state now, the lock held: the FINs count in SIOCOUTQ (not acked) and SIOCOUTQNSD (not sent) */
	if (e == 0 && !sd_sock_tcp_conn_state(ti.tcpi_state))
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is a TCP connection that closed meanwhile (state %s)",
				 pid, num, sd_sock_tcp_state_name(ti.tcpi_state));
	s->state = ti.tcpi_state;
	fins = sd_sock_tcp_fins(s->state);
	if ((fins & SK_FIN_OUT) && !(fins & SK_FIN_OUT_ACKED) && outq > 0)
		outq--;
	s->fin_unsent = (fins & SK_FIN_OUT) && unsent > 0;
	if (s->fin_unsent)
		unsent--;
	if (e == 0 && ((size_t)outq > SOCK_QUEUE_MAX || (size_t)inq > SOCK_QUEUE_MAX || unsent > outq))
		return sd_refuse(ctx, -E2BIG, "cannot dump pid %d: fd %d has more bytes queued than an image keeps", pid,
				 num);
	s->tcpi_options = ti.tcpi_options;
	s->snd_wscale = ti.tcpi_snd_wscale;
	s->rcv_wscale = ti.tcpi_rcv_wscale;
	s->sndq = malloc((size_t)outq + 1);
	s->rcvq = malloc((size_t)inq + 1);
	if (e == 0 && (!s->sndq || !s->rcvq))
		e = -ENOMEM;
	/* a peek starts at SO_PEEK_OFF: from the start of the queue here */
	if (e == 0 && s->peek_off >= 0 && setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)) < 0)
		e = -errno;
	for (int k = 0; e == 0 && k < 2; k++) {
		uint8_t *buf = k ? s->rcvq : s->sndq;
		size_t want = (size_t)(k ? inq : outq), got = 0;

		q = k ? TCP_RECV_QUEUE : TCP_SEND_QUEUE;
		len = sizeof(v);
		if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0 ||
		    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &v, &len) < 0) {
			e = -errno;
			break;
		}
		*(k ? &s->rcv_seq : &s->snd_seq) = v;
		/* one peek copies the whole queue (tcp_recvmsg, tcp_peek_sndq) */
		if (want) {
			ssize_t n = recv(fd, buf, want, MSG_PEEK | MSG_DONTWAIT);

			if (n < 0)
				e = -errno;
			else if ((size_t)n != want)
				e = -EIO;
			got = n > 0 ? (size_t)n : 0;
		}
		*(k ? &s->rcvq_len : &s->sndq_len) = got;
	}
	s->sndq_unsent = (size_t)unsent;
	q = TCP_NO_QUEUE;
	if (e == 0 && setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) < 0)
		e = -errno;
	len = sizeof(v);
	if (e == 0 && getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, &len) < 0)
		e = -errno;
	s->mss = v;
	len = sizeof(v);
	if (e == 0 && (s->tcpi_options & TCPI_OPT_TIMESTAMPS) && getsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &v, &len) < 0)
		e = -errno;
	s->timestamp = (s->tcpi_options & TCPI_OPT_TIMESTAMPS) ? v : 0;
	len = sizeof(w);
	if (e == 0 && getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &len) < 0)
		e = -errno;
	if (e == 0)
		memcpy(s->win, (uint32_t[5]){ w.snd_wl1, w.snd_wnd, w.max_window, w.rcv_wnd, w.rcv_wup }, sizeof(s->win));
	if (s->peek_off >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &s->peek_off, sizeof(s->peek_off));
	if (e < 0)
		return sd_err(ctx, e, "cannot dump pid %d: cannot read the TCP connection of fd %d in repair mode", pid, num);
	return 0;
}

static void conn_of(const struct sock_state *s, struct netlock_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->family = s->family;
	if (s->family == AF_INET) {
		const struct sockaddr_in *l = (const void *)s->addr, *p = (const void *)s->peer;

		memcpy(c->local, &l->sin_addr, 4);
		memcpy(c->peer, &p->sin_addr, 4);
		c->lport = ntohs(l->sin_port);
		c->pport = ntohs(p->sin_port);
	} else {
		const struct sockaddr_in6 *l = (const void *)s->addr, *p = (const void *)s->peer;

		c->lport = ntohs(l->sin6_port);
		c->pport = ntohs(p->sin6_port);
		/* an IPv6 socket's IPv4 connection (::ffff:a.b.c.d): IPv4 packets */
		if (IN6_IS_ADDR_V4MAPPED(&l->sin6_addr) && IN6_IS_ADDR_V4MAPPED(&p->sin6_addr)) {
			c->family = AF_INET;
			memcpy(c->local, &l->sin6_addr.s6_addr[12], 4);
			memcpy(c->peer, &p->sin6_addr.s6_addr[12], 4);
			return;
		}
		memcpy(c->local, &l->sin6_addr, 16);
		memcpy(c->peer, &p->sin6_addr, 16);
	}
}

static bool is_established(const struct fd_state *d)
{
	return d->kind == FDK_INET && d->sk && !d->has_dup_of && d->sk->type == SOCK_STREAM &&
	       sd_sock_tcp_conn_state(d->sk->state);
}

/* The established connections in repair mode and the lock taken. */
static int repair_all(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs)
{
	_cleanup_free_ struct netlock_conn *c = calloc(fs->n + 1, sizeof(*c));
	size_t n = 0;
	int pidfd, e = 0;

	if (!c)
		return sd_err(ctx, -ENOMEM, "cannot dump the TCP connections of pid %d", o->pid);
	for (size_t i = 0; i < fs->n; i++)
		if (is_established(&fs->fds[i]))
			conn_of(fs->fds[i].sk, &c[n++]);
	if (!n)
		return 0;
	/* the lock first: nothing of them may leave or come once in repair mode */
	e = sd_netlock_add(ctx, o->pid, o->dir, c, n);
	if (e < 0)
		return e;
	pidfd = (int)syscall(SYS_pidfd_open, o->pid, 0);
	if (pidfd < 0)
		return sd_err(ctx, -errno, "cannot open pidfd of pid %d", o->pid);
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		int copy;

		if (!is_established(&fs->fds[i]))
			continue;
		copy = (int)syscall(SYS_pidfd_getfd, pidfd, fs->fds[i].fd, 0);
		if (copy < 0) {
			e = sd_err(ctx, -errno, "cannot take fd %d of pid %d", fs->fds[i].fd, o->pid);
			break;
		}
		e = repair_read(ctx, o->pid, copy, fs->fds[i].fd, fs->fds[i].sk);
		(void)close(copy);
	}
	(void)close(pidfd);
	return e;
}

/*
 * A UDP-Lite socket's datagrams are sent again by the sockets of the
 * process that sent them; one from a sender outside it (which sdump sends
 * as UDP from there) is refused.
 */
static int lite_senders(struct sdump_ctx *ctx, pid_t pid, const struct files_state *fs, const struct fd_state *d)
{
	const struct sock_state *s = d->sk;
	char a[SOCK_ADDR_TEXT_MAX];

	for (size_t k = 0; s->protocol == IPPROTO_UDPLITE && k < s->npkts; k++) {
		if (sd_sock_inet_sender(fs, &s->pkts[k].from, s->type, s->protocol) >= 0)
			continue;
		sd_sock_addr_text((const uint8_t *)s->pkts[k].from.path, s->pkts[k].from.len, a);
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is %s with a datagram queued from %s, a sender outside the process, which a restore cannot send again; dump it once the program has read it",
				 pid, d->fd, what(s), a);
	}
	return 0;
}

int sd_dump_inet_table(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs)
{
	pid_t pid = o->pid;

	for (size_t i = 0; i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;
		char a[SOCK_ADDR_TEXT_MAX], b[SOCK_ADDR_TEXT_MAX];
		int r;

		if (fs->fds[i].kind != FDK_INET || !s || fs->fds[i].has_dup_of)
			continue;
		if (is_established(&fs->fds[i]) && !o->tcp_established) {
			sd_sock_addr_text(s->addr, s->addr_len, a);
			sd_sock_addr_text(s->peer, s->peer_len, b);
			if (s->state == SKS_ESTABLISHED)
				r = sd_refuse(ctx, -EOPNOTSUPP,
					      "cannot dump pid %d: fd %d is %s connected (%s to %s); --tcp-established saves it (TCP repair)",
					      pid, fs->fds[i].fd, what(s), a, b);
			else
				r = sd_refuse(ctx, -EOPNOTSUPP,
					      "cannot dump pid %d: fd %d is %s connected and half closed (%s, %s to %s); --tcp-established saves it (TCP repair)",
					      pid, fs->fds[i].fd, what(s), sd_sock_tcp_state_name(s->state), a, b);
			if (r < 0)
				return r;
		}
		r = lite_senders(ctx, pid, fs, &fs->fds[i]);
		if (r < 0)
			return r;
	}
	if (!o->tcp_established || ctx->refusals.collect)
		return 0;
	return repair_all(ctx, o, fs);
}

void sd_dump_inet_release(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs,
			  bool killed)
{
	pid_t pid = o->pid;
	bool any = false;
	int pidfd;

	for (size_t i = 0; i < fs->n; i++)
		any |= is_established(&fs->fds[i]);
	if (!o->tcp_established || !any || killed)
		return;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (size_t i = 0; i < fs->n; i++) {
		int copy, off = TCP_REPAIR_OFF;

		if (!fs->fds[i].sk || !fs->fds[i].sk->repaired || pidfd < 0)
			continue;
		/* the process runs on: its connection too, a window probe sent */
		copy = (int)syscall(SYS_pidfd_getfd, pidfd, fs->fds[i].fd, 0);
		if (copy < 0 || setsockopt(copy, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)) < 0)
			pr_warn(ctx, "pid %d: cannot take the TCP connection of fd %d out of repair mode: %s", pid,
				fs->fds[i].fd, strerror(errno));
		if (copy >= 0)
			(void)close(copy);
	}
	if (pidfd >= 0)
		(void)close(pidfd);
	(void)sd_netlock_remove(ctx, pid);
}
