/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: the unix sockets, all at once when the first of them
 * comes (a row of rst_fd_openers[] that places its fds). What another
 * process would see of them is made in the new process by injected calls:
 * socket() or socketpair(), bind(), listen(), connect() and accept(), so
 * that the peer credentials are its own. What it cannot see is done from
 * here on our copy of each fd (pidfd_getfd(): the same socket): options,
 * the queued messages sent again in order by their senders with their
 * credentials, shutdowns. Last, each socket is read back with sock_diag
 * and compared with the image.
 *
 * The order: every socket made and placed; the named ones bound; the
 * listeners listening; for each listener, the client of each connection
 * it had accepted connected and the connection accepted, then the clients
 * waiting in its backlog connected, in order; the datagram sockets and
 * those whose peer is outside connected; buffer sizes; the queues; the
 * peers that had closed closed; shutdowns; the options that change how
 * sending works (SO_PASSCRED binds a name on send) and SO_PEEK_OFF.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "pstate_sock.h"
#include "restore.h"
#include "rst_sock.h"
#include "rst_sock_priv.h"
#include "util.h"

/*
 * The process a call on socket @i that the kernel credits to its caller
 * (socketpair(), listen(), connect(): SO_PEERCRED) goes to: the member of
 * @pid if it is one (who made the pair, listened, connected), else its
 * holder. A process alone is its own.
 */
static struct rst *who(const struct rsk *k, size_t i, pid_t pid)
{
	struct rst_tree *t = k->r->tree;

	for (size_t m = 0; k->own && pid > 0 && m < sd_rst_tree_count(t); m++) {
		struct rst *o = sd_rst_tree_member(t, m);

		if (o->pid == pid && !o->member->zombie && o->pidfd >= 0)
			return o;
	}
	return owner(k, i);
}

/* Made by socketpair() with its peer: both unbound and each the other's peer. */
static ssize_t pair_of(const struct files_state *fs, size_t i)
{
	const struct sock_state *s = fs->fds[i].sk;
	ssize_t k = by_ino(fs, s->peer_ino);

	if (k < 0 || s->name.len || s->listener_ino || s->external)
		return -1;
	if (fs->fds[k].sk->peer_ino != s->ino || fs->fds[k].sk->name.len)
		return -1;
	return k;
}

static int lift(struct rsk *k, long fd, long *ret);

/*
 * The child's fd @tmp moved to fd @i's number, closed where it was; a
 * socket of another member of a tree goes above every number of the table
 * instead, until it is handed over (its number there in fs).
 */
