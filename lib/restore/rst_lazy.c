/* SPDX-License-Identifier: MIT */
/*
 * The lazy filler (rst_lazy.h): two threads over a userfaultfd of the
 * restored process's mm, registered missing mode on its lazy VMAs.
 *
 *  - The handler reads the userfaultfd. A page fault is served frame-wise:
 *    the frame that holds the page is decoded and every page of it still
 *    missing goes in with UFFDIO_COPY (EEXIST: the page is there, skipped),
 *    which wakes the faulting thread; a page no frame holds gets the zero
 *    page. The events keep the map of where each image page now lives: a
 *    fork gives a userfaultfd of the child's mm (a target of its own, with
 *    the frames its parent had by then), mremap moves a range, munmap and
 *    MADV_DONTNEED/REMOVE drop one (its pages are zeros from then on, never
 *    the image's).
 *  - The copier pushes every frame the source gives, in its order, into
 *    every target that has not had it, then any left (a fork's), and wakes
 *    the handler to close a target once it has every frame.
 *
 * A frame is PENDING, BUSY (one thread copies it) or DONE per target: a
 * second thread faulting on a BUSY frame waits for the first. Whoever
 * copies holds the target's map for reading; the handler holds it for
 * writing while it reads the userfaultfd, so that no copy ever uses a map
 * older than an event the kernel has delivered. An event not yet read
 * makes UFFDIO_COPY fail with EAGAIN (the kernel's mmap_changing): the
 * copy is given up, the frame PENDING again, and tried after the event.
 *
 * Closing a userfaultfd with pages still missing would let the process
 * fault them in as zeros: a target is closed only once it has every
 * frame; on any failure the process (and what it forked) is killed first,
 * and its userfaultfds closed only once it is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "array.h"
#include "compat.h"
#include "ctx.h"
#include "fault.h"
#include "rst_lazy.h"
#include "rst_lazy_priv.h"
#include "util.h"

uint64_t sd_rst_lazy_features(void)
{
	return UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |
	       UFFD_FEATURE_EVENT_UNMAP;
}

struct target *sd_rst_lazy_target_new(struct rst_lazy *l, int uffd)
{
	struct target *t = calloc(1, sizeof(*t));

	if (!t || !(t->state = calloc(l->src->nframes + 1, 1))) {
		free(t);
		return NULL;
	}
	t->uffd = uffd;
	pthread_rwlock_init(&t->lk, NULL);
	return t;
}

void sd_rst_lazy_target_free(struct target *t)
{
	if (!t)
		return;
	if (!t->closed)
		zclose(&t->uffd);
	pthread_rwlock_destroy(&t->lk);
	sd_rst_lazy_map_release(&t->map);
	free(t->state);
	free(t);
}

/* ---- failure: the process goes before any userfaultfd is closed ---- */

void sd_rst_lazy_fail(struct rst_lazy *l, int err)
{
	bool first;

	pthread_mutex_lock(&l->lock);
	first = l->err == 0;
	if (first)
		l->err = err;
	pthread_mutex_unlock(&l->lock);
	if (first)
		sd_rst_lazy_kill(&l->kin);
	atomic_store(&l->stop, true);
	pthread_mutex_lock(&l->lock);
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	(void)eventfd_write(l->wake, 1);
}

/* ---- placing pages ---- */

/* @len bytes at @dst, page by page where some are there already (EEXIST). */
static int copy_range(struct rst_lazy *l, struct target *t, uint64_t dst, const uint8_t *src,
		      uint64_t len, uint64_t *placed)
{
	while (len > 0) {
		struct uffdio_copy c = { .dst = dst, .src = (uintptr_t)src, .len = len, .mode = 0 };
		uint64_t skip;
		int e;

		if (fault_fails(FAULT_WRITE))
			return sd_err(l->ctx, -errno, "cannot fill the memory of pid %d at 0x%" PRIx64,
				      l->pid, dst);
		if (ioctl(t->uffd, UFFDIO_COPY, &c) == 0) {
			*placed += len / l->psz;
			return COPY_OK;
		}
		e = c.copy < 0 ? (int)-c.copy : errno;
		if (c.copy > 0) {
			skip = (uint64_t)c.copy;
			*placed += skip / l->psz;
		} else if (e == EEXIST) {
			skip = l->psz;
		} else if (e == EAGAIN) {
			return COPY_RETRY;
		} else if (e == ESRCH) {
			return COPY_GONE;
		} else if (e == ENOENT) {
			/*
			 * No VMA registered with us there (an unmap not yet
			 * read would be EAGAIN): nothing to place.
			 */
			skip = len;
		} else {
			return sd_err(l->ctx, -e, "cannot fill the memory of pid %d at 0x%" PRIx64,
				      l->pid, dst);
		}
		dst += skip;
		src += skip;
		len -= skip;
	}
	return COPY_OK;
}

