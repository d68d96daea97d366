/* SPDX-License-Identifier: MIT */
/*
 * sockopttarget: sockets whose options and states are not a new socket's,
 * for a dump and a restore to keep (t150), or one state sdump refuses
 * (t151, --refuse WHAT).
 *
 * Every option of a long list (SOL_SOCKET, IP, IPv6, TCP, UDP, the
 * structs SO_LINGER, SO_BINDTODEVICE, TCP_CONGESTION, a classic filter)
 * and what poll() says is recorded at the setup for each socket, and
 * compared after the restore ("check"), which then reads and writes them:
 *   a TCP listener on 127.0.0.1 without SO_REUSEADDR, a connection it
 *   accepted closed first (its port held by a TIME_WAIT socket), with
 *   SO_DONTROUTE, SO_BINDTODEVICE lo, SO_LINGER, a locked classic filter,
 *   SO_BUF_LOCK, TCP_CONGESTION reno and other TCP and socket options;
 *   UDP sockets bound to addresses of no interface (IP_FREEBIND,
 *   IPV6_FREEBIND) with IP and IPv6 options, and two more with the
 *   option turned off after the bind; UDP sockets shut down each
 *   way, one holding an empty datagram between two others; unix
 *   socketpairs of each type shut down in every combination of the two
 *   ends (and with one end closed), compared with pairs made alike at the
 *   check; a unix stream socket whose peer closed with bytes unread (an
 *   error, ECONNRESET, not read yet, after bytes to read); empty messages
 *   queued on unix datagram and seqpacket pairs.
 * --refuse ebpf: a UDP socket with an eBPF filter; --refuse mcast: one
 * that joined a multicast group; --refuse reset: a unix seqpacket socket
 * whose peer closed with bytes unread (an error not read yet).
 * --tcpbuf: an established TCP connection over loopback whose two ends
 * both wrote until nothing more fit (megabytes queued each way, in both
 * the send and the receive queues), read whole after the restore (for
 * dump --tcp-established).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

static char bad[512];

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

/* what is recorded of a socket */
static const struct {
	int level, name;
} ints[] = {
	{ SOL_SOCKET, SO_REUSEADDR }, { SOL_SOCKET, SO_REUSEPORT }, { SOL_SOCKET, SO_KEEPALIVE },
	{ SOL_SOCKET, SO_BROADCAST }, { SOL_SOCKET, SO_NO_CHECK }, { SOL_SOCKET, SO_OOBINLINE }, { SOL_SOCKET, SO_DONTROUTE },
	{ SOL_SOCKET, SO_PRIORITY }, { SOL_SOCKET, SO_MARK }, { SOL_SOCKET, SO_RCVLOWAT },
	{ SOL_SOCKET, SO_TIMESTAMP }, { SOL_SOCKET, SO_TIMESTAMPNS }, { SOL_SOCKET, SO_TIMESTAMPING },
	{ SOL_SOCKET, SO_RXQ_OVFL }, { SOL_SOCKET, SO_BUSY_POLL }, { SOL_SOCKET, SO_ZEROCOPY },
	{ SOL_SOCKET, SO_INCOMING_CPU }, { SOL_SOCKET, SO_BUF_LOCK }, { SOL_SOCKET, SO_LOCK_FILTER },
	{ SOL_SOCKET, SO_SNDBUF }, { SOL_SOCKET, SO_RCVBUF }, { SOL_SOCKET, SO_PASSCRED },
	{ SOL_SOCKET, SO_PEEK_OFF },
	{ IPPROTO_IP, IP_TOS }, { IPPROTO_IP, IP_TTL }, { IPPROTO_IP, IP_MTU_DISCOVER }, { IPPROTO_IP, IP_RECVERR },
	{ IPPROTO_IP, IP_PKTINFO }, { IPPROTO_IP, IP_RECVTOS }, { IPPROTO_IP, IP_RECVTTL },
	{ IPPROTO_IP, IP_MULTICAST_TTL }, { IPPROTO_IP, IP_MULTICAST_LOOP }, { IPPROTO_IP, IP_MULTICAST_ALL },
	{ IPPROTO_IP, IP_FREEBIND }, { IPPROTO_IP, IP_TRANSPARENT }, { IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT },
	{ IPPROTO_IP, IP_MINTTL },
	{ IPPROTO_IPV6, IPV6_V6ONLY }, { IPPROTO_IPV6, IPV6_TCLASS }, { IPPROTO_IPV6, IPV6_UNICAST_HOPS },
	{ IPPROTO_IPV6, IPV6_MULTICAST_HOPS }, { IPPROTO_IPV6, IPV6_MULTICAST_LOOP }, { IPPROTO_IPV6, IPV6_RECVPKTINFO },
	{ IPPROTO_IPV6, IPV6_RECVTCLASS }, { IPPROTO_IPV6, IPV6_RECVHOPLIMIT }, { IPPROTO_IPV6, IPV6_DONTFRAG },
	{ IPPROTO_IPV6, IPV6_MTU_DISCOVER }, { IPPROTO_IPV6, IPV6_FREEBIND }, { IPPROTO_IPV6, IPV6_RECVERR },
	{ IPPROTO_TCP, TCP_NODELAY }, { IPPROTO_TCP, TCP_CORK }, { IPPROTO_TCP, TCP_KEEPIDLE },
	{ IPPROTO_TCP, TCP_KEEPINTVL }, { IPPROTO_TCP, TCP_KEEPCNT }, { IPPROTO_TCP, TCP_USER_TIMEOUT },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT }, { IPPROTO_TCP, TCP_MAXSEG }, { IPPROTO_TCP, TCP_SYNCNT },
	{ IPPROTO_TCP, TCP_LINGER2 }, { IPPROTO_TCP, TCP_FASTOPEN }, { IPPROTO_TCP, TCP_DEFER_ACCEPT },
	{ IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS }, { IPPROTO_TCP, TCP_INQ }, { IPPROTO_TCP, TCP_TX_DELAY },
	{ IPPROTO_UDP, UDP_CORK }, { IPPROTO_UDP, UDP_SEGMENT }, { IPPROTO_UDP, UDP_GRO },
};
#define NINTS (sizeof(ints) / sizeof(ints[0]))
#define PRINT_MAX 2048

