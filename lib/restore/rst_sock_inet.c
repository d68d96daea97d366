/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: TCP, UDP, UDP-Lite, ICMP ("ping") and raw sockets, IPv4
 * and IPv6. Each is made in the new process (socket()), then set up from
 * here on our copy of it (pidfd_getfd(): the same socket): its options
 * (those bind() looks at first), bound to its address and port (a ping
 * socket's ident; a raw one's port is its protocol, which bind() skips),
 * listening with its backlog or connected to its peer. Once every fd is at
 * its number, the datagrams queued on a UDP or UDP-Lite socket are sent
 * again, in order, by the sockets of the process that sent them (of its
 * protocol), or from a sender's address on a raw socket (rst_sock_raw.c)
 * for a UDP one's sender outside.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate_sock.h"
#include "restore.h"
#include "rst_sock.h"
#include "util.h"

/* "IPv4 TCP socket", ...: sd_sock_inet_what() without its article */
static const char *what(const struct sock_state *s)
{
	const char *w = sd_sock_inet_what(s);

	return w + (w[1] == 'n' ? 3 : 2);
}

/*
 * A TCP socket whose connection ended: not connected, shut down both ways
 * (shutdown() says ENOTCONN, and shuts it down all the same), reads give
 * end of file and writes EPIPE.
 */
static int ended(int fd)
{
	if (shutdown(fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
		return -1;
	errno = 0;
	return 0;
}

/*
 * bind() as it went when the port was free: the TCP port of a listener may
 * be held by the TIME_WAIT sockets its connections left (which no new
 * listener may share unless they had SO_REUSEADDR: the kernel's bind
 * conflict rule, checked again by listen()); those are ended and the bind
 * tried again, said so. A TCP socket only bound (not listening) shares its
 * port as it did, bound in repair mode (TCP_REPAIR forces the port's
 * reuse, then off). -errno.
 */
/*
 * A socket bound to an address that is not local (an address not up yet)
 * had IP_FREEBIND (or IP_TRANSPARENT) on at its bind, and may have turned
 * it off since: the kernel keeps the address. It is bound with
 * IP_FREEBIND on again, then off as it was dumped (it is set with the
 * other options before the bind: off here).
 */
static int bind_freebind(const struct sock_state *s, int fd)
{
	int level = s->family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int name = s->family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND;
	int one = 1, zero = 0, e;

	if (setsockopt(fd, level, name, &one, sizeof(one)) < 0)
		return -EADDRNOTAVAIL;
	e = bind(fd, (const struct sockaddr *)s->addr, s->addr_len) < 0 ? -errno : 0;
	if (setsockopt(fd, level, name, &zero, sizeof(zero)) < 0 && e == 0)
		e = -errno;
	return e;
}

static int bind_as_then(struct rst *r, const struct sock_state *s, int fd)
{
	int on = TCP_REPAIR_ON, off = TCP_REPAIR_OFF_NO_WP, n, e;
	char a[SOCK_ADDR_TEXT_MAX];

	if (bind(fd, (const struct sockaddr *)s->addr, s->addr_len) == 0)
		return 0;
	if (errno == EADDRNOTAVAIL) {
		e = bind_freebind(s, fd);
		sd_sock_addr_text(s->addr, s->addr_len, a);
		if (e == 0)
			pr_warn(r->ctx, "pid %d: its %s is bound to %s with IP_FREEBIND: that is no address of this host now",
				r->pid, what(s), a);
		return e;
	}
	if (errno != EADDRINUSE || s->type != SOCK_STREAM)
		return -errno;
	if (s->state != SKS_LISTEN) {
		e = setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)) < 0 ||
				    bind(fd, (const struct sockaddr *)s->addr, s->addr_len) < 0 ?
			    -errno : 0;
		if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off)) < 0 && e == 0)
			e = -errno;
		/* TCP_REPAIR off forgets SO_REUSEADDR */
		return e ? e : sd_rst_inet_reuse(fd, s);
	}
	n = sd_sockdiag_tcp_tw_end(s->family, s->addr);
	if (n <= 0)
		return n < 0 ? n : -EADDRINUSE;
	sd_sock_addr_text(s->addr, s->addr_len, a);
	pr_info(r->ctx, "pid %d: %d connections in TIME_WAIT on %s ended for its listener to have the port again",
		r->pid, n, a);
	return bind(fd, (const struct sockaddr *)s->addr, s->addr_len) < 0 ? -errno : 0;
}

/* @s's value of SOL_SOCKET option @name as dumped, 0 when not saved. */
static int sol_opt(const struct sock_state *s, int name)
{
	for (size_t k = 0; k < s->nopts; k++)
		if (s->opts[k].level == SOL_SOCKET && s->opts[k].name == name)
			return s->opts[k].value;
	return 0;
}

