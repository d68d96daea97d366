/* SPDX-License-Identifier: MIT */
/*
 * The receive queue of each unix socket a restore makes (rst_sock.c), sent
 * again in order by its senders: the sockets of the image that sent them,
 * a socket of ours bound to the name of one that has gone, the other end
 * standing in for a peer that has closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "rst_sock.h"
#include "rst_sock_priv.h"
#include "util.h"

void sd_rsk_pipes_close(struct rsk *k)
{
	for (size_t n = 0; n < k->npipes; n++) {
		(void)close(k->pipes[n].fd[0]);
		(void)close(k->pipes[n].fd[1]);
	}
	zfree(&k->pipes);
	k->npipes = 0;
}

/* Our end of the pipe in flight @f: the pipe made on its first end, with its bytes. */
static int pipe_end(struct rsk *k, const struct sock_file *f, int *ret)
{
	struct rsk_pipe *p = NULL;
	int end = f->kind == SKF_PIPE_WRITE;

	for (size_t n = 0; n < k->npipes; n++)
		if (k->pipes[n].ino == f->ino)
			p = &k->pipes[n];
	if (!p) {
		p = realloc(k->pipes, (k->npipes + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		k->pipes = p;
		p = &k->pipes[k->npipes];
		if (pipe2(p->fd, O_CLOEXEC) < 0)
			return -errno;
		p->ino = f->ino;
		p->filled = false;
		k->npipes++;
	}
	/* its bytes, with the read end that has them (once) */
	if (f->data_len && !p->filled && (fcntl(p->fd[1], F_SETPIPE_SZ, (int)f->data_len) < 0 && f->data_len > 65536))
		return -errno;
	if (f->data_len && !p->filled && sd_write_all(p->fd[1], f->data, f->data_len) < 0)
		return -errno;
	p->filled |= f->data_len != 0;
	if (fcntl(p->fd[end], F_SETFL, f->flags & O_NONBLOCK) < 0)
		return -errno;
	*ret = p->fd[end];
	return 0;
}

/* Our fd of file in flight @f: a regular file opened again at its path, its offset. */
static int file_fd(struct rsk *k, const struct sock_file *f, int *ret)
{
	struct stat st;
	int fd;

	if (f->kind != SKF_FILE)
		return pipe_end(k, f, ret);
	fd = open(f->path, (int)(f->flags & ~(unsigned)(O_CREAT | O_EXCL | O_TRUNC)) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_ino != f->ino || lseek(fd, (off_t)f->pos, SEEK_SET) < 0) {
		(void)close(fd);
		return -ESTALE;
	}
	*ret = fd;
	return 0;
}

/* One message from our socket @from to fd @i (by @to's name when given), its files in flight with it. */
static int send_pkt(struct rsk *k, int from, size_t i, const struct sock_pkt *p, const struct sock_name *to)
{
	int fds[SOCK_RIGHTS_MAX], e = 0;
	size_t n = 0;

	for (; e == 0 && n < p->nrights; n++) {
		e = file_fd(k, &p->rights[n], &fds[n]);
		if (e < 0) {
			e = sd_err(k->r->ctx, e, "cannot restore pid %d: cannot open '%s' again, in flight on fd %d",
				   owner(k, i)->pid, p->rights[n].path ? p->rights[n].path : "a pipe", fd_of(k, i));
			break;
		}
	}
	if (e == 0)
		e = sd_rst_unix_send(k->r->ctx, owner(k, i)->pid, fd_of(k, i), from, p, to, fds);
	/* the files are in flight now (the pipes' ends stay ours until the end) */
	for (size_t m = 0; m < n; m++)
		if (p->rights[m].kind == SKF_FILE)
			(void)close(fds[m]);
	return e;
}

/* A datagram of a sender that has gone, sent to @to (sd_rst_sock_send_hidden). */
struct hidden_send {
	struct rsk *k;
	size_t i;
	const struct sock_pkt *p;
	struct sock_name to;
	int receiver;		/* queue_from_gone_peer(): our copy of it, connected to the sender first */
};

static int send_hidden_one(int fd, void *arg)
{
	const struct hidden_send *h = arg;

	return send_pkt(h->k, fd, h->i, h->p, &h->to);
}

/*
 * Datagram @p queued on fd @i from a sender bound to a name no socket of
 * the image holds now: from a socket of ours bound to that name where
 * nobody else sees it, to fd @i's file by an O_PATH fd of ours on it
 * (the tmpfs may hide its path), or to its abstract name.
 */
static int send_gone(struct rsk *k, size_t i, const struct sock_pkt *p)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	struct hidden_send h = { k, i, p, s->name, -1 };
	char name[SOCK_NAME_TEXT_MAX], path[PATH_MAX];
	int fd = socket(AF_UNIX, s->type | SOCK_CLOEXEC, 0), file = -1, e = 0;

	if (fd < 0)
		return sock_err(k, -errno, i, "queue the messages of");
	if (s->name.path[0]) {
		e = sd_sock_host_path(s, path, sizeof(path));
		if (k->aside[i].len)
			(void)snprintf(path, sizeof(path), "%.*s", k->aside[i].len, k->aside[i].path);
		if (e == 0 && (file = open(path, O_PATH | O_CLOEXEC)) < 0)
			e = -errno;
		h.to.len = (uint8_t)snprintf(h.to.path, sizeof(h.to.path), "/proc/self/fd/%d", file);
	}
	if (e == 0)
		e = sd_rst_sock_send_hidden(fd, &p->from, send_hidden_one, &h);
	(void)close(fd);
	if (file >= 0)
		(void)close(file);
	if (e < 0) {
		sd_sock_name_text(&p->from, name);
		return sd_err(k->r->ctx, e, "cannot restore pid %d: cannot send a datagram queued on fd %d again from %s, its sender's name",
			      owner(k, i)->pid, fd_of(k, i), name);
	}
	return 0;
}

static int send_all(int fd, void *arg)
{
	const struct hidden_send *h = arg;
	const struct sock_state *s = h->k->fs->fds[h->i].sk;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int e = 0;

	memcpy(a.sun_path, s->peer_name.path, s->peer_name.len);
	if (h->receiver >= 0 &&
	    connect(h->receiver, (struct sockaddr *)&a,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + s->peer_name.len)) < 0)
		return -errno;
	for (size_t n = 0; e == 0 && n < s->npkts; n++)
		e = send_pkt(h->k, fd, h->i, &s->pkts[n], h->receiver >= 0 ? &h->to : NULL);
	return e;
}

