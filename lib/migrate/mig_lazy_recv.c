/* SPDX-License-Identifier: MIT */
/*
 * Post-copy, the receiver's half (mig_lazy.h): pages.img of the final pass
 * made from its head, then filled by a thread from the sender's blocks,
 * while the lazy restore's reads wait for theirs (asking for them first)
 * and the process runs. The connection lost before every byte is here:
 * the thread kills the process at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "receive: "
#include "ctx.h"
#include "fault.h"
#include "image.h"
#include "img_files.h"
#include "util.h"
#include "mig_lazy.h"

#define BLOCK (256u << 10)	/* as the sender's (mig_lazy_send.c) */
/* bytes missing and none for this long: the link is gone (the sender waits longer) */
#define RX_IDLE_MS 5000
#define FILE_MAX (16ull << 40)

int sd_mig_lazy_recv_head(struct mig_conn *c, int dirfd, const char *path, const uint8_t *msg,
			  size_t len, uint64_t *bytes)
{
	uint8_t hdr[IMG_HEADER_SIZE];
	uint64_t size;
	int fd, r;

	if (len != 8 + strlen("pages.img") || memcmp(msg + 8, "pages.img", len - 8))
		return sd_errx(c->ctx, -EPROTO, "%s sent a head of a file other than pages.img", c->peer);
	size = get_le64(msg);
	if (size < IMG_HEADER_SIZE || size > FILE_MAX)
		return sd_errx(c->ctx, -EPROTO, "%s sent pages.img of %" PRIu64 " bytes", c->peer, size);
	r = sd_mig_recv(c, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	if (sd_img_header_check(hdr, sd_imgfile(IMGF_PAGES)->type) < 0)
		return sd_errx(c->ctx, -EPROTO, "%s sent pages.img with a bad header", c->peer);
	fd = openat(dirfd, "pages.img", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sd_err(c->ctx, errno == EEXIST ? -EPROTO : -errno, "cannot create '%s/pages.img'", path);
	if (fault_fails(FAULT_WRITE) || sd_write_all(fd, hdr, sizeof(hdr)) < 0 ||
	    ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0)
		r = sd_err(c->ctx, -errno, "cannot write '%s/pages.img'", path);
	close(fd);
	*bytes += sizeof(hdr);
	return r;
}

struct mig_lazy_rx {
	struct sdump_ctx *ctx;
	struct mig_conn *c;
	char path[4096];
	int fd;				/* pages.img, written */
	uint64_t size;
	size_t nblocks;
	pthread_mutex_t lk;		/* of what follows */
	pthread_cond_t cv;
	pthread_mutex_t send_lk;	/* a message sent whole */
	uint8_t *have, *asked;
	size_t nhave;
	uint64_t requests;
	bool go, failed, stop;
	int err;
	pid_t pid;
	uint64_t t_go;
	pthread_t th;
	bool have_th;
};

static int send_locked(struct mig_lazy_rx *x, enum mig_msg type, const void *p, size_t len)
{
	int r;

	pthread_mutex_lock(&x->send_lk);
	r = sd_mig_send_msg(x->c, type, p, len);
	pthread_mutex_unlock(&x->send_lk);
	return r;
}

/* The link is gone (@err): a process that runs without every page is killed now. */
static void failed(struct mig_lazy_rx *x, int err)
{
	pthread_mutex_lock(&x->lk);
	if (!x->failed) {
		x->failed = true;
		x->err = err;
		if (x->go && x->nhave < x->nblocks && !x->stop) {
			(void)kill(x->pid, SIGKILL);
			pr_warn(x->ctx,
				"post-copy: %s with %zu of %zu blocks of pages here: pid %d killed (it cannot go on without them); the sender resumes its copy",
				sdump_ctx_last_error(x->ctx) ? sdump_ctx_last_error(x->ctx) : strerror(-err),
				x->nhave, x->nblocks, x->pid);
		}
	}
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->lk);
}

static int got_pages(struct mig_lazy_rx *x, const uint8_t *msg, size_t len, uint8_t *buf)
{
	uint64_t off;
	uint32_t n;
	size_t k;
	bool all;
	int r;

	if (len < 12)
		return sd_errx(x->ctx, -EPROTO, "%s sent a short block of pages", x->c->peer);
	off = get_le64(msg);
	n = get_le32(msg + 8);
	k = off >= IMG_HEADER_SIZE ? (size_t)((off - IMG_HEADER_SIZE) / BLOCK) : SIZE_MAX;
	if (k >= x->nblocks || (off - IMG_HEADER_SIZE) % BLOCK ||
	    n != MIN((uint64_t)BLOCK, x->size - off))
		return sd_errx(x->ctx, -EPROTO, "%s sent a block of pages at %" PRIu64 " of %" PRIu32
			       " bytes, not one of pages.img", x->c->peer, off, n);
	r = sd_mig_recv(x->c, buf, n);
	if (r < 0)
		return r;
	if (fault_fails(FAULT_WRITE) || pwrite(x->fd, buf, n, (off_t)off) != (ssize_t)n)
		return sd_err(x->ctx, -EIO, "cannot write '%s'", x->path);
	pthread_mutex_lock(&x->lk);
	if (!x->have[k]) {
		x->have[k] = 1;
		x->nhave++;
	}
	all = x->nhave == x->nblocks;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->lk);
	if (!all)
		return 0;
	if (fsync(x->fd) < 0)
		return sd_err(x->ctx, -errno, "cannot sync '%s'", x->path);
	return send_locked(x, MIG_PAGES_ALL, NULL, 0);
}

