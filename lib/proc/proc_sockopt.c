/* SPDX-License-Identifier: MIT */
/* The options of inet sockets sdump saves and sets again, and inet addresses as messages say them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "pstate.h"
#include "pstate_sock.h"
#include "util.h"

/* the order is the restore's: what bind() looks at first */
const struct sock_opt_def sd_sock_inet_opts[] = {
	{ SOL_SOCKET, SO_REUSEADDR, 0, 0, "SO_REUSEADDR" },
	{ SOL_SOCKET, SO_REUSEPORT, 0, 0, "SO_REUSEPORT" },
	{ IPPROTO_IPV6, IPV6_V6ONLY, AF_INET6, 0, "IPV6_V6ONLY" },
	{ IPPROTO_IP, IP_FREEBIND, AF_INET, 0, "IP_FREEBIND" },
	{ IPPROTO_IP, IP_TRANSPARENT, AF_INET, 0, "IP_TRANSPARENT" },
	{ SOL_SOCKET, SO_KEEPALIVE, 0, 0, "SO_KEEPALIVE" },
	{ SOL_SOCKET, SO_BROADCAST, 0, SOCK_DGRAM, "SO_BROADCAST" },
	{ SOL_SOCKET, SO_OOBINLINE, 0, SOCK_STREAM, "SO_OOBINLINE" },
	{ SOL_SOCKET, SO_TIMESTAMP_OLD, 0, 0, "SO_TIMESTAMP" },
	{ SOL_SOCKET, SO_TIMESTAMPNS_OLD, 0, 0, "SO_TIMESTAMPNS" },
	{ IPPROTO_IP, IP_TOS, AF_INET, 0, "IP_TOS" },
	{ IPPROTO_IP, IP_TTL, AF_INET, 0, "IP_TTL" },
	{ IPPROTO_IP, IP_RECVERR, AF_INET, 0, "IP_RECVERR" },
	{ IPPROTO_IP, IP_PKTINFO, AF_INET, SOCK_DGRAM, "IP_PKTINFO" },
	{ IPPROTO_IP, IP_MULTICAST_TTL, AF_INET, SOCK_DGRAM, "IP_MULTICAST_TTL" },
	{ IPPROTO_IP, IP_MULTICAST_LOOP, AF_INET, SOCK_DGRAM, "IP_MULTICAST_LOOP" },
	{ IPPROTO_IPV6, IPV6_TCLASS, AF_INET6, 0, "IPV6_TCLASS" },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, AF_INET6, 0, "IPV6_UNICAST_HOPS" },
	{ IPPROTO_IPV6, IPV6_RECVERR, AF_INET6, 0, "IPV6_RECVERR" },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, AF_INET6, SOCK_DGRAM, "IPV6_RECVPKTINFO" },
	{ IPPROTO_TCP, TCP_NODELAY, 0, SOCK_STREAM, "TCP_NODELAY" },
	{ IPPROTO_TCP, TCP_CORK, 0, SOCK_STREAM, "TCP_CORK" },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 0, SOCK_STREAM, "TCP_KEEPIDLE" },
	{ IPPROTO_TCP, TCP_KEEPINTVL, 0, SOCK_STREAM, "TCP_KEEPINTVL" },
	{ IPPROTO_TCP, TCP_KEEPCNT, 0, SOCK_STREAM, "TCP_KEEPCNT" },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, 0, SOCK_STREAM, "TCP_USER_TIMEOUT" },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT, 0, SOCK_STREAM, "TCP_DEFER_ACCEPT" },
	{ IPPROTO_TCP, TCP_QUICKACK, 0, SOCK_STREAM, "TCP_QUICKACK" },
};
const size_t sd_sock_inet_nopts = ARRAY_SIZE(sd_sock_inet_opts);

_Static_assert(ARRAY_SIZE(sd_sock_inet_opts) <= SOCK_OPTS_MAX, "SOCK_OPTS_MAX");

bool sd_sock_opt_applies(const struct sock_opt_def *o, int family, int type)
{
	return (!o->family || o->family == family) && (!o->type || o->type == type);
}

bool sd_sock_opt_known(int level, int name, int family, int type)
{
	for (size_t i = 0; i < sd_sock_inet_nopts; i++)
		if (sd_sock_inet_opts[i].level == level && sd_sock_inet_opts[i].name == name &&
		    sd_sock_opt_applies(&sd_sock_inet_opts[i], family, type))
			return true;
	return false;
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

ssize_t sd_sock_inet_sender(const struct files_state *fs, const struct sock_name *from, int type)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;

		if (fs->fds[i].kind == FDK_INET && s && !fs->fds[i].has_dup_of && s->type == type &&
		    bound_as(s->addr, s->addr_len, from))
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
