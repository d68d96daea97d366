/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: TCP and UDP sockets, IPv4 and IPv6. Each is made in the
 * new process (socket()), then set up from here on our copy of it
 * (pidfd_getfd(): the same socket): its options (those bind() looks at
 * first), bound to its address and port, listening with its backlog or
 * connected to its peer (UDP). Once every fd is at its number, the
 * datagrams queued on a UDP socket are sent again, in order, by the
 * sockets of the process that sent them.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate_sock.h"
#include "restore.h"
#include "rst_sock.h"
#include "util.h"

static const char *what(const struct sock_state *s)
{
	if (s->type == SOCK_STREAM)
		return s->family == AF_INET ? "IPv4 TCP socket" : "IPv6 TCP socket";
	return s->family == AF_INET ? "IPv4 UDP socket" : "IPv6 UDP socket";
}

static int set_up(struct rst *r, const struct fd_state *d, int fd)
{
	const struct sock_state *s = d->sk;
	char a[SOCK_ADDR_TEXT_MAX];
	int e = 0;

	for (size_t k = 0; e == 0 && k < s->nopts; k++)
		if (setsockopt(fd, s->opts[k].level, s->opts[k].name, &s->opts[k].value, sizeof(int)) < 0)
			e = -errno;
	if (e == 0)
		e = sd_rst_sock_options_first(fd, s);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot set the options of the %s of fd %d", r->pid,
			      what(s), d->fd);
	if (s->addr_len && bind(fd, (const struct sockaddr *)s->addr, s->addr_len) < 0) {
		sd_sock_addr_text(s->addr, s->addr_len, a);
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot bind the %s of fd %d to %s", r->pid,
			      what(s), d->fd, a);
	}
	if (s->state == SKS_LISTEN && listen(fd, (int)s->backlog) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot listen on the %s of fd %d", r->pid,
			      what(s), d->fd);
	if (s->peer_len && connect(fd, (const struct sockaddr *)s->peer, s->peer_len) < 0) {
		sd_sock_addr_text(s->peer, s->peer_len, a);
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot connect the %s of fd %d to %s", r->pid,
			      what(s), d->fd, a);
	}
	/* without a queue to fill first, the last options now */
	if (!s->npkts && sd_rst_sock_options_last(fd, s) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of the %s of fd %d",
			      r->pid, what(s), d->fd);
	return 0;
}

bool sd_rst_inet_locked(const struct rst *r)
{
	for (size_t i = 0; i < r->fs.n; i++)
		if (r->fs.fds[i].sk && r->fs.fds[i].sk->repaired)
			return true;
	return false;
}

static int set_opt(int fd, int name, const void *v, socklen_t len)
{
	return setsockopt(fd, IPPROTO_TCP, name, v, len) < 0 ? -errno : 0;
}

static int set_queue(int fd, int q)
{
	return set_opt(fd, TCP_REPAIR_QUEUE, &q, sizeof(q));
}

