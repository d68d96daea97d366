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
 * ICMP "ping" sockets (SOCK_DGRAM, IPPROTO_ICMP, IPPROTO_ICMPV6): an IPv4
 * one the kernel gave an ident (an echo sent, its reply read), with
 * SO_RCVTIMEO, IP_TOS, IP_RECVERR, SO_BROADCAST and IP_MULTICAST_TTL; an IPv6 one bound to an ident of its
 * choosing and connected to ::1; "check" pings on each, the replies coming
 * to their idents. UDP-Lite sockets (IPPROTO_UDPLITE), IPv4 and IPv6: one
 * bound with checksum coverages (UDPLITE_SEND_CSCOV, UDPLITE_RECV_CSCOV),
 * one connected to it with datagrams queued on both; "check" reads them
 * in order and sends again each way.
 * --packet (in a network namespace of its own, lo up and quiet): packet
 * sockets instead: SOCK_RAW of ETH_P_ALL bound to lo with TPACKET_V2,
 * PACKET_AUXDATA, PACKET_ORIGDEV, promiscuous mode added twice, a
 * classic filter and a fanout group; SOCK_DGRAM of ETH_P_IP on every
 * interface with PACKET_RESERVE, PACKET_TIMESTAMP and a multicast
 * membership; SOCK_PACKET bound to lo; SOCK_RAW of no protocol. "check"
 * compares what getsockname() and the options say, sees a UDP datagram
 * over lo on each socket that takes one, and drops each membership as
 * many times as it was added. Raw sockets with them (setup_raw()), the
 * connected IPv6 one answered after the restore.
 * --packet-on NAME: one packet socket bound to interface NAME (up) alone.
 * --refuse nlqueue: a netlink socket with the kernel's answer queued, not
 * read; "check" then reads it whole (a refused dump consumed nothing).
 * --refuse pingqueue: a ping socket with an echo reply queued, not read;
 * "check" reads it. --refuse liteout: a UDP-Lite socket with a datagram
 * queued from a process that has exited since; "check" reads it.
 * --refuse pkring: a packet socket with a PACKET_RX_RING; --refuse
 * pkqueue: one with a packet queued, which "check" reads (both in a
 * network namespace of their own).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <sys/wait.h>
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
static int ping4 = -1, ping6 = -1, ping_queued = -1, lite[2][2] = { { -1, -1 }, { -1, -1 } }, lite_out = -1;
static int pk_raw = -1, pk_dgram = -1, pk_spkt = -1;
/* the inet sockets, recorded by record_inet() */
static int isocks[MAXSOCKS], nisocks;
static char *irecs[MAXSOCKS];

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

static int ikeep(int fd)
{
	if (fd < 0)
		die("socket");
	isocks[nisocks++] = fd;
	return fd;
}