static void *rx_thread(void *arg)
{
	struct mig_lazy_rx *x = arg;
	uint8_t *buf = malloc(BLOCK);
	uint8_t msg[MIG_MSG_MAX];
	enum mig_msg type;
	size_t len;
	int r = buf ? 0 : -ENOMEM;

	while (r == 0) {
		bool missing;

		pthread_mutex_lock(&x->lk);
		missing = x->nhave < x->nblocks;
		if (!missing && x->go) {
			pthread_mutex_unlock(&x->lk);
			break;
		}
		pthread_mutex_unlock(&x->lk);
		/* the sender pushes until every byte is here: then only GO is due, after our restore */
		x->c->idle_ms = missing ? RX_IDLE_MS : 600000;
		r = sd_mig_recv_msg(x->c, &type, msg, &len);
		if (r < 0)
			break;
		if (type == MIG_PAGES) {
			r = got_pages(x, msg, len, buf);
		} else if (type == MIG_GO) {
			pthread_mutex_lock(&x->lk);
			x->go = true;
			x->t_go = now_us();
			pthread_cond_broadcast(&x->cv);
			pthread_mutex_unlock(&x->lk);
		} else {
			r = sd_errx(x->ctx, -EPROTO, "%s sent message %d out of turn in post-copy",
				    x->c->peer, type);
		}
	}
	if (r < 0)
		failed(x, r);
	free(buf);
	return NULL;
}

int sd_mig_lazy_rx_start(struct sdump_ctx *ctx, struct mig_conn *c, const char *dir,
			 struct mig_lazy_rx **ret)
{
	struct mig_lazy_rx *x = calloc(1, sizeof(*x));
	off_t end;
	int r;

