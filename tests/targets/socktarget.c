/* SPDX-License-Identifier: MIT */
/*
 * A target that owns unix sockets, each with state a restore must give
 * back. Driven over stdin/stdout one line at a time:
 *
 *   facts  -> one line, a JSON object: "pid", "fds" (role -> number)
 *   check  -> every socket checked from inside, as the process sees it:
 *             "ok", or "bad: " and what differs (it reads the queues:
 *             once, after a restore)
 *   exit   -> exits 0
 *
 * Before it prints "ready PID" it sets up (files in DIR, --dir DIR):
 *   "st_a", "st_b": socketpair(SOCK_STREAM); a sent "hello from a" and
 *     "and more" (not read), b sent 100000 bytes of a pattern (not read);
 *     b has SO_PASSCRED, a SO_RCVBUF 65536 and SO_SNDBUF 131072, b
 *     SO_PEEK_OFF 3, a SO_RCVTIMEO 2.5 s. check: b reads both strings,
 *     with this process's credentials, a the pattern; each end then
 *     echoes a new message to the other.
 *   "dg_a", "dg_b": socketpair(SOCK_DGRAM), non-blocking; a sent "one",
 *     "" and "three" to b: b reads three datagrams of those sizes.
 *   "sp_a", "sp_b": socketpair(SOCK_SEQPACKET); a sent "first" and
 *     "second", then shut down its writing: b reads two messages, then
 *     the end (0); a can still read what b sends.
 *   "lis": a listener bound to DIR/sk-PID.sock (mode 0640), backlog 7;
 *     "cli" connected to it and accepted as "acc"; cli sent "ping" and acc
 *     "pong" (not read); "wait" connected and not accepted yet. check:
 *     acc reads "ping", cli "pong", getsockname of acc and getpeername of
 *     cli name the path; the listener accepts the waiting connection, and
 *     a new client connects to the path.
 *   "ab_rx": a datagram socket bound to the abstract name "@sdump-sk-PID";
 *     "ab_tx" bound to "@sdump-tx-PID" sent it "named", then an unbound
 *     one (closed since) "anon". check: ab_rx reads "named" from ab_tx's
 *     name, then "anon" from no name.
 *   "unb": an unbound stream socket, non-blocking, close-on-exec.
 *   "gone": socketpair(SOCK_STREAM) whose other end sent "bye" and closed:
 *     gone reads "bye", then the end.
 *   "half": socketpair(SOCK_STREAM) end whose reading is shut down
 *     ("half_peer" the other end): half_peer's write fails with EPIPE,
 *     half can write to half_peer.
 *   --inet: "tcp4" a TCP listener on 127.0.0.1 (a port of the kernel's),
 *     SO_REUSEADDR, SO_REUSEPORT, TCP_DEFER_ACCEPT 5, backlog 9; "tcp6"
 *     one on [::1], IPV6_V6ONLY, backlog 3; "udp_rx" a UDP socket on
 *     127.0.0.1, SO_RCVBUF 50000, IP_PKTINFO; "udp_tx" one connected to
 *     it, which sent it "d1" and "d2" (not read); "udp6" an IPv6 UDP
 *     socket on [::1]; "tcp_unb" an unbound TCP socket with SO_KEEPALIVE
 *     and TCP_KEEPIDLE 77; "tcp4_shared" a second listener on tcp4's port
 *     (SO_REUSEPORT, then turned off once listening: the port stays
 *     shared). check: the same addresses and options, udp_rx
 *     reads d1 and d2 from udp_tx's address, and what udp_tx sends now;
 *     both listeners accept a new connection.
 *   --with rights: "rights" a socketpair end holding an SCM_RIGHTS message
 *     (a dump must refuse it).
 *   --with outside:PATH: "rights" is instead a datagram socket connected to
 *     PATH, a socket outside the process; command "send-out" sends "out"
 *     on it ("ok").
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

enum { ST_A, ST_B, DG_A, DG_B, SP_A, SP_B, LIS, CLI, ACC, WAIT, AB_RX, AB_TX, UNB, GONE, HALF,
       HALF_PEER, RIGHTS, TCP4, TCP6, UDP_RX, UDP_TX, UDP6, TCP_UNB, TCP4_SHARED, NROLES };
static const char *const role[NROLES] = {
	"st_a", "st_b", "dg_a", "dg_b", "sp_a", "sp_b", "lis", "cli", "acc", "wait", "ab_rx", "ab_tx",
	"unb", "gone", "half", "half_peer", "rights", "tcp4", "tcp6", "udp_rx", "udp_tx", "udp6", "tcp_unb", "tcp4_shared",
};
static int fds[NROLES];
static char dir[64] = "/tmp", path[100];
static const char *with = "";
static bool inet;
/* the inet sockets' addresses at the setup */
static struct sockaddr_storage bound_at[NROLES];
static socklen_t bound_len[NROLES];
#define BIG 100000

