/* SPDX-License-Identifier: MIT */
/* The connection of a migration: TCP, TLS 1.3 with certificates both ways, messages. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "ctx.h"
#include "fault.h"
#include "util.h"
#include "mig_net.h"

#define MIG_HDR_SIZE 16
#define MIG_POLL_MS 200

/* "HOST:PORT", HOST numeric (v4, or v6 in brackets), split; -EINVAL if not. */
static int split_addr(const char *s, char *host, size_t hsize, unsigned int *port)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hl;
	char *end;
	unsigned long p;

	if (!colon || !colon[1])
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 2 || s[hl - 1] != ']')
			return -EINVAL;
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= hsize)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p > 65535)
		return -EINVAL;
	*port = (unsigned int)p;
	return 0;
}

int sd_mig_parse_addr(struct sdump_ctx *ctx, const char *s, void *ret_sa, unsigned int *ret_len)
{
	struct sockaddr_storage *ss = ret_sa;
	struct sockaddr_in *in4 = ret_sa;
	struct sockaddr_in6 *in6 = ret_sa;
	char host[64];
	unsigned int port;

	memset(ss, 0, sizeof(*ss));
	if (split_addr(s, host, sizeof(host), &port) == 0) {
		if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
			in4->sin_family = AF_INET;
			in4->sin_port = htons((uint16_t)port);
			*ret_len = sizeof(*in4);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			*ret_len = sizeof(*in6);
			return 0;
		}
	}
	return sd_errx(ctx, -EINVAL, "bad address '%s': ADDR:PORT, ADDR an IPv4 address or [IPv6]", s);
}

bool sd_mig_addr_is_loopback(const char *s)
{
	struct in_addr a4;
	struct in6_addr a6;
	char host[64];
	unsigned int port;

	if (split_addr(s, host, sizeof(host), &port) < 0)
		return false;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static void fmt_peer(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)ss;

		(void)inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		(void)snprintf(buf, size, "%s:%u", host, ntohs(in4->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		(void)inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		(void)snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	}
}

int sd_mig_listen(struct sdump_ctx *ctx, const char *addr, int *ret_fd)
{
	struct sockaddr_storage ss;
	unsigned int len;
	int fd, one = 1, r;

	r = sd_mig_parse_addr(ctx, addr, &ss, &len);
	if (r < 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sd_err(ctx, -errno, "cannot make a socket for %s", addr);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0) {
		r = -errno;
		close(fd);
		return sd_err(ctx, r, "cannot listen on %s", addr);
	}
	*ret_fd = fd;
	return 0;
}

/* Wait until @fd is ready for @events, polling the cancel flag; -ETIMEDOUT after idle_ms. */
static int wait_fd(struct mig_conn *c, short events)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int waited = 0, r;

	for (;;) {
		r = sd_check_cancel(c->ctx);
		if (r < 0)
			return r;
		r = poll(&pfd, 1, MIG_POLL_MS);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return sd_err(c->ctx, -errno, "cannot wait for %s", c->peer);
		waited += MIG_POLL_MS;
		if (c->idle_ms > 0 && waited >= c->idle_ms)
			return sd_errx(c->ctx, -ETIMEDOUT, "%s went silent (nothing for %d s)", c->peer,
				       c->idle_ms / 1000);
	}
}

static const char *tls_why(int e)
{
	return gnutls_strerror(e);
}