static int place(struct rsk *k, long tmp, size_t i)
{
	struct fd_state *d = &k->fs->fds[i];
	long at = tmp;
	int e;

	if (owner(k, i) != k->r) {
		e = tmp >= k->hi ? 0 : lift(k, tmp, &at);
		d->fd = (int)at;
		return e;
	}
	if (tmp == d->fd)
		return sd_rst_call(k->r, SYS_fcntl, tmp, F_SETFD, (d->flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0, 0,
				   0, NULL);
	e = sd_rst_call(k->r, SYS_dup3, tmp, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0, 0, 0, 0, NULL);
	(void)sd_rst_call(k->r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
	return e;
}

/* The child's fd @fd moved above every number of the table. */
static int lift(struct rsk *k, long fd, long *ret)
{
	int e = sd_rst_call(k->r, SYS_fcntl, fd, F_DUPFD_CLOEXEC, k->hi, 0, 0, 0, ret);

	(void)sd_rst_call(k->r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	return e;
}

/*
 * socketpair() in @o, both ends in r at *ret_a0 and *ret_a1: in another
 * member of a tree (who made the pair), ours lent into r.
 */
static int pair_in(struct rsk *k, struct rst *o, int type, long *ret_a0, long *ret_a1)
{
	int32_t sv[2] = { -1, -1 };
	uint64_t a;
	int e, ours[2] = { -1, -1 };

	sd_rst_data_reset(o);
	e = sd_rst_data_put(o, (int32_t[2]){ -1, -1 }, sizeof(sv), &a);
	if (e == 0)
		e = sd_rst_call(o, SYS_socketpair, AF_UNIX, type | SOCK_CLOEXEC, 0, (long)a, 0, 0, NULL);
	if (e == 0 && sd_pread_all(o->mem_fd, sv, sizeof(sv), (off_t)a) != sizeof(sv))
		e = -EIO;
	if (e < 0 || o == k->r) {
		*ret_a0 = sv[0];
		*ret_a1 = sv[1];
		return e;
	}
	for (int n = 0; n < 2; n++) {
		ours[n] = (int)syscall(SYS_pidfd_getfd, o->pidfd, sv[n], 0);
		if (ours[n] < 0 && e == 0)
			e = -errno;
		(void)sd_rst_call(o, SYS_close, sv[n], 0, 0, 0, 0, 0, NULL);
	}
	if (e == 0)
		e = sd_rst_tree_give(k->r, ours[0], ret_a0);
	if (e == 0)
		e = sd_rst_tree_give(k->r, ours[1], ret_a1);
	for (int n = 0; n < 2; n++)
		if (ours[n] >= 0)
			(void)close(ours[n]);
	return e;
}

/* A pair made by socketpair(): for fds @i and @j (-1: the other end is kept above the table, in *@ret_other). */
static int make_pair(struct rsk *k, size_t i, ssize_t j, long *ret_other)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	long a0, a1, t0, t1;
	int e;

	e = pair_in(k, who(k, i, s->peercred.pid), s->type, &t0, &t1);
	if (e < 0)
		return sock_err(k, e, i, "make");
	/* both above the table first: placing one must not close the other */
	e = lift(k, t0, &a0);
	if (e == 0)
		e = lift(k, t1, &a1);
	if (e == 0)
		e = place(k, a0, i);
	if (e == 0 && j >= 0)
		e = place(k, a1, (size_t)j);
	else if (e == 0)
		*ret_other = a1;
	return e;
}

static int make_one(struct rsk *k, size_t i)
{
	long tmp;
	int e = sd_rst_call(k->r, SYS_socket, AF_UNIX, k->fs->fds[i].sk->type | SOCK_CLOEXEC, 0, 0, 0, 0, &tmp);

	if (e < 0)
		return sock_err(k, e, i, "make");
	return place(k, tmp, i);
}

/* A sockaddr_un of name @n in the trampoline's data area. */
static int put_addr(struct rst *r, const struct sock_name *n, uint64_t *ret_addr, long *ret_len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	memcpy(a.sun_path, n->path, n->len);
	*ret_len = (long)(offsetof(struct sockaddr_un, sun_path) + n->len);
	sd_rst_data_reset(r);
	return sd_rst_data_put(r, &a, sizeof(a), ret_addr);
}

/*
 * connect() or bind() (@nr) of socket @i to name @n, or listen() with
 * backlog @arg (@n NULL), in process @o: a member of a tree other than r
 * is lent our copy of the socket for the call.
 */
static int call_in(struct rsk *k, struct rst *o, long nr, size_t i, const struct sock_name *n, long arg)
{
	long fd = k->fs->fds[i].fd, len = 0, ign;
	uint64_t a = 0;
	int e = 0;

	if (o != k->r) {
		int ours = (int)syscall(SYS_pidfd_getfd, k->pidfd, (int)fd, 0);

		if (ours < 0)
			return -errno;
		e = sd_rst_tree_give(o, ours, &fd);
		(void)close(ours);
		if (e < 0)
			return e;
	}
	if (n)
		e = put_addr(o, n, &a, &len);
	if (e == 0)
		e = sd_rst_try(o, nr, fd, n ? (long)a : arg, len, &ign);
	if (o != k->r)
		(void)sd_rst_call(o, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	return e;
}

/*
 * Before the bind of a path: the socket file the dumped process left
 * there goes, unless a socket is bound to it still (the process runs on).
 */
static int free_path(struct rsk *k, size_t i)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	struct sock_name rn;
	struct stat st;
	int probe, e = sd_sock_host_path(s, path, sizeof(path));

	if (e == 0)
		e = sd_sock_reach_name(s, &rn);
	if (e < 0)
		return sock_err(k, e, i, "bind");
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? sd_rst_sock_dirs_make(k, i, path) : sock_err(k, -errno, i, "bind");
	if (!S_ISSOCK(st.st_mode))
		return sd_errx(k->r->ctx, -EEXIST,
			       "cannot restore pid %d: '%s', where fd %d was bound, is no socket now", owner(k, i)->pid,
			       path, fd_of(k, i));
	memcpy(a.sun_path, rn.path, rn.len);
	probe = socket(AF_UNIX, s->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe < 0)
		return sock_err(k, -errno, i, "bind");
	if (connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EAGAIN)
		e = sd_errx(k->r->ctx, -EADDRINUSE,
			    "cannot restore pid %d: '%s', where fd %d was bound, is in use by another socket", owner(k, i)->pid,
			    path, fd_of(k, i));
	else if (unlink(path) < 0 && errno != ENOENT)
		e = sock_err(k, -errno, i, "bind");
	(void)close(probe);
	return e;
}

/*
 * The file of fd @i's path, removed since the bind, moved to a name of
 * its own in the same directory (".sN") until every client has connected
 * to it and it is removed: the path may be another socket's. A name that
 * would not fit stays where it is.
 */
static int move_aside(struct rsk *k, size_t i)
{
	struct sock_name rn, *to = &k->aside[i];
	char *slash, from[SOCK_NAME_MAX + 1] = { 0 }, dst[SOCK_NAME_MAX + 16];
	int n;

	if (sd_sock_reach_name(k->fs->fds[i].sk, &rn) < 0 || !(slash = memrchr(rn.path, '/', rn.len)))
		return 0;
	memcpy(from, rn.path, rn.len);
	n = snprintf(dst, sizeof(dst), "%.*s.s%zu", (int)(slash + 1 - rn.path), rn.path, i);
	if (n > SOCK_NAME_MAX)
		return 0;
	if (rename(from, dst) < 0)
		return sock_err(k, -errno, i, "move aside the path of");
	to->len = (uint8_t)n;
	memcpy(to->path, dst, (size_t)n);
	return 0;
}

static int bind_at(struct rsk *k, size_t i)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	bool path = s->name.path[0] != '\0';
	char name[SOCK_NAME_TEXT_MAX], p[PATH_MAX];
	long back;
	int e = path ? free_path(k, i) : 0;

	if (e < 0)
		return e;
	/* a relative path from the directory it was found in */
	e = sd_rst_sock_enter(owner(k, i), s, &back);
	if (e == 0)
		e = call_in(k, owner(k, i), SYS_bind, i, &s->name, 0);
	sd_rst_sock_leave(owner(k, i), &back);
	if (e < 0) {
		sd_sock_name_text(&s->name, name);
		return sd_err(k->r->ctx, e, "cannot restore pid %d: cannot bind fd %d to %s", owner(k, i)->pid,
			      fd_of(k, i), name);
	}
	if (path && s->vfs_gone)
		return move_aside(k, i);
	if (!path)
		return 0;
	if (sd_sock_host_path(s, p, sizeof(p)) < 0 || lchown(p, s->vfs_uid, s->vfs_gid) < 0 ||
	    chmod(p, s->vfs_mode) < 0)
		return sock_err(k, -errno, i, "give its owner and mode back to the file of");
	return 0;
}

/*
 * Fd @i bound. A path removed since its bind may hold another file now (a
 * FIFO made there, another socket's): kept aside for the bind and put back.
 */
static int bind_one(struct rsk *k, size_t i)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	char hp[PATH_MAX], kp[PATH_MAX + 32];
	struct stat st;
	int e;

	if (!s->vfs_gone || !s->name.path[0] || sd_sock_host_path(s, hp, sizeof(hp)) < 0 || lstat(hp, &st) < 0)
		return bind_at(k, i);
	(void)snprintf(kp, sizeof(kp), "%s.sdump-keep-%zu", hp, i);
	if (rename(hp, kp) < 0)
		return sock_err(k, -errno, i, "keep aside the file at the path of");
	e = bind_at(k, i);
	if (e == 0 && !k->aside[i].len)
		e = sd_errx(k->r->ctx, -ENAMETOOLONG,
			    "cannot restore pid %d: '%s', where fd %d was bound, holds another file now, and the path is too long to bind it beside",
			    owner(k, i)->pid, hp, fd_of(k, i));
	if (rename(kp, hp) < 0 && e == 0)
		e = sock_err(k, -errno, i, "put back the file at the path of");
	return e;
}