/*
 * A socket without SO_REUSEPORT now whose port another socket of the
 * process shares with it (both bound with it, then turned off on this one:
 * the kernel keeps the port shared): it is bound with SO_REUSEPORT on
 * again, and turned off once bound and listening, else the other's bind
 * fails.
 */
static bool shares_port(const struct rst *r, const struct sock_state *s)
{
	if (sol_opt(s, SO_REUSEPORT) || !s->addr_len)
		return false;
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct sock_state *o = r->fs.fds[i].sk;

		if (o && o != s && o->family == s->family && o->type == s->type && o->addr_len == s->addr_len &&
		    !memcmp(o->addr, s->addr, s->addr_len) && sol_opt(o, SO_REUSEPORT))
			return true;
	}
	return false;
}

static int set_up(struct rst *r, const struct fd_state *d, int fd)
{
	const struct sock_state *s = d->sk;
	char a[SOCK_ADDR_TEXT_MAX];
	int e = 0, one = 1, zero = 0;
	bool share;

	e = sd_rst_inet_opts(fd, s);
	if (e == 0)
		e = sd_rst_sock_options_first(fd, s);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot set the options of the %s of fd %d", r->pid,
			      what(s), d->fd);
	sd_sock_addr_text(s->addr, s->addr_len, a);
	share = shares_port(r, s);
	if (share && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of the %s of fd %d",
			      r->pid, what(s), d->fd);
	e = s->addr_len ? bind_as_then(r, s, fd) : 0;
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot bind the %s of fd %d to %s", r->pid, what(s),
			      d->fd, a);
	if (s->state == SKS_LISTEN && listen(fd, (int)s->backlog) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot listen on the %s of fd %d (%s)", r->pid,
			      what(s), d->fd, a);
	if (share && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &zero, sizeof(zero)) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of the %s of fd %d",
			      r->pid, what(s), d->fd);
	if (s->peer_len && connect(fd, (const struct sockaddr *)s->peer, s->peer_len) < 0) {
		sd_sock_addr_text(s->peer, s->peer_len, a);
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot connect the %s of fd %d to %s", r->pid,
			      what(s), d->fd, a);
	}
	/* a TCP connection that ended: shut down both ways, unbound */
	if (s->shutdown && s->type == SOCK_STREAM && ended(fd) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot shut down the %s of fd %d", r->pid, what(s),
			      d->fd);
	/* without a queue to fill first, the last options now */
	if (!s->npkts && sd_rst_sock_options_last(fd, s) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of the %s of fd %d",
			      r->pid, what(s), d->fd);
	return 0;
}

bool sd_rst_inet_locked(const struct rst *r)
{
	for (size_t i = 0; i < r->fs.n; i++)
		if (r->fs.fds[i].sk && r->fs.fds[i].sk->repaired)
			return true;
	return false;
}

/* On our copy @fd: a connection made again in repair mode, or (--tcp-close) as one that ended; or set up. */
static int inet_set_up(struct rst *r, const struct fd_state *d, int fd)
{
	const struct sock_state *s = d->sk;

	if (s->repaired && !r->opts->tcp_close)
		return sd_rst_tcp_repair(r, d, fd);
	/* --tcp-close: an unbound socket shut down both ways, which reads and writes as one whose connection ended */
	if (s->repaired)
		return sd_rst_sock_options_first(fd, s) < 0 || ended(fd) < 0 || sd_rst_sock_options_last(fd, s) < 0 ?
			       sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of fd %d", r->pid, d->fd) :
			       0;
	return set_up(r, d, fd);
}

int sd_rst_inet_open(struct rst *r, size_t i, long *ret_tmp)
{
	return sd_rst_sock_open(r, i, what(r->fs.fds[i].sk), inet_set_up, ret_tmp);
}

/* Where datagrams to a socket bound to @s->addr go: its address, loopback for a wildcard one. */
static void dest_of(const struct sock_state *s, struct sockaddr_storage *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, s->addr, s->addr_len);
	if (s->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ret;

		if (a->sin_addr.s_addr == htonl(INADDR_ANY))
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ret;

		if (!memcmp(&a->sin6_addr, &in6addr_any, sizeof(a->sin6_addr)))
			a->sin6_addr = in6addr_loopback;
	}
}

/*
 * A datagram a host outside sent, from @from to the socket @s (at @to),
 * sent again from there on a raw socket (rst_sock_raw.c): an IPv6
 * socket's IPv4 sender (::ffff:a.b.c.d) to its IPv4 loopback.
 */
