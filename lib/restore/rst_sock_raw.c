/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: packets that only a peer outside could send, sent by
 * sdump to a restored socket on a raw socket (IPPROTO_RAW: the IP header
 * is ours, in IPv4 and in IPv6) from the peer's address and port: a
 * half-closed TCP connection's FIN and ACK (rst_sock_tcp.c), a datagram a
 * host outside had queued on a UDP socket (rst_sock_inet.c). They are
 * marked (SD_NETLOCK_MARK), so that the network lock lets them through.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sdump.h"
#include "netlock.h"
#include "pstate_sock.h"
#include "rst_sock.h"
#include "util.h"

static uint32_t sum16(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/*
 * The address of @a (a sockaddr_in or _in6) as packets carry it, in @ip
 * (4 or 16 bytes), its port and scope: IPv4 for an IPv4-mapped one
 * (::ffff:a.b.c.d). The family.
 */
static int wire(const void *a, uint8_t ip[16], uint16_t *port, uint32_t *scope)
{
	const struct sockaddr_in *a4 = a;
	const struct sockaddr_in6 *a6 = a;

	*scope = 0;
	if (a4->sin_family == AF_INET) {
		memcpy(ip, &a4->sin_addr, 4);
		*port = a4->sin_port;
		return AF_INET;
	}
	*port = a6->sin6_port;
	if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		memcpy(ip, &a6->sin6_addr.s6_addr[12], 4);
		return AF_INET;
	}
	memcpy(ip, &a6->sin6_addr, 16);
	*scope = a6->sin6_scope_id;
	return AF_INET6;
}

int sd_rst_raw_send(const void *from, const void *to, int proto, const uint8_t *l4, size_t len)
{
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t scope, ignored, sum;
	int family = wire(from, src, &sport, &ignored), mark = SD_NETLOCK_MARK, fd, e = 0;
	size_t iplen = family == AF_INET ? sizeof(struct iphdr) : sizeof(struct ip6_hdr), alen = family == AF_INET ? 4 : 16;
	size_t csum_at = proto == IPPROTO_TCP ? 16 : 6;
	struct sockaddr_storage dest = { 0 };
	_cleanup_free_ uint8_t *pkt = NULL;
	socklen_t dlen;

	if (wire(to, dst, &dport, &scope) != family || len < 8 || len > 0xffff - iplen)
		return -EINVAL;
	pkt = calloc(1, iplen + len);
	if (!pkt)
		return -ENOMEM;
	memcpy(pkt + iplen, l4, len);
	/* the ports at the head of either header, then the checksum over the pseudo-header */
	memcpy(pkt + iplen, &sport, 2);
	memcpy(pkt + iplen + 2, &dport, 2);
	if (proto == IPPROTO_UDP)
		memcpy(pkt + iplen + 4, &(uint16_t){ htons((uint16_t)len) }, 2);
	memset(pkt + iplen + csum_at, 0, 2);
	sum = sum16(src, alen, 0);
	sum = sum16(dst, alen, sum);
	sum += (uint32_t)proto + (uint32_t)len;
	sum = fold(sum16(pkt + iplen, len, sum));
	/* a UDP checksum of 0 is none: all ones instead */
	if (proto == IPPROTO_UDP && sum == 0)
		sum = 0xffff;
	memcpy(pkt + iplen + csum_at, &(uint16_t){ (uint16_t)sum }, 2);
	if (family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)pkt;
		struct sockaddr_in *t = (struct sockaddr_in *)&dest;

		ip->version = 4;
		ip->ihl = sizeof(*ip) / 4;
		ip->ttl = 64;
		ip->protocol = (uint8_t)proto;
		ip->tot_len = htons((uint16_t)(iplen + len));
		memcpy(&ip->saddr, src, 4);
		memcpy(&ip->daddr, dst, 4);
		t->sin_family = AF_INET;
		memcpy(&t->sin_addr, dst, 4);
		dlen = sizeof(*t);
	} else {
		struct ip6_hdr *ip = (struct ip6_hdr *)pkt;
		struct sockaddr_in6 *t = (struct sockaddr_in6 *)&dest;

		ip->ip6_flow = htonl(6u << 28);
		ip->ip6_plen = htons((uint16_t)len);
		ip->ip6_nxt = (uint8_t)proto;
		ip->ip6_hlim = 64;
		memcpy(&ip->ip6_src, src, 16);
		memcpy(&ip->ip6_dst, dst, 16);
		t->sin6_family = AF_INET6;
		memcpy(&t->sin6_addr, dst, 16);
		/* a link-local address is one of its interface's */
		t->sin6_scope_id = scope;
		dlen = sizeof(*t);
	}
	fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 ||
	    sendto(fd, pkt, iplen + len, 0, (struct sockaddr *)&dest, dlen) < 0)
		e = -errno;
	(void)close(fd);
	return e;
}