static void die(const char *what)
{
	fprintf(stderr, "socktarget: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char bad[512];

static bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(bad, sizeof(bad), fmt, ap);
	va_end(ap);
	return false;
}

static socklen_t abstract(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	(void)snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "%s-%d", name, (int)getpid());
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1));
}

static void xsend(int fd, const void *b, size_t n)
{
	if (send(fd, b, n, MSG_NOSIGNAL) != (ssize_t)n)
		die("send");
}

static void setint(int fd, int name, int v)
{
	if (setsockopt(fd, SOL_SOCKET, name, &v, sizeof(v)) < 0)
		die("setsockopt");
}

static void setint6(int fd, int name, int v)
{
	if (setsockopt(fd, IPPROTO_IPV6, name, &v, sizeof(v)) < 0)
		die("setsockopt ipv6");
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

static void setup(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { 2, 500000 };
	uint8_t *big = malloc(BIG);
	int sv[2], t;
	socklen_t al;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
	fds[ST_A] = sv[0];
	fds[ST_B] = sv[1];
	setint(sv[0], SO_RCVBUF, 65536);
	setint(sv[0], SO_SNDBUF, 131072);
	setint(sv[1], SO_PASSCRED, 1);
	if (setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		die("SO_RCVTIMEO");
	xsend(sv[0], "hello from a", 12);
	xsend(sv[0], "and more", 8);
	setint(sv[1], SO_PEEK_OFF, 3);
	for (size_t i = 0; i < BIG; i++)
		big[i] = pattern(i);
	xsend(sv[1], big, BIG);
	free(big);

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) < 0)
		die("socketpair dgram");
	fds[DG_A] = sv[0];
	fds[DG_B] = sv[1];
	xsend(sv[0], "one", 3);
	xsend(sv[0], "", 0);
	xsend(sv[0], "three", 5);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		die("socketpair seqpacket");
	fds[SP_A] = sv[0];
	fds[SP_B] = sv[1];
	xsend(sv[0], "first", 5);
	xsend(sv[0], "second", 6);
	if (shutdown(sv[0], SHUT_WR) < 0)
		die("shutdown");

	(void)snprintf(path, sizeof(path), "%.63s/sk-%d.sock", dir, (int)getpid());
	(void)snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fds[LIS] = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fds[LIS] < 0 || bind(fds[LIS], (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0640) < 0 ||
	    listen(fds[LIS], 7) < 0)
		die("listener");
	fds[CLI] = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fds[CLI] < 0 || connect(fds[CLI], (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	fds[ACC] = accept4(fds[LIS], NULL, NULL, SOCK_CLOEXEC);
	if (fds[ACC] < 0)
		die("accept");
	xsend(fds[CLI], "ping", 4);
	xsend(fds[ACC], "pong", 4);
	fds[WAIT] = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fds[WAIT] < 0 || connect(fds[WAIT], (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect wait");

	fds[AB_RX] = socket(AF_UNIX, SOCK_DGRAM, 0);
	al = abstract(&a, "sdump-sk");
	if (fds[AB_RX] < 0 || bind(fds[AB_RX], (struct sockaddr *)&a, al) < 0)
		die("abstract");
	fds[AB_TX] = socket(AF_UNIX, SOCK_DGRAM, 0);
	{
		struct sockaddr_un b;
		socklen_t bl = abstract(&b, "sdump-tx");

		if (fds[AB_TX] < 0 || bind(fds[AB_TX], (struct sockaddr *)&b, bl) < 0)
			die("abstract tx");
	}
	if (sendto(fds[AB_TX], "named", 5, 0, (struct sockaddr *)&a, al) != 5)
		die("sendto");
	t = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (t < 0 || sendto(t, "anon", 4, 0, (struct sockaddr *)&a, al) != 4)
		die("sendto anon");
	(void)close(t);

	fds[UNB] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fds[UNB] < 0)
		die("socket");

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair gone");
	fds[GONE] = sv[0];
	xsend(sv[1], "bye", 3);
	(void)close(sv[1]);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair half");
	fds[HALF] = sv[0];
	fds[HALF_PEER] = sv[1];
	if (shutdown(sv[0], SHUT_RD) < 0)
		die("shutdown half");

	fds[RIGHTS] = -1;
	if (!strcmp(with, "rights")) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} cm = { 0 };
		struct iovec iov = { .iov_base = "x", .iov_len = 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
				     .msg_controllen = sizeof(cm.b) };
		int one = 0;

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			die("socketpair rights");
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &one, sizeof(int));
		if (sendmsg(sv[1], &mh, 0) != 1)
			die("sendmsg rights");
		fds[RIGHTS] = sv[0];
	} else if (!strncmp(with, "outside:", 8)) {
		memset(&a, 0, sizeof(a));
		a.sun_family = AF_UNIX;
		(void)snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", with + 8);
		fds[RIGHTS] = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (fds[RIGHTS] < 0 || connect(fds[RIGHTS], (struct sockaddr *)&a, sizeof(a)) < 0)
			die("connect outside");
	}
}

