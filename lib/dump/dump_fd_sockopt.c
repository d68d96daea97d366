/* SPDX-License-Identifier: MIT */
/*
 * The socket options that are no ints of sd_sock_inet_opts[], at the final
 * dump, through our copy of the fd: those of every family (SO_LINGER,
 * SO_BINDTODEVICE, SO_DONTROUTE, SO_BUF_LOCK, SO_MAX_PACING_RATE,
 * SO_TXTIME, a classic filter and its lock), TCP_CONGESTION, and the
 * state a restore cannot make again, refused with one line: an eBPF
 * filter (or other option memory sdump cannot read: IPv6 sticky options,
 * a TCP MD5 key), a TCP upper layer (kTLS), IP options, UDP
 * encapsulation, timestamping bound to a clock or counting its packets,
 * multicast group memberships. And a UDP socket's shutdowns.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "compat.h"
#include "dump_fd_sock.h"
#include "pstate_sock.h"
#include "util.h"

static int get_bytes(int fd, int level, int name, void *buf, socklen_t *len)
{
	return getsockopt(fd, level, name, buf, len) < 0 ? -errno : 0;
}

int sd_dump_sock_extra(int fd, struct sock_state *s)
{
	struct linger lg = { 0 };
	struct sock_txtime tx = { 0 };
	socklen_t len = sizeof(lg);
	int v = 0, r;

	r = get_bytes(fd, SOL_SOCKET, SO_LINGER, &lg, &len);
	s->linger_on = lg.l_onoff != 0;
	s->linger = lg.l_linger;
	len = SOCK_TEXT_MAX;
	if (r == 0)
		r = get_bytes(fd, SOL_SOCKET, SO_BINDTODEVICE, s->bindtodevice, &len);
	len = sizeof(v);
	if (r == 0)
		r = get_bytes(fd, SOL_SOCKET, SO_DONTROUTE, &v, &len);
	s->dontroute = v != 0;
	len = sizeof(s->buf_lock);
	/* older kernels have no SO_BUF_LOCK: a buffer set is locked, as the sizes say */
	if (r == 0 && get_bytes(fd, SOL_SOCKET, SO_BUF_LOCK, &s->buf_lock, &len) < 0)
		s->buf_lock = -1;
	len = sizeof(s->max_pacing_rate);
	if (r == 0)
		r = get_bytes(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &s->max_pacing_rate, &len);
	s->pacing = r == 0 && s->max_pacing_rate != ~0ull;
	len = sizeof(tx);
	if (r == 0)
		r = get_bytes(fd, SOL_SOCKET, SO_TXTIME, &tx, &len);
	s->txtime = tx.clockid || tx.flags;
	s->txtime_clockid = tx.clockid;
	s->txtime_flags = tx.flags;
	len = 0;
	/* SO_GET_FILTER: with no room, how many instructions */
	/* EACCES or EPERM: an eBPF filter, which has no instructions to give (sd_dump_sock_check refuses it) */
	if (r == 0 && ((r = get_bytes(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &len)) == -EPERM || r == -EACCES))
		r = 0;
	if (r == 0 && len > SOCK_FILTER_MAX)
		r = -E2BIG;
	if (r == 0 && len) {
		s->filter = calloc(len, sizeof(struct sock_filter));
		s->filter_len = len * sizeof(struct sock_filter);
		r = s->filter ? get_bytes(fd, SOL_SOCKET, SO_GET_FILTER, s->filter, &len) : -ENOMEM;
		s->filter_len = len * sizeof(struct sock_filter);
	}
	len = sizeof(v);
	v = 0;
	if (r == 0)
		r = get_bytes(fd, SOL_SOCKET, SO_LOCK_FILTER, &v, &len);
	s->lock_filter = v != 0;
	if (r == 0 && s->family != AF_UNIX && s->type == SOCK_STREAM) {
		len = SOCK_TEXT_MAX;
		r = get_bytes(fd, IPPROTO_TCP, TCP_CONGESTION, s->congestion, &len);
	}
	return r;
}