/*
 * A client shut down before it connected (shutdown(SHUT_RD) of a socket
 * not connected yet): its own flag only, which its peer does not mirror
 * (a shutdown once connected gives the peer the other half too). Made so
 * again before its connect, through our copy of it, and left out of the
 * shutdowns made once connected (fill_all).
 */
static int shut_before_connect(struct rsk *k, size_t c, const struct sock_state *peer)
{
	const struct sock_state *s = k->fs->fds[c].sk;
	unsigned int mirror = ((peer->shutdown & 1) ? 2 : 0) | ((peer->shutdown & 2) ? 1 : 0);
	unsigned int pre = s->shutdown & ~mirror & 3;
	int copy, e = 0;

	if (!pre)
		return 0;
	copy = (int)syscall(SYS_pidfd_getfd, k->pidfd, (int)k->fs->fds[c].fd, 0);
	if (copy < 0 || shutdown(copy, (int)pre - 1) < 0)
		e = -errno;
	if (copy >= 0)
		(void)close(copy);
	k->pre_shut[c] = (uint8_t)pre;
	return e < 0 ? sock_err(k, e, c, "shut down") : 0;
}

/*
 * Connect fd @i to name @n; for a listener's, the connection accepted at
 * fd @acc (-1: left waiting), whose SO_PEERCRED names who connected.
 */