	if (!x)
		return sd_err(ctx, -ENOMEM, "cannot receive the pages");
	x->ctx = ctx;
	x->c = c;
	(void)snprintf(x->path, sizeof(x->path), "%s/pages.img", dir);
	x->fd = open(x->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	end = x->fd >= 0 ? lseek(x->fd, 0, SEEK_END) : -1;
	if (end < IMG_HEADER_SIZE) {
		r = sd_err(ctx, x->fd < 0 ? -errno : -EIO, "cannot open '%s'", x->path);
		if (x->fd >= 0)
			close(x->fd);
		free(x);
		return r;
	}
	x->size = (uint64_t)end;
	x->nblocks = (size_t)((x->size - IMG_HEADER_SIZE + BLOCK - 1) / BLOCK);
	x->have = calloc(x->nblocks + 1, 1);
	x->asked = calloc(x->nblocks + 1, 1);
	pthread_mutex_init(&x->lk, NULL);
	pthread_cond_init(&x->cv, NULL);
	pthread_mutex_init(&x->send_lk, NULL);
	r = x->have && x->asked ? -pthread_create(&x->th, NULL, rx_thread, x) : -ENOMEM;
	if (r < 0) {
		(void)sd_err(ctx, r, "cannot receive the pages");
		x->have_th = false;
		(void)sd_mig_lazy_rx_end(x, false);
		return r;
	}
	x->have_th = true;
	*ret = x;
	return 0;
}

int sd_mig_lazy_rx_go(struct mig_lazy_rx *x, pid_t pid)
{
	int r;

	pthread_mutex_lock(&x->lk);
	x->pid = pid;
	pthread_mutex_unlock(&x->lk);
	r = send_locked(x, MIG_READY, NULL, 0);
	if (r < 0) {
		failed(x, r);
		return r;
	}
	pthread_mutex_lock(&x->lk);
	while (!x->go && !x->failed)
		pthread_cond_wait(&x->cv, &x->lk);
	r = x->go ? 0 : x->err;
	if (r == 0)
		pr_warn(x->ctx,
			"post-copy: pid %d runs before its memory is here (%zu of %zu blocks of pages still at %s): if the connection dies before every page arrived, it is killed and the sender resumes its copy",
			pid, x->nblocks - x->nhave, x->nblocks, x->c->peer);
	pthread_mutex_unlock(&x->lk);
	return r;
}

int sd_mig_lazy_fetch(void *data, uint64_t off, uint64_t len)
{
	struct mig_lazy_rx *x = data;
	uint8_t req[16];
	size_t a, b, run = SIZE_MAX;
	bool whole;
	int r = 0;

	if (!len)
		return 0;
	if (off < IMG_HEADER_SIZE || off > x->size || len > x->size - off)
		return -EINVAL;
	a = (size_t)((off - IMG_HEADER_SIZE) / BLOCK);
	b = (size_t)((off + len - 1 - IMG_HEADER_SIZE) / BLOCK);
	pthread_mutex_lock(&x->lk);
	/* the blocks nobody asked for yet, asked for: one request per run of them */
	for (size_t k = a; k <= b + 1 && !x->failed; k++) {
		bool want = k <= b && !x->have[k] && !x->asked[k];

		if (want) {
			x->asked[k] = 1;
			if (run == SIZE_MAX)
				run = k;
			continue;
		}
		if (run == SIZE_MAX)
			continue;
		put_le64(req, IMG_HEADER_SIZE + (uint64_t)run * BLOCK);
		put_le64(req + 8, (uint64_t)(k - run) * BLOCK);
		if (IMG_HEADER_SIZE + (uint64_t)k * BLOCK > x->size)
			put_le64(req + 8, x->size - (IMG_HEADER_SIZE + (uint64_t)run * BLOCK));
		x->requests++;
		run = SIZE_MAX;
		pthread_mutex_unlock(&x->lk);
		r = send_locked(x, MIG_PAGES_REQ, req, sizeof(req));
		if (r < 0)
			failed(x, r);
		pthread_mutex_lock(&x->lk);
	}
	for (;;) {
		whole = true;
		for (size_t k = a; k <= b && whole; k++)
			whole = x->have[k];
		if (whole || x->failed)
			break;
		pthread_cond_wait(&x->cv, &x->lk);
	}
	r = whole ? 0 : (x->err < 0 ? x->err : -ECONNRESET);
	pthread_mutex_unlock(&x->lk);
	return r;
}

int sd_mig_lazy_rx_end(struct mig_lazy_rx *x, bool ok)
{
	int r = 0;

	if (x->have_th) {
		if (!ok) {
			/* the thread's wait ends: what it reads from here is the end */
			pthread_mutex_lock(&x->lk);
			x->stop = true;
			pthread_mutex_unlock(&x->lk);
			(void)shutdown(x->c->fd, SHUT_RD);
		}
		pthread_join(x->th, NULL);
	}
	if (ok && x->nhave < x->nblocks) {
		/* killed by the thread already, or never running: reaped */
		(void)kill(x->pid, SIGKILL);
		while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
			;
		r = sd_errx(x->ctx, x->err < 0 ? x->err : -ECONNRESET,
			    "post-copy: the connection to %s died with %zu of %zu blocks of pages here: pid %d was killed; the sender resumes its copy",
			    x->c->peer, x->nhave, x->nblocks, x->pid);
	} else if (ok) {
		pr_info(x->ctx, "post-copy: every page of pid %d here %.2f s after it ran, %" PRIu64
			" requests for pages", x->pid, x->t_go ? (now_us() - x->t_go) / 1e6 : 0.0,
			x->requests);
	}
	if (x->fd >= 0)
		close(x->fd);
	free(x->have);
	free(x->asked);
	pthread_mutex_destroy(&x->lk);
	pthread_cond_destroy(&x->cv);
	pthread_mutex_destroy(&x->send_lk);
	free(x);
	return r;
}
