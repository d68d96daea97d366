/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: a TCP connection saved in repair mode (dump
 * --tcp-established), established or half closed, made again on our copy
 * of the new process's socket. In repair mode (TCP_REPAIR) its sequence
 * numbers go in before connect(), which then sends nothing, then the
 * options the handshake agreed, the timestamp clock, the queues (the bytes
 * sent and not acked as sent) and the windows; out of it, the bytes not
 * sent yet are sent.
 *
 * A half-closed connection gets its FINs back in the order they came. Our
 * FIN: shutdown(SHUT_WR) in repair mode with the send queue selected,
 * which queues it as sent and sends nothing (or a plain shutdown() once
 * the bytes before it are sent, when it was not sent yet). The peer's FIN,
 * and the peer's ACK of ours, are segments only the peer can send: sdump
 * sends them to the socket itself on a raw socket, from the peer's address
 * and port, with the sequence numbers the peer used (CRIU does the same),
 * marked so that the network lock lets them through; then it waits for
 * the socket to take them (its TCP state). rst_sock_raw.c sends them.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate_sock.h"
#include "restore.h"
#include "rst_sock.h"
#include "util.h"

static int set_opt(int fd, int name, const void *v, socklen_t len)
{
	return setsockopt(fd, IPPROTO_TCP, name, v, len) < 0 ? -errno : 0;
}

static int set_queue(int fd, int q)
{
	return set_opt(fd, TCP_REPAIR_QUEUE, &q, sizeof(q));
}

/*
 * Room in a buffer of our copy @fd for the @len bytes a restore queues:
 * the kernel counts its own overhead per segment (skb truesize), which
 * the dumped socket's buffer (autotuned as its connection went) may not
 * hold the same way. The send queue waits for room in SO_SNDBUF (EAGAIN),
 * the receive queue of repair mode for room in SO_RCVBUF (tcp_send_rcvq:
 * ENOMEM): each time, the buffer doubled (FORCE passes by the sysctl
 * maxima), a few times at most; *@grown says which were, for the sizes
 * dumped to be put back once the bytes are queued.
 */
#define GROWN_SND 1
#define GROWN_RCV 2
static int grow_buf(int fd, bool rcv, size_t len, unsigned *grown, int *tries)
{
	int have = 0, v;
	socklen_t sl = sizeof(have);

	if (++*tries > 12 || getsockopt(fd, SOL_SOCKET, rcv ? SO_RCVBUF : SO_SNDBUF, &have, &sl) < 0)
		return rcv ? -ENOMEM : -EAGAIN;
	v = (int)MIN(MAX((size_t)have * 2, len * 2 + (1u << 20)), (size_t)(INT32_MAX / 4));
	*grown |= rcv ? GROWN_RCV : GROWN_SND;
	return setsockopt(fd, SOL_SOCKET, rcv ? SO_RCVBUFFORCE : SO_SNDBUFFORCE, &v, sizeof(v)) < 0 ? -errno : 0;
}

/* @len bytes of @buf sent on our copy @fd (queue @q in repair mode, or -1: out of it). */
static int send_all(int fd, int q, const uint8_t *buf, size_t len, unsigned *grown)
{
	int e = q >= 0 ? set_queue(fd, q) : 0, tries = 0;

	for (size_t done = 0; e == 0 && done < len;) {
		ssize_t n = send(fd, buf + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN && q != TCP_RECV_QUEUE)
			e = grow_buf(fd, false, len, grown, &tries);
		else if (n < 0 && errno == ENOMEM && q == TCP_RECV_QUEUE)
			e = grow_buf(fd, true, len, grown, &tries);
		else if (n <= 0)
			e = n < 0 ? -errno : -EIO;
		else
			done += (size_t)n;
	}
	return e;
}

/*
 * A segment from the peer of connection @s to it: @seq, acking @ack, with
 * a FIN or a bare ACK, the peer's window as it was. -errno.
 */
static int inject(const struct sock_state *s, uint32_t seq, uint32_t ack, bool fin)
{
	uint32_t wnd = s->win[1] >> ((s->tcpi_options & TCPI_OPT_WSCALE) ? s->snd_wscale : 0);
	struct tcphdr th = { 0 };

	th.seq = htonl(seq);
	th.ack_seq = htonl(ack);
	th.doff = sizeof(th) / 4;
	th.ack = 1;
	th.fin = fin;
	th.window = htons((uint16_t)MIN(wnd, 0xffffu));
	return sd_rst_raw_send(s->peer, s->addr, IPPROTO_TCP, (const uint8_t *)&th, sizeof(th));
}

/* Wait for our copy @fd to reach TCP state @state (the segment sent to it taken). */
static int wait_state(int fd, int state)
{
	for (int i = 0; i < 400; i++) {
		struct tcp_info ti = { 0 };
		socklen_t len = sizeof(ti);

		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
			return -errno;
		if (ti.tcpi_state == state)
			return 0;
		(void)nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
	}
	return -ETIMEDOUT;
}

/* Our FIN, in repair mode: queued as sent (TCP_SEND_QUEUE), nothing sent. */
static int fin_as_sent(int fd)
{
	int e = set_queue(fd, TCP_SEND_QUEUE);

	if (e == 0 && shutdown(fd, SHUT_WR) < 0)
		e = -errno;
	return e ? e : set_queue(fd, TCP_NO_QUEUE);
}