/* Every piece of frame @f where target @t has it now (its map held for reading). */
int sd_rst_lazy_copy_frame(struct rst_lazy *l, struct target *t, const struct rst_lazy_frame *f,
		      uint64_t *placed)
{
	for (size_t k = 0; k < f->n; k++) {
		const struct rst_lazy_piece *p = &f->p[k];

		for (size_t i = 0; i < t->map.n; i++) {
			const struct rst_lazy_span *s = &t->map.sp[i];
			uint64_t a = MAX(p->addr, s->start - (uint64_t)s->shift);
			uint64_t b = MIN(p->addr + p->len, s->end - (uint64_t)s->shift);
			int r;

			if (a >= b)
				continue;
			r = copy_range(l, t, a + (uint64_t)s->shift, p->data + (a - p->addr), b - a, placed);
			if (r != COPY_OK)
				return r;
		}
	}
	return COPY_OK;
}

/* The state of frame @i in @t after a copy that ended with @r. */
void sd_rst_lazy_frame_done(struct rst_lazy *l, struct target *t, size_t i, int r)
{
	bool complete;

	pthread_mutex_lock(&l->lock);
	if (r == COPY_GONE)
		t->dead = true;
	t->busy--;
	if (r == COPY_OK || r == COPY_GONE) {
		t->state[i] = DONE;
		t->ndone++;
	} else {
		t->state[i] = PENDING;
	}
	complete = t->ndone == l->src->nframes || t->dead;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	if (complete)
		(void)eventfd_write(l->wake, 1);
}

/* Take frame @i of @t: false when it is DONE or another thread has it (waited for if @wait). */
bool sd_rst_lazy_frame_take(struct rst_lazy *l, struct target *t, size_t i, bool wait)
{
	bool mine = false;

	pthread_mutex_lock(&l->lock);
	while (wait && t->state[i] == BUSY && !atomic_load(&l->stop))
		pthread_cond_wait(&l->cond, &l->lock);
	if (t->state[i] == PENDING && !t->dead) {
		t->state[i] = BUSY;
		t->busy++;
		mine = true;
	}
	pthread_mutex_unlock(&l->lock);
	return mine;
}

static int zero_page(struct rst_lazy *l, struct target *t, uint64_t addr)
{
	struct uffdio_zeropage z = { .range = { addr, l->psz }, .mode = 0 };

	atomic_fetch_add(&l->zero_faults, 1);
	if (ioctl(t->uffd, UFFDIO_ZEROPAGE, &z) == 0)
		return COPY_OK;
	switch (z.zeropage < 0 ? (int)-z.zeropage : errno) {
	case EEXIST:
	case ENOENT:
		break;
	case EAGAIN:
		return COPY_RETRY;
	case ESRCH:
		return COPY_GONE;
	default:
		return sd_err(l->ctx, -errno, "cannot fill the memory of pid %d at 0x%" PRIx64, l->pid, addr);
	}
	return COPY_OK;
}

static void wake_page(struct rst_lazy *l, struct target *t, uint64_t addr)
{
	struct uffdio_range w = { addr, l->psz };

	(void)ioctl(t->uffd, UFFDIO_WAKE, &w);
}