/* What can be seen of inet socket @fd, on one line. */
static void record_inet(int fd, char *out)
{
	struct sockaddr_in6 a = { 0 }, p = { 0 };
	socklen_t len = sizeof(a), plen = sizeof(p);
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLOUT };
	char ia[INET6_ADDRSTRLEN] = "", ip[INET6_ADDRSTRLEN] = "";
	int fam = get(fd, SOL_SOCKET, SO_DOMAIN), lvl = fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	struct timeval tv = { 0 };
	socklen_t tlen = sizeof(tv);

	(void)getsockname(fd, (struct sockaddr *)&a, &len);
	(void)getpeername(fd, (struct sockaddr *)&p, &plen);
	(void)inet_ntop(fam, fam == AF_INET ? (void *)&((struct sockaddr_in *)&a)->sin_addr : (void *)&a.sin6_addr, ia,
			sizeof(ia));
	if (plen && p.sin6_family)
		(void)inet_ntop(fam, fam == AF_INET ? (void *)&((struct sockaddr_in *)&p)->sin_addr : (void *)&p.sin6_addr,
				ip, sizeof(ip));
	(void)getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tlen);
	(void)poll(&pf, 1, 0);
	uint8_t f6[32] = { 0 };
	socklen_t f6len = sizeof(f6);

	(void)getsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, f6, &f6len);
	(void)snprintf(out, PRINT_MAX,
		       "fam %d type %d proto %d addr %s:%u peer %s:%u cscov %d/%d tos %d recverr %d rcvtimeo %ld poll %x "
		       "hdrincl %d icmpfilter %x checksum %d icmp6filter %02x%02x%02x%02x bcast %d mcttl %d",
		       fam,
		       get(fd, SOL_SOCKET, SO_TYPE), get(fd, SOL_SOCKET, SO_PROTOCOL), ia, ntohs(a.sin6_port), ip,
		       ntohs(p.sin6_port), get(fd, IPPROTO_UDPLITE, 10), get(fd, IPPROTO_UDPLITE, 11),
		       get(fd, lvl, fam == AF_INET ? IP_TOS : IPV6_TCLASS), get(fd, lvl, fam == AF_INET ? IP_RECVERR : IPV6_RECVERR),
		       (long)tv.tv_sec, pf.revents, get(fd, lvl, fam == AF_INET ? IP_HDRINCL : 36), get(fd, SOL_RAW, 1),
		       get(fd, IPPROTO_IPV6, IPV6_CHECKSUM), f6[0], f6[1], f6[2], f6[16], get(fd, SOL_SOCKET, SO_BROADCAST),
		       get(fd, lvl, fam == AF_INET ? IP_MULTICAST_TTL : IPV6_MULTICAST_HOPS));
}

static socklen_t loopback(int fam, uint16_t port, struct sockaddr_in6 *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (fam == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ret;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
	ret->sin6_family = AF_INET6;
	ret->sin6_port = htons(port);
	ret->sin6_addr = in6addr_loopback;
	return sizeof(*ret);
}

/* An echo request of @seq on ping socket @fd (of family @fam) to the loopback: sent (not connected) or written. */
static void ping_send(int fd, int fam, uint16_t seq, bool connected)
{
	struct sockaddr_in6 to;
	socklen_t len = loopback(fam, 0, &to);
	uint8_t pkt[16] = { fam == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST };

	pkt[6] = (uint8_t)(seq >> 8);
	pkt[7] = (uint8_t)seq;
	memcpy(pkt + 8, "skfamtgt", 8);
	if ((connected ? send(fd, pkt, sizeof(pkt), 0) : sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, len)) !=
	    (ssize_t)sizeof(pkt))
		die("ping send");
}

/* The reply to echo @seq on @fd, within a second: it carries the socket's ident. */
static bool ping_reply(int fd, int fam, uint16_t seq)
{
	uint8_t pkt[64];
	struct sockaddr_in6 a = { 0 };
	socklen_t len = sizeof(a);
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pf, 1, 1000) != 1)
		return fail("no echo reply on fd %d", fd);
	n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
	(void)getsockname(fd, (struct sockaddr *)&a, &len);
	if (n != 16 || pkt[0] != (fam == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) ||
	    (pkt[6] << 8 | pkt[7]) != seq || memcmp(pkt + 8, "skfamtgt", 8))
		return fail("fd %d: not the reply to echo %u (%zd bytes)", fd, seq, n);
	if (memcmp(pkt + 4, &a.sin6_port, 2))
		return fail("fd %d: a reply to ident %u, not its own %u", fd, pkt[4] << 8 | pkt[5], ntohs(a.sin6_port));
	return true;
}

