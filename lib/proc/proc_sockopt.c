/* SPDX-License-Identifier: MIT */
/* The options of inet sockets sdump saves and sets again, and inet addresses as messages say them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/if_packet.h>

#include "pstate.h"
#include "pstate_sock.h"
#include "compat.h"
#include "util.h"

/*
 * The int options of TCP and UDP sockets a program can set and
 * getsockopt() reads back, saved and set again where they differ from a
 * new socket's (man/sdump.1 lists them and those refused). The order is
 * the restore's: what bind() looks at first.
 */
#define ANY 0
#define V4 AF_INET
#define V6 AF_INET6
#define TCP SOCK_STREAM
#define UDP SOCK_DGRAM
#define RAW SOCK_RAW
#define O(l, n, f, t, fl) { l, n, f, t, #n, fl, 0 }
#define N(l, n, f, t, d) { l, n, f, t, #n, SOCK_OPT_NEWER, d }
const struct sock_opt_def sd_sock_inet_opts[] = {
	O(SOL_SOCKET, SO_REUSEADDR, ANY, ANY, 0),
	O(SOL_SOCKET, SO_REUSEPORT, ANY, ANY, 0),
	O(IPPROTO_IPV6, IPV6_V6ONLY, V6, ANY, 0),
	O(IPPROTO_IP, IP_FREEBIND, V4, ANY, 0),
	O(IPPROTO_IP, IP_TRANSPARENT, V4, ANY, 0),
	O(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, V4, ANY, 0),
	N(IPPROTO_IP, IP_LOCAL_PORT_RANGE, V4, ANY, 0),
	O(IPPROTO_IPV6, IPV6_FREEBIND, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_TRANSPARENT, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_ADDR_PREFERENCES, V6, ANY, 0),
	O(SOL_SOCKET, SO_KEEPALIVE, ANY, ANY, 0),
	O(SOL_SOCKET, SO_BROADCAST, ANY, ANY, SOCK_OPT_NOTCP),
	O(SOL_SOCKET, SO_NO_CHECK, ANY, ANY, 0),
	O(SOL_SOCKET, SO_OOBINLINE, ANY, TCP, 0),
	O(SOL_SOCKET, SO_TIMESTAMP_OLD, ANY, ANY, 0),
	O(SOL_SOCKET, SO_TIMESTAMPNS_OLD, ANY, ANY, 0),
	O(SOL_SOCKET, SO_TIMESTAMP_NEW, ANY, ANY, 0),
	O(SOL_SOCKET, SO_TIMESTAMPNS_NEW, ANY, ANY, 0),
	O(SOL_SOCKET, SO_TIMESTAMPING_OLD, ANY, ANY, 0),
	O(SOL_SOCKET, SO_RXQ_OVFL, ANY, ANY, 0),
	O(SOL_SOCKET, SO_WIFI_STATUS, ANY, ANY, 0),
	O(SOL_SOCKET, SO_SELECT_ERR_QUEUE, ANY, ANY, 0),
	O(SOL_SOCKET, SO_INCOMING_CPU, ANY, ANY, 0),
	O(SOL_SOCKET, SO_BUSY_POLL, ANY, ANY, 0),
	O(SOL_SOCKET, SO_PREFER_BUSY_POLL, ANY, ANY, 0),
	O(SOL_SOCKET, SO_ZEROCOPY, ANY, ANY, 0),
	N(SOL_SOCKET, SO_TXREHASH, ANY, ANY, 255),
	N(SOL_SOCKET, SO_RCVMARK, ANY, ANY, 0),
	N(SOL_SOCKET, SO_RESERVE_MEM, ANY, ANY, 0),
	O(IPPROTO_IP, IP_TOS, V4, ANY, 0),
	O(IPPROTO_IP, IP_TTL, V4, ANY, 0),
	O(IPPROTO_IP, IP_MINTTL, V4, ANY, 0),
	O(IPPROTO_IP, IP_MTU_DISCOVER, V4, ANY, 0),
	O(IPPROTO_IP, IP_RECVERR, V4, ANY, 0),
	O(IPPROTO_IP, IP_RECVERR_RFC4884, V4, ANY, 0),
	O(IPPROTO_IP, IP_PKTINFO, V4, ANY, 0),
	O(IPPROTO_IP, IP_RECVTOS, V4, ANY, 0),
	O(IPPROTO_IP, IP_RECVTTL, V4, ANY, 0),
	O(IPPROTO_IP, IP_RECVOPTS, V4, ANY, 0),
	O(IPPROTO_IP, IP_RETOPTS, V4, ANY, 0),
	O(IPPROTO_IP, IP_RECVORIGDSTADDR, V4, ANY, 0),
	O(IPPROTO_IP, IP_RECVFRAGSIZE, V4, ANY, 0),
	O(IPPROTO_IP, IP_PASSSEC, V4, ANY, 0),
	O(IPPROTO_IP, IP_UNICAST_IF, V4, ANY, 0),
	O(IPPROTO_IP, IP_MULTICAST_IF, V4, ANY, SOCK_OPT_NOTCP),
	O(IPPROTO_IP, IP_MULTICAST_TTL, V4, ANY, SOCK_OPT_NOTCP),
	O(IPPROTO_IP, IP_MULTICAST_LOOP, V4, ANY, SOCK_OPT_NOTCP),
	O(IPPROTO_IP, IP_MULTICAST_ALL, V4, ANY, SOCK_OPT_NOTCP),
	O(IPPROTO_IPV6, IPV6_TCLASS, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_UNICAST_HOPS, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_MINHOPCOUNT, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_MTU_DISCOVER, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_DONTFRAG, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVERR, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVERR_RFC4884, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVPKTINFO, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVRTHDR, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVHOPOPTS, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVDSTOPTS, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVTCLASS, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVPATHMTU, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_RECVFRAGSIZE, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_FLOWINFO, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_2292PKTINFO, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_2292HOPLIMIT, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_2292HOPOPTS, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_2292DSTOPTS, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_2292RTHDR, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_UNICAST_IF, V6, ANY, 0),
	O(IPPROTO_IPV6, IPV6_MULTICAST_IF, V6, ANY, SOCK_OPT_NOTCP),
	O(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, V6, ANY, SOCK_OPT_NOTCP),
	O(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, V6, ANY, SOCK_OPT_NOTCP),
	O(IPPROTO_IPV6, IPV6_MULTICAST_ALL, V6, ANY, SOCK_OPT_NOTCP),
	O(IPPROTO_TCP, TCP_MAXSEG, ANY, TCP, SOCK_OPT_UNCONNECTED),
	O(IPPROTO_TCP, TCP_FASTOPEN_CONNECT, ANY, TCP, SOCK_OPT_UNCONNECTED),
	O(IPPROTO_TCP, TCP_NODELAY, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_CORK, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_KEEPIDLE, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_KEEPINTVL, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_KEEPCNT, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_USER_TIMEOUT, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_DEFER_ACCEPT, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_QUICKACK, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_SYNCNT, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_LINGER2, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_WINDOW_CLAMP, ANY, TCP, SOCK_OPT_UNCONNECTED),
	O(IPPROTO_TCP, TCP_NOTSENT_LOWAT, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_FASTOPEN, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_SAVE_SYN, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_INQ, ANY, TCP, 0),
	O(IPPROTO_TCP, TCP_TX_DELAY, ANY, TCP, 0),
	O(IPPROTO_UDP, UDP_CORK, ANY, UDP, SOCK_OPT_UDP),
	O(IPPROTO_UDP, UDP_SEGMENT, ANY, UDP, SOCK_OPT_UDP),
	O(IPPROTO_UDP, UDP_GRO, ANY, UDP, SOCK_OPT_UDP),
	O(IPPROTO_UDP, UDP_NO_CHECK6_TX, V6, UDP, SOCK_OPT_UDP),
	O(IPPROTO_UDP, UDP_NO_CHECK6_RX, V6, UDP, SOCK_OPT_UDP),
	O(IPPROTO_IP, IP_HDRINCL, V4, RAW, 0),
	O(SOL_RAW, ICMP_FILTER, V4, RAW, SOCK_OPT_RAWICMP),
	O(IPPROTO_IPV6, IPV6_CHECKSUM, V6, RAW, 0),
	N(IPPROTO_IPV6, IPV6_HDRINCL, V6, RAW, 0),
	O(IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, ANY, UDP, SOCK_OPT_UDPLITE),
	O(IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, ANY, UDP, SOCK_OPT_UDPLITE),
};
const size_t sd_sock_inet_nopts = ARRAY_SIZE(sd_sock_inet_opts);