/* A fault of @t at @addr: COPY_OK (served), COPY_RETRY (after the next events), or -errno. */
static int serve(struct rst_lazy *l, struct target *t, uint64_t addr)
{
	struct rst_lazy_frame f;
	uint64_t img, placed = 0;
	long i;
	int r;

	pthread_rwlock_rdlock(&t->lk);
	if (!sd_rst_lazy_map_find(&t->map, addr, &img) || (i = l->src->frame_of(l->src, img)) < 0) {
		r = zero_page(l, t, addr);
		goto out;
	}
	if (!sd_rst_lazy_frame_take(l, t, (size_t)i, true)) {
		/* copied by the other thread meanwhile (or the target is gone) */
		wake_page(l, t, addr);
		r = COPY_OK;
		goto out;
	}
	r = l->src->get(l->src, 0, (size_t)i, &f);
	if (r == 0)
		r = sd_rst_lazy_copy_frame(l, t, &f, &placed);
	sd_rst_lazy_frame_done(l, t, (size_t)i, r < 0 ? COPY_RETRY : r);
	atomic_fetch_add(&l->fault_pages, placed);
	if (r == COPY_OK)
		wake_page(l, t, addr);
out:
	pthread_rwlock_unlock(&t->lk);
	if (r == COPY_GONE)
		r = COPY_OK;
	return r;
}

/* ---- the handler ---- */

/* @t one of ours: its index, or -ENOMEM. */
int sd_rst_lazy_add_target(struct rst_lazy *l, struct target *t)
{
	int r;

	pthread_mutex_lock(&l->lock);
	r = ARRAY_RESERVE(l->t, l->capt, l->nt + 1, 4);
	if (r == 0) {
		l->t[l->nt++] = t;
		r = (int)l->nt - 1;
	}
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	return r;
}

/* A fork: the child's mm, its lazy pages where the parent's were, its frames those the parent lacked. */
static int on_fork(struct rst_lazy *l, struct target *parent, int ufd)
{
	struct target *t = sd_rst_lazy_target_new(l, ufd);
	int r = t ? 0 : -ENOMEM;

	atomic_fetch_add(&l->forks, 1);
	(void)fcntl(ufd, F_SETFL, O_NONBLOCK);
	for (size_t i = 0; r == 0 && i < parent->map.n; i++)
		r = sd_rst_lazy_map_add(&t->map, parent->map.sp[i]);
	if (r == 0) {
		pthread_mutex_lock(&l->lock);
		for (size_t i = 0; i < l->src->nframes; i++)
			if (parent->state[i] == DONE) {
				t->state[i] = DONE;
				t->ndone++;
			}
		pthread_mutex_unlock(&l->lock);
		r = sd_rst_lazy_add_target(l, t);
		/* the guard's copy first: from here the child's pages are ours to serve */
		if (r >= 0) {
			r = sd_rst_lazy_guard_add(l->guard, (uint32_t)r, ufd);
			if (r < 0)
				return sd_err(l->ctx, r, "cannot follow a fork of pid %d: its guard is gone", l->pid);
			return 0;
		}
	}
	if (r < 0) {
		if (t)
			sd_rst_lazy_target_free(t);
		else
			(void)close(ufd);
		return sd_err(l->ctx, r, "cannot follow a fork of pid %d", l->pid);
	}
	return 0;
}

/* Read what @t's userfaultfd has, its map held for writing: events applied, faults queued. */
static int drain(struct rst_lazy *l, struct target *t, struct fault **q, size_t *nq, size_t *capq)
{
	struct uffd_msg m[16];
	int r = 0;

	pthread_rwlock_wrlock(&t->lk);
	for (;;) {
		ssize_t n = read(t->uffd, m, sizeof(m));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (size_t k = 0; k < (size_t)n / sizeof(*m) && r == 0; k++) {
			switch (m[k].event) {
			case UFFD_EVENT_PAGEFAULT:
				atomic_fetch_add(&l->faults, 1);
				r = ARRAY_RESERVE(*q, *capq, *nq + 1, 64);
				if (r == 0)
					(*q)[(*nq)++] = (struct fault){ t, m[k].arg.pagefault.address & ~(l->psz - 1) };
				break;
			case UFFD_EVENT_FORK:
				atomic_fetch_add(&l->events, 1);
				r = on_fork(l, t, (int)m[k].arg.fork.ufd);
				break;
			case UFFD_EVENT_REMAP:
				atomic_fetch_add(&l->events, 1);
				r = sd_rst_lazy_map_move(&t->map, m[k].arg.remap.from, m[k].arg.remap.to,
							 m[k].arg.remap.len);
				break;
			case UFFD_EVENT_REMOVE:
			case UFFD_EVENT_UNMAP:
				atomic_fetch_add(&l->events, 1);
				r = sd_rst_lazy_map_drop(&t->map, m[k].arg.remove.start, m[k].arg.remove.end);
				break;
			}
		}
		if (r < 0)
			break;
	}
	pthread_rwlock_unlock(&t->lk);
	return r;
}

