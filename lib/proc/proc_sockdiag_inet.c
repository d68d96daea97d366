/* SPDX-License-Identifier: MIT */
/*
 * What the kernel's sock_diag says of TCP and UDP sockets (inet_diag): the
 * shutdown state of one, found by inode among those of its family and
 * protocol; and the TIME_WAIT sockets a port is held by, ended
 * (SOCK_DESTROY) for a restored listener that had that port first.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pstate_sock.h"
#include "util.h"

#define TCP_TIME_WAIT_ 6

struct diag_req {
	struct nlmsghdr h;
	struct inet_diag_req_v2 r;
};

int sd_sockdiag_start(const void *req, size_t len)
{
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (nl < 0)
		return -errno;
	if (send(nl, req, len, 0) != (ssize_t)len) {
		int e = -errno;

		(void)close(nl);
		return e;
	}
	return nl;
}

/* An inet_diag dump of @family, @protocol in @states on a new socket; the socket, or -errno. */
static int dump_start(int family, int protocol, uint32_t states)
{
	struct diag_req q = { 0 };

	q.h.nlmsg_len = sizeof(q);
	q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.r.sdiag_family = (uint8_t)family;
	q.r.sdiag_protocol = (uint8_t)protocol;
	q.r.idiag_states = states;
	return sd_sockdiag_start(&q, sizeof(q));
}

int sd_sockdiag_each(int nl, size_t min, int (*fn)(const struct nlmsghdr *h, void *arg), void *arg)
{
	_cleanup_free_ char *buf = malloc(65536);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = recv(nl, buf, 65536, 0);

		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			int r;

			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : -EBADMSG;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(min))
				return -EBADMSG;
			r = fn(h, arg);
			if (r)
				return r;
		}
	}
}

static int dump_each(int nl, int (*fn)(const struct nlmsghdr *h, void *arg), void *arg)
{
	return sd_sockdiag_each(nl, sizeof(struct inet_diag_msg), fn, arg);
}

struct find_shut {
	uint64_t ino;
	uint32_t shutdown;
};

static int match_shut(const struct nlmsghdr *h, void *arg)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct find_shut *f = arg;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));

	if (m->idiag_inode != f->ino)
		return 0;
	for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == INET_DIAG_SHUTDOWN && RTA_PAYLOAD(a) >= 1)
			f->shutdown = *(const uint8_t *)RTA_DATA(a);
	return 1;
}

int sd_sockdiag_inet_shutdown(int family, int protocol, uint64_t ino, uint32_t *ret)
{
	struct find_shut f = { .ino = ino };
	int nl = dump_start(family, protocol, ~0u), r;

	if (nl < 0)
		return nl;
	r = dump_each(nl, match_shut, &f);
	(void)close(nl);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	*ret = f.shutdown;
	return 0;
}

struct tw_kill {
	int family, nl, done;
	const uint8_t *addr;	/* a sockaddr_in or _in6 */
};

/* Whether TIME_WAIT socket @m is on @k's port and address (any address for a wildcard one). */
static bool tw_on(const struct tw_kill *k, const struct inet_diag_msg *m)
{
	const struct sockaddr_in *a4 = (const void *)k->addr;
	const struct sockaddr_in6 *a6 = (const void *)k->addr;

	if (k->family == AF_INET)
		return m->id.idiag_sport == a4->sin_port &&
		       (!a4->sin_addr.s_addr || m->id.idiag_src[0] == a4->sin_addr.s_addr);
	return m->id.idiag_sport == a6->sin6_port &&
	       (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) || !memcmp(m->id.idiag_src, &a6->sin6_addr, 16));
}

static int kill_tw(const struct nlmsghdr *h, void *arg)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct tw_kill *k = arg;
	struct diag_req q = { 0 };
	char ack[512];

	if (m->idiag_state != TCP_TIME_WAIT_ || !tw_on(k, m))
		return 0;
	q.h.nlmsg_len = sizeof(q);
	q.h.nlmsg_type = SOCK_DESTROY;
	q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	q.r.sdiag_family = (uint8_t)k->family;
	q.r.sdiag_protocol = IPPROTO_TCP;
	q.r.idiag_states = 1u << TCP_TIME_WAIT_;
	q.r.id = m->id;
	if (send(k->nl, &q, sizeof(q), 0) != (ssize_t)sizeof(q) || recv(k->nl, ack, sizeof(ack), 0) < 0)
		return -errno;
	k->done++;
	return 0;
}

int sd_sockdiag_tcp_tw_end(int family, const uint8_t *addr)
{
	struct tw_kill k = { .family = family, .addr = addr };
	int nl = dump_start(family, IPPROTO_TCP, 1u << TCP_TIME_WAIT_), r;

	if (nl < 0)
		return nl;
	k.nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	r = k.nl < 0 ? -errno : dump_each(nl, kill_tw, &k);
	if (k.nl >= 0)
		(void)close(k.nl);
	(void)close(nl);
	return r < 0 ? r : k.done;
}