static void setup_ping(void)
{
	struct timeval tv = { .tv_sec = 7 };
	struct sockaddr_in6 a;
	socklen_t len;

	ping4 = ikeep(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
	if (setsockopt(ping4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("SO_RCVTIMEO");
	set(ping4, IPPROTO_IP, IP_TOS, 0x10);
	set(ping4, IPPROTO_IP, IP_RECVERR, 1);
	set(ping4, SOL_SOCKET, SO_BROADCAST, 1);
	set(ping4, IPPROTO_IP, IP_MULTICAST_TTL, 5);
	ping_send(ping4, AF_INET, 1, false);
	if (!ping_reply(ping4, AF_INET, 1))
		die(bad);
	ping6 = ikeep(socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6));
	len = loopback(AF_INET6, (uint16_t)(20000 + getpid() % 20000), &a);
	a.sin6_addr = in6addr_any;
	if (bind(ping6, (struct sockaddr *)&a, len) < 0)
		die("bind ping6");
	len = loopback(AF_INET6, 0, &a);
	if (connect(ping6, (struct sockaddr *)&a, len) < 0)
		die("connect ping6");
}

static bool check_ping(void)
{
	ping_send(ping4, AF_INET, 2, false);
	if (!ping_reply(ping4, AF_INET, 2))
		return false;
	ping_send(ping6, AF_INET6, 3, true);
	return ping_reply(ping6, AF_INET6, 3);
}

/* UDP-Lite: lite[f][0] bound, with coverages; lite[f][1] connected to it, both with datagrams queued */
static void setup_lite(void)
{
	for (int f = 0; f < 2; f++) {
		int fam = f ? AF_INET6 : AF_INET;
		struct sockaddr_in6 a;
		socklen_t len = loopback(fam, 0, &a);
		int s = ikeep(socket(fam, SOCK_DGRAM, IPPROTO_UDPLITE)), c = ikeep(socket(fam, SOCK_DGRAM, IPPROTO_UDPLITE));

		set(s, IPPROTO_UDPLITE, 10, 20);
		set(s, IPPROTO_UDPLITE, 11, 12);
		if (bind(s, (struct sockaddr *)&a, len) < 0 || getsockname(s, (struct sockaddr *)&a, &len) < 0 ||
		    connect(c, (struct sockaddr *)&a, len) < 0 || getsockname(c, (struct sockaddr *)&a, &len) < 0 ||
		    send(c, "lite one", 8, 0) != 8 || send(c, "lite two", 8, 0) != 8 ||
		    sendto(s, "lite back", 9, 0, (struct sockaddr *)&a, len) != 9)
			die("UDP-Lite");
		lite[f][0] = s;
		lite[f][1] = c;
	}
	usleep(20000);
}

static bool lite_read(int fd, const char *want)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n != (ssize_t)strlen(want) || memcmp(buf, want, (size_t)n))
		return fail("fd %d: '%.*s', not '%s'", fd, (int)(n > 0 ? n : 0), buf, want);
	return true;
}

static bool check_lite(void)
{
	for (int f = 0; f < 2; f++) {
		struct sockaddr_in6 a;
		socklen_t len = sizeof(a);

		if (!lite_read(lite[f][0], "lite one") || !lite_read(lite[f][0], "lite two") ||
		    !lite_read(lite[f][1], "lite back"))
			return false;
		if (send(lite[f][1], "again", 5, 0) != 5 || getsockname(lite[f][1], (struct sockaddr *)&a, &len) < 0 ||
		    sendto(lite[f][0], "again back", 10, 0, (struct sockaddr *)&a, len) != 10)
			return fail("UDP-Lite send after the restore: %s", strerror(errno));
		usleep(20000);
		if (!lite_read(lite[f][0], "again") || !lite_read(lite[f][1], "again back"))
			return false;
	}
	return true;
}

/* A datagram queued on a bound UDP-Lite socket from a child that has exited since. */
static void lite_from_outside(void)
{
	struct sockaddr_in6 a;
	socklen_t len = loopback(AF_INET, 0, &a);
	pid_t c;

	lite_out = ikeep(socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE));
	if (bind(lite_out, (struct sockaddr *)&a, len) < 0 || getsockname(lite_out, (struct sockaddr *)&a, &len) < 0)
		die("bind");
	c = fork();
	if (c == 0) {
		int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);

		_exit(sendto(s, "outside", 7, 0, (struct sockaddr *)&a, len) == 7 ? 0 : 1);
	}
	if (c < 0 || waitpid(c, NULL, 0) != c)
		die("fork");
	usleep(20000);
}