static uint32_t optmem(int fd)
{
	uint32_t m[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(m);

	return getsockopt(fd, SOL_SOCKET, SO_MEMINFO, m, &len) < 0 ? 0 : m[SK_MEMINFO_OPTMEM];
}

/* What the kernel charges a socket like @s for its classic filter: the same filter on a new socket. */
static uint32_t filter_charge(const struct sock_state *s)
{
	struct sock_fprog f = { .len = (unsigned short)(s->filter_len / sizeof(struct sock_filter)),
				.filter = (struct sock_filter *)s->filter };
	int probe = socket(s->family, s->type | SOCK_CLOEXEC, 0);
	uint32_t m = 0;

	if (probe < 0)
		return 0;
	if (setsockopt(probe, SOL_SOCKET, SO_ATTACH_FILTER, &f, sizeof(f)) == 0)
		m = optmem(probe);
	(void)close(probe);
	return m;
}

int sd_dump_sock_check(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, const struct sock_state *s)
{
	uint32_t m = optmem(fd), want = s->filter_len ? filter_charge(s) : 0;
	socklen_t len = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &len) < 0 && (errno == EPERM || errno == EACCES))
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a socket with an eBPF filter (SO_ATTACH_BPF), which sdump cannot read back; not supported, detach it before the dump and attach it again after the restore",
				 p->pid, p->fd);
	if (m > want)
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a socket holding state sdump cannot read back (%u bytes of option memory: an eBPF filter, IPv6 sticky options or a TCP MD5 key), not supported yet; remove it before the dump",
				 p->pid, p->fd, m - want);
	return 0;
}

/* Whether @fd is a member of the IPv4 or IPv6 group @grp on interface @ifindex (MCAST_MSFILTER). */
static bool member(int fd, int family, unsigned ifindex, const void *grp)
{
	struct group_filter gf = { .gf_interface = ifindex };
	socklen_t len = sizeof(gf);

	gf.gf_group.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)&gf.gf_group)->sin_addr, grp, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&gf.gf_group)->sin6_addr, grp, 16);
	return getsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, MCAST_MSFILTER, &gf, &len) == 0;
}

/*
 * A multicast group of the system @fd is a member of (/proc/net/igmp,
 * /proc/net/igmp6 list every interface's): its text in @ret.
 */
static bool joined(int fd, int family, char ret[64])
{
	FILE *f = fopen(family == AF_INET ? "/proc/net/igmp" : "/proc/net/igmp6", "re");
	char line[256], dev[32] = "";
	unsigned idx = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned g4;
		char g6[33];

		if (family == AF_INET) {
			/* "1\tlo        :     1      V3" then "\t\t\t\t010000E0     1 0:00000000\t\t0" */
			if (line[0] != '\t' && sscanf(line, "%u %31s", &idx, dev) == 2)
				continue;
			if (line[0] == '\t' && sscanf(line, " %x", &g4) == 1 &&
			    member(fd, AF_INET, idx, &g4)) {
				const uint8_t *b = (const uint8_t *)&g4;

				(void)snprintf(ret, 64, "%u.%u.%u.%u on %s", b[0], b[1], b[2], b[3], dev);
				found = true;
			}
		} else if (sscanf(line, "%u %31s %32s", &idx, dev, g6) == 3 && strlen(g6) == 32) {
			uint8_t a[16];

			for (int i = 0; i < 16; i++)
				(void)sscanf(g6 + 2 * i, "%2hhx", &a[i]);
			if (member(fd, AF_INET6, idx, a)) {
				(void)snprintf(ret, 64, "%s on %s", g6, dev);
				found = true;
			}
		}
	}
	(void)fclose(f);
	return found;
}

/* A UDP, UDP-Lite or ICMP socket's shutdowns: sock_diag's, or for one in no table (unbound, ICMP) what poll() tells. */
static int udp_shutdown(int fd, struct sock_state *s)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLRDHUP };
	/* an ICMP socket is in no sock_diag table */
	bool ping = s->protocol != IPPROTO_UDP && s->protocol != IPPROTO_UDPLITE;
	int r = ping ? -ENOENT : sd_sockdiag_inet_shutdown(s->family, s->protocol, s->ino, &s->shutdown);

	if (r != -ENOENT)
		return r;
	if (poll(&pf, 1, 0) < 0)
		return -errno;
	s->shutdown = (pf.revents & POLLHUP) ? 3u : (pf.revents & POLLRDHUP) ? 1u : 0u;
	return 0;
}