static int connect_one(struct rsk *k, size_t i, const struct sock_name *n, ssize_t listener, ssize_t acc)
{
	pid_t by = acc >= 0 ? k->fs->fds[acc].sk->peercred.pid : 0;
	char name[SOCK_NAME_TEXT_MAX];
	long tmp;
	int e = acc >= 0 ? shut_before_connect(k, i, k->fs->fds[acc].sk) : 0;

	if (e == 0)
		e = call_in(k, who(k, i, by), SYS_connect, i, n, 0);

	if (e < 0) {
		sd_sock_name_text(n, name);
		return sd_err(k->r->ctx, e, "cannot restore pid %d: cannot connect fd %d to %s", owner(k, i)->pid,
			      fd_of(k, i), name);
	}
	if (acc < 0)
		return 0;
	e = sd_rst_call(k->r, SYS_accept4, k->fs->fds[listener].fd, 0, 0, SOCK_CLOEXEC, 0, 0, &tmp);
	if (e == 0)
		e = place(k, tmp, (size_t)acc);
	return e < 0 ? sock_err(k, e, (size_t)acc, "accept") : 0;
}

/* connect_one() to the name of socket @t, reached from anywhere (a relative path made absolute). */
static int connect_to(struct rsk *k, size_t i, const struct sock_state *t, ssize_t listener, ssize_t acc)
{
	struct sock_name rn;
	int e = sd_sock_reach_name(t, &rn);

	for (size_t j = 0; j < k->fs->n; j++)
		if (k->fs->fds[j].sk == t && k->aside[j].len)
			rn = k->aside[j];
	return e < 0 ? sock_err(k, e, i, "connect (its peer's path is too long to reach) on") :
		       connect_one(k, i, &rn, listener, acc);
}

/*
 * Fd @i accepted again (in r) from the listener at fd @lfd of @lo, by name
 * @rn: its client, fd @c of the table, connected first (by who connected
 * it, as SO_PEERCRED says), or for one whose peer has closed (@c -1) a
 * socket of ours made there, which stands in for the peer until the queue
 * is in (k->gone_copy).
 */
