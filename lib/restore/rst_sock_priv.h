/* SPDX-License-Identifier: MIT */
/*
 * The unix sockets of a restore in progress (rst_sock.c), shared with the
 * sending again of their queues (rst_sock_queue.c).
 */
#ifndef SDUMP_RST_SOCK_PRIV_H
#define SDUMP_RST_SOCK_PRIV_H

#include <string.h>
#include <sys/socket.h>

#include "sdump.h"
#include "ctx.h"
#include "pstate_sock.h"
#include "restore.h"

/* A restore of the sockets in progress. */
struct rsk {
	struct rst *r;		/* where they are made: the process, or a tree's first member with one */
	struct files_state *fs;	/* the sockets: r->fs, or a tree's table of every member's */
	struct rst *const *own;	/* a tree's: by index of fs, the member holding it (NULL: all r's) */
	const int *fdno;	/* a tree's: by index, its fd there (fs's is its number in r) */
	int pidfd;		/* of the new process */
	int *copy;		/* by fd of r->fs: our copy of its socket, else -1 */
	long *gone;		/* by fd: the other end standing in for a peer closed, in the process, else -1 */
	int *gone_copy;
	/* by index: the shutdown of a client made before its connect (what its peer does not mirror) */
	uint8_t *pre_shut;
	/* by index: where the file of a path removed since the bind is until the end (len 0: none) */
	struct sock_name *aside;
	/* the directories of such paths, removed since too, made for the binds (removed at the end) */
	char **made;
	size_t nmade;
	/* the pipes in flight, made here on their first end met: by the pipe's inode, our two ends */
	struct rsk_pipe {
		uint64_t ino;
		int fd[2];
		bool filled;	/* its bytes written */
	} *pipes;
	size_t npipes;
	long hi;		/* above every number of the table */
};

/* A socket of its own (a tree's member has the one an earlier member holds too from it) */
static inline bool is_sock(const struct fd_state *d)
{
	return d->kind == FDK_UNIX && d->sk && !d->has_dup_of && !d->has_shared;
}

/* The process holding socket @i, and its fd there. */
static inline struct rst *owner(const struct rsk *k, size_t i)
{
	return k->own ? k->own[i] : k->r;
}

static inline int fd_of(const struct rsk *k, size_t i)
{
	return k->fdno ? k->fdno[i] : k->fs->fds[i].fd;
}

static inline ssize_t by_ino(const struct files_state *fs, uint64_t ino)
{
	for (size_t i = 0; ino && i < fs->n; i++)
		if (is_sock(&fs->fds[i]) && fs->fds[i].sk->ino == ino)
			return (ssize_t)i;
	return -1;
}

static inline ssize_t by_name(const struct files_state *fs, const struct sock_name *n, int type)
{
	for (size_t i = 0; n->len && i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;

		if (is_sock(&fs->fds[i]) && s->type == type && !s->listener_ino && !s->listener_gone && s->name.len == n->len &&
		    !memcmp(s->name.path, n->path, n->len))
			return (ssize_t)i;
	}
	return -1;
}

static inline int sock_err(struct rsk *k, int e, size_t i, const char *what)
{
	const struct fd_state *d = &k->fs->fds[i];

	return sd_err(k->r->ctx, e, "cannot restore pid %d: cannot %s %s (fd %d)", owner(k, i)->pid, what,
		      sd_sock_unix_what(d->sk->type), fd_of(k, i));
}

/*
 * A named datagram socket whose named peer has closed: made alone, then
 * connected to a socket of ours bound to the peer's name, which sends the
 * queue and closes (queue_from_gone_peer()): a pair would have peer
 * credentials a connected datagram socket has not.
 */
static inline bool dgram_to_named(const struct sock_state *s)
{
	return s->peer_gone && s->type == SOCK_DGRAM && s->name.len && s->peer_name.len;
}

/* The receive queue of fd @i, sent again by its senders. -errno, said. */
int sd_rsk_queue_one(struct rsk *k, size_t i);
/*
 * A datagram socket another once connected to (Linux makes the target's
 * state TCP_ESTABLISHED too, and it stays so when that one closes), with
 * no peer of its own: connected to by a socket of ours, closed at once.
 */
int sd_rsk_dgram_reached(struct rsk *k, size_t i);
/* The pipes in flight closed here (their ends in flight stay), k->pipes freed. */
void sd_rsk_pipes_close(struct rsk *k);

/*
 * Before fd @i binds to @path, found missing: if it is an absolute path
 * removed since the bind whose directories were removed too, those made
 * again (empty, mode 0700), listed in k->made; the error said.
 */
int sd_rst_sock_dirs_make(struct rsk *k, size_t i, const char *path);
/* The directories made so removed again (once every socket file in them is), the list freed. */
void sd_rst_sock_dirs_remove(struct rsk *k);

#endif /* SDUMP_RST_SOCK_PRIV_H */