static int inet_sock(int rl, int family, int type, const char *ip)
{
	struct sockaddr_storage a = { 0 };
	socklen_t al;
	int fd = socket(family, type, 0);

	if (fd < 0)
		die("inet socket");
	fds[rl] = fd;
	if (!ip)
		return fd;
	if (family == AF_INET) {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&a;

		a4->sin_family = AF_INET;
		(void)inet_pton(AF_INET, ip, &a4->sin_addr);
		al = sizeof(*a4);
	} else {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;

		a6->sin6_family = AF_INET6;
		(void)inet_pton(AF_INET6, ip, &a6->sin6_addr);
		al = sizeof(*a6);
	}
	if (family == AF_INET6)
		setint6(fd, IPV6_V6ONLY, 1);
	if (type == SOCK_STREAM) {
		setint(fd, SO_REUSEADDR, 1);
		setint(fd, SO_REUSEPORT, 1);
	}
	if (bind(fd, (struct sockaddr *)&a, al) < 0)
		die("inet bind");
	bound_len[rl] = sizeof(bound_at[rl]);
	if (getsockname(fd, (struct sockaddr *)&bound_at[rl], &bound_len[rl]) < 0)
		die("getsockname");
	return fd;
}

static void setup_inet(void)
{
	int v = 5;

	inet_sock(TCP4, AF_INET, SOCK_STREAM, "127.0.0.1");
	if (setsockopt(fds[TCP4], IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, sizeof(v)) < 0 || listen(fds[TCP4], 9) < 0)
		die("tcp4");
	inet_sock(TCP6, AF_INET6, SOCK_STREAM, "::1");
	if (listen(fds[TCP6], 3) < 0)
		die("tcp6");
	inet_sock(UDP_RX, AF_INET, SOCK_DGRAM, "127.0.0.1");
	setint(fds[UDP_RX], SO_RCVBUF, 50000);
	v = 1;
	if (setsockopt(fds[UDP_RX], IPPROTO_IP, IP_PKTINFO, &v, sizeof(v)) < 0)
		die("IP_PKTINFO");
	inet_sock(UDP_TX, AF_INET, SOCK_DGRAM, "127.0.0.1");
	if (connect(fds[UDP_TX], (struct sockaddr *)&bound_at[UDP_RX], bound_len[UDP_RX]) < 0)
		die("udp connect");
	xsend(fds[UDP_TX], "d1", 2);
	xsend(fds[UDP_TX], "d2", 2);
	inet_sock(UDP6, AF_INET6, SOCK_DGRAM, "::1");
	inet_sock(TCP_UNB, AF_INET, SOCK_STREAM, NULL);
	setint(fds[TCP_UNB], SO_KEEPALIVE, 1);
	v = 77;
	if (setsockopt(fds[TCP_UNB], IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)) < 0)
		die("TCP_KEEPIDLE");
	fds[TCP4_SHARED] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[TCP4_SHARED] < 0)
		die("inet socket");
	setint(fds[TCP4_SHARED], SO_REUSEADDR, 1);
	setint(fds[TCP4_SHARED], SO_REUSEPORT, 1);
	bound_at[TCP4_SHARED] = bound_at[TCP4];
	bound_len[TCP4_SHARED] = bound_len[TCP4];
	if (bind(fds[TCP4_SHARED], (struct sockaddr *)&bound_at[TCP4], bound_len[TCP4]) < 0 ||
	    listen(fds[TCP4_SHARED], 2) < 0)
		die("tcp4_shared");
	setint(fds[TCP4_SHARED], SO_REUSEPORT, 0);
}

