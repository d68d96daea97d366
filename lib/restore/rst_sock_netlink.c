/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: netlink sockets. Each is made in the new process
 * (socket() of its protocol), then set up from here on our copy of it
 * (pidfd_getfd(): the same socket): its options and flags, bound to the
 * port id it had (an autobound one too: the program may have read it),
 * in every multicast group it was in (NETLINK_ADD_MEMBERSHIP, which
 * bind() would limit to the first 32), connected to where it was.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate_sock.h"
#include "restore.h"
#include "rst_sock.h"
#include "util.h"

/* Every group of @s joined on @fd; the one that failed in *@ret_group. -errno. */
static int join_all(int fd, const struct sock_state *s, unsigned *ret_group)
{
	for (size_t w = 0; w < s->nl_nwords; w++)
		for (unsigned b = 0; b < 32; b++) {
			unsigned g = (unsigned)w * 32 + b + 1;

			if (!(s->nl_groups[w] & (1u << b)))
				continue;
			*ret_group = g;
			if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
				return -errno;
		}
	return 0;
}

static int set_up(struct rst *r, const struct fd_state *d, int fd)
{
	const struct sock_state *s = d->sk;
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	unsigned g = 0;
	int e;

	e = sd_rst_inet_opts(fd, s);
	if (e == 0)
		e = sd_rst_sock_options_first(fd, s);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot set the options of the netlink socket of fd %d",
			      r->pid, d->fd);
	a.nl_pid = s->nl_portid;
	if (s->nl_portid && bind(fd, (const struct sockaddr *)&a, sizeof(a)) < 0)
		return sd_err(r->ctx, -errno,
			      "cannot restore pid %d: cannot bind the netlink socket (protocol %d) of fd %d to port id %u%s",
			      r->pid, s->protocol, d->fd, s->nl_portid,
			      errno == EADDRINUSE ? ", which another netlink socket of this protocol holds now" : "");
	e = join_all(fd, s, &g);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot put the netlink socket (protocol %d) of fd %d in group %u",
			      r->pid, s->protocol, d->fd, g);
	a.nl_pid = s->nl_dst_portid;
	a.nl_groups = s->nl_dst_group;
	if (s->state == SKS_ESTABLISHED && connect(fd, (const struct sockaddr *)&a, sizeof(a)) < 0)
		return sd_err(r->ctx, -errno,
			      "cannot restore pid %d: cannot connect the netlink socket (protocol %d) of fd %d to port id %u, group %u",
			      r->pid, s->protocol, d->fd, s->nl_dst_portid, s->nl_dst_group);
	if (sd_rst_sock_options_last(fd, s) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of the netlink socket of fd %d",
			      r->pid, d->fd);
	return 0;
}

int sd_rst_netlink_open(struct rst *r, size_t i, long *ret_tmp)
{
	return sd_rst_sock_open(r, i, "netlink socket", set_up, ret_tmp);
}