static int from_outside(const struct sock_state *s, const struct sock_name *from, const struct sockaddr_storage *to,
			const struct sock_pkt *p)
{
	struct sockaddr_storage f = { 0 }, t = *to;
	_cleanup_free_ uint8_t *dg = malloc(p->len + 8);
	struct sockaddr_in6 *t6 = (struct sockaddr_in6 *)&t;

	if (!dg)
		return -ENOMEM;
	/* only UDP goes so (the dump refuses a UDP-Lite datagram from outside) */
	if (from->len != s->addr_len || s->protocol != IPPROTO_UDP)
		return -EBADMSG;
	memcpy(&f, from->path, from->len);
	if (f.ss_family != s->family)
		return -EBADMSG;
	if (s->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&f)->sin6_addr) &&
	    IN6_IS_ADDR_LOOPBACK(&t6->sin6_addr)) {
		memset(&t6->sin6_addr, 0, sizeof(t6->sin6_addr));
		t6->sin6_addr.s6_addr[10] = t6->sin6_addr.s6_addr[11] = 0xff;
		t6->sin6_addr.s6_addr[12] = 127;
		t6->sin6_addr.s6_addr[15] = 1;
	}
	memset(dg, 0, 8);
	memcpy(dg + 8, p->data, p->len);
	return sd_rst_raw_send(&f, &t, IPPROTO_UDP, dg, p->len + 8);
}

static int queue_one(struct rst *r, size_t i)
{
	const struct fd_state *d = &r->fs.fds[i];
	const struct sock_state *s = d->sk;
	struct sockaddr_storage to;
	cpu_set_t was, here;
	int rx, e = 0, cpu = sched_getcpu();
	bool pinned;

	if (!s->addr_len)
		return sd_errx(r->ctx, -EBADMSG, "cannot restore pid %d: the %s of fd %d holds datagrams but has no address",
			       r->pid, what(s), d->fd);
	dest_of(s, &to);
	/*
	 * On one CPU while the datagrams go: each passes the loopback's
	 * queue of the CPU that sends it, and they must arrive in order.
	 */
	CPU_ZERO(&here);
	if (cpu >= 0)
		CPU_SET(cpu, &here);
	pinned = cpu >= 0 && sched_getaffinity(0, sizeof(was), &was) == 0 && sched_setaffinity(0, sizeof(here), &here) == 0;
	for (size_t k = 0; e == 0 && k < s->npkts; k++) {
		ssize_t from = sd_sock_inet_sender(&r->fs, &s->pkts[k].from, s->type, s->protocol);
		int tx;

		if (from < 0) {
			e = from_outside(s, &s->pkts[k].from, &to, &s->pkts[k]);
			if (e < 0)
				e = sd_err(r->ctx, e, "cannot restore pid %d: cannot queue the datagrams of fd %d again",
					   r->pid, d->fd);
			continue;
		}
		tx = sd_rst_take_fd(r, r->fs.fds[from].fd);
		if (tx < 0) {
			e = sd_err(r->ctx, tx, "cannot take fd %d of the restored pid %d", r->fs.fds[from].fd, r->pid);
			break;
		}
		if (sendto(tx, s->pkts[k].data, s->pkts[k].len, MSG_DONTWAIT, (struct sockaddr *)&to, s->addr_len) < 0)
			e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot queue the datagrams of fd %d again",
				   r->pid, d->fd);
		(void)close(tx);
	}
	if (pinned)
		(void)sched_setaffinity(0, sizeof(was), &was);
	rx = e == 0 ? sd_rst_take_fd(r, d->fd) : -1;
	if (e == 0 && rx < 0)
		e = sd_err(r->ctx, rx, "cannot take fd %d of the restored pid %d", d->fd, r->pid);
	if (e == 0 && sd_rst_sock_options_last(rx, s) < 0)
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of the %s of fd %d", r->pid,
			   what(s), d->fd);
	if (rx >= 0)
		(void)close(rx);
	return e;
}

/*
 * A UDP socket's shutdowns, once every queue is filled (a socket shut down
 * for sending sends none of its datagrams again): shutdown() says ENOTCONN
 * on one not connected, and shuts it down all the same.
 */
static int shut_udp(struct rst *r, const struct fd_state *d)
{
	int fd = sd_rst_take_fd(r, d->fd), e = 0;

	if (fd < 0)
		return sd_err(r->ctx, fd, "cannot take fd %d of the restored pid %d", d->fd, r->pid);
	if (shutdown(fd, (int)d->sk->shutdown - 1) < 0 && errno != ENOTCONN)
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot shut down the %s of fd %d", r->pid,
			   what(d->sk), d->fd);
	(void)close(fd);
	return e;
}

int sd_rst_inet_queues(struct rst *r)
{
	int e = 0;

	for (size_t i = 0; e == 0 && i < r->fs.n; i++)
		if (r->fs.fds[i].kind == FDK_INET && r->fs.fds[i].sk && !r->fs.fds[i].has_dup_of &&
		    r->fs.fds[i].sk->npkts)
			e = queue_one(r, i);
	for (size_t i = 0; e == 0 && i < r->fs.n; i++)
		if (r->fs.fds[i].kind == FDK_INET && r->fs.fds[i].sk && !r->fs.fds[i].has_dup_of &&
		    r->fs.fds[i].sk->type == SOCK_DGRAM && r->fs.fds[i].sk->shutdown)
			e = shut_udp(r, &r->fs.fds[i]);
	return e;
}
