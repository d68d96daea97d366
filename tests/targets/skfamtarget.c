/* SPDX-License-Identifier: MIT */
/*
 * skfamtarget: sockets of the families and protocols other than unix,
 * TCP and UDP that real programs hold, for a dump and a restore to keep
 * (t195), or one state sdump refuses (t196, --refuse WHAT).
 *
 * Netlink: a NETLINK_ROUTE socket bound to a port id of its choosing, in
 * groups through bind() and NETLINK_ADD_MEMBERSHIP (one above the 32
 * bind() reaches), every flag on (NETLINK_PKTINFO, NETLINK_NO_ENOBUFS,
 * NETLINK_CAP_ACK, ...), a buffer size set; a NETLINK_ROUTE datagram
 * socket the kernel autobound (a request sent and its answer read); an
 * unbound NETLINK_KOBJECT_UEVENT one; a NETLINK_USERSOCK socket bound and
 * another connected to it. What getsockname(), getpeername(),
 * NETLINK_LIST_MEMBERSHIPS, the flags and poll() say of each is recorded
 * at the setup and compared after the restore ("check"), which then asks
 * the kernel for its links on the autobound one (the answers come to its
 * port id) and sends on the connected one (its peer gets it, from its
 * port id).
 * --refuse nlqueue: a netlink socket with the kernel's answer queued, not
 * read; "check" then reads it whole (a refused dump consumed nothing).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXSOCKS 16
#define PRINT_MAX 1024

static char bad[512];
static int socks[MAXSOCKS], nsocks;
static char *recs[MAXSOCKS];
/* the sockets "check" uses */
static int nl_auto = -1, nl_peer = -1, nl_conn = -1, nl_queued = -1;

static bool fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(bad, sizeof(bad), fmt, ap);
	va_end(ap);
	return false;
}

static void die(const char *what)
{
	printf("error %s: %s\n", what, strerror(errno));
	exit(1);
}

static void set(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)) < 0) {
		printf("error setsockopt %d/%d=%d: %s\n", level, name, v, strerror(errno));
		exit(1);
	}
}

static int keep(int fd)
{
	if (fd < 0)
		die("socket");
	socks[nsocks++] = fd;
	return fd;
}

static int get(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	return getsockopt(fd, level, name, &v, &len) < 0 ? -errno - 1000 : v;
}

/* What can be seen of netlink socket @fd, on one line. */
static void record(int fd, char *out)
{
	struct sockaddr_nl a = { 0 }, p = { 0 };
	socklen_t len = sizeof(a), plen = sizeof(p);
	uint32_t g[8] = { 0 };
	socklen_t glen = sizeof(g);
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLOUT };
	size_t k = 0;
	static const int flags[] = { NETLINK_PKTINFO, NETLINK_BROADCAST_ERROR, NETLINK_NO_ENOBUFS,
				     NETLINK_LISTEN_ALL_NSID, NETLINK_CAP_ACK, NETLINK_EXT_ACK,
				     NETLINK_GET_STRICT_CHK };

	(void)getsockname(fd, (struct sockaddr *)&a, &len);
	(void)getpeername(fd, (struct sockaddr *)&p, &plen);
	(void)getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, g, &glen);
	(void)poll(&pf, 1, 0);
	k += (size_t)snprintf(out + k, PRINT_MAX - k, "type %d proto %d port %u groups %x peer %u/%x member",
			      get(fd, SOL_SOCKET, SO_TYPE), get(fd, SOL_SOCKET, SO_PROTOCOL), a.nl_pid,
			      a.nl_groups, p.nl_pid, p.nl_groups);
	for (size_t i = 0; i < glen / sizeof(uint32_t) && i < 8; i++)
		k += (size_t)snprintf(out + k, PRINT_MAX - k, " %x", g[i]);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		k += (size_t)snprintf(out + k, PRINT_MAX - k, " f%d=%d", flags[i], get(fd, SOL_NETLINK, flags[i]));
	(void)snprintf(out + k, PRINT_MAX - k, " rcvbuf %d passcred %d poll %x", get(fd, SOL_SOCKET, SO_RCVBUF),
		       get(fd, SOL_SOCKET, SO_PASSCRED), pf.revents);
}

static int nl_bind(int fd, uint32_t port, uint32_t groups)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_pid = port, .nl_groups = groups };

	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	return fd;
}

static void ask_links(int fd)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} q = { { sizeof(q), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 }, { AF_UNSPEC } };

	if (send(fd, &q, sizeof(q), 0) != (ssize_t)sizeof(q))
		die("send");
}