/* A socket's record: each option readable (or its errno), the structs, and poll(). */
static void record(int fd, char *out)
{
	struct linger lg = { 0 };
	struct sock_filter f[8];
	unsigned long long rate = 0;
	char dev[IFNAMSIZ + 1] = "", cc[17] = "";
	socklen_t len;
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP | POLLPRI };
	size_t k = 0;

	for (size_t i = 0; i < NINTS; i++) {
		int v = 0;

		len = sizeof(v);
		if (getsockopt(fd, ints[i].level, ints[i].name, &v, &len) < 0)
			v = -1000 - errno;
		k += (size_t)snprintf(out + k, PRINT_MAX - k, "%d/%d=%d ", ints[i].level, ints[i].name, v);
	}
	len = sizeof(lg);
	(void)getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len);
	len = sizeof(dev) - 1;
	(void)getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &len);
	len = sizeof(cc) - 1;
	(void)getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len);
	len = sizeof(rate);
	(void)getsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &rate, &len);
	len = 8;
	memset(f, 0, sizeof(f));
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, f, &len) < 0)
		len = 99;
	(void)poll(&pf, 1, 0);
	(void)snprintf(out + k, PRINT_MAX - k, "linger=%d,%d dev=%s cc=%s rate=%llx filter=%u:%x:%x poll=%#x",
		       lg.l_onoff, lg.l_linger, dev, cc, rate, len, f[0].code, f[0].k, pf.revents);
}

#define MAXS 256
static int socks[MAXS], nsocks;
static char *recs[MAXS];
static int tcp_l, udp4, udp6, udp_rd, udp_wr, udp_rdwr, udp_zero_rx;
static struct sockaddr_in zero_rx_addr;
/* the unix pairs: [type][how a][how b] and the closed ones [type][how a] */
static const int types[3] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
static int pairs[3][4][4][2], closed[3][4], msg0[2][2], reset;

