/* SPDX-License-Identifier: MIT */
/*
 * Netlink sockets (NETLINK_ROUTE, NETLINK_KOBJECT_UEVENT, ...) at the
 * final dump, through our copy of the fd (pidfd_getfd(): the same
 * socket): its protocol, its port id (getsockname(): 0 unbound, else as
 * bind() or the kernel's autobind gave it), the multicast groups it is in
 * (NETLINK_LIST_MEMBERSHIPS, every group, not only bind()'s first 32),
 * where it is connected to (getpeername()), its flags
 * (sd_sock_netlink_opts[]) and the options of every socket. What the
 * kernel queued for it (answers, notifications) cannot be queued again by
 * a restore, nor an overrun (ENOBUFS) not read yet: a socket holding
 * either is refused with one line, which poll() tells without consuming
 * anything.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "dump_fd_sock.h"
#include "pstate_sock.h"
#include "util.h"

/* The groups @fd is in: NETLINK_LIST_MEMBERSHIPS's words, without the zero ones at the end. */
static int read_groups(int fd, struct sock_state *s)
{
	socklen_t len = SOCK_NL_WORDS_MAX * sizeof(uint32_t);
	uint32_t *w = calloc(SOCK_NL_WORDS_MAX, sizeof(uint32_t));
	size_t n;

	if (!w)
		return -ENOMEM;
	if (getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, w, &len) < 0) {
		free(w);
		return -errno;
	}
	/* the kernel says how many bytes its groups take, and writes as many as fit */
	if (len > SOCK_NL_WORDS_MAX * sizeof(uint32_t)) {
		free(w);
		return -E2BIG;
	}
	for (n = len / sizeof(uint32_t); n && !w[n - 1]; n--)
		;
	if (!n) {
		free(w);
		return 0;
	}
	s->nl_groups = w;
	s->nl_nwords = n;
	return 0;
}

int sd_dump_netlink_sock(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct fd_state *d,
			 struct sock_state *s)
{
	struct sockaddr_nl a = { 0 };
	socklen_t len = sizeof(a);
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	int32_t proto = 0;
	size_t refused = ctx->refusals.n;
	char w[48];
	int r;

	d->kind = FDK_NETLINK;
	s->ino = d->ino;
	s->pid = p->pid;
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
		return sd_err(ctx, -errno, "cannot read the socket of fd %d of pid %d", p->fd, p->pid);
	s->protocol = proto;
	(void)snprintf(w, sizeof(w), "a netlink socket (protocol %d)", proto);
	r = sd_dump_sock_netns(ctx, p, fd, w);
	if (r < 0 || ctx->refusals.n > refused)
		return r;
	len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return sd_err(ctx, -errno, "cannot read the netlink socket of fd %d of pid %d", p->fd, p->pid);
	s->nl_portid = a.nl_pid;
	len = sizeof(a);
	memset(&a, 0, sizeof(a));
	if (getpeername(fd, (struct sockaddr *)&a, &len) < 0)
		return sd_err(ctx, -errno, "cannot read the netlink socket of fd %d of pid %d", p->fd, p->pid);
	s->nl_dst_portid = a.nl_pid;
	s->nl_dst_group = a.nl_groups;
	s->state = s->nl_dst_portid || s->nl_dst_group ? SKS_ESTABLISHED : SKS_CLOSE;
	if (poll(&pf, 1, 0) < 0)
		return sd_err(ctx, -errno, "cannot read the netlink socket of fd %d of pid %d", p->fd, p->pid);
	if (pf.revents & POLLERR)
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a netlink socket (protocol %d) with an overrun (ENOBUFS) the process has not read yet, which a restore cannot make again; dump it once the process has read it",
				 p->pid, p->fd, proto);
	if (pf.revents & POLLIN)
		return sd_refuse(ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: fd %d is a netlink socket (protocol %d, port id %u) with messages from the kernel queued, which a restore cannot queue again; dump it once the process has read them",
				 p->pid, p->fd, proto, s->nl_portid);
	r = read_groups(fd, s);
	if (r == -E2BIG)
		return sd_refuse(ctx, r, "cannot dump pid %d: fd %d is a netlink socket in more multicast groups than an image keeps",
				 p->pid, p->fd);
	if (r < 0)
		return sd_err(ctx, r, "cannot read the groups of the netlink socket of fd %d of pid %d", p->fd, p->pid);
	return sd_dump_sock_table_opts(ctx, p, fd, s, sd_sock_netlink_opts, sd_sock_netlink_nopts);
}