static int getopt_at(int fd, int level, int name)
{
	int v = -2;
	socklen_t l = sizeof(v);

	(void)getsockopt(fd, level, name, &v, &l);
	return v;
}

static bool same_name(int rl)
{
	struct sockaddr_storage a;
	socklen_t al = sizeof(a);

	return getsockname(fds[rl], (struct sockaddr *)&a, &al) == 0 && al == bound_len[rl] &&
	       !memcmp(&a, &bound_at[rl], al);
}

static bool accepts(int rl)
{
	int c = socket(bound_at[rl].ss_family, SOCK_STREAM, 0), n;

	if (c < 0 || connect(c, (struct sockaddr *)&bound_at[rl], bound_len[rl]) < 0)
		return false;
	/* TCP_DEFER_ACCEPT: the connection waits for a first byte */
	xsend(c, "x", 1);
	n = -1;
	/* tcp4's port is shared with tcp4_shared: the kernel gives the connection to either */
	if (rl == TCP4) {
		struct pollfd p[2] = { { .fd = fds[TCP4], .events = POLLIN }, { .fd = fds[TCP4_SHARED], .events = POLLIN } };

		if (poll(p, 2, 10000) > 0)
			n = accept(p[0].revents ? fds[TCP4] : fds[TCP4_SHARED], NULL, NULL);
	} else {
		n = accept(fds[rl], NULL, NULL);
	}
	(void)close(c);
	if (n < 0)
		return false;
	(void)close(n);
	return true;
}

/* A listener's backlog, as TCP_INFO gives it (tcpi_sacked) and ss shows it. */
static int backlog_of(int fd)
{
	struct tcp_info ti = { 0 };
	socklen_t l = sizeof(ti);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0 ? -1 : (int)ti.tcpi_sacked;
}

