/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: the unix sockets (rst_sock.c), a row of
 * rst_fd_openers[] (rst_files.c) that places its fds: with the first
 * socket fd of the table, every socket of it is made, bound, connected,
 * given its queue, shutdowns and options, and checked.
 */
#ifndef SDUMP_RST_SOCK_H
#define SDUMP_RST_SOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "pstate_sock.h"
#include "restore.h"

int sd_rst_unix_open(struct rst *r, size_t i, long *ret_tmp);
/*
 * The sockets of table @fs made in @r: those of @r's own table, or of a
 * tree's table of every member's, own[i] the member holding socket i and
 * fdno[i] its fd there (NULL, NULL: all @r's). Each call the kernel
 * credits to its caller goes to the member that made it (socketpair() to
 * the one SO_PEERCRED names, listen() to the listener's, connect() to the
 * client's), lent our copy of the socket for it. A socket of another
 * member stays in @r above its table (fs->fds[i].fd says where) for the
 * tree to hand over (sd_rst_tree_unix, rst_tree.c). sd_rst_unix_is_own:
 * whether fd @d is a socket its table makes (not a dup of a lower fd, nor
 * an earlier member's).
 */
int sd_rst_unix_make(struct rst *r, struct files_state *fs, struct rst *const *own, const int *fdno);
bool sd_rst_unix_is_own(const struct fd_state *d);
/*
 * The SOL_SOCKET options of any socket, on our copy @fd of it: first
 * (before its queue is filled) the buffer sizes, SO_RCVLOWAT, SO_PRIORITY,
 * SO_MARK and the timeouts; last SO_PASSCRED, SO_PASSSEC, SO_PASSPIDFD and
 * SO_PEEK_OFF. -errno.
 */
int sd_rst_sock_options_first(int fd, const struct sock_state *s);
int sd_rst_sock_options_last(int fd, const struct sock_state *s);
/*
 * Socket @i of the table made in the new process (socket() of its family,
 * type and protocol), then @set_up on our copy @fd of it (-errno, said),
 * its number there in *@ret_tmp; closed there on failure. @what names it
 * in a message ("IPv4 TCP socket").
 */
int sd_rst_sock_open(struct rst *r, size_t i, const char *what,
		     int (*set_up)(struct rst *r, const struct fd_state *d, int fd), long *ret_tmp);
/*
 * rst_sockopt.c: the int options of a TCP or UDP socket, each set where
 * it differs from what @fd reads; the options of every family that are no
 * ints, first (before bind(), called by sd_rst_sock_options_first) and
 * last (a filter, SO_BUF_LOCK: by sd_rst_sock_options_last). -errno.
 */
int sd_rst_inet_opts(int fd, const struct sock_state *s);
/* SO_REUSEADDR as it was, again: TCP_REPAIR_OFF clears it. -errno. */
int sd_rst_inet_reuse(int fd, const struct sock_state *s);
int sd_rst_sock_extra_first(int fd, const struct sock_state *s);
int sd_rst_sock_extra_last(int fd, const struct sock_state *s);
/*
 * TCP and UDP sockets (rst_sock_inet.c): each made in the new process by
 * its opener, its options set, bound, listening or connected as it was;
 * sd_rst_inet_queues, once every fd is at its number: the datagrams
 * queued on each, sent again by the sockets of the process that sent
 * them (from a sender outside, on a raw socket from its address), then
 * SO_PEEK_OFF.
 */
int sd_rst_inet_open(struct rst *r, size_t i, long *ret_tmp);
int sd_rst_inet_queues(struct rst *r);
/*
 * A netlink socket (rst_sock_netlink.c), made in the new process by its
 * opener: its options and flags, bound to its port id, in its groups,
 * connected where it was.
 */
int sd_rst_netlink_open(struct rst *r, size_t i, long *ret_tmp);
/*
 * A packet socket (rst_sock_packet.c), likewise: its options, bound to
 * its interface (the same index under the same name, else the restore
 * fails saying so), its memberships, its fanout group.
 */
int sd_rst_packet_open(struct rst *r, size_t i, long *ret_tmp);
/*
 * Whether the image holds established TCP connections (--tcp-established):
 * a network lock of the dumped pid to remove once the restore is over.
 * The opener makes each again in repair mode (TCP_REPAIR): its sequence
 * numbers, options, timestamp clock, windows and queues, then out of it;
 * with --tcp-close an unconnected socket instead.
 */
bool sd_rst_inet_locked(const struct rst *r);
/*
 * The repaired connection of @d made again on our copy @fd of its socket
 * (rst_sock_tcp.c): established or half closed, its FINs back. -errno,
 * said.
 */
int sd_rst_tcp_repair(struct rst *r, const struct fd_state *d, int fd);
/*
 * A packet of @proto (IPPROTO_TCP, IPPROTO_UDP) from @from to @to (each a
 * sockaddr_in or _in6 of one family on the wire: IPv4-mapped ones as
 * IPv4), on a raw socket marked so that the network lock lets it through
 * (rst_sock_raw.c): @l4 its TCP or UDP header and payload, @len bytes, the
 * ports, UDP length and checksum filled in here. -errno.
 */
int sd_rst_raw_send(const void *from, const void *to, int proto, const uint8_t *l4, size_t len);

/*
 * Unix socket names (rst_sock_name.c). sd_sock_name_relative: whether @n
 * is a relative path. sd_sock_host_path: where the file of @s's path is,
 * for this process (a relative one from its name_dir). sd_sock_reach_name:
 * a name that reaches @s from any directory (a relative path made
 * absolute, if it fits in sun_path: -ENAMETOOLONG). sd_rst_sock_enter: for
 * a socket bound to a relative path, process @o enters its directory
 * (where it was goes to *@ret_back, an fd of @o; -1 for any other name),
 * sd_rst_sock_leave goes back.
 */
bool sd_sock_name_relative(const struct sock_name *n);
int sd_sock_host_path(const struct sock_state *s, char *buf, size_t size);
int sd_sock_reach_name(const struct sock_state *s, struct sock_name *ret);
int sd_rst_sock_enter(struct rst *o, const struct sock_state *s, long *ret_back);
void sd_rst_sock_leave(struct rst *o, long *back);
/*
 * Queues (rst_sock_send.c). sd_rst_unix_send: message @p from our socket
 * @from to fd @fdno of @pid (to name @to when not NULL), with its sender's
 * credentials (a sender gone from this system: ours, said) and its files
 * in flight, our fds @fds (p->nrights of them). -errno, said.
 * sd_rst_sock_send_hidden: @send(@fd, @arg) run in a child of ours once our socket @fd is bound to
 * name @from, a path of a sender that has gone: in a mount namespace of
 * its own with an empty tmpfs over the directory of the path, so that the
 * path is free and nothing changes outside. -errno (of the bind, or
 * @send's).
 */
int sd_rst_unix_send(struct sdump_ctx *ctx, pid_t pid, int fdno, int from, const struct sock_pkt *p,
		     const struct sock_name *to, const int *fds);
int sd_rst_sock_send_hidden(int fd, const struct sock_name *from, int (*send)(int fd, void *arg), void *arg);

#endif /* SDUMP_RST_SOCK_H */
