/* SPDX-License-Identifier: MIT */
/*
 * Post-copy, the sender's half (mig_lazy.h): the final pass's pages.img
 * sent as a head, then its bytes pushed block by block, the blocks the
 * receiver asks for first, while the handover waits for the receiver to
 * have them all.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "migrate: "
#include "ctx.h"
#include "image.h"
#include "util.h"
#include "mig_lazy.h"

/* The unit pushed and asked for: the receiver's (mig_lazy_recv.c) is the same. */
#define BLOCK (256u << 10)
/* a send that waits longer: the link is gone (the receiver gives up sooner, mig_lazy_recv.c) */
#define PUSH_IDLE_MS 10000

int sd_mig_lazy_send_head(struct mig_conn *c, int fd, const char *dir, const char *name,
			  uint64_t size)
{
	uint8_t msg[8 + 64], hdr[IMG_HEADER_SIZE];
	size_t nl = strlen(name);
	int r;

	if (nl > sizeof(msg) - 8)
		return -ENAMETOOLONG;
	if (size < IMG_HEADER_SIZE || sd_pread_all(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return sd_errx(c->ctx, -EIO, "cannot read '%s/%s': truncated", dir, name);
	put_le64(msg, size);
	memcpy(msg + 8, name, nl);
	r = sd_mig_send_msg(c, MIG_FILE_HEAD, msg, 8 + nl);
	if (r == 0)
		r = sd_mig_send(c, hdr, sizeof(hdr));
	return r;
}

struct server {
	struct mig_conn *c;
	int fd;
	uint64_t size;
	size_t nblocks, nsent, next;
	uint8_t *sent, *queued;
	size_t *q, qh, qt;		/* blocks asked for, in order */
	uint64_t asked;			/* blocks asked for and sent first */
	bool go, all, armed;
	struct sdump_handover *h;
	uint8_t *buf;
};

static int arm(struct server *s)
{
	int r = 0;

	if (!s->armed)
		r = sdump_handover_arm(s->h);
	s->armed = r == 0;
	return r;
}

/* A MIG_PAGES_REQ: its blocks queued, before the rest. */
static int asked(struct server *s, const uint8_t *msg, size_t len)
{
	uint64_t off, n, a, b;

	if (len < 16)
		return sd_errx(s->c->ctx, -EPROTO, "%s sent a short page request", s->c->peer);
	off = get_le64(msg);
	n = get_le64(msg + 8);
	if (off < IMG_HEADER_SIZE || n == 0 || off > s->size || n > s->size - off)
		return sd_errx(s->c->ctx, -EPROTO, "%s asked for bytes %" PRIu64 "+%" PRIu64
			       " of a pages.img of %" PRIu64, s->c->peer, off, n, s->size);
	a = (off - IMG_HEADER_SIZE) / BLOCK;
	b = (off + n - 1 - IMG_HEADER_SIZE) / BLOCK;
	for (uint64_t k = a; k <= b; k++)
		if (!s->sent[k] && !s->queued[k]) {
			s->queued[k] = 1;
			s->q[s->qt++] = (size_t)k;
		}
	return 0;
}

static int push_one(struct server *s)
{
	size_t k;
	uint64_t off;
	uint32_t n;
	uint8_t hdr[12];
	int r;

	while (s->qh < s->qt && s->sent[s->q[s->qh]])
		s->qh++;
	if (s->qh < s->qt) {
		k = s->q[s->qh++];
		s->asked++;
	} else {
		while (s->sent[s->next])
			s->next++;
		k = s->next;
	}
	/* the last byte about to go after GO: from here our copy dies with us */
	if (s->go && s->nsent + 1 == s->nblocks) {
		r = arm(s);
		if (r < 0)
			return r;
	}
	off = IMG_HEADER_SIZE + (uint64_t)k * BLOCK;
	n = (uint32_t)MIN((uint64_t)BLOCK, s->size - off);
	if (sd_pread_all(s->fd, s->buf, n, (off_t)off) != (ssize_t)n)
		return sd_err(s->c->ctx, -EIO, "cannot read pages.img of the final pass");
	put_le64(hdr, off);
	put_le32(hdr + 8, n);
	r = sd_mig_send_msg(s->c, MIG_PAGES, hdr, sizeof(hdr));
	if (r == 0)
		r = sd_mig_send(s->c, s->buf, n);
	if (r < 0)
		return r;
	s->sent[k] = 1;
	s->nsent++;
	return 0;
}

/* One message of the receiver's; 1 once its copy runs with every byte. */
static int answer(struct server *s, pid_t pid, pid_t *ret_dest_pid)
{
	struct mig_conn *c = s->c;
	uint8_t msg[MIG_MSG_MAX];
	enum mig_msg type;
	size_t len;
	int r;

	r = sd_mig_recv_msg(c, &type, msg, &len);
	if (r < 0)
		return r;
	switch (type) {
	case MIG_PAGES_REQ:
		return asked(s, msg, len);
	case MIG_READY:
		if (s->go)
			break;
		/* every byte gone already: from GO on our copy dies with us */
		if (s->nsent == s->nblocks) {
			r = arm(s);
			if (r < 0)
				return r;
		}
		r = sd_mig_send_msg(c, MIG_GO, NULL, 0);
		if (r < 0)
			return r;
		s->go = true;
		pr_warn(c->ctx,
			"post-copy: pid %d runs at %s before its memory is there (%" PRIu64
			" MiB to come): if the connection dies before every page arrived, the copy there is killed and this one, still frozen, resumed",
			pid, c->peer, (s->nblocks - s->nsent) * (uint64_t)BLOCK >> 20);
		return 0;
	case MIG_PAGES_ALL:
		if (s->nsent < s->nblocks)
			break;
		s->all = true;
		return 0;
	case MIG_RUNNING:
		if (!s->all || !s->go)
			break;
		*ret_dest_pid = len >= 4 ? (pid_t)get_le32(msg) : 0;
		return 1;
	default:
		break;
	}
	return sd_errx(c->ctx, -EPROTO, "%s sent message %d out of turn in post-copy", c->peer, type);
}

int sd_mig_lazy_serve(struct mig_conn *c, const char *dir, pid_t pid, struct sdump_handover *h,
		      pid_t *ret_dest_pid)
{
	struct server s = { .c = c, .h = h, .fd = -1 };
	char path[4096];
	struct stat st;
	uint64_t t0 = now_us();
	int r;

	(void)snprintf(path, sizeof(path), "%s/pages.img", dir);
	s.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0 || fstat(s.fd, &st) < 0 || st.st_size < IMG_HEADER_SIZE) {
		r = sd_err(c->ctx, s.fd < 0 ? -errno : -EIO, "cannot read '%s'", path);
		zclose(&s.fd);
		return r;
	}
	s.size = (uint64_t)st.st_size;
	s.nblocks = (size_t)((s.size - IMG_HEADER_SIZE + BLOCK - 1) / BLOCK);
	s.sent = calloc(s.nblocks + 1, 1);
	s.queued = calloc(s.nblocks + 1, 1);
	s.q = calloc(s.nblocks + 1, sizeof(*s.q));
	s.buf = malloc(BLOCK);
	if (!s.sent || !s.queued || !s.q || !s.buf) {
		r = sd_err(c->ctx, -ENOMEM, "cannot serve the pages of pid %d", pid);
		goto out;
	}
	s.sent[s.nblocks] = 1; /* a stop for push_one's walk */
	for (;;) {
		bool more = s.nsent < s.nblocks;

		if (!more || sd_mig_pending(c)) {
			/* nothing to push: the receiver's restore, then its fill, may take long */
			c->idle_ms = more ? PUSH_IDLE_MS : 600000;
			r = answer(&s, pid, ret_dest_pid);
			if (r < 0)
				goto out;
			if (r == 1)
				break;
			continue;
		}
		c->idle_ms = PUSH_IDLE_MS;
		r = push_one(&s);
		if (r < 0)
			goto out;
	}
	r = 0;
	pr_info(c->ctx, "post-copy: %" PRIu64 " MiB of pages in %.2f s, %" PRIu64
		" blocks of them asked for first", (s.size - IMG_HEADER_SIZE) >> 20,
		(now_us() - t0) / 1e6, s.asked);
out:
	c->idle_ms = 120000;
	if (r < 0 && s.go && !c->peer_failed) {
		char line[512];

		(void)snprintf(line, sizeof(line), "%s",
			       sdump_ctx_last_error(c->ctx) ? sdump_ctx_last_error(c->ctx) : strerror(-r));
		if (s.nsent < s.nblocks) {
			/*
			 * Its copy cannot have every page: it kills it. Its own wait
			 * is shorter than ours; a moment more for a reset seen here first.
			 */
			struct timespec ts = { 0, 200 * 1000 * 1000 };

			(void)nanosleep(&ts, NULL);
			pr_warn(c->ctx, "post-copy: %s with %zu of %zu blocks of pages sent: the copy at %s is killed, pid %d resumed here",
				line, s.nsent, s.nblocks, c->peer, pid);
		} else {
			sdump_ctx_clear_error(c->ctx);
			(void)sd_errx(c->ctx, -ENOTCONN,
				      "pid %d: %s once every page was sent: it may run at %s; left stopped here (SIGSTOP): kill -CONT %d if it does not",
				      pid, line, c->peer, pid);
			r = SDUMP_HANDOVER_UNSURE;
		}
	}
	zclose(&s.fd);
	free(s.sent);
	free(s.queued);
	free(s.q);
	free(s.buf);
	return r;
}