/*
 * A connected datagram fd @i whose named peer has closed: a socket bound
 * to the peer's name where nobody else sees it (getpeername() gives it),
 * the other end of its pair or, for a named one (dgram_to_named()), one
 * of ours that fd @i connects to there, the queue sent from it.
 */
static int queue_from_gone_peer(struct rsk *k, size_t i)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	struct hidden_send h = { k, i, NULL, s->name, -1 };
	char name[SOCK_NAME_TEXT_MAX], path[PATH_MAX];
	int fd = k->gone_copy[i], file = -1, e = 0;

	if (dgram_to_named(s)) {
		h.receiver = k->copy[i];
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			e = -errno;
		if (e == 0 && s->name.path[0] && sd_sock_host_path(s, path, sizeof(path)) == 0) {
			if (k->aside[i].len)
				(void)snprintf(path, sizeof(path), "%.*s", k->aside[i].len, k->aside[i].path);
			file = open(path, O_PATH | O_CLOEXEC);
			if (file < 0)
				e = -errno;
			h.to.len = (uint8_t)snprintf(h.to.path, sizeof(h.to.path), "/proc/self/fd/%d", file);
		}
	}
	if (e == 0)
		e = sd_rst_sock_send_hidden(fd, &s->peer_name, send_all, &h);
	if (h.receiver >= 0 && fd >= 0)
		(void)close(fd);
	if (file >= 0)
		(void)close(file);
	if (e < 0) {
		sd_sock_name_text(&s->peer_name, name);
		return sd_err(k->r->ctx, e, "cannot restore pid %d: cannot send the datagrams queued on fd %d again from %s, its peer's name",
			      owner(k, i)->pid, fd_of(k, i), name);
	}
	return 0;
}

int sd_rsk_queue_one(struct rsk *k, size_t i)
{
	const struct files_state *fs = k->fs;
	const struct sock_state *s = fs->fds[i].sk;
	struct sock_name self;
	int e = sd_sock_reach_name(s, &self);

	if (e < 0)
		return sock_err(k, e, i, "queue the messages (its path is too long to reach) of");
	if (k->aside[i].len)
		self = k->aside[i];
	if (s->peer_gone && s->type == SOCK_DGRAM && s->peer_name.len)
		return queue_from_gone_peer(k, i);

	for (size_t n = 0; e == 0 && n < s->npkts; n++) {
		const struct sock_pkt *p = &s->pkts[n];
		const struct sock_name *to = NULL;
		ssize_t from = -1;
		int fd, tmp = -1;

		if (s->peer_gone) {
			fd = k->gone_copy[i];
		} else if (s->peer_ino) {
			from = by_ino(fs, s->peer_ino);
			if (from < 0)
				return sd_errx(k->r->ctx, -EBADMSG, "cannot restore pid %d: the peer of fd %d is not in the image",
					       owner(k, i)->pid, fd_of(k, i));
			fd = k->copy[from];
			/* a datagram peer connected elsewhere sends by name */
			if (s->type == SOCK_DGRAM && fs->fds[from].sk->peer_ino != s->ino)
				to = &self;
		} else {
			from = by_name(fs, &p->from, s->type);
			if (p->from.len && from < 0) {
				e = send_gone(k, i, p);
				continue;
			}
			tmp = from < 0 ? socket(AF_UNIX, s->type | SOCK_CLOEXEC, 0) : -1;
			fd = from < 0 ? tmp : k->copy[from];
			to = &self;
		}
		if (fd < 0 || (to && !to->len))
			e = sd_errx(k->r->ctx, -EBADMSG, "cannot restore pid %d: no socket can send the messages queued on fd %d",
				    owner(k, i)->pid, fd_of(k, i));
		else
			e = send_pkt(k, fd, i, p, to);
		if (tmp >= 0)
			(void)close(tmp);
	}
	return e;
}

int sd_rsk_dgram_reached(struct rsk *k, size_t i)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct sock_name rn;
	int t, e;

	if (s->type != SOCK_DGRAM || s->state != SKS_ESTABLISHED || s->peer_ino || s->peer_gone || !s->name.len)
		return 0;
	e = sd_sock_reach_name(s, &rn);
	if (e < 0)
		return sock_err(k, e, i, "connect to (its path is too long to reach)");
	/* a path removed since the bind: its file is set aside until the end */
	if (k->aside[i].len)
		rn = k->aside[i];
	memcpy(a.sun_path, rn.path, rn.len);
	t = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	e = t < 0 || connect(t, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + rn.len)) < 0 ?
		    -errno : 0;
	if (t >= 0)
		(void)close(t);
	return e < 0 ? sock_err(k, e, i, "connect to") : 0;
}

