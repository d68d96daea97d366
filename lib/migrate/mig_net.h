/* SPDX-License-Identifier: MIT */
/*
 * The connection of a migration (mig_net.c): TCP, with TLS 1.3 and
 * certificates on both sides when given (GnuTLS), and the framing of its
 * messages. Every wait polls the context's cancel flag and gives up after
 * an idle timeout; every failure is one line naming the peer.
 */
#ifndef SDUMP_MIG_NET_H
#define SDUMP_MIG_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdump.h"

/* The stream's version: a receiver refuses a sender of another. */
#define MIG_PROTO_VERSION 1
#define MIG_MAGIC 0x474d4453u /* "SDMG" */
/* The longest payload of a message other than a file's bytes. */
#define MIG_MSG_MAX 4096
/* how long a receiver that gave up reads what the sender still sends (sd_mig_linger) */
#define MIG_LINGER_MS 10000

/*
 * Messages, each a 16-byte header (magic, type, flags, payload length, all
 * little-endian) and its payload. Sender to receiver: HELLO, PASS, FILE
 * (its bytes follow, raw), PASS_END, GO, DONE; receiver to sender: HELLO,
 * ACK, READY, RUNNING, FAIL; FAIL both ways.
 */
enum mig_msg {
	MIG_HELLO = 1,	  /* u32 version, u32 page size */
	MIG_PASS = 2,	  /* u32 index (1, 2, ...), u32 final */
	MIG_FILE = 3,	  /* u64 size, then the name; then size bytes */
	MIG_PASS_END = 4, /* - */
	MIG_ACK = 5,	  /* u32 index: the pass is committed at the destination */
	MIG_READY = 6,	  /* the process is restored, held before it runs */
	MIG_GO = 7,	  /* let it run */
	MIG_RUNNING = 8,  /* u32 pid: it runs (or, without --restore, u32 0: the image is kept) */
	MIG_DONE = 9,	  /* the source process is gone */
	MIG_FAIL = 10,	  /* a one-line reason; the migration is over */
	/* post-copy (mig_lazy.h) */
	MIG_FILE_HEAD = 20, /* u64 size, then the name: its header (IMG_HEADER_SIZE bytes) follows */
	MIG_PAGES = 21,	    /* u64 offset, u32 length: that many bytes of pages.img follow, raw */
	MIG_PAGES_REQ = 22, /* u64 offset, u64 length: wanted first */
	MIG_PAGES_ALL = 23, /* every byte of pages.img is here */
	/* a tree's pass */
	MIG_DIR = 100,	    /* u32 flags (MIG_DIR_PARENT), then a member's name (pid-N); empty: the top */
};
/* MIG_DIR: the member's pass has a parent link (into the pass before) */
#define MIG_DIR_PARENT 1u

struct mig_tls {
	const char *cert, *key, *ca; /* all three, or none (plain TCP) */
};

struct mig_conn {
	struct sdump_ctx *ctx;
	int fd;
	void *session;		/* gnutls_session_t, or NULL */
	void *cred;		/* gnutls_certificate_credentials_t */
	char peer[80];		/* "ADDR:PORT", for messages */
	int idle_ms;		/* a wait longer than this fails (-ETIMEDOUT) */
	uint64_t rate;		/* bytes per second sent at most, 0: no limit */
	uint64_t rate_t0, rate_bytes;
	uint64_t sent, received; /* bytes, TLS records' payload */
	bool peer_failed;	/* the peer said it failed (MIG_FAIL), rather than going silent */
	/* post-copy: the pass sent or received now has its pages.img as a head only (mig_lazy.h) */
	bool pages_later;
};

/* "HOST:PORT" or "[V6]:PORT", HOST a numeric address: -EINVAL with a message. */
int sd_mig_parse_addr(struct sdump_ctx *ctx, const char *s, void *ret_sa, unsigned int *ret_len);
/* Whether @s ("HOST:PORT") is a loopback address (127/8, ::1). */
bool sd_mig_addr_is_loopback(const char *s);

/* Listen on @addr (SO_REUSEADDR); *ret_fd. */
int sd_mig_listen(struct sdump_ctx *ctx, const char *addr, int *ret_fd);
/*
 * Accept one sender on @lfd and, with @tls, make it prove its certificate
 * (signed by tls->ca) in a TLS 1.3 handshake: a sender that does not is
 * refused (-EACCES), the line naming it and why.
 */
int sd_mig_accept(struct sdump_ctx *ctx, int lfd, const struct mig_tls *tls, struct mig_conn *c);
/* Connect to @to and, with @tls, check the receiver's certificate (and its name or address). */
int sd_mig_connect(struct sdump_ctx *ctx, const char *to, const struct mig_tls *tls,
		   struct mig_conn *c);
void sd_mig_close(struct mig_conn *c);
/*
 * After a FAIL: what the peer still sends read and thrown away, until it
 * closes or @max_ms pass, so that our close resets nothing it has not
 * read yet (a reset loses the FAIL in its receive queue).
 */
void sd_mig_linger(struct mig_conn *c, int max_ms);

int sd_mig_send(struct mig_conn *c, const void *buf, size_t len);
/* Exactly @len bytes; the peer closing before is -ECONNRESET. */
int sd_mig_recv(struct mig_conn *c, void *buf, size_t len);
/* Whether something (bytes, or the end) waits to be received, without waiting. */
bool sd_mig_pending(struct mig_conn *c);

int sd_mig_send_msg(struct mig_conn *c, enum mig_msg type, const void *payload, size_t len);
/* A FAIL message of a formatted line; errors sending it are ignored. */
void sd_mig_send_fail(struct mig_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The next message: its type and its payload into @buf (MIG_MSG_MAX bytes,
 * NUL-terminated after *ret_len). A FAIL is returned as -EPROTO with its
 * line as the error: "<peer> refused: <line>".
 */
int sd_mig_recv_msg(struct mig_conn *c, enum mig_msg *ret_type, uint8_t *buf, size_t *ret_len);
/* The next message must be @want: else -EPROTO ("unexpected message"). */
int sd_mig_expect(struct mig_conn *c, enum mig_msg want, uint8_t *buf, size_t *ret_len);

#endif /* SDUMP_MIG_NET_H */
