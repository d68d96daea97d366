/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: the options of a socket sdump saves beyond the buffer
 * sizes and flags of rst_sock.c, set on our copy of it. The int options
 * of a TCP or UDP socket (sd_sock_inet_opts[]), each only where it
 * differs from what the new socket reads: setting one may have side
 * effects (SO_TIMESTAMP_NEW off clears SO_TIMESTAMPNS_OLD too) or need a
 * privilege a default does not. Before bind() (first): SO_LINGER,
 * SO_BINDTODEVICE, SO_DONTROUTE, SO_MAX_PACING_RATE, SO_TXTIME,
 * TCP_CONGESTION. Once the queues are filled (last): a classic filter
 * (the queued messages passed it once, they must not meet it again) and
 * its lock, then SO_BUF_LOCK, after every buffer size the restore set.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "compat.h"
#include "pstate_sock.h"
#include "rst_sock.h"
#include "util.h"

int sd_rst_inet_opts(int fd, const struct sock_state *s)
{
	for (size_t k = 0; k < s->nopts; k++) {
		const struct sock_opt *o = &s->opts[k];
		int have = 0;
		socklen_t len = sizeof(have);

		if (getsockopt(fd, o->level, o->name, &have, &len) == 0) {
			if (have == o->value)
				continue;
		} else if (sd_sock_opt_default(o->level, o->name, o->value)) {
			/* a kernel without it (an older one) behaves as its default */
			continue;
		}
		if (setsockopt(fd, o->level, o->name, &o->value, sizeof(int)) < 0)
			return -errno;
	}
	return 0;
}

int sd_rst_inet_reuse(int fd, const struct sock_state *s)
{
	for (size_t k = 0; k < s->nopts; k++)
		if (s->opts[k].level == SOL_SOCKET && s->opts[k].name == SO_REUSEADDR &&
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &s->opts[k].value, sizeof(int)) < 0)
			return -errno;
	return 0;
}

int sd_rst_sock_extra_first(int fd, const struct sock_state *s)
{
	struct linger lg = { .l_onoff = 1, .l_linger = s->linger };
	struct sock_txtime tx = { .clockid = s->txtime_clockid, .flags = s->txtime_flags };
	char cc[SOCK_TEXT_MAX + 1] = "";

	if (s->linger_on && setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		return -errno;
	if (s->has_icmp6_filter &&
	    setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, s->icmp6_filter, sizeof(s->icmp6_filter)) < 0)
		return -errno;
	if (s->bindtodevice[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->bindtodevice, (socklen_t)strlen(s->bindtodevice)) < 0)
		return -errno;
	if (s->dontroute && setsockopt(fd, SOL_SOCKET, SO_DONTROUTE, &(int){ 1 }, sizeof(int)) < 0)
		return -errno;
	if (s->pacing && setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &s->max_pacing_rate, sizeof(uint64_t)) < 0)
		return -errno;
	if (s->txtime && setsockopt(fd, SOL_SOCKET, SO_TXTIME, &tx, sizeof(tx)) < 0)
		return -errno;
	/* the algorithm set only where not the new socket's (set, it no longer follows a route's) */
	if (s->congestion[0] && (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &(socklen_t){ SOCK_TEXT_MAX }) < 0 ||
				 strcmp(cc, s->congestion)) &&
	    setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, s->congestion, (socklen_t)strlen(s->congestion)) < 0)
		return -errno;
	return 0;
}

int sd_rst_sock_extra_last(int fd, const struct sock_state *s)
{
	struct sock_fprog f = { .len = (unsigned short)(s->filter_len / sizeof(struct sock_filter)),
				.filter = (struct sock_filter *)s->filter };

	if (s->filter_len && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &f, sizeof(f)) < 0)
		return -errno;
	if (s->lock_filter && setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &(int){ 1 }, sizeof(int)) < 0)
		return -errno;
	if (s->buf_lock >= 0 && setsockopt(fd, SOL_SOCKET, SO_BUF_LOCK, &s->buf_lock, sizeof(int)) < 0)
		return -errno;
	return 0;
}