static int raw_udp = -1, raw6 = -1;

/*
 * Raw sockets (in the namespace of their own too: a raw socket takes every
 * packet of its protocol): IPv4 of IPPROTO_ICMP with ICMP_FILTER, of
 * IPPROTO_UDP with IP_TOS bound to 127.0.0.1, IPv6 of IPPROTO_ICMPV6 with
 * ICMP6_FILTER, connected to ::1, and of IPPROTO_RAW with IPV6_CHECKSUM.
 */
static void setup_raw(void)
{
	struct sockaddr_in6 a;
	socklen_t len = loopback(AF_INET, 0, &a);
	struct icmp6_filter f6;
	int r4 = ikeep(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)), r6 = ikeep(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));

	set(r4, SOL_RAW, 1, ~(1 << ICMP_ECHOREPLY));
	set(r4, SOL_SOCKET, SO_BROADCAST, 1);
	set(r6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 7);
	raw_udp = ikeep(socket(AF_INET, SOCK_RAW, IPPROTO_UDP));
	set(raw_udp, IPPROTO_IP, IP_TOS, 0x20);
	if (bind(raw_udp, (struct sockaddr *)&a, len) < 0)
		die("bind raw");
	ICMP6_FILTER_SETBLOCKALL(&f6);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f6);
	len = loopback(AF_INET6, 0, &a);
	if (setsockopt(r6, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6)) < 0 ||
	    connect(r6, (struct sockaddr *)&a, len) < 0)
		die("raw ICMPv6");
	raw6 = r6;
	set(ikeep(socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)), IPPROTO_IPV6, IPV6_CHECKSUM, 4);
}

/* What can be seen of packet socket @fd, on one line. */
static void record_packet(int fd, char *out)
{
	struct sockaddr_storage a = { 0 };
	socklen_t len = sizeof(a);
	size_t k = 0;
	static const int opts[] = { PACKET_VERSION, PACKET_RESERVE, PACKET_AUXDATA, PACKET_ORIGDEV, PACKET_LOSS,
				    PACKET_VNET_HDR, PACKET_TIMESTAMP, PACKET_FANOUT, PACKET_QDISC_BYPASS,
				    PACKET_TX_HAS_OFF, PACKET_IGNORE_OUTGOING };

	(void)getsockname(fd, (struct sockaddr *)&a, &len);
	k += (size_t)snprintf(out + k, PRINT_MAX - k, "type %d name", get(fd, SOL_SOCKET, SO_TYPE));
	for (socklen_t i = 0; i < len && i < sizeof(a); i++)
		k += (size_t)snprintf(out + k, PRINT_MAX - k, "%02x", ((uint8_t *)&a)[i]);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		k += (size_t)snprintf(out + k, PRINT_MAX - k, " o%d=%d", opts[i], get(fd, SOL_PACKET, opts[i]));
	(void)snprintf(out + k, PRINT_MAX - k, " rcvbuf %d", get(fd, SOL_SOCKET, SO_RCVBUF));
}

static struct packet_mreq mreq(int type, const char *addr)
{
	struct packet_mreq m = { .mr_ifindex = 1, .mr_type = (unsigned short)type };

	if (addr) {
		m.mr_alen = 6;
		memcpy(m.mr_address, addr, 6);
	}
	return m;
}