static int accept_at(struct rsk *k, struct rst *lo, long lfd, const struct sock_name *rn, size_t i, ssize_t c)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	struct rst *o = who(k, c >= 0 ? (size_t)c : i, s->peercred.pid);
	uint64_t a;
	long t = -1, len, tmp;
	int e = 0, ours;

	if (c >= 0) {
		e = shut_before_connect(k, (size_t)c, s);
		if (e == 0)
			e = call_in(k, o, SYS_connect, (size_t)c, rn, 0);
	} else {
		e = sd_rst_call(o, SYS_socket, AF_UNIX, s->type | SOCK_CLOEXEC, 0, 0, 0, 0, &t);
		if (e == 0)
			e = put_addr(o, rn, &a, &len);
		if (e == 0)
			e = sd_rst_try(o, SYS_connect, t, (long)a, len, &tmp);
		if (e == 0 && (k->gone_copy[i] = sd_rst_take_fd(o, t)) < 0)
			e = k->gone_copy[i];
		if (t >= 0)
			(void)sd_rst_call(o, SYS_close, t, 0, 0, 0, 0, 0, NULL);
	}
	if (e == 0)
		e = sd_rst_call(lo, SYS_accept4, lfd, 0, 0, SOCK_CLOEXEC, 0, 0, &tmp);
	/* accepted in another member of a tree: lent into r */
	if (e == 0 && lo != k->r) {
		ours = sd_rst_take_fd(lo, tmp);
		(void)sd_rst_call(lo, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
		e = ours < 0 ? ours : sd_rst_tree_give(k->r, ours, &tmp);
		if (ours >= 0)
			(void)close(ours);
	}
	if (e == 0)
		e = place(k, tmp, i);
	return e < 0 ? sock_err(k, e, i, "accept again") : 0;
}

/* An accepted fd @i whose peer has closed, from listener @l. */
static int accept_gone(struct rsk *k, size_t l, size_t i)
{
	struct sock_name rn;
	int e = sd_sock_reach_name(k->fs->fds[l].sk, &rn);

	if (e == 0 && k->aside[l].len)
		rn = k->aside[l];
	return e < 0 ? sock_err(k, e, i, "accept again") : accept_at(k, k->r, k->fs->fds[l].fd, &rn, i, -1);
}

/*
 * An accepted fd @i whose listener the process had closed: from one made
 * for it on its name, in the process that had listened (SO_PEERCRED of
 * its client), closed once it is accepted, before any socket of the table
 * is bound. A file at the path stays as it was (moved aside meanwhile).
 */
static int accept_ghost(struct rsk *k, size_t i)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	ssize_t c = s->peer_gone ? -1 : by_ino(k->fs, s->peer_ino);
	struct rst *lo = c >= 0 ? who(k, (size_t)c, k->fs->fds[c].sk->peercred.pid) : owner(k, i);
	char hp[PATH_MAX], ap[PATH_MAX + 32];
	bool path = s->name.path[0] != '\0', moved = false;
	struct sock_name rn;
	struct stat st;
	uint64_t a;
	long t = -1, len, back, ign;
	int e = sd_sock_reach_name(s, &rn);

	if (!s->peer_gone && c < 0)
		return sd_errx(k->r->ctx, -EBADMSG, "cannot restore pid %d: fd %d has no peer in the image",
			       owner(k, i)->pid, fd_of(k, i));
	if (e == 0 && path && (e = sd_sock_host_path(s, hp, sizeof(hp))) == 0 && lstat(hp, &st) == 0) {
		(void)snprintf(ap, sizeof(ap), "%s.sdump-%zu", hp, i);
		e = rename(hp, ap) < 0 ? -errno : 0;
		moved = e == 0;
	}
	if (e == 0)
		e = sd_rst_call(lo, SYS_socket, AF_UNIX, s->type | SOCK_CLOEXEC, 0, 0, 0, 0, &t);
	if (e == 0 && (e = sd_rst_sock_enter(lo, s, &back)) == 0) {
		e = put_addr(lo, &s->name, &a, &len);
		if (e == 0)
			e = sd_rst_try(lo, SYS_bind, t, (long)a, len, &ign);
		sd_rst_sock_leave(lo, &back);
	}
	if (e == 0)
		e = sd_rst_try(lo, SYS_listen, t, 1, 0, &ign);
	if (e < 0)
		e = sock_err(k, e, i, "make a listener to accept again");
	else
		e = accept_at(k, lo, t, &rn, i, c);
	if (t >= 0)
		(void)sd_rst_call(lo, SYS_close, t, 0, 0, 0, 0, 0, NULL);
	if (path && t >= 0 && unlink(hp) < 0 && errno != ENOENT && e == 0)
		e = sock_err(k, -errno, i, "remove the listener made to accept again");
	if (moved && rename(ap, hp) < 0 && e == 0)
		e = sock_err(k, -errno, i, "put back the file at the name of");
	return e;
}

