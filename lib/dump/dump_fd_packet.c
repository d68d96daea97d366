/* SPDX-License-Identifier: MIT */
/*
 * Packet sockets (AF_PACKET: SOCK_RAW, SOCK_DGRAM, SOCK_PACKET) at the
 * final dump, through our copy of the fd and packet_diag: the protocol it
 * takes (an ethertype), the interface it is bound to (by index, with its
 * name then, which the restore checks), its memberships
 * (PACKET_ADD_MEMBERSHIP: promiscuous mode, multicast addresses), its
 * fanout group, the SOL_PACKET options (sd_sock_packet_opts[]) and those
 * of every socket (a classic filter, as tcpdump sets). Refused with one
 * line: a ring (PACKET_RX_RING, PACKET_TX_RING: its frames live in the
 * process's mapping of it), a fanout that runs a program or whose id the
 * kernel chose, and packets queued, which no restore can queue again.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "dump_fd_sock.h"
#include "pstate_sock.h"
#include "util.h"

/* The name of interface @ifindex (of our network namespace: the process's) into @ret; -ENODEV if none. */
static int if_name(int32_t ifindex, char ret[SOCK_TEXT_MAX + 1])
{
	char n[IF_NAMESIZE] = "";

	if (!if_indextoname((unsigned)ifindex, n))
		return -ENODEV;
	(void)snprintf(ret, SOCK_TEXT_MAX + 1, "%s", n);
	return 0;
}

/*
 * What packet_diag says that a restore cannot make again: refused; else
 * its fields into @s. The fanout as PACKET_FANOUT reads it on @fd (with
 * its flags, which packet_diag leaves out).
 */
static int take_diag(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct packet_diag_state *k,
		     struct sock_state *s)
{
	uint32_t v = 0;
	socklen_t len = sizeof(v);
	unsigned type, flags;

	if (s->type != SOCK_PACKET && getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &v, &len) < 0)
		return sd_err(ctx, -errno, "cannot read PACKET_FANOUT of fd %d of pid %d", p->fd, p->pid);
	k->fanout = v;
	type = (v >> 16) & 0xff;
	flags = v >> 24;

	if (k->rx_ring || k->tx_ring)
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a packet socket with a %s ring mapped (as libpcap and tcpdump set up), whose frames sdump cannot save yet; not supported yet: stop the capture before the dump and start it again after the restore",
				 p->pid, p->fd, k->rx_ring ? "PACKET_RX_RING" : "PACKET_TX_RING");
	if (v && (type == PACKET_FANOUT_CBPF || type == PACKET_FANOUT_EBPF))
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a packet socket in a fanout group that runs a BPF program (PACKET_FANOUT_DATA), which sdump cannot read back; not supported",
				 p->pid, p->fd);
	if (v && (flags << 8 & PACKET_FANOUT_FLAG_UNIQUEID))
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a packet socket in a fanout group whose id the kernel chose (PACKET_FANOUT_FLAG_UNIQUEID), which a restore cannot ask for again; not supported",
				 p->pid, p->fd);
	s->protocol = (int)k->num;
	s->pk_fanout = v;
	s->pk_mc = k->mc;
	s->pk_nmc = k->nmc;
	k->mc = NULL;
	for (size_t i = 0; i < s->pk_nmc; i++)
		if (if_name(s->pk_mc[i].ifindex, s->pk_mc[i].ifname) < 0)
			return sd_err(ctx, -ENODEV, "cannot read the membership of fd %d of pid %d on interface %d",
				      p->fd, p->pid, s->pk_mc[i].ifindex);
	return 0;
}

int sd_dump_packet_sock(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct fd_state *d,
			struct sock_state *s)
{
	struct packet_diag_state k;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	size_t refused = ctx->refusals.n;
	int r;

	d->kind = FDK_PACKET;
	s->state = SKS_CLOSE;
	s->ino = d->ino;
	s->pid = p->pid;
	r = sd_dump_sock_netns(ctx, p, fd, "a packet socket");
	if (r < 0 || ctx->refusals.n > refused)
		return r;
	r = sd_sockdiag_packet(s->ino, &k);
	if (r == -E2BIG)
		r = sd_refuse(ctx, r, "cannot dump pid %d: fd %d is a packet socket with more memberships than an image keeps",
			      p->pid, p->fd);
	if (r == -E2BIG || (r == 0 && ctx->refusals.n > refused))
		return r;
	if (r < 0)
		return sd_err(ctx, r, "cannot read the packet socket of fd %d of pid %d (sock_diag)", p->fd, p->pid);
	r = take_diag(ctx, p, fd, &k, s);
	free(k.mc);
	if (r < 0)
		return r;
	if (poll(&pf, 1, 0) < 0)
		return sd_err(ctx, -errno, "cannot read the packet socket of fd %d of pid %d", p->fd, p->pid);
	if (pf.revents & (POLLIN | POLLERR))
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a packet socket with %s queued, which a restore cannot queue again; dump it again once the program has read them",
				 p->pid, p->fd, (pf.revents & POLLIN) ? "packets" : "an error");
	s->pk_ifindex = (int32_t)k.ifindex;
	if (s->pk_ifindex && if_name(s->pk_ifindex, s->pk_ifname) < 0)
		return sd_err(ctx, -ENODEV, "cannot read the interface %d fd %d of pid %d is bound to", s->pk_ifindex,
			      p->fd, p->pid);
	/* SOCK_PACKET has no SOL_PACKET option */
	return sd_dump_sock_table_opts(ctx, p, fd, s, sd_sock_packet_opts, s->type == SOCK_PACKET ? 0 : sd_sock_packet_nopts);
}