/* A netlink socket's flags (af_netlink.c's netlink_setsockopt()), every one off in a new socket. */
#define NL AF_NETLINK
const struct sock_opt_def sd_sock_netlink_opts[] = {
	O(SOL_NETLINK, NETLINK_PKTINFO, NL, ANY, 0),
	O(SOL_NETLINK, NETLINK_BROADCAST_ERROR, NL, ANY, 0),
	O(SOL_NETLINK, NETLINK_NO_ENOBUFS, NL, ANY, 0),
	N(SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, NL, ANY, 0),
	N(SOL_NETLINK, NETLINK_CAP_ACK, NL, ANY, 0),
	N(SOL_NETLINK, NETLINK_EXT_ACK, NL, ANY, 0),
	N(SOL_NETLINK, NETLINK_GET_STRICT_CHK, NL, ANY, 0),
};
#undef NL
const size_t sd_sock_netlink_nopts = ARRAY_SIZE(sd_sock_netlink_opts);

/*
 * A packet socket's (af_packet.c's packet_setsockopt()); PACKET_VNET_HDR
 * before PACKET_VNET_HDR_SZ, which it sets too. PACKET_STATISTICS is no
 * option (reading it resets it), PACKET_FANOUT and the rings are the
 * socket's own fields.
 */
#define PK AF_PACKET
const struct sock_opt_def sd_sock_packet_opts[] = {
	O(SOL_PACKET, PACKET_VERSION, PK, ANY, 0),
	O(SOL_PACKET, PACKET_RESERVE, PK, ANY, 0),
	O(SOL_PACKET, PACKET_COPY_THRESH, PK, ANY, 0),
	O(SOL_PACKET, PACKET_AUXDATA, PK, ANY, 0),
	O(SOL_PACKET, PACKET_ORIGDEV, PK, ANY, 0),
	O(SOL_PACKET, PACKET_LOSS, PK, ANY, 0),
	O(SOL_PACKET, PACKET_VNET_HDR, PK, ANY, 0),
	N(SOL_PACKET, PACKET_VNET_HDR_SZ, PK, ANY, 0),
	O(SOL_PACKET, PACKET_TIMESTAMP, PK, ANY, 0),
	O(SOL_PACKET, PACKET_TX_HAS_OFF, PK, ANY, 0),
	O(SOL_PACKET, PACKET_QDISC_BYPASS, PK, ANY, 0),
	N(SOL_PACKET, PACKET_IGNORE_OUTGOING, PK, ANY, 0),
};
#undef PK
#undef O
#undef N
const size_t sd_sock_packet_nopts = ARRAY_SIZE(sd_sock_packet_opts);