/* Every socket made and at its number. */
static int make_all(struct rsk *k)
{
	const struct files_state *fs = k->fs;
	_cleanup_free_ bool *made = calloc(fs->n, sizeof(bool));
	int e = 0;

	if (!made)
		return -ENOMEM;
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		ssize_t j;

		if (!is_sock(&fs->fds[i]) || made[i])
			continue;
		j = pair_of(fs, i);
		/* accepted again in connect_all() */
		if ((fs->fds[i].sk->peer_gone && fs->fds[i].sk->listener_ino) || fs->fds[i].sk->listener_gone)
			e = 0;
		else if (fs->fds[i].sk->peer_gone && !dgram_to_named(fs->fds[i].sk))
			e = make_pair(k, i, -1, &k->gone[i]);
		else if (j >= 0)
			e = make_pair(k, i, j, NULL);
		else
			e = make_one(k, i);
		made[i] = true;
		if (j >= 0)
			made[j] = true;
	}
	return e;
}

/* Names, listeners, connections. */
static int connect_all(struct rsk *k)
{
	const struct files_state *fs = k->fs;
	int e = 0;

	for (size_t i = 0; e == 0 && i < fs->n; i++)
		if (is_sock(&fs->fds[i]) && fs->fds[i].sk->listener_gone)
			e = accept_ghost(k, i);
	/* the paths removed since their bind first, each moved aside: another may be bound there */
	for (int gone = 1; gone >= 0; gone--)
		for (size_t i = 0; e == 0 && i < fs->n; i++)
			if (is_sock(&fs->fds[i]) && fs->fds[i].sk->name.len && !fs->fds[i].sk->listener_ino && !fs->fds[i].sk->listener_gone &&
			    fs->fds[i].sk->vfs_gone == gone)
				e = bind_one(k, i);
	for (size_t i = 0; e == 0 && i < fs->n; i++)
		if (is_sock(&fs->fds[i]) && fs->fds[i].sk->state == SKS_LISTEN) {
			e = call_in(k, who(k, i, fs->fds[i].sk->peercred.pid), SYS_listen, i, NULL,
				    fs->fds[i].sk->backlog);
			if (e < 0)
				e = sock_err(k, e, i, "listen on");
		}
	for (size_t l = 0; e == 0 && l < fs->n; l++) {
		const struct sock_state *L = fs->fds[l].sk;

		if (!is_sock(&fs->fds[l]) || L->state != SKS_LISTEN)
			continue;
		for (size_t i = 0; e == 0 && i < fs->n; i++) {
			ssize_t c;

			if (!is_sock(&fs->fds[i]) || fs->fds[i].sk->listener_ino != L->ino)
				continue;
			if (fs->fds[i].sk->peer_gone) {
				e = accept_gone(k, l, i);
				continue;
			}
			c = by_ino(fs, fs->fds[i].sk->peer_ino);
			if (c < 0)
				return sd_errx(k->r->ctx, -EBADMSG, "cannot restore pid %d: fd %d has no peer in the image",
					       owner(k, i)->pid, fd_of(k, i));
			e = connect_to(k, (size_t)c, L, (ssize_t)l, (ssize_t)i);
		}
		for (size_t n = 0; e == 0 && n < L->nicons; n++) {
			ssize_t c = by_ino(fs, L->icons[n]);

			if (c < 0)
				return sd_errx(k->r->ctx, -EBADMSG,
					       "cannot restore pid %d: a client in the backlog of fd %d is not in the image",
					       owner(k, l)->pid, fd_of(k, l));
			e = connect_to(k, (size_t)c, L, -1, -1);
		}
	}
	/* datagram sockets to their peers, and the sockets whose peer is outside */
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;
		ssize_t p;

		if (!is_sock(&fs->fds[i]) || s->peer_gone)
			continue;
		if (s->external) {
			e = connect_one(k, i, &s->peer_name, -1, -1);
			continue;
		}
		if (s->type != SOCK_DGRAM || !s->peer_ino || pair_of(fs, i) >= 0)
			continue;
		p = by_ino(fs, s->peer_ino);
		if (p < 0 || !fs->fds[p].sk->name.len)
			return sd_errx(k->r->ctx, -EBADMSG, "cannot restore pid %d: the peer of fd %d is not in the image",
				       owner(k, i)->pid, fd_of(k, i));
		e = connect_to(k, i, fs->fds[p].sk, -1, -1);
	}
	return e;
}