/* A unix stream socket whose peer wrote "hello", then closed with a byte of ours unread. */
static int make_reset(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || send(sv[1], "hello", 5, 0) != 5 || send(sv[0], "x", 1, 0) != 1)
		die("socketpair");
	(void)close(sv[1]);
	return sv[0];
}

static int keep(int fd)
{
	if (fd < 0)
		die("socket");
	socks[nsocks++] = fd;
	return fd;
}

static void shut(int fd, int how)
{
	/* 0 none, 1 SHUT_RD, 2 SHUT_WR, 3 SHUT_RDWR */
	if (how)
		(void)shutdown(fd, how - 1);
}

/* The unix pairs of type @t shut down @a, @b (closed: the second end closed) in @sv. */
static void make_pair(int t, int a, int b, bool close_b, int sv[2])
{
	if (socketpair(AF_UNIX, types[t], 0, sv) < 0)
		die("socketpair");
	if (send(sv[1], "peer", 4, MSG_DONTWAIT) < 0 || send(sv[0], "mine", 4, MSG_DONTWAIT) < 0)
		die("send");
	shut(sv[0], a);
	if (close_b) {
		char buf[8];

		/* its queue read first: closed with bytes unread, it would leave an error (t151 has it) */
		(void)recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
		(void)close(sv[1]);
		sv[1] = -1;
	} else {
		shut(sv[1], b);
	}
}

static void setup_unix(void)
{
	for (int t = 0; t < 3; t++) {
		for (int a = 0; a < 4; a++) {
			for (int b = 0; b < 4; b++) {
				make_pair(t, a, b, false, pairs[t][a][b]);
				(void)keep(pairs[t][a][b][0]);
				(void)keep(pairs[t][a][b][1]);
			}
		}
	}
	/* the pairs with one end closed */
	for (int t = 0; t < 3; t++)
		for (int a = 0; a < 4; a++) {
			int sv[2];

			make_pair(t, a, 0, true, sv);
			closed[t][a] = keep(sv[0]);
		}
	reset = keep(make_reset());
	/* empty messages between two others, on a datagram and a seqpacket pair */
	for (int k = 0; k < 2; k++) {
		if (socketpair(AF_UNIX, k ? SOCK_SEQPACKET : SOCK_DGRAM, 0, msg0[k]) < 0)
			die("socketpair");
		if (send(msg0[k][1], "a", 1, 0) != 1 || send(msg0[k][1], "", 0, 0) != 0 || send(msg0[k][1], "bc", 2, 0) != 2)
			die("send empty");
		(void)keep(msg0[k][0]);
		(void)keep(msg0[k][1]);
	}
}