static bool check_inet(void)
{
	struct sockaddr_storage a;
	socklen_t al = sizeof(a);
	char buf[8];

	for (int r = TCP4; r <= UDP6; r++)
		if (!same_name(r))
			return fail("%s is not bound where it was", role[r]);
	if (getopt_at(fds[TCP4], SOL_SOCKET, SO_REUSEADDR) != 1 || getopt_at(fds[TCP4], SOL_SOCKET, SO_REUSEPORT) != 1 ||
	    getopt_at(fds[TCP4], IPPROTO_TCP, TCP_DEFER_ACCEPT) <= 0 || getopt_at(fds[TCP4], SOL_SOCKET, SO_ACCEPTCONN) != 1)
		return fail("tcp4's options are not as they were");
	if (!same_name(TCP4_SHARED) || getopt_at(fds[TCP4_SHARED], SOL_SOCKET, SO_REUSEPORT) != 0 ||
	    getopt_at(fds[TCP4_SHARED], SOL_SOCKET, SO_ACCEPTCONN) != 1)
		return fail("tcp4_shared is not listening on tcp4's port, SO_REUSEPORT off");
	if (backlog_of(fds[TCP4]) != 9 || backlog_of(fds[TCP6]) != 3)
		return fail("the listeners' backlogs are %d and %d, not 9 and 3", backlog_of(fds[TCP4]), backlog_of(fds[TCP6]));
	if (getopt_at(fds[TCP6], IPPROTO_IPV6, IPV6_V6ONLY) != 1 || getopt_at(fds[UDP6], IPPROTO_IPV6, IPV6_V6ONLY) != 1)
		return fail("IPV6_V6ONLY is off");
	if (getopt_at(fds[UDP_RX], SOL_SOCKET, SO_RCVBUF) != 100000 || getopt_at(fds[UDP_RX], IPPROTO_IP, IP_PKTINFO) != 1)
		return fail("udp_rx's SO_RCVBUF is %d", getopt_at(fds[UDP_RX], SOL_SOCKET, SO_RCVBUF));
	if (getopt_at(fds[TCP_UNB], SOL_SOCKET, SO_KEEPALIVE) != 1 || getopt_at(fds[TCP_UNB], IPPROTO_TCP, TCP_KEEPIDLE) != 77)
		return fail("tcp_unb's keepalive options are not as they were");
	for (int i = 1; i <= 2; i++) {
		al = sizeof(a);
		if (recvfrom(fds[UDP_RX], buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&a, &al) != 2 ||
		    buf[0] != 'd' || buf[1] != '0' + i || al != bound_len[UDP_TX] || memcmp(&a, &bound_at[UDP_TX], al))
			return fail("udp_rx's datagram %d is not d%d from udp_tx", i, i);
	}
	xsend(fds[UDP_TX], "d3", 2);
	if (recv(fds[UDP_RX], buf, sizeof(buf), 0) != 2 || buf[1] != '3')
		return fail("udp_rx does not read what udp_tx sends now");
	if (!accepts(TCP4) || !accepts(TCP6))
		return fail("a listener does not accept a new connection");
	return true;
}

/* Exactly @n bytes from @fd (blocking), with the credentials of the first read when @cr. */
static bool read_exact(int fd, void *buf, size_t n, struct ucred *cr)
{
	size_t got = 0;

	while (got < n) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred))];
		} cm;
		struct iovec iov = { .iov_base = (char *)buf + got, .iov_len = n - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
				     .msg_controllen = sizeof(cm.b) };
		ssize_t k = recvmsg(fd, &mh, 0);

		if (k <= 0)
			return false;
		if (cr && got == 0) {
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

			if (!c || c->cmsg_type != SCM_CREDENTIALS)
				return false;
			memcpy(cr, CMSG_DATA(c), sizeof(*cr));
		}
		got += (size_t)k;
	}
	return true;
}

static int getint(int fd, int name)
{
	int v = -2;
	socklen_t l = sizeof(v);

	(void)getsockopt(fd, SOL_SOCKET, name, &v, &l);
	return v;
}