static void setup_packet(void)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = 1 };
	struct sockaddr sp = { .sa_family = AF_PACKET };
	/* every packet (ret #-1) */
	struct sock_filter insn[] = { { 0x06, 0, 0, 0xffffffff } };
	struct sock_fprog prog = { .len = 1, .filter = insn };
	struct packet_mreq promisc = mreq(PACKET_MR_PROMISC, NULL), mc = mreq(PACKET_MR_MULTICAST, "\x01\x00\x5e\x01\x02\x03");

	pk_raw = ikeep(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
	set(pk_raw, SOL_PACKET, PACKET_VERSION, TPACKET_V2);
	set(pk_raw, SOL_PACKET, PACKET_AUXDATA, 1);
	set(pk_raw, SOL_PACKET, PACKET_ORIGDEV, 1);
	if (bind(pk_raw, (struct sockaddr *)&ll, sizeof(ll)) < 0 ||
	    setsockopt(pk_raw, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(pk_raw, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof(promisc)) < 0 ||
	    setsockopt(pk_raw, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof(promisc)) < 0)
		die("packet SOCK_RAW");
	set(pk_raw, SOL_PACKET, PACKET_FANOUT, (getpid() & 0xffff) | (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_ROLLOVER) << 16);

	pk_dgram = ikeep(socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)));
	set(pk_dgram, SOL_PACKET, PACKET_RESERVE, 64);
	set(pk_dgram, SOL_PACKET, PACKET_TIMESTAMP, 1);
	set(pk_dgram, SOL_SOCKET, SO_RCVBUF, 200000);
	if (setsockopt(pk_dgram, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mc, sizeof(mc)) < 0)
		die("packet SOCK_DGRAM");

	pk_spkt = ikeep(socket(AF_PACKET, SOCK_PACKET, htons(ETH_P_ALL)));
	strcpy(sp.sa_data, "lo");
	if (bind(pk_spkt, &sp, sizeof(sp)) < 0)
		die("bind SOCK_PACKET");
	(void)ikeep(socket(AF_PACKET, SOCK_RAW, 0));
	setup_raw();
}

/* A packet on lo within a second on @fd, read. */
static bool saw(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char buf[2048];

	if (poll(&pf, 1, 1000) != 1 || recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
		return fail("fd %d saw no packet", fd);
	return true;
}

/* Whether lo is in promiscuous mode (its device flags, /sys/class/net/lo/flags: SIOCGIFFLAGS tells only a user's) */
static bool lo_promisc(void)
{
	FILE *f = fopen("/sys/class/net/lo/flags", "re");
	unsigned flags = 0;
	bool ok = f && fscanf(f, "%x", &flags) == 1;

	if (f)
		(void)fclose(f);
	return ok && (flags & IFF_PROMISC);
}

/* Whether lo has multicast address 01:00:5e:01:02:03 (/proc/net/dev_mcast) */
static bool lo_mcast(void)
{
	FILE *f = fopen("/proc/net/dev_mcast", "re");
	char line[256];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, " lo ") && strstr(line, "01005e010203");
	if (f)
		(void)fclose(f);
	return found;
}

/*
 * Each membership dropped as many times as it was added: lo leaves
 * promiscuous mode at the second drop only, the multicast address goes at
 * the first (a drop of none says 0 too: the kernel's own count tells).
 */
static bool drop_all(void)
{
	struct packet_mreq p = mreq(PACKET_MR_PROMISC, NULL), m = mreq(PACKET_MR_MULTICAST, "\x01\x00\x5e\x01\x02\x03");

	if (!lo_promisc() || !lo_mcast())
		return fail("lo: promiscuous %d, multicast address %d after the restore", lo_promisc(), lo_mcast());
	if (setsockopt(pk_raw, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &p, sizeof(p)) < 0 || !lo_promisc())
		return fail("lo left promiscuous mode at the first of two drops");
	if (setsockopt(pk_raw, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &p, sizeof(p)) < 0 || lo_promisc())
		return fail("lo is still promiscuous after two drops");
	if (setsockopt(pk_dgram, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &m, sizeof(m)) < 0 || lo_mcast())
		return fail("the multicast address is still on lo after its drop");
	return true;
}