static int take(struct rsk *k, long fd, int *ret)
{
	*ret = (int)syscall(SYS_pidfd_getfd, k->pidfd, (int)fd, 0);
	return *ret < 0 ? -errno : 0;
}

/* The sockets of the image as sock_diag sees them now: kind, state, name and shutdowns as they were. */
static int check_one(struct rsk *k, size_t i)
{
	const struct fd_state *d = &k->fs->fds[i];
	const struct sock_state *s = d->sk;
	struct unix_diag_info u = { 0 };
	struct stat st;
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int e;

	if (fstat(k->copy[i], &st) < 0)
		return sock_err(k, -errno, i, "read back");
	e = sd_sockdiag_unix(st.st_ino, &u);
	free(u.icons);
	if (e < 0)
		return sock_err(k, e, i, "read back");
	if (u.type != s->type || u.state != s->state || u.shutdown != s->shutdown || u.name.len != s->name.len ||
	    memcmp(u.name.path, s->name.path, s->name.len) || u.nicons != s->nicons)
		return sd_errx(k->r->ctx, -EIO,
			       "cannot restore pid %d: fd %d is not the socket it was (type %d state %d shutdown %u then, %d %d %u now)",
			       owner(k, i)->pid, fd_of(k, i), s->type, s->state, s->shutdown, u.type, u.state, u.shutdown);
	if (getsockopt(k->copy[i], SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
	    (uc.pid != s->peercred.pid || uc.uid != s->peercred.uid || uc.gid != s->peercred.gid))
		pr_warn(k->r->ctx, "pid %d: fd %d: its peer's credentials (SO_PEERCRED) are pid %d uid %u gid %u, they were pid %d uid %u gid %u",
			owner(k, i)->pid, fd_of(k, i), uc.pid, uc.uid, uc.gid, s->peercred.pid, s->peercred.uid, s->peercred.gid);
	return 0;
}

static int fill_all(struct rsk *k)
{
	const struct files_state *fs = k->fs;
	int e = 0;

	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		if (!is_sock(&fs->fds[i]))
			continue;
		e = take(k, fs->fds[i].fd, &k->copy[i]);
		if (e == 0 && k->gone[i] >= 0)
			e = take(k, k->gone[i], &k->gone_copy[i]);
		if (e == 0)
			e = sd_rst_sock_options_first(k->copy[i], fs->fds[i].sk);
		if (e < 0)
			e = sock_err(k, e, i, "set the options of");
	}
	for (size_t i = 0; e == 0 && i < fs->n; i++)
		if (is_sock(&fs->fds[i])) {
			e = sd_rsk_queue_one(k, i);
			if (e == 0)
				e = sd_rsk_dgram_reached(k, i);
		}
	/* the peers that had closed, gone again: a stream's end sees both ways shut down */
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		if (k->gone_copy[i] < 0)
			continue;
		/* closed with a byte unread, as it was: ours sees ECONNRESET */
		if (fs->fds[i].sk->peer_reset && send(k->copy[i], "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
			e = sock_err(k, -errno, i, "reset the peer of");
		(void)close(k->gone_copy[i]);
		k->gone_copy[i] = -1;
		if (k->gone[i] >= 0)
			(void)sd_rst_call(k->r, SYS_close, k->gone[i], 0, 0, 0, 0, 0, NULL);
		k->gone[i] = -1;
	}
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;

		unsigned int how = s ? s->shutdown & ~k->pre_shut[i] : 0;

		if (!is_sock(&fs->fds[i]) || !how || (s->peer_gone && s->type != SOCK_DGRAM))
			continue;
		if (shutdown(k->copy[i], (int)how - 1) < 0)
			e = sock_err(k, -errno, i, "shut down");
	}
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		if (!is_sock(&fs->fds[i]))
			continue;
		e = sd_rst_sock_options_last(k->copy[i], fs->fds[i].sk);
		if (e < 0)
			e = sock_err(k, e, i, "set the options of");
	}
	/* a path removed since the bind is removed again, once every client has connected */
	for (size_t i = 0; e == 0 && i < fs->n; i++) {
		const struct sock_state *s = fs->fds[i].sk;
		char p[PATH_MAX];

		if (!is_sock(&fs->fds[i]) || !s->vfs_gone || !s->name.len || !s->name.path[0] || s->listener_ino || s->listener_gone)
			continue;
		if (sd_sock_host_path(s, p, sizeof(p)) < 0)
			e = sock_err(k, -ENAMETOOLONG, i, "remove the path of");
		else if (k->aside[i].len)
			(void)snprintf(p, sizeof(p), "%.*s", k->aside[i].len, k->aside[i].path);
		if (e == 0 && unlink(p) < 0)
			e = sock_err(k, -errno, i, "remove the path of");
	}
	for (size_t i = 0; e == 0 && i < fs->n; i++)
		if (is_sock(&fs->fds[i]))
			e = check_one(k, i);
	return e;
}