static int tls_setup(struct mig_conn *c, const struct mig_tls *tls, bool server, const char *host)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	int e;

	e = gnutls_certificate_allocate_credentials(&cred);
	if (e < 0)
		return sd_errx(c->ctx, -ENOMEM, "TLS: %s", tls_why(e));
	c->cred = cred;
	e = gnutls_certificate_set_x509_trust_file(cred, tls->ca, GNUTLS_X509_FMT_PEM);
	if (e <= 0)
		return sd_errx(c->ctx, -EINVAL, "cannot read the CA certificate '%s': %s", tls->ca,
			       e < 0 ? tls_why(e) : "no certificate in it");
	e = gnutls_certificate_set_x509_key_file(cred, tls->cert, tls->key, GNUTLS_X509_FMT_PEM);
	if (e < 0)
		return sd_errx(c->ctx, -EINVAL, "cannot read the certificate '%s' and key '%s': %s",
			       tls->cert, tls->key, tls_why(e));
	e = gnutls_init(&s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_SIGNAL);
	if (e < 0)
		return sd_errx(c->ctx, -ENOMEM, "TLS: %s", tls_why(e));
	c->session = s;
	e = gnutls_priority_set_direct(s, "NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL);
	if (e == 0)
		e = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	if (e < 0)
		return sd_errx(c->ctx, -EINVAL, "TLS: %s", tls_why(e));
	if (server)
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
	/* the peer's certificate signed by our CA; the receiver's also for the address we dialled */
	gnutls_session_set_verify_cert(s, server ? NULL : host, 0);
	gnutls_transport_set_int(s, c->fd);
	gnutls_handshake_set_timeout(s, 30000);
	do {
		e = sd_check_cancel(c->ctx);
		if (e < 0)
			return e;
		e = gnutls_handshake(s);
	} while (e < 0 && !gnutls_error_is_fatal(e));
	if (e < 0) {
		const char *what = tls_why(e);
		char why[256] = "";

		if (e == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			gnutls_datum_t out = { 0 };
			unsigned int st = gnutls_session_get_verify_cert_status(s);

			if (gnutls_certificate_verification_status_print(st, GNUTLS_CRT_X509, &out, 0) == 0) {
				size_t n = strlen((const char *)out.data);

				while (n > 0 && (out.data[n - 1] == ' ' || out.data[n - 1] == '.'))
					n--;
				(void)snprintf(why, sizeof(why), "%.*s", (int)n, (const char *)out.data);
				what = why;
				gnutls_free(out.data);
			}
		}
		if (server)
			return sd_errx(c->ctx, -EACCES, "refused the sender %s: TLS handshake failed: %s",
				       c->peer, what);
		return sd_errx(c->ctx, -EACCES, "TLS handshake with %s failed: %s", c->peer, what);
	}
	return 0;
}

static void conn_init(struct sdump_ctx *ctx, struct mig_conn *c, int fd)
{
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->fd = fd;
	c->idle_ms = 120000;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int sd_mig_accept(struct sdump_ctx *ctx, int lfd, const struct mig_tls *tls, struct mig_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct mig_conn lc = { .ctx = ctx, .fd = lfd, .idle_ms = 0 };
	char peer[80];
	int fd, r;

	(void)snprintf(lc.peer, sizeof(lc.peer), "the listening socket");
	r = wait_fd(&lc, POLLIN);
	if (r < 0)
		return r;
	fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	if (fd < 0)
		return sd_err(ctx, -errno, "cannot accept a sender");
	fmt_peer(&ss, peer, sizeof(peer));
	conn_init(ctx, c, fd);
	(void)snprintf(c->peer, sizeof(c->peer), "%s", peer);
	pr_info(ctx, "receive: a sender connected from %s", c->peer);
	if (tls && tls->ca) {
		r = tls_setup(c, tls, true, NULL);
		if (r < 0) {
			sd_mig_close(c);
			return r;
		}
	}
	return 0;
}

int sd_mig_connect(struct sdump_ctx *ctx, const char *to, const struct mig_tls *tls,
		   struct mig_conn *c)
{
	struct sockaddr_storage ss;
	unsigned int len;
	char host[64];
	unsigned int port;
	int fd, r;

	r = sd_mig_parse_addr(ctx, to, &ss, &len);
	if (r < 0)
		return r;
	(void)split_addr(to, host, sizeof(host), &port);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sd_err(ctx, -errno, "cannot make a socket for %s", to);
	conn_init(ctx, c, fd);
	(void)snprintf(c->peer, sizeof(c->peer), "%s", to);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		r = sd_err(ctx, -errno, "cannot connect to %s", to);
		sd_mig_close(c);
		return r;
	}
	if (tls && tls->ca) {
		/* the session keeps the name for the handshake: a copy that lives as long */
		static __thread char vhost[64];

		(void)snprintf(vhost, sizeof(vhost), "%s", host);
		r = tls_setup(c, tls, false, vhost);
		if (r < 0) {
			sd_mig_close(c);
			return r;
		}
	}
	return 0;
}