/* The answers to ask_links() read to NLMSG_DONE, each to port id @port: how many links. */
static int read_links(int fd, uint32_t port)
{
	static char buf[65536];
	int links = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			(void)fail("no NLMSG_DONE: %s", strerror(errno));
			return -1;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_pid != port) {
				(void)fail("an answer to port id %u, not %u", h->nlmsg_pid, port);
				return -1;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return links;
			if (h->nlmsg_type == NLMSG_ERROR) {
				(void)fail("an error answer");
				return -1;
			}
			links++;
		}
	}
}

static uint32_t port_of(int fd)
{
	struct sockaddr_nl a = { 0 };
	socklen_t len = sizeof(a);

	(void)getsockname(fd, (struct sockaddr *)&a, &len);
	return a.nl_pid;
}

static void setup_netlink(void)
{
	int fd = keep(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
	int g = RTNLGRP_IPV6_ROUTE, hi = RTNLGRP_STATS;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	set(fd, SOL_NETLINK, NETLINK_PKTINFO, 1);
	set(fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, 1);
	set(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1);
	set(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
	set(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
	set(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
	set(fd, SOL_SOCKET, SO_RCVBUF, 300000);
	set(fd, SOL_SOCKET, SO_PASSCRED, 1);
	nl_bind(fd, 0x7e000000u | (uint32_t)getpid(), RTMGRP_LINK | RTMGRP_IPV4_IFADDR);
	set(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g);
	set(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, hi);

	nl_auto = keep(socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE));
	ask_links(nl_auto);
	if (read_links(nl_auto, port_of(nl_auto)) <= 0)
		die(bad);

	(void)keep(socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT));

	nl_peer = nl_bind(keep(socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK)), 0x7d000000u | (uint32_t)getpid(), 0);
	nl_conn = keep(socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK));
	to.nl_pid = port_of(nl_peer);
	if (connect(nl_conn, (struct sockaddr *)&to, sizeof(to)) < 0)
		die("connect");
}

static bool check_netlink(void)
{
	struct nlmsghdr h = { .nlmsg_len = sizeof(h), .nlmsg_type = 0x1234, .nlmsg_seq = 77 }, r = { 0 };
	struct sockaddr_nl from = { 0 };
	socklen_t len = sizeof(from);
	int n;

	ask_links(nl_auto);
	n = read_links(nl_auto, port_of(nl_auto));
	if (n <= 0)
		return n < 0 ? false : fail("no link in the kernel's answer");
	if (send(nl_conn, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return fail("send on the connected socket: %s", strerror(errno));
	if (recvfrom(nl_peer, &r, sizeof(r), MSG_DONTWAIT, (struct sockaddr *)&from, &len) != (ssize_t)sizeof(r) ||
	    r.nlmsg_seq != 77)
		return fail("the connected socket's message did not come: %s", strerror(errno));
	if (from.nl_pid != port_of(nl_conn))
		return fail("the message came from port id %u, not %u", from.nl_pid, port_of(nl_conn));
	return true;
}

static void refuse(const char *what)
{
	if (!strcmp(what, "nlqueue")) {
		nl_queued = keep(socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
		ask_links(nl_queued);
	} else {
		printf("error unknown --refuse %s\n", what);
		exit(1);
	}
}

/* refusing: what was queued is still there, whole */
static bool check_refused(void)
{
	if (nl_queued >= 0 && read_links(nl_queued, port_of(nl_queued)) <= 0)
		return bad[0] ? false : fail("no link in the answer queued");
	return true;
}

int main(int argc, char **argv)
{
	char line[64];
	bool refusing = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "--refuse")) {
		refuse(argv[2]);
		refusing = true;
	} else {
		setup_netlink();
	}
	for (int i = 0; i < nsocks; i++) {
		recs[i] = malloc(PRINT_MAX);
		if (!recs[i])
			die("malloc");
		record(socks[i], recs[i]);
	}
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		bool ok = true;

		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "exit"))
			return 0;
		if (strcmp(line, "check")) {
			printf("unknown command '%s'\n", line);
			continue;
		}
		bad[0] = '\0';
		for (int i = 0; ok && i < nsocks; i++) {
			char now[PRINT_MAX];

			record(socks[i], now);
			if (strcmp(now, recs[i]))
				ok = fail("fd %d: was '%s', is '%s'", socks[i], recs[i], now);
		}
		if (ok && (refusing ? check_refused() : check_netlink()))
			printf("ok\n");
		else
			printf("bad: %s\n", bad);
	}
	return 0;
}