/* The option (@level, @name) of sd_sock_inet_opts[], sd_sock_netlink_opts[] (SOL_NETLINK) or sd_sock_packet_opts[] (SOL_PACKET), NULL if none. */
static const struct sock_opt_def *opt_def(int level, int name)
{
	const struct sock_opt_def *t = level == SOL_NETLINK ? sd_sock_netlink_opts :
				       level == SOL_PACKET  ? sd_sock_packet_opts :
							      sd_sock_inet_opts;
	size_t n = level == SOL_NETLINK ? sd_sock_netlink_nopts :
		   level == SOL_PACKET	? sd_sock_packet_nopts :
					  sd_sock_inet_nopts;

	for (size_t i = 0; i < n; i++)
		if (t[i].level == level && t[i].name == name)
			return &t[i];
	return NULL;
}

_Static_assert(ARRAY_SIZE(sd_sock_inet_opts) <= SOCK_OPTS_MAX, "SOCK_OPTS_MAX");

bool sd_sock_opt_applies(const struct sock_opt_def *o, int family, int type, int protocol)
{
	if ((o->flags & SOCK_OPT_UDP) && protocol != IPPROTO_UDP && protocol != IPPROTO_UDPLITE)
		return false;
	if ((o->flags & SOCK_OPT_UDPLITE) && protocol != IPPROTO_UDPLITE)
		return false;
	if ((o->flags & SOCK_OPT_RAWICMP) && protocol != IPPROTO_ICMP)
		return false;
	if ((o->flags & SOCK_OPT_NOTCP) && type == SOCK_STREAM)
		return false;
	return (!o->family || o->family == family) && (!o->type || o->type == type);
}

const char *sd_sock_inet_what(const struct sock_state *s)
{
	bool v4 = s->family == AF_INET;

	if (s->type == SOCK_STREAM)
		return v4 ? "an IPv4 TCP socket" : "an IPv6 TCP socket";
	if (s->type == SOCK_RAW)
		return v4 ? "a raw IPv4 socket" : "a raw IPv6 socket";
	if (s->protocol == IPPROTO_UDPLITE)
		return v4 ? "an IPv4 UDP-Lite socket" : "an IPv6 UDP-Lite socket";
	if (s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6)
		return v4 ? "an IPv4 ICMP socket" : "an IPv6 ICMP socket";
	return v4 ? "an IPv4 UDP socket" : "an IPv6 UDP socket";
}

bool sd_sock_opt_default(int level, int name, int value)
{
	const struct sock_opt_def *o = opt_def(level, name);

	return o && (o->flags & SOCK_OPT_NEWER) && o->dflt == value;
}