static void setup_tcp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	struct linger lg = { 1, 7 };
	struct sock_filter f[] = { { BPF_RET | BPF_K, 0, 0, 0xffff } };
	struct sock_fprog prog = { 1, f };
	unsigned long long rate = 1000000;
	int c, acc;

	tcp_l = keep(socket(AF_INET, SOCK_STREAM, 0));
	set(tcp_l, SOL_SOCKET, SO_DONTROUTE, 1);
	if (setsockopt(tcp_l, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2) < 0 ||
	    setsockopt(tcp_l, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
	    setsockopt(tcp_l, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(tcp_l, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) < 0 ||
	    setsockopt(tcp_l, SOL_SOCKET, SO_MAX_PACING_RATE, &rate, sizeof(rate)) < 0)
		die("tcp options");
	set(tcp_l, SOL_SOCKET, SO_LOCK_FILTER, 1);
	set(tcp_l, SOL_SOCKET, SO_SNDBUF, 65536);
	set(tcp_l, SOL_SOCKET, SO_BUF_LOCK, 2); /* the receive buffer locked, the send buffer not */
	set(tcp_l, SOL_SOCKET, SO_PRIORITY, 3);
	set(tcp_l, SOL_SOCKET, SO_MARK, 77);
	set(tcp_l, SOL_SOCKET, SO_RCVLOWAT, 5);
	set(tcp_l, SOL_SOCKET, SO_BUSY_POLL, 20);
	set(tcp_l, SOL_SOCKET, SO_ZEROCOPY, 1);
	set(tcp_l, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	set(tcp_l, SOL_SOCKET, SO_INCOMING_CPU, 0);
	set(tcp_l, SOL_SOCKET, SO_KEEPALIVE, 1);
	set(tcp_l, IPPROTO_IP, IP_TOS, 0x10);
	set(tcp_l, IPPROTO_IP, IP_TTL, 33);
	set(tcp_l, IPPROTO_IP, IP_MINTTL, 2);
	set(tcp_l, IPPROTO_TCP, TCP_NODELAY, 1);
	set(tcp_l, IPPROTO_TCP, TCP_KEEPIDLE, 111);
	set(tcp_l, IPPROTO_TCP, TCP_KEEPINTVL, 12);
	set(tcp_l, IPPROTO_TCP, TCP_KEEPCNT, 4);
	set(tcp_l, IPPROTO_TCP, TCP_USER_TIMEOUT, 9000);
	set(tcp_l, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 12345);
	set(tcp_l, IPPROTO_TCP, TCP_MAXSEG, 1000);
	set(tcp_l, IPPROTO_TCP, TCP_SYNCNT, 3);
	set(tcp_l, IPPROTO_TCP, TCP_LINGER2, 20);
	set(tcp_l, IPPROTO_TCP, TCP_FASTOPEN, 5);
	set(tcp_l, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, 1);
	set(tcp_l, IPPROTO_TCP, TCP_INQ, 1);
	set(tcp_l, IPPROTO_TCP, TCP_TX_DELAY, 10);
	if (bind(tcp_l, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(tcp_l, (struct sockaddr *)&a, &al) < 0 ||
	    listen(tcp_l, 8) < 0)
		die("listen");
	/* a connection accepted, then closed by this side first: a TIME_WAIT socket on the listener's port */
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 || (acc = accept(tcp_l, NULL, NULL)) < 0)
		die("connect");
	(void)close(acc);
	usleep(50000);
	(void)close(c);
	usleep(50000);
}

static int udp_bound(int family, const char *ip, struct sockaddr_in *ret4)
{
	int fd = keep(socket(family, SOCK_DGRAM, 0));
	struct sockaddr_storage ss = { 0 };
	socklen_t len;

	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		(void)inet_pton(AF_INET, ip, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		(void)inet_pton(AF_INET6, ip, &a->sin6_addr);
		len = sizeof(*a);
	}
	if (family == AF_INET && strcmp(ip, "127.0.0.1"))
		set(fd, IPPROTO_IP, IP_FREEBIND, 1);
	if (family == AF_INET6)
		set(fd, IPPROTO_IPV6, IPV6_FREEBIND, 1);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		die("udp bind");
	if (ret4) {
		len = sizeof(*ret4);
		(void)getsockname(fd, (struct sockaddr *)ret4, &len);
	}
	return fd;
}

static void setup_udp(void)
{
	struct sockaddr_in to;
	int tx;

	udp4 = udp_bound(AF_INET, "192.0.2.7", NULL);
	set(udp4, SOL_SOCKET, SO_BROADCAST, 1);
	set(udp4, SOL_SOCKET, SO_NO_CHECK, 1);
	set(udp4, IPPROTO_IP, IP_TOS, 0x20);
	set(udp4, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
	set(udp4, IPPROTO_IP, IP_RECVERR, 1);
	set(udp4, IPPROTO_IP, IP_PKTINFO, 1);
	set(udp4, IPPROTO_IP, IP_RECVTOS, 1);
	set(udp4, IPPROTO_IP, IP_RECVTTL, 1);
	set(udp4, IPPROTO_IP, IP_MULTICAST_TTL, 9);
	set(udp4, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
	set(udp4, IPPROTO_IP, IP_MULTICAST_ALL, 0);
	set(udp4, IPPROTO_UDP, UDP_SEGMENT, 1000);
	set(udp4, IPPROTO_UDP, UDP_GRO, 1);
	set(udp4, IPPROTO_UDP, UDP_CORK, 1);
	set(udp4, SOL_SOCKET, SO_TIMESTAMP, 1);
	udp6 = udp_bound(AF_INET6, "2001:db8::7", NULL);
	set(udp6, IPPROTO_IPV6, IPV6_TCLASS, 0x28);
	set(udp6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 17);
	set(udp6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 5);
	set(udp6, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
	set(udp6, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	set(udp6, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
	set(udp6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
	set(udp6, IPPROTO_IPV6, IPV6_DONTFRAG, 1);
	set(udp6, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
	set(udp6, IPPROTO_IPV6, IPV6_RECVERR, 1);
	/* bound with IP_FREEBIND to an address of no interface, then turned off: the address stays */
	set(udp_bound(AF_INET, "192.0.2.8", NULL), IPPROTO_IP, IP_FREEBIND, 0);
	set(udp_bound(AF_INET6, "2001:db8::8", NULL), IPPROTO_IPV6, IPV6_FREEBIND, 0);
	/* shut down each way: bound, bound and connected to itself, and not bound */
	udp_rd = udp_bound(AF_INET, "127.0.0.1", &to);
	shut(udp_rd, 1);
	udp_wr = udp_bound(AF_INET, "127.0.0.1", &to);
	if (connect(udp_wr, (struct sockaddr *)&to, sizeof(to)) < 0)
		die("udp connect");
	shut(udp_wr, 2);
	udp_rdwr = keep(socket(AF_INET, SOCK_DGRAM, 0));
	shut(udp_rdwr, 3);
	/* an empty datagram between two others */
	udp_zero_rx = udp_bound(AF_INET, "127.0.0.1", &zero_rx_addr);
	tx = udp_bound(AF_INET, "127.0.0.1", NULL);
	if (sendto(tx, "a", 1, 0, (struct sockaddr *)&zero_rx_addr, sizeof(zero_rx_addr)) != 1 ||
	    sendto(tx, "", 0, 0, (struct sockaddr *)&zero_rx_addr, sizeof(zero_rx_addr)) != 0 ||
	    sendto(tx, "bc", 2, 0, (struct sockaddr *)&zero_rx_addr, sizeof(zero_rx_addr)) != 2)
		die("udp send");
	usleep(20000);
}

/* What reading, then writing, then poll() give on @fd, nothing waited for. */
static void behave(int fd, char *out, size_t n)
{
	char buf[16];
	ssize_t r1, r2, w;
	int e1, e2, ew;
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP };

	(void)poll(&pf, 1, 0);
	r1 = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	e1 = r1 < 0 ? errno : 0;
	r2 = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	e2 = r2 < 0 ? errno : 0;
	w = send(fd, "z", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	ew = w < 0 ? errno : 0;
	(void)snprintf(out, n, "poll %#x read %zd/%d %zd/%d write %zd/%d", pf.revents, r1, e1, r2, e2, w, ew);
}

static bool check_unix(void)
{
	static const char *hows[4] = { "-", "RD", "WR", "RDWR" };

	for (int t = 0; t < 3; t++)
		for (int a = 0; a < 4; a++)
			for (int b = 0; b < 5; b++) {
				int ref[2], *got = b < 4 ? pairs[t][a][b] : (int[2]){ closed[t][a], -1 };

				make_pair(t, a, b < 4 ? b : 0, b == 4, ref);
				for (int end = 0; end < 2; end++) {
					char want[128], have[128];

					if (ref[end] < 0)
						continue;
					behave(ref[end], want, sizeof(want));
					behave(got[end], have, sizeof(have));
					if (strcmp(want, have))
						return fail("unix type %d pair shut %s/%s end %d: %s, a new one %s", types[t],
							    hows[a], b < 4 ? hows[b] : "closed", end, have, want);
				}
				for (int end = 0; end < 2; end++)
					if (ref[end] >= 0)
						(void)close(ref[end]);
			}
	{
		int ref = make_reset();
		char want[128], have[128];

		behave(ref, want, sizeof(want));
		behave(reset, have, sizeof(have));
		(void)close(ref);
		if (strcmp(want, have))
			return fail("the unix socket whose peer closed with bytes unread: %s, a new one %s", have, want);
	}
	for (int k = 0; k < 2; k++) {
		char buf[8];
		ssize_t n1 = recv(msg0[k][0], buf, 8, MSG_DONTWAIT), n2 = recv(msg0[k][0], buf, 8, MSG_DONTWAIT),
			n3 = recv(msg0[k][0], buf, 8, MSG_DONTWAIT);

		if (n1 != 1 || n2 != 0 || n3 != 2)
			return fail("unix %s pair reads %zd %zd %zd, not 1 0 2 (the empty message)", k ? "seqpacket" : "dgram",
				    n1, n2, n3);
	}
	return true;
}

static bool check_udp(void)
{
	char buf[8];
	ssize_t n1 = recv(udp_zero_rx, buf, 8, MSG_DONTWAIT), n2 = recv(udp_zero_rx, buf, 8, MSG_DONTWAIT),
		n3 = recv(udp_zero_rx, buf, 8, MSG_DONTWAIT);
	struct pollfd pf = { .fd = udp_rdwr, .events = POLLIN | POLLOUT | POLLRDHUP };

	if (n1 != 1 || n2 != 0 || n3 != 2)
		return fail("the UDP socket reads %zd %zd %zd, not 1 0 2 (the empty datagram)", n1, n2, n3);
	if (send(udp_wr, "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
		return fail("the UDP socket shut down for writing writes (%s)", strerror(errno));
	pf.fd = udp_rd;
	if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLRDHUP))
		return fail("the UDP socket shut down for reading does not poll POLLRDHUP (%#x)", pf.revents);
	pf.fd = udp_rdwr;
	if (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLHUP))
		return fail("the UDP socket shut down both ways does not poll POLLHUP (%#x)", pf.revents);
	return true;
}

static bool check_tcp(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int c = socket(AF_INET, SOCK_STREAM, 0), acc;

	if (getsockname(tcp_l, (struct sockaddr *)&a, &al) < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (acc = accept(tcp_l, NULL, NULL)) < 0)
		return fail("the TCP listener does not take a connection: %s", strerror(errno));
	(void)close(acc);
	(void)close(c);
	return true;
}

static bool tcpbuf_only, refusing;
static int tcpbuf[2];
static size_t tcpbuf_sent[2];

static uint8_t pattern(int end, size_t i)
{
	return (uint8_t)(i * 7 + (size_t)end * 13 + i / 251);
}

static void setup_tcpbuf(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	uint8_t buf[65536];

	/* receive buffers of megabytes: the receive queues hold megabytes too, not only the send queues */
	if (l >= 0)
		set(l, SOL_SOCKET, SO_RCVBUF, 3 << 20);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(l, (struct sockaddr *)&a, &al) < 0 ||
	    listen(l, 1) < 0)
		die("listen");
	tcpbuf[0] = keep(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	set(tcpbuf[0], SOL_SOCKET, SO_RCVBUF, 3 << 20);
	if (connect(tcpbuf[0], (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
		die("connect");
	tcpbuf[1] = keep(accept4(l, NULL, NULL, SOCK_NONBLOCK));
	(void)close(l);
	usleep(50000);
	/* both ends write until the peer's receive queue and their own send queue are full */
	for (int idle = 0; idle < 10;) {
		bool more = false;

		for (int end = 0; end < 2; end++) {
			ssize_t n;

			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = pattern(end, tcpbuf_sent[end] + i);
			n = send(tcpbuf[end], buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				tcpbuf_sent[end] += (size_t)n;
				more = true;
			}
		}
		idle = more ? 0 : idle + 1;
		if (!more)
			usleep(20000);
	}
}

/* Each end reads all its peer sent, byte for byte, within 20 s. */
static bool check_tcpbuf(void)
{
	size_t got[2] = { 0, 0 };
	uint8_t buf[65536];

	for (int waited = 0; (got[0] < tcpbuf_sent[1] || got[1] < tcpbuf_sent[0]) && waited < 2000;) {
		bool any = false;

		for (int end = 0; end < 2; end++) {
			ssize_t n = recv(tcpbuf[end], buf, sizeof(buf), MSG_DONTWAIT);

			if (n == 0)
				return fail("end %d of the TCP connection reads its end after %zu bytes", end, got[end]);
			if (n < 0 && errno != EAGAIN)
				return fail("end %d of the TCP connection: %s", end, strerror(errno));
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != pattern(!end, got[end] + (size_t)i))
					return fail("end %d of the TCP connection reads a wrong byte at %zu", end,
						    got[end] + (size_t)i);
			if (n > 0) {
				got[end] += (size_t)n;
				any = true;
			}
		}
		if (!any) {
			usleep(10000);
			waited++;
		}
	}
	if (got[0] != tcpbuf_sent[1] || got[1] != tcpbuf_sent[0])
		return fail("the TCP connection's ends read %zu and %zu bytes of %zu and %zu", got[0], got[1],
			    tcpbuf_sent[1], tcpbuf_sent[0]);
	return true;
}

static void refuse(const char *what)
{
	if (!strcmp(what, "ebpf")) {
		/* r0 = 0xffff; exit */
		struct bpf_insn ins[] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0xffff },
					  { .code = BPF_JMP | BPF_EXIT } };
		union bpf_attr at = { 0 };
		int fd = keep(socket(AF_INET, SOCK_DGRAM, 0)), prog;

		at.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
		at.insns = (uint64_t)(uintptr_t)ins;
		at.insn_cnt = 2;
		at.license = (uint64_t)(uintptr_t) "MIT";
		prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &at, sizeof(at));
		if (prog < 0 || setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog)) < 0)
			die("bpf");
		(void)close(prog);
	} else if (!strcmp(what, "reset")) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || send(sv[0], "x", 1, 0) != 1)
			die("socketpair");
		(void)close(sv[1]);
		(void)keep(sv[0]);
	} else if (!strcmp(what, "mcast")) {
		struct ip_mreqn m = { .imr_ifindex = (int)if_nametoindex("lo") };
		int fd = keep(socket(AF_INET, SOCK_DGRAM, 0));

		(void)inet_pton(AF_INET, "239.1.2.3", &m.imr_multiaddr);
		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)) < 0)
			die("join");
	}
}