static bool check_stream(void)
{
	char buf[64];
	struct ucred cr;
	struct timeval tv;
	socklen_t l = sizeof(tv);
	uint8_t *big = malloc(BIG);
	int peek = getint(fds[ST_B], SO_PEEK_OFF);

	if (getint(fds[ST_A], SO_RCVBUF) != 131072 || getint(fds[ST_A], SO_SNDBUF) != 262144)
		return fail("st_a's buffers are %d and %d", getint(fds[ST_A], SO_RCVBUF), getint(fds[ST_A], SO_SNDBUF));
	if (getint(fds[ST_B], SO_PASSCRED) != 1 || getint(fds[ST_A], SO_PASSCRED) != 0)
		return fail("SO_PASSCRED is %d on st_b, %d on st_a", getint(fds[ST_B], SO_PASSCRED),
			    getint(fds[ST_A], SO_PASSCRED));
	if (getsockopt(fds[ST_A], SOL_SOCKET, SO_RCVTIMEO, &tv, &l) < 0 || tv.tv_sec != 2 || tv.tv_usec != 500000)
		return fail("st_a's SO_RCVTIMEO is %ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
	if (peek != 3)
		return fail("st_b's SO_PEEK_OFF is %d", peek);
	/* with SO_PEEK_OFF at 3, a peek starts there */
	if (recv(fds[ST_B], buf, 2, MSG_PEEK) != 2 || memcmp(buf, "lo", 2))
		return fail("st_b's peek at offset 3 gives '%.2s'", buf);
	if (!read_exact(fds[ST_B], buf, 20, &cr) || memcmp(buf, "hello from aand more", 20))
		return fail("st_b reads '%.20s'", buf);
	if (cr.pid != getpid())
		return fail("st_b's message comes from pid %d", (int)cr.pid);
	if (!big || !read_exact(fds[ST_A], big, BIG, NULL))
		return fail("st_a does not read its %d bytes", BIG);
	for (size_t i = 0; i < BIG; i++)
		if (big[i] != pattern(i))
			return fail("st_a's byte %zu differs", i);
	free(big);
	xsend(fds[ST_A], "again", 5);
	if (!read_exact(fds[ST_B], buf, 5, &cr) || memcmp(buf, "again", 5))
		return fail("st_b does not read what st_a sends now");
	return true;
}

static bool check_dgram(void)
{
	static const char *const want[] = { "one", "", "three" };
	char buf[64];

	for (int i = 0; i < 3; i++) {
		ssize_t n = recv(fds[DG_B], buf, sizeof(buf), 0);

		if (n != (ssize_t)strlen(want[i]) || memcmp(buf, want[i], (size_t)n))
			return fail("dg_b's datagram %d has %zd bytes", i, n);
	}
	if (recv(fds[DG_B], buf, sizeof(buf), 0) != -1 || errno != EAGAIN)
		return fail("dg_b holds more than three datagrams");
	if (recv(fds[SP_B], buf, sizeof(buf), 0) != 5 || recv(fds[SP_B], buf, sizeof(buf), 0) != 6 ||
	    memcmp(buf, "second", 6) || recv(fds[SP_B], buf, sizeof(buf), 0) != 0)
		return fail("sp_b does not read 'first', 'second' and the end");
	xsend(fds[SP_B], "back", 4);
	if (recv(fds[SP_A], buf, sizeof(buf), 0) != 4)
		return fail("sp_a does not read what sp_b sends");
	return true;
}

static bool check_listener(void)
{
	struct sockaddr_un a = { 0 };
	socklen_t al = sizeof(a);
	struct stat st;
	char buf[8];
	int c, n;

	if (!read_exact(fds[ACC], buf, 4, NULL) || memcmp(buf, "ping", 4) ||
	    !read_exact(fds[CLI], buf, 4, NULL) || memcmp(buf, "pong", 4))
		return fail("acc and cli do not read 'ping' and 'pong'");
	if (getsockname(fds[ACC], (struct sockaddr *)&a, &al) < 0 || strcmp(a.sun_path, path))
		return fail("acc is named '%s'", a.sun_path);
	al = sizeof(a);
	if (getpeername(fds[CLI], (struct sockaddr *)&a, &al) < 0 || strcmp(a.sun_path, path))
		return fail("cli's peer is '%s'", a.sun_path);
	if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0640)
		return fail("%s is not a socket of mode 0640", path);
	n = accept(fds[LIS], NULL, NULL);
	if (n < 0)
		return fail("the listener does not accept the waiting connection");
	xsend(n, "w", 1);
	if (recv(fds[WAIT], buf, 1, 0) != 1)
		return fail("wait is not the connection accepted");
	(void)close(n);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	(void)snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail("no new connection to %s", path);
	(void)close(c);
	return true;
}