void sd_mig_close(struct mig_conn *c)
{
	if (c->session) {
		gnutls_deinit(c->session);
		c->session = NULL;
	}
	if (c->cred) {
		gnutls_certificate_free_credentials(c->cred);
		c->cred = NULL;
	}
	zclose(&c->fd);
}

void sd_mig_linger(struct mig_conn *c, int max_ms)
{
	uint64_t end = now_us() + (uint64_t)max_ms * 1000;
	static uint8_t sink[1 << 16];

	if (c->fd < 0)
		return;
	for (uint64_t now = now_us(); now < end; now = now_us()) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)((end - now) / 1000) + 1) <= 0)
			return;
		n = c->session ? gnutls_record_recv(c->session, sink, sizeof(sink)) :
				 recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && !(c->session ? n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED :
							 errno == EAGAIN || errno == EINTR)))
			return;
	}
}

/* A fault injected (SDUMP_FAULT=net:N): the connection as a cut one, gone for good. */
static int cut(struct mig_conn *c, int r)
{
	(void)shutdown(c->fd, SHUT_RDWR);
	return sd_errx(c->ctx, r, "the connection with %s is cut: %s", c->peer, strerror(-r));
}

/* The tests' SIGKILL of sdump just after its N-th send or receive went through (SDUMP_FAULT=netkill:N). */
static void netkill(void)
{
	if (sd_fault_check(FAULT_NETKILL))
		(void)raise(SIGKILL);
}

/* --bandwidth: sleep until @n more bytes fit the rate. */
static void throttle(struct mig_conn *c, size_t n)
{
	uint64_t due, now;

	if (!c->rate)
		return;
	now = now_us();
	if (!c->rate_t0)
		c->rate_t0 = now;
	c->rate_bytes += n;
	due = c->rate_t0 + c->rate_bytes * 1000000 / c->rate;
	if (due > now) {
		struct timespec ts = { .tv_sec = (time_t)((due - now) / 1000000),
				       .tv_nsec = (long)((due - now) % 1000000) * 1000 };

		(void)nanosleep(&ts, NULL);
	}
}

/*
 * A send that failed (@r): a peer that gave up said why (MIG_FAIL) before
 * it closed, which is read, if it is there, and is the error then.
 */
static int send_failed(struct mig_conn *c, int r)
{
	uint8_t buf[MIG_MSG_MAX];
	enum mig_msg type;
	size_t len;

	/* (what came before it: acknowledgements, read and passed over) */
	for (int i = 0; i < 64 && sd_mig_pending(c); i++)
		if (sd_mig_recv_msg(c, &type, buf, &len) < 0)
			return c->peer_failed ? -EPROTO : r;
	return r;
}

int sd_mig_send(struct mig_conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int r;

	while (len > 0) {
		size_t n = MIN(len, (size_t)1 << 20);
		ssize_t w;

		throttle(c, n);
		r = wait_fd(c, POLLOUT);
		if (r < 0)
			return r;
		r = sd_fault_check(FAULT_NET);
		if (r < 0)
			return cut(c, r);
		if (c->session) {
			w = gnutls_record_send(c->session, p, n);
			if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
				continue;
			if (w < 0)
				return send_failed(c, sd_errx(c->ctx, -ECONNRESET, "cannot send to %s: %s", c->peer,
							      tls_why((int)w)));
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (w < 0)
				return send_failed(c, sd_err(c->ctx, -errno, "cannot send to %s", c->peer));
		}
		p += w;
		len -= (size_t)w;
		c->sent += (uint64_t)w;
		netkill();
	}
	return 0;
}