int main(int argc, char **argv)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "--refuse")) {
		refuse(argv[2]);
		refusing = true;
	} else if (argc == 2 && !strcmp(argv[1], "--tcpbuf")) {
		setup_tcpbuf();
		printf("ready %d %zu %zu\n", (int)getpid(), tcpbuf_sent[0], tcpbuf_sent[1]);
		tcpbuf_only = true;
	} else {
		setup_tcp();
		setup_udp();
		setup_unix();
	}
	for (int i = 0; i < nsocks; i++) {
		recs[i] = malloc(PRINT_MAX);
		if (!recs[i])
			die("malloc");
		record(socks[i], recs[i]);
	}
	if (!tcpbuf_only)
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
			if (strcmp(now, recs[i])) {
				size_t k = 0;

				while (now[k] == recs[i][k])
					k++;
				while (k && recs[i][k - 1] != ' ')
					k--;
				ok = fail("fd %d: was '%.60s', is '%.60s'", socks[i], recs[i] + k, now + k);
			}
		}
		/* refusing: the records alone (an error still pending shows in poll()) */
		if (tcpbuf_only ? check_tcpbuf() : refusing ? ok : ok && check_udp() && check_unix() && check_tcp())
			printf("ok\n");
		else
			printf("bad: %s\n", bad);
	}
	return 0;
}
