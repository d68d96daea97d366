/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: packet sockets. Each is made in the new process
 * (socket() of its type and protocol), then set up from here on our copy
 * of it: its SOL_PACKET options and those of every socket, bound to its
 * interface (which must have the index it had, under the same name:
 * a program keeps indexes), its memberships added again as many times as
 * they were, and its fanout group joined (which needs the socket bound).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate_sock.h"
#include "restore.h"
#include "rst_sock.h"
#include "util.h"

/* Interface @name has index @ifindex here too: -ENODEV, said, if not. */
static int same_if(struct rst *r, const struct fd_state *d, const char *name, int32_t ifindex)
{
	unsigned now = if_nametoindex(name);

	if (now == (unsigned)ifindex)
		return 0;
	if (now)
		return sd_errx(r->ctx, -ENODEV,
			       "cannot restore pid %d: the packet socket of fd %d was on interface %s, index %d, which has index %u here",
			       r->pid, d->fd, name, ifindex, now);
	return sd_errx(r->ctx, -ENODEV, "cannot restore pid %d: the packet socket of fd %d was on interface %s, which is not here",
		       r->pid, d->fd, name);
}

static int bind_if(int fd, const struct sock_state *s)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons((uint16_t)s->protocol),
				  .sll_ifindex = s->pk_ifindex };
	struct sockaddr sp = { .sa_family = AF_PACKET };

	if (s->type != SOCK_PACKET)
		return bind(fd, (const struct sockaddr *)&ll, sizeof(ll)) < 0 ? -errno : 0;
	/* SOCK_PACKET: by the interface's name, in sa_data (the kernel reads its 14 bytes, NUL or not) */
	memcpy(sp.sa_data, s->pk_ifname, MIN(strlen(s->pk_ifname), sizeof(sp.sa_data)));
	return bind(fd, &sp, sizeof(sp)) < 0 ? -errno : 0;
}

/* struct packet_mreq with room for an address of MAX_ADDR_LEN bytes, as the kernel takes it */
struct mreq_max {
	int mr_ifindex;
	unsigned short mr_type, mr_alen;
	unsigned char mr_address[SOCK_PK_ADDR_MAX];
};

static int members(struct rst *r, const struct fd_state *d, int fd)
{
	const struct sock_state *s = d->sk;

	for (size_t i = 0; i < s->pk_nmc; i++) {
		const struct sock_pk_mc *c = &s->pk_mc[i];
		struct mreq_max m = { .mr_ifindex = c->ifindex, .mr_type = c->type, .mr_alen = c->alen };
		int e = same_if(r, d, c->ifname, c->ifindex);

		if (e < 0)
			return e;
		memcpy(m.mr_address, c->addr, MIN((size_t)c->alen, sizeof(m.mr_address)));
		for (uint32_t k = 0; k < c->count; k++)
			if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &m, sizeof(m)) < 0)
				return sd_err(r->ctx, -errno,
					      "cannot restore pid %d: cannot add the membership (type %u) of the packet socket of fd %d on %s",
					      r->pid, c->type, d->fd, c->ifname);
	}
	return 0;
}

static int set_up(struct rst *r, const struct fd_state *d, int fd)
{
	const struct sock_state *s = d->sk;
	int e;

	e = sd_rst_inet_opts(fd, s);
	if (e == 0)
		e = sd_rst_sock_options_first(fd, s);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot set the options of the packet socket of fd %d",
			      r->pid, d->fd);
	if (s->pk_ifindex && s->type != SOCK_PACKET && (e = same_if(r, d, s->pk_ifname, s->pk_ifindex)) < 0)
		return e;
	if ((s->pk_ifindex || s->pk_ifname[0]) && (e = bind_if(fd, s)) < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot bind the packet socket of fd %d to %s", r->pid,
			      d->fd, s->pk_ifname);
	e = members(r, d, fd);
	if (e < 0)
		return e;
	if (s->pk_fanout && setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &s->pk_fanout, sizeof(s->pk_fanout)) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot put the packet socket of fd %d in fanout group %u",
			      r->pid, d->fd, s->pk_fanout & 0xffff);
	if (sd_rst_sock_options_last(fd, s) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of the packet socket of fd %d",
			      r->pid, d->fd);
	return 0;
}

int sd_rst_packet_open(struct rst *r, size_t i, long *ret_tmp)
{
	return sd_rst_sock_open(r, i, "packet socket", set_up, ret_tmp);
}