static bool check_packet(void)
{
	struct sockaddr_in6 a;
	socklen_t len = loopback(AF_INET, 9, &a);
	int u = socket(AF_INET, SOCK_DGRAM, 0);

	if (sendto(u, "over lo", 7, 0, (struct sockaddr *)&a, len) != 7)
		return fail("send over lo: %s", strerror(errno));
	(void)close(u);
	if (!saw(pk_raw) || !saw(pk_dgram) || !saw(pk_spkt) || !saw(raw_udp))
		return false;
	/* connected: an echo written without an address, its reply passing the filter */
	ping_send(raw6, AF_INET6, 5, true);
	if (!saw(raw6))
		return false;
	return drop_all();
}

static void refuse(const char *what)
{
	if (!strcmp(what, "nlqueue")) {
		nl_queued = keep(socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
		ask_links(nl_queued);
	} else if (!strcmp(what, "pingqueue")) {
		ping_queued = ikeep(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
		ping_send(ping_queued, AF_INET, 9, false);
		usleep(20000);
	} else if (!strcmp(what, "liteout")) {
		lite_from_outside();
	} else if (!strcmp(what, "pkring")) {
		struct tpacket_req ring = { .tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 2048, .tp_frame_nr = 2 };

		pk_raw = ikeep(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
		if (setsockopt(pk_raw, SOL_PACKET, PACKET_RX_RING, &ring, sizeof(ring)) < 0)
			die("PACKET_RX_RING");
		pk_raw = -1;
	} else if (!strcmp(what, "pkqueue")) {
		struct sockaddr_in6 a;
		socklen_t len = loopback(AF_INET, 9, &a);
		int u;

		pk_dgram = ikeep(socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)));
		u = socket(AF_INET, SOCK_DGRAM, 0);
		if (sendto(u, "over lo", 7, 0, (struct sockaddr *)&a, len) != 7)
			die("send over lo");
		(void)close(u);
		usleep(20000);
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
	if (ping_queued >= 0 && !ping_reply(ping_queued, AF_INET, 9))
		return false;
	if (pk_dgram >= 0 && !saw(pk_dgram))
		return false;
	return lite_out < 0 || lite_read(lite_out, "outside");
}

int main(int argc, char **argv)
{
	char line[64];
	bool refusing = false, packet = argc == 2 && !strcmp(argv[1], "--packet"), on = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "--refuse")) {
		refuse(argv[2]);
		refusing = true;
	} else if (packet) {
		setup_packet();
	} else if (argc == 3 && !strcmp(argv[1], "--packet-on")) {
		/* of the local experimental ethertype: nothing comes to it */
		struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(0x88b5),
					  .sll_ifindex = (int)if_nametoindex(argv[2]) };

		if (bind(ikeep(socket(AF_PACKET, SOCK_DGRAM, htons(0x88b5))), (struct sockaddr *)&ll, sizeof(ll)) < 0)
			die("bind");
		packet = on = true;
	} else {
		setup_netlink();
		setup_ping();
		setup_lite();
	}
	for (int i = 0; i < nsocks; i++) {
		recs[i] = malloc(PRINT_MAX);
		if (!recs[i])
			die("malloc");
		record(socks[i], recs[i]);
	}
	for (int i = 0; i < nisocks; i++) {
		irecs[i] = malloc(PRINT_MAX);
		if (!irecs[i])
			die("malloc");
		(get(isocks[i], SOL_SOCKET, SO_DOMAIN) == AF_PACKET ? record_packet : record_inet)(isocks[i], irecs[i]);
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
		for (int i = 0; ok && i < nisocks; i++) {
			char now[PRINT_MAX];

			(get(isocks[i], SOL_SOCKET, SO_DOMAIN) == AF_PACKET ? record_packet : record_inet)(isocks[i], now);
			if (strcmp(now, irecs[i]))
				ok = fail("fd %d: was '%s', is '%s'", isocks[i], irecs[i], now);
		}
		if (ok && (refusing ? check_refused() :
			   on	    ? true :
			   packet   ? check_packet() :
				      check_netlink() && check_ping() && check_lite()))
			printf("ok\n");
		else
			printf("bad: %s\n", bad);
	}
	return 0;
}