static int restore_all(struct rsk *k)
{
	int e = make_all(k);

	if (e == 0)
		e = connect_all(k);
	if (e == 0)
		e = fill_all(k);
	return e;
}

bool sd_rst_unix_is_own(const struct fd_state *d)
{
	return is_sock(d);
}

int sd_rst_unix_make(struct rst *r, struct files_state *fs, struct rst *const *own, const int *fdno)
{
	struct rsk k = { .r = r, .fs = fs, .own = own, .fdno = fdno, .pidfd = -1 };
	int e = -ENOMEM;

	if (!fs->n)
		return 0;
	k.hi = r->fs.fds[r->fs.n - 1].fd + 1;
	k.copy = malloc(fs->n * sizeof(int));
	k.gone = malloc(fs->n * sizeof(long));
	k.gone_copy = malloc(fs->n * sizeof(int));
	k.aside = calloc(fs->n, sizeof(*k.aside));
	k.pre_shut = calloc(fs->n, sizeof(*k.pre_shut));
	if (k.copy && k.gone && k.gone_copy && k.aside && k.pre_shut) {
		for (size_t n = 0; n < fs->n; n++) {
			k.copy[n] = k.gone_copy[n] = -1;
			k.gone[n] = -1;
		}
		k.pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
		e = k.pidfd < 0 ? sd_err(r->ctx, -errno, "cannot open a pidfd of the restored pid %d", r->pid) :
				  restore_all(&k);
	} else {
		e = sd_err(r->ctx, e, "cannot restore the sockets of pid %d", r->pid);
	}
	for (size_t n = 0; k.copy && n < fs->n; n++) {
		if (k.copy[n] >= 0)
			(void)close(k.copy[n]);
		if (k.gone_copy && k.gone_copy[n] >= 0)
			(void)close(k.gone_copy[n]);
	}
	if (k.pidfd >= 0)
		(void)close(k.pidfd);
	free(k.copy);
	free(k.gone);
	free(k.gone_copy);
	free(k.aside);
	free(k.pre_shut);
	sd_rst_sock_dirs_remove(&k);
	sd_rsk_pipes_close(&k);
	return e;
}

int sd_rst_unix_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct files_state *fs = &r->fs;
	int e;

	(void)ret_tmp;
	/* all of them with the first (one a tree's earlier member holds too is its) */
	for (size_t n = 0; n < i; n++)
		if (fs->fds[n].kind == FDK_UNIX && !fs->fds[n].has_shared)
			return 0;
	e = r->tree ? sd_rst_tree_unix(r) : sd_rst_unix_make(r, &r->fs, NULL, NULL);
	/* the fds sharing a socket with a lower one */
	for (size_t n = 0; e == 0 && n < fs->n; n++) {
		const struct fd_state *d = &fs->fds[n];

		if (d->kind == FDK_UNIX && d->has_dup_of)
			e = sd_rst_call(r, SYS_dup3, d->dup_of, d->fd, (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0, 0, 0,
					0, NULL);
	}
	return e;
}