int sd_dump_inet_extra(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct sock_state *s)
{
	char buf[64] = "";
	socklen_t len = sizeof(buf);
	int v = 0, r;

	if (s->type == SOCK_STREAM && getsockopt(fd, IPPROTO_TCP, TCP_ULP, buf, &len) == 0 && buf[0])
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a TCP socket with the upper layer protocol '%.16s' (TCP_ULP), which a restore cannot make again; not supported",
				 p->pid, p->fd, buf);
	len = sizeof(buf);
	if (s->family == AF_INET && getsockopt(fd, IPPROTO_IP, IP_OPTIONS, buf, &len) == 0 && len)
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a socket with IP options set (IP_OPTIONS, %u bytes), not supported yet; set them again after the restore",
				 p->pid, p->fd, len);
	len = sizeof(v);
	if (s->type == SOCK_DGRAM && getsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &v, &len) == 0 && v)
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a UDP socket of an encapsulation (UDP_ENCAP %d), which belongs to the kernel's IPsec or tunnel state; not supported",
				 p->pid, p->fd, v);
	len = sizeof(v);
	v = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING_OLD, &v, &len) == 0 &&
	    (v & (SOF_TIMESTAMPING_BIND_PHC | SOF_TIMESTAMPING_OPT_ID)))
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a socket with SO_TIMESTAMPING bound to a clock or counting its packets (flags %#x), which a restore cannot give back; not supported yet",
				 p->pid, p->fd, (unsigned)v);
	if (joined(fd, s->family, buf))
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a socket that joined the multicast group %s, not supported yet; leave the group before the dump and join it again after the restore",
				 p->pid, p->fd, buf);
	r = sd_dump_sock_check(ctx, p, fd, s);
	if (r == 0 && s->type == SOCK_DGRAM && (r = udp_shutdown(fd, s)) < 0)
		r = sd_err(ctx, r, "cannot read the shutdowns of fd %d of pid %d", p->fd, p->pid);
	return r;
}

static bool foreign(int fd)
{
	uint64_t a = 0, b = 0;
	socklen_t len = sizeof(a);
	int ours = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	bool other = false;

	if (ours < 0)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &a, &len) == 0 &&
	    getsockopt(ours, SOL_SOCKET, SO_NETNS_COOKIE, &b, &(socklen_t){ sizeof(b) }) == 0)
		other = a != b;
	(void)close(ours);
	return other;
}

int sd_dump_sock_netns(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, const char *what)
{
	if (!foreign(fd))
		return 0;
	return sd_refuse(ctx, -EOPNOTSUPP,
			 "cannot dump pid %d: fd %d is %s of another network namespace than sdump's, where a restore would not make it; run the dump and the restore inside that namespace (ip netns exec, nsenter -n)",
			 p->pid, p->fd, what);
}

int sd_dump_sock_table_opts(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct sock_state *s,
			    const struct sock_opt_def *t, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		const struct sock_opt_def *o = &t[i];
		int v = 0;
		socklen_t len = sizeof(v);

		if (getsockopt(fd, o->level, o->name, &v, &len) < 0) {
			/* an option this kernel has not: nobody set it */
			if ((o->flags & SOCK_OPT_NEWER) && (errno == ENOPROTOOPT || errno == EOPNOTSUPP || errno == EINVAL))
				continue;
			return sd_err(ctx, -errno, "cannot read %s of fd %d of pid %d", o->what, p->fd, p->pid);
		}
		s->opts[s->nopts++] = (struct sock_opt){ .level = o->level, .name = o->name, .value = v };
	}
	r = sd_dump_sock_options(fd, s);
	if (r < 0)
		return sd_err(ctx, r, "cannot read the options of the socket of fd %d of pid %d", p->fd, p->pid);
	return sd_dump_sock_check(ctx, p, fd, s);
}