static bool check_abstract(void)
{
	struct sockaddr_un a, want;
	socklen_t al = sizeof(a), wl = abstract(&want, "sdump-tx");
	char buf[16];

	if (recvfrom(fds[AB_RX], buf, sizeof(buf), 0, (struct sockaddr *)&a, &al) != 5 || memcmp(buf, "named", 5) ||
	    al != wl || memcmp(a.sun_path, want.sun_path, wl - offsetof(struct sockaddr_un, sun_path)))
		return fail("ab_rx's first datagram is not 'named' from ab_tx");
	al = sizeof(a);
	if (recvfrom(fds[AB_RX], buf, sizeof(buf), 0, (struct sockaddr *)&a, &al) != 4 || memcmp(buf, "anon", 4) ||
	    al > sizeof(sa_family_t))
		return fail("ab_rx's second datagram is not 'anon' from no name (%u)", (unsigned int)al);
	return true;
}

static bool check_rest(void)
{
	char buf[8];

	if (!(fcntl(fds[UNB], F_GETFL) & O_NONBLOCK) || !(fcntl(fds[UNB], F_GETFD) & FD_CLOEXEC))
		return fail("unb is not non-blocking and close-on-exec");
	if (recv(fds[GONE], buf, sizeof(buf), 0) != 3 || memcmp(buf, "bye", 3) || recv(fds[GONE], buf, 1, 0) != 0)
		return fail("gone does not read 'bye', then the end");
	if (send(fds[HALF_PEER], "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
		return fail("half_peer can write to half, whose reading is shut down");
	xsend(fds[HALF], "y", 1);
	if (recv(fds[HALF_PEER], buf, 1, 0) != 1)
		return fail("half_peer does not read what half writes");
	return true;
}

static void facts(void)
{
	printf("{\"pid\": %d, \"path\": \"%s\", \"fds\": {", (int)getpid(), path);
	for (int i = 0; i < NROLES; i++)
		printf("%s\"%s\": %d", i ? ", " : "", role[i], fds[i]);
	printf("}}\n");
}

int main(int argc, char **argv)
{
	char line[256];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--dir"))
			(void)snprintf(dir, sizeof(dir), "%.63s", argv[i + 1]);
		else if (!strcmp(argv[i], "--with"))
			with = argv[i + 1];
	}
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--inet"))
			inet = true;
	for (int r = TCP4; r < NROLES; r++)
		fds[r] = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	setup();
	if (inet)
		setup_inet();
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "facts")) {
			facts();
		} else if (!strcmp(line, "check")) {
			bad[0] = '\0';
			if (check_stream() && check_dgram() && check_listener() && check_abstract() && check_rest() &&
			    (!inet || check_inet()))
				printf("ok\n");
			else
				printf("bad: %s\n", bad);
		} else if (!strcmp(line, "send-out")) {
			printf("%s\n", send(fds[RIGHTS], "out", 3, 0) == 3 ? "ok" : strerror(errno));
		} else if (!strcmp(line, "exit")) {
			(void)unlink(path);
			return 0;
		} else {
			printf("unknown command '%s'\n", line);
		}
	}
	return 0;
}