bool sd_sock_opt_known(int level, int name, int family, int type, int protocol)
{
	const struct sock_opt_def *o = opt_def(level, name);

	return o && sd_sock_opt_applies(o, family, type, protocol);
}

void sd_sock_addr_text(const uint8_t *addr, size_t len, char ret[SOCK_ADDR_TEXT_MAX])
{
	char ip[INET6_ADDRSTRLEN] = "?";
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	sa_family_t f = 0;

	if (len >= sizeof(f))
		memcpy(&f, addr, sizeof(f));
	if (f == AF_INET && len >= sizeof(a4)) {
		memcpy(&a4, addr, sizeof(a4));
		(void)inet_ntop(AF_INET, &a4.sin_addr, ip, sizeof(ip));
		(void)snprintf(ret, SOCK_ADDR_TEXT_MAX, "%s:%u", ip, ntohs(a4.sin_port));
	} else if (f == AF_INET6 && len >= sizeof(a6)) {
		memcpy(&a6, addr, sizeof(a6));
		(void)inet_ntop(AF_INET6, &a6.sin6_addr, ip, sizeof(ip));
		(void)snprintf(ret, SOCK_ADDR_TEXT_MAX, "[%s]:%u", ip, ntohs(a6.sin6_port));
	} else {
		(void)snprintf(ret, SOCK_ADDR_TEXT_MAX, "none");
	}
}

/* Whether a socket bound to @b (maybe a wildcard address) is the sender @from. */
static bool bound_as(const uint8_t *b, size_t blen, const struct sock_name *from)
{
	const struct sockaddr_in *b4 = (const void *)b, *f4 = (const void *)from->path;
	const struct sockaddr_in6 *b6 = (const void *)b, *f6 = (const void *)from->path;

	if (!blen || blen != from->len)
		return false;
	if (b4->sin_family == AF_INET)
		return b4->sin_port == f4->sin_port &&
		       (b4->sin_addr.s_addr == f4->sin_addr.s_addr || b4->sin_addr.s_addr == htonl(INADDR_ANY));
	return b6->sin6_port == f6->sin6_port &&
	       (!memcmp(&b6->sin6_addr, &f6->sin6_addr, sizeof(b6->sin6_addr)) ||
		!memcmp(&b6->sin6_addr, &in6addr_any, sizeof(b6->sin6_addr)));
}

ssize_t sd_sock_inet_sender(const struct files_state *fs, const struct sock_name *from, int type, int protocol)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;

		if (fs->fds[i].kind == FDK_INET && s && !fs->fds[i].has_dup_of && s->type == type &&
		    s->protocol == protocol && bound_as(s->addr, s->addr_len, from))
			return (ssize_t)i;
	}
	return -1;
}

static const struct {
	int state;
	unsigned fins;
	const char *name;
} tcp_states[] = {
	{ SKS_ESTABLISHED, 0, "ESTABLISHED" },
	{ SKS_FIN_WAIT1, SK_FIN_OUT, "FIN_WAIT1" },
	{ SKS_FIN_WAIT2, SK_FIN_OUT | SK_FIN_OUT_ACKED, "FIN_WAIT2" },
	{ SKS_CLOSE_WAIT, SK_FIN_IN | SK_FIN_IN_FIRST, "CLOSE_WAIT" },
	{ SKS_LAST_ACK, SK_FIN_IN | SK_FIN_IN_FIRST | SK_FIN_OUT, "LAST_ACK" },
	{ SKS_CLOSING, SK_FIN_OUT | SK_FIN_IN, "CLOSING" },
};

bool sd_sock_tcp_conn_state(int state)
{
	for (size_t i = 0; i < ARRAY_SIZE(tcp_states); i++)
		if (tcp_states[i].state == state)
			return true;
	return false;
}

unsigned sd_sock_tcp_fins(int state)
{
	for (size_t i = 0; i < ARRAY_SIZE(tcp_states); i++)
		if (tcp_states[i].state == state)
			return tcp_states[i].fins;
	return 0;
}

const char *sd_sock_tcp_state_name(int state)
{
	static const char *const other[] = { [2] = "SYN_SENT", [3] = "SYN_RECV", [6] = "TIME_WAIT", [7] = "CLOSE",
					     [10] = "LISTEN", [12] = "NEW_SYN_RECV" };

	for (size_t i = 0; i < ARRAY_SIZE(tcp_states); i++)
		if (tcp_states[i].state == state)
			return tcp_states[i].name;
	return state >= 0 && (size_t)state < ARRAY_SIZE(other) && other[state] ? other[state] : "unknown";
}