/* @len bytes into queue @q of our repaired copy @fd, in as many sends as it takes. */
static int fill_queue(int fd, int q, const uint8_t *buf, size_t len)
{
	int e = set_queue(fd, q);

	for (size_t done = 0; e == 0 && done < len;) {
		ssize_t n = send(fd, buf + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return e;
}

/*
 * An established connection made again in repair mode: sequence numbers
 * (before connect(), which then sends nothing), the options the handshake
 * agreed, the timestamp clock, the queues (the bytes sent and not acked as
 * sent), the windows, then out of repair mode and the bytes not sent yet
 * sent. bind() in repair mode shares the port with a listener.
 */
static int repair(struct rst *r, const struct fd_state *d, int fd)
{
	const struct sock_state *s = d->sk;
	struct tcp_repair_opt o[4];
	struct tcp_repair_window w = { .snd_wl1 = s->win[0], .snd_wnd = s->win[1], .max_window = s->win[2],
				       .rcv_wnd = s->win[3], .rcv_wup = s->win[4] };
	uint32_t seq;
	int on = TCP_REPAIR_ON, off = TCP_REPAIR_OFF, e = 0, no = 0;
	char a[SOCK_ADDR_TEXT_MAX];

	/* the options first: SO_REUSEADDR would undo the port sharing TCP_REPAIR turns on */
	for (size_t k = 0; e == 0 && k < s->nopts; k++)
		if (setsockopt(fd, s->opts[k].level, s->opts[k].name, &s->opts[k].value, sizeof(int)) < 0)
			e = -errno;
	if (e == 0)
		e = sd_rst_sock_options_first(fd, s);
	if (e == 0)
		e = set_opt(fd, TCP_REPAIR, &on, sizeof(on));
	seq = s->snd_seq - (uint32_t)s->sndq_len;
	if (e == 0)
		e = set_queue(fd, TCP_SEND_QUEUE);
	if (e == 0)
		e = set_opt(fd, TCP_QUEUE_SEQ, &seq, sizeof(seq));
	seq = s->rcv_seq - (uint32_t)s->rcvq_len;
	if (e == 0)
		e = set_queue(fd, TCP_RECV_QUEUE);
	if (e == 0)
		e = set_opt(fd, TCP_QUEUE_SEQ, &seq, sizeof(seq));
	if (e == 0 && bind(fd, (const struct sockaddr *)s->addr, s->addr_len) < 0)
		e = -errno;
	if (e == 0 && connect(fd, (const struct sockaddr *)s->peer, s->peer_len) < 0)
		e = -errno;
	o[no++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG, s->mss };
	if (s->tcpi_options & TCPI_OPT_WSCALE)
		o[no++] = (struct tcp_repair_opt){ TCPOPT_WINDOW, s->snd_wscale | s->rcv_wscale << 16 };
	if (s->tcpi_options & TCPI_OPT_SACK)
		o[no++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED, 0 };
	if (s->tcpi_options & TCPI_OPT_TIMESTAMPS)
		o[no++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	if (e == 0)
		e = set_opt(fd, TCP_REPAIR_OPTIONS, o, (socklen_t)(no * sizeof(o[0])));
	if (e == 0 && (s->tcpi_options & TCPI_OPT_TIMESTAMPS))
		e = set_opt(fd, TCP_TIMESTAMP, &s->timestamp, sizeof(s->timestamp));
	if (e == 0)
		e = fill_queue(fd, TCP_SEND_QUEUE, s->sndq, s->sndq_len - s->sndq_unsent);
	if (e == 0)
		e = fill_queue(fd, TCP_RECV_QUEUE, s->rcvq, s->rcvq_len);
	/* once rcv_nxt is where it was: the kernel checks the windows against it */
	if (e == 0)
		e = set_opt(fd, TCP_REPAIR_WINDOW, &w, sizeof(w));
	if (e == 0)
		e = set_queue(fd, TCP_NO_QUEUE);
	if (e == 0)
		e = set_opt(fd, TCP_REPAIR, &off, sizeof(off));
	for (size_t done = s->sndq_len - s->sndq_unsent; e == 0 && done < s->sndq_len;) {
		ssize_t n = send(fd, s->sndq + done, s->sndq_len - done, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			e = n < 0 ? -errno : -EIO;
		else
			done += (size_t)n;
	}
	if (e == 0 && sd_rst_sock_options_last(fd, s) < 0)
		e = -errno;
	if (e < 0) {
		sd_sock_addr_text(s->peer, s->peer_len, a);
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot make the TCP connection of fd %d to %s again",
			      r->pid, d->fd, a);
	}
	return 0;
}

int sd_rst_inet_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	const struct sock_state *s = d->sk;
	long tmp;
	int copy, e;

	/* at its number already, it keeps the close-on-exec flag it is made with */
	e = sd_rst_call(r, SYS_socket, s->family, s->type | ((d->flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), s->protocol,
			0, 0, 0, &tmp);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot make the %s of fd %d", r->pid, what(s), d->fd);
	copy = sd_rst_take_fd(r, tmp);
	if (copy < 0) {
		(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
		return sd_err(r->ctx, copy, "cannot take fd %ld of the restored pid %d", tmp, r->pid);
	}
	if (s->repaired && !r->opts->tcp_close)
		e = repair(r, d, copy);
	/* --tcp-close: an unconnected socket, which reads and writes as one whose connection ended */
	else if (s->repaired)
		e = sd_rst_sock_options_first(copy, s) < 0 || sd_rst_sock_options_last(copy, s) < 0 ?
			    sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of fd %d", r->pid, d->fd) : 0;
	else
		e = set_up(r, d, copy);
	(void)close(copy);
	if (e < 0) {
		(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
		return e;
	}
	*ret_tmp = tmp;
	return 0;
}

/* Where datagrams to a socket bound to @s->addr go: its address, loopback for a wildcard one. */
static void dest_of(const struct sock_state *s, struct sockaddr_storage *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, s->addr, s->addr_len);
	if (s->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ret;

		if (a->sin_addr.s_addr == htonl(INADDR_ANY))
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ret;

		if (!memcmp(&a->sin6_addr, &in6addr_any, sizeof(a->sin6_addr)))
			a->sin6_addr = in6addr_loopback;
	}
}

static int queue_one(struct rst *r, size_t i)
{
	const struct fd_state *d = &r->fs.fds[i];
	const struct sock_state *s = d->sk;
	struct sockaddr_storage to;
	int rx, e = 0;

	if (!s->addr_len)
		return sd_errx(r->ctx, -EBADMSG, "cannot restore pid %d: the %s of fd %d holds datagrams but has no address",
			       r->pid, what(s), d->fd);
	dest_of(s, &to);
	for (size_t k = 0; e == 0 && k < s->npkts; k++) {
		ssize_t from = sd_sock_inet_sender(&r->fs, &s->pkts[k].from, s->type);
		int tx;

		if (from < 0)
			return sd_errx(r->ctx, -EBADMSG,
				       "cannot restore pid %d: the sender of a datagram queued on fd %d is not in the image",
				       r->pid, d->fd);
		tx = sd_rst_take_fd(r, r->fs.fds[from].fd);
		if (tx < 0)
			return sd_err(r->ctx, tx, "cannot take fd %d of the restored pid %d", r->fs.fds[from].fd, r->pid);
		if (sendto(tx, s->pkts[k].data, s->pkts[k].len, MSG_DONTWAIT, (struct sockaddr *)&to, s->addr_len) < 0)
			e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot queue the datagrams of fd %d again",
				   r->pid, d->fd);
		(void)close(tx);
	}
	rx = e == 0 ? sd_rst_take_fd(r, d->fd) : -1;
	if (e == 0 && rx < 0)
		e = sd_err(r->ctx, rx, "cannot take fd %d of the restored pid %d", d->fd, r->pid);
	if (e == 0 && sd_rst_sock_options_last(rx, s) < 0)
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot set the options of the %s of fd %d", r->pid,
			   what(s), d->fd);
	if (rx >= 0)
		(void)close(rx);
	return e;
}

int sd_rst_inet_queues(struct rst *r)
{
	int e = 0;

	for (size_t i = 0; e == 0 && i < r->fs.n; i++)
		if (r->fs.fds[i].kind == FDK_INET && r->fs.fds[i].sk && !r->fs.fds[i].has_dup_of &&
		    r->fs.fds[i].sk->npkts)
			e = queue_one(r, i);
	return e;
}
