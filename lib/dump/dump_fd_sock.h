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
 * The sockets of @fs (of process o->pid) against each other: a peer, a
 * client waiting in a listener's backlog, a listener an accepted socket
 * came from, the sender of a datagram queued, each matched by inode or
 * name among the sockets of @fs. A peer outside is refused with one line
 * naming the fd and the peer, unless o->ext_unix names it (then marked
 * external). The accepted ends get their listener's inode.
 *
 * Process trees: @fs is then every socket fd of the dump (the matching
 * is by inode and name, never by fd or process).
 */
int sd_dump_sock_table(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, struct files_state *fs);

#endif /* SDUMP_DUMP_FD_SOCK_H */