int sd_mig_recv(struct mig_conn *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	int r;

	while (len > 0) {
		ssize_t n;

		if (!c->session || !gnutls_record_check_pending(c->session)) {
			r = wait_fd(c, POLLIN);
			if (r < 0)
				return r;
		}
		r = sd_fault_check(FAULT_NET);
		if (r < 0)
			return cut(c, r);
		if (c->session) {
			n = gnutls_record_recv(c->session, p, len);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n < 0)
				return sd_errx(c->ctx, -ECONNRESET, "cannot receive from %s: %s", c->peer,
					       tls_why((int)n));
		} else {
			n = recv(c->fd, p, len, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n < 0)
				return sd_err(c->ctx, -errno, "cannot receive from %s", c->peer);
		}
		if (n == 0)
			return sd_errx(c->ctx, -ECONNRESET, "%s closed the connection", c->peer);
		p += n;
		len -= (size_t)n;
		c->received += (uint64_t)n;
		netkill();
	}
	return 0;
}

bool sd_mig_pending(struct mig_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	if (c->session && gnutls_record_check_pending(c->session))
		return true;
	return poll(&p, 1, 0) > 0;
}

int sd_mig_send_msg(struct mig_conn *c, enum mig_msg type, const void *payload, size_t len)
{
	uint8_t hdr[MIG_HDR_SIZE];
	int r;

	put_le32(hdr, MIG_MAGIC);
	put_le16(hdr + 4, (uint16_t)type);
	put_le16(hdr + 6, 0);
	put_le64(hdr + 8, len);
	r = sd_mig_send(c, hdr, sizeof(hdr));
	if (r == 0 && len)
		r = sd_mig_send(c, payload, len);
	return r;
}

void sd_mig_send_fail(struct mig_conn *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (c->fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* a short wait only: the peer may be the one that failed */
	c->idle_ms = 2000;
	(void)sd_mig_send_msg(c, MIG_FAIL, line, strlen(line));
}

int sd_mig_recv_msg(struct mig_conn *c, enum mig_msg *ret_type, uint8_t *buf, size_t *ret_len)
{
	uint8_t hdr[MIG_HDR_SIZE];
	uint64_t len;
	uint16_t type;
	int r;

	r = sd_mig_recv(c, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	type = (uint16_t)(hdr[4] | hdr[5] << 8);
	len = get_le64(hdr + 8);
	if (get_le32(hdr) != MIG_MAGIC)
		return sd_errx(c->ctx, -EPROTO, "%s does not speak sdump's migration stream (no TLS on one side?)",
			       c->peer);
	if (len > MIG_MSG_MAX - 1 || type < MIG_HELLO ||
	    (type > MIG_FAIL && (type < MIG_FILE_HEAD || type > MIG_PAGES_ALL) && type != MIG_DIR))
		return sd_errx(c->ctx, -EPROTO, "%s sent a bad message (type %u, %" PRIu64 " bytes)",
			       c->peer, type, len);
	r = sd_mig_recv(c, buf, (size_t)len);
	if (r < 0)
		return r;
	buf[len] = '\0';
	if (type == MIG_FAIL) {
		c->peer_failed = true;
		for (uint64_t i = 0; i < len; i++)
			if (buf[i] < ' ')
				buf[i] = ' ';
		return sd_errx(c->ctx, -EPROTO, "%s: %s", c->peer, (const char *)buf);
	}
	*ret_type = (enum mig_msg)type;
	*ret_len = (size_t)len;
	return 0;
}

int sd_mig_expect(struct mig_conn *c, enum mig_msg want, uint8_t *buf, size_t *ret_len)
{
	enum mig_msg type = 0;
	int r = sd_mig_recv_msg(c, &type, buf, ret_len);

	if (r < 0)
		return r;
	if (type != want)
		return sd_errx(c->ctx, -EPROTO, "%s sent message %d where %d was due", c->peer, type,
			       want);
	return 0;
}
