/* SPDX-License-Identifier: MIT */
/*
 * Unix sockets at the final dump (dump_fd_sock.c): the collector of the
 * S_IFSOCK row of dump_fd_kinds[] (a socket of another family is refused
 * with one line naming it), and the pass over the whole table that
 * matches every peer by inode, once every fd is in.
 */
#ifndef SDUMP_DUMP_FD_SOCK_H
#define SDUMP_DUMP_FD_SOCK_H

#include "sdump.h"
#include "dump_fd_kinds.h"
#include "pstate.h"

int sd_dump_unix_sock(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		      struct fd_state *d);
/*
 * The SOL_SOCKET options of every family (buffer sizes, SO_PEEK_OFF,
 * SO_PASSCRED, timeouts, SO_PEERCRED, ...) of our copy @fd into @s; -errno.
 */
int sd_dump_sock_options(int fd, struct sock_state *s);
/*
 * dump_fd_sockopt.c: the options of every family that are no ints
 * (called by sd_dump_sock_options); -errno. sd_dump_sock_check refuses a
 * socket whose option memory holds more than what sdump saves (an eBPF
 * filter, ...), sd_dump_inet_extra what else a TCP or UDP socket holds
 * that a restore cannot make again, and reads a UDP socket's shutdowns.
 */
int sd_dump_sock_extra(int fd, struct sock_state *s);
int sd_dump_sock_check(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, const struct sock_state *s);
int sd_dump_inet_extra(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct sock_state *s);
/*
 * sd_dump_sock_netns: socket @fd (@what for the message: "a netlink
 * socket") of another network namespace than ours, where a restore makes
 * it, refused (their SO_NETNS_COOKIE differ; a kernel without it, before
 * 5.14, cannot tell: taken as ours); else 0.
 * sd_dump_sock_table_opts: the int options of table @t (@n of them) into
 * s->opts, each read on @fd (one a kernel has not, SOCK_OPT_NEWER, left
 * out), then the options of every socket (sd_dump_sock_options), checked
 * (sd_dump_sock_check); -errno, said.
 */
int sd_dump_sock_netns(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, const char *what);
int sd_dump_sock_table_opts(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct sock_state *s,
			    const struct sock_opt_def *t, size_t n);
/*
 * A TCP or UDP socket (dump_fd_inet.c), through our copy @fd; s->family and
 * s->type set. Sets d->kind to FDK_INET. sd_dump_inet_table, once the
 * table is in: each datagram queued is from a socket of the table.
 */
int sd_dump_inet_sock(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct fd_state *d,
		      struct sock_state *s);
int sd_dump_inet_table(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs);
/*
 * A netlink socket (dump_fd_netlink.c), through our copy @fd; s->family
 * and s->type set. Sets d->kind to FDK_NETLINK.
 */
int sd_dump_netlink_sock(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct fd_state *d,
			 struct sock_state *s);
/*
 * A packet socket (dump_fd_packet.c), likewise (FDK_PACKET); a ring, a
 * fanout with a program, packets queued are refused.
 */
int sd_dump_packet_sock(struct sdump_ctx *ctx, const struct fd_probe *p, int fd, struct fd_state *d,
			struct sock_state *s);
/*
 * With o->tcp_established, sd_dump_inet_table also reads each established
 * connection in repair mode (TCP_REPAIR), in which the process's socket
 * stays, once the network lock is taken (base/netlock.h). At the end of
 * the dump: @killed, both stay (until the restore); else (the process
 * runs on, or the dump failed) the connections leave repair mode and the
 * lock goes.
 */
void sd_dump_inet_release(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs,
			  bool killed);

/*
 * The sockets of @fs (of process o->pid) against each other: a peer, a
 * client waiting in a listener's backlog, a listener an accepted socket
 * came from, the sender of a datagram queued, each matched by inode or
 * name among the sockets of @fs. A peer outside is refused with one line
 * naming the fd and the peer, unless o->ext_unix names it (then marked
 * external). The accepted ends get their listener's inode.
 *
 * sd_dump_sock_table checks the inet sockets (sd_dump_inet_table) then
 * the unix ones (sd_dump_unix_table). Process trees: each member's inet
 * sockets alone, then its unix ones in one table of every member's (the
 * matching is by inode and name, never by fd or process; a message names
 * the process holding the socket, sock_state.pid).
 */
int sd_dump_sock_table(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs);
int sd_dump_unix_table(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs);

/*
 * Files in flight (dump_sock_rights.c). sd_dump_sock_right: the file of
 * our fd @fd that a peek got from SCM_RIGHTS into *@f (its link in @what):
 * -EOPNOTSUPP for a kind not kept (the caller refuses, naming @what),
 * -errno. sd_dump_sock_rights_check: once the table is in, every pipe end
 * in flight whose other end is open has it in flight too (else refused).
 */
int sd_dump_sock_right(int fd, struct sock_file *f, char *what, size_t size);
int sd_dump_sock_rights_check(struct sdump_ctx *ctx, const struct files_state *fs);

#endif /* SDUMP_DUMP_FD_SOCK_H */