/* Close the targets that have every frame; whether any is left. */
static bool close_complete(struct rst_lazy *l)
{
	bool left = false;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->nt; i++) {
		struct target *t = l->t[i];

		if (t->closed)
			continue;
		if ((t->ndone == l->src->nframes || t->dead) && !t->busy) {
			(void)sd_rst_lazy_guard_close(l->guard, (uint32_t)i);
			(void)close(t->uffd);
			t->closed = true;
			continue;
		}
		left = true;
	}
	if (!left && !l->st.t_complete_us)
		l->st.t_complete_us = now_us() - l->t0;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	return left;
}

void *sd_rst_lazy_handler(void *arg)
{
	struct rst_lazy *l = arg;
	struct pollfd *p = NULL;
	struct target **pt = NULL;
	size_t cap = 0;

	while (!atomic_load(&l->stop) && !l->pause && close_complete(l)) {
		size_t n = 2, kept = 0;
		int r = 0;

		/* the faults of a target closed since are no more ours to serve */
		for (size_t i = 0; i < l->nq; i++)
			if (!l->q[i].t->closed)
				l->q[kept++] = l->q[i];
		l->nq = kept;
		kept = 0;

		pthread_mutex_lock(&l->lock);
		if (ARRAY_RESERVE(p, cap, l->nt + 2, 8) < 0 || !(pt = realloc(pt, cap * sizeof(*pt)))) {
			pthread_mutex_unlock(&l->lock);
			sd_rst_lazy_fail(l, sd_err(l->ctx, -ENOMEM, "cannot fill the memory of pid %d", l->pid));
			break;
		}
		p[0] = (struct pollfd){ l->wake, POLLIN, 0 };
		/* the guard never talks: anything on its socket is its end */
		p[1] = (struct pollfd){ l->guard, POLLIN, 0 };
		for (size_t i = 0; i < l->nt; i++)
			if (!l->t[i]->closed) {
				pt[n] = l->t[i];
				p[n++] = (struct pollfd){ l->t[i]->uffd, POLLIN, 0 };
			}
		pthread_mutex_unlock(&l->lock);
		/* faults waiting for an event: look again soon */
		if (poll(p, n, l->nq ? 1 : -1) < 0 && errno != EINTR) {
			sd_rst_lazy_fail(l, sd_err(l->ctx, -errno, "cannot fill the memory of pid %d", l->pid));
			break;
		}
		if (p[0].revents) {
			eventfd_t v;

			(void)eventfd_read(l->wake, &v);
		}
		if (p[1].revents) {
			sd_rst_lazy_fail(l, sd_errx(l->ctx, -EPIPE, "the lazy fill of pid %d lost its guard (killed?)", l->pid));
			break;
		}
		for (size_t i = 2; i < n && r == 0; i++)
			if (p[i].revents)
				r = drain(l, pt[i], &l->q, &l->nq, &l->capq);
		for (size_t i = 0; i < l->nq && r >= 0; i++) {
			r = serve(l, l->q[i].t, l->q[i].addr);
			if (r == COPY_RETRY)
				l->q[kept++] = l->q[i];
		}
		if (r < 0) {
			sd_rst_lazy_fail(l, r);
			break;
		}
		l->nq = kept;
	}
	free(p);
	free(pt);
	return NULL;
}

int sd_rst_lazy_vmas_add(struct rst_fill_lazy *lz, uint64_t start, uint64_t end)
{
	if (ARRAY_RESERVE(lz->vmas, lz->capvmas, lz->nvmas + 1, 16) < 0)
		return -ENOMEM;
	lz->vmas[lz->nvmas][0] = start;
	lz->vmas[lz->nvmas][1] = end;
	lz->nvmas++;
	return 0;
}