int sd_rst_tcp_repair(struct rst *r, const struct fd_state *d, int fd)
{
	const struct sock_state *s = d->sk;
	unsigned fins = sd_sock_tcp_fins(s->state);
	bool out = fins & SK_FIN_OUT, in = fins & SK_FIN_IN, in_first = fins & SK_FIN_IN_FIRST;
	bool out_sent = out && !s->fin_unsent;
	struct tcp_repair_opt o[4];
	struct tcp_repair_window w = { .snd_wl1 = s->win[0], .snd_wnd = s->win[1], .max_window = s->win[2],
				       .rcv_wnd = s->win[3], .rcv_wup = s->win[4] };
	/* where the queues start: the FINs take a sequence number each, after the bytes */
	uint32_t snd_una = s->snd_seq - (out ? 1u : 0u) - (uint32_t)s->sndq_len;
	uint32_t rcv_start = s->rcv_seq - (in ? 1u : 0u) - (uint32_t)s->rcvq_len;
	int on = TCP_REPAIR_ON, off = TCP_REPAIR_OFF, e = 0, no = 0;
	unsigned grown = 0;
	const char *step = "make";
	char a[SOCK_ADDR_TEXT_MAX];

	/* the options first: SO_REUSEADDR would undo the port sharing TCP_REPAIR turns on */
	e = sd_rst_inet_opts(fd, s);
	if (e == 0)
		e = sd_rst_sock_options_first(fd, s);
	if (e == 0)
		e = set_opt(fd, TCP_REPAIR, &on, sizeof(on));
	if (e == 0)
		e = set_queue(fd, TCP_SEND_QUEUE);
	if (e == 0)
		e = set_opt(fd, TCP_QUEUE_SEQ, &snd_una, sizeof(snd_una));
	if (e == 0)
		e = set_queue(fd, TCP_RECV_QUEUE);
	if (e == 0)
		e = set_opt(fd, TCP_QUEUE_SEQ, &rcv_start, sizeof(rcv_start));
	/* bind() in repair mode shares the port with a listener */
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
	if (e == 0) {
		step = "fill the send queue of";
		e = send_all(fd, TCP_SEND_QUEUE, s->sndq, s->sndq_len - s->sndq_unsent, &grown);
	}
	if (e == 0) {
		step = "fill the receive queue of";
		e = send_all(fd, TCP_RECV_QUEUE, s->rcvq, s->rcvq_len, &grown);
	}
	/*
	 * Once rcv_nxt is where it was: the kernel checks the windows against
	 * it. The peer's FIN not in yet, rcv_nxt is one short of it: the left
	 * edge one back, the right one where it was.
	 */
	if (in) {
		w.rcv_wup--;
		w.rcv_wnd++;
	}
	if (e == 0)
		e = set_opt(fd, TCP_REPAIR_WINDOW, &w, sizeof(w));
	if (e == 0)
		e = set_queue(fd, TCP_NO_QUEUE);
	/* the FINs in the order they came: the peer's first (CLOSE_WAIT, LAST_ACK) */
	if (e == 0 && in && in_first) {
		step = "give the peer's FIN to";
		e = inject(s, s->rcv_seq - 1, snd_una, true);
		if (e == 0)
			e = wait_state(fd, SKS_CLOSE_WAIT);
	}
	if (e == 0 && out_sent) {
		step = "shut down";
		e = fin_as_sent(fd);
	}
	if (e == 0) {
		step = "make";
		e = set_opt(fd, TCP_REPAIR, &off, sizeof(off));
	}
	/* out of repair mode the socket forgot SO_REUSEADDR (TCP_REPAIR_OFF clears it) */
	if (e == 0)
		e = sd_rst_inet_reuse(fd, s);
	if (e == 0)
		step = "send the bytes not sent yet of";
	if (e == 0)
		e = send_all(fd, -1, s->sndq + s->sndq_len - s->sndq_unsent, s->sndq_unsent, &grown);
	/* the buffer's size as it was (the kernel lets the bytes queued over it drain) */
	if (e == 0 && (grown & GROWN_SND) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &(int){ s->sndbuf / 2 }, sizeof(int)) < 0)
		e = -errno;
	if (e == 0 && (grown & GROWN_RCV) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ s->rcvbuf / 2 }, sizeof(int)) < 0)
		e = -errno;
	if (e == 0 && out && s->fin_unsent && shutdown(fd, SHUT_WR) < 0) {
		step = "shut down";
		e = -errno;
	}
	/* the peer's FIN after ours (CLOSING), the peer's ACK of ours (FIN_WAIT2) */
	if (e == 0 && in && !in_first) {
		step = "give the peer's FIN to";
		e = inject(s, s->rcv_seq - 1, snd_una, true);
		if (e == 0)
			e = wait_state(fd, SKS_CLOSING);
	}
	if (e == 0 && (fins & SK_FIN_OUT_ACKED)) {
		step = "give the peer's ACK of its FIN to";
		e = inject(s, s->rcv_seq, s->snd_seq, false);
		if (e == 0)
			e = wait_state(fd, s->state);
	}
	if (e == 0 && sd_rst_sock_options_last(fd, s) < 0)
		e = -errno;
	if (e < 0) {
		sd_sock_addr_text(s->peer, s->peer_len, a);
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot %s the TCP connection of fd %d to %s (%s)", r->pid,
			      step, d->fd, a, sd_sock_tcp_state_name(s->state));
	}
	return 0;
}
