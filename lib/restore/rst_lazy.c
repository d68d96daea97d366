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
#include <dirent.h>
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
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "array.h"
#include "compat.h"
#include "ctx.h"
#include "rst_lazy.h"
#include "util.h"

enum { PENDING, BUSY, DONE };
enum { COPY_OK, COPY_RETRY, COPY_GONE };

struct target {
	int uffd;
	pthread_rwlock_t lk;	/* of map: written while the handler reads the uffd */
	struct rst_lazy_map map;
	uint8_t *state;		/* by frame, under l->lock */
	size_t ndone;		/* under l->lock */
	size_t busy;		/* frames BUSY, under l->lock: not closed while any is */
	bool dead;		/* its mm is gone */
	bool closed;		/* by the handler, which alone closes */
};

struct fault {
	struct target *t;
	uint64_t addr;
};

struct rst_lazy {
	struct sdump_ctx *ctx;
	pid_t pid;
	int pidfd;
	struct rst_lazy_src *src;
	uint64_t psz, t0;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* a frame's state changed, the copier may start, a new target */
	struct target **t;	/* under lock; added by the handler only */
	size_t nt, capt;
	int wake;		/* eventfd: the handler looks again at its targets */
	pthread_t handler, copier;
	bool have_handler, have_copier;
	bool running;		/* the process runs: the copier pushes */
	atomic_bool stop;
	int err;		/* the first failure, under lock */
	struct rst_lazy_stats st;	/* under lock, but for these: */
	atomic_uint_fast64_t faults, fault_pages, pushed, zero_faults, events, forks;
};

uint64_t sd_rst_lazy_features(void)
{
	return UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |
	       UFFD_FEATURE_EVENT_UNMAP;
}

static struct target *target_new(struct rst_lazy *l, int uffd)
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

static void target_free(struct target *t)
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

/* @pid and everything below it, by /proc/PID/task/TID/children, into @a. */
static void collect(pid_t pid, pid_t **a, size_t *n, size_t *cap, int depth)
{
	char path[64];
	DIR *d;
	struct dirent *de;

	if (ARRAY_RESERVE(*a, *cap, *n + 1, 16) < 0)
		return;
	(*a)[(*n)++] = pid;
	if (depth > 64)
		return;
	(void)snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char cp[320], *buf = NULL, *p;

		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(cp, sizeof(cp), "/proc/%d/task/%s/children", (int)pid, de->d_name);
		if (sd_read_file(AT_FDCWD, cp, &buf, NULL) < 0)
			continue;
		for (p = buf; *p;) {
			long c = strtol(p, &p, 10);

			if (c > 0)
				collect((pid_t)c, a, n, cap, depth + 1);
			while (*p == ' ' || *p == '\n')
				p++;
			if (*p && (*p < '0' || *p > '9'))
				break;
		}
		free(buf);
	}
	if (d)
		closedir(d);
}

/*
 * The restored process and what it forked killed, and waited for (by
 * pidfd: the kernel frees their mm once they are gone), so that no page
 * they miss is ever read as zeros.
 */
static void kill_all(struct rst_lazy *l)
{
	pid_t *a = NULL;
	size_t n = 0, cap = 0;

	/* the process first: it forks nothing more */
	if (l->pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, l->pidfd, SIGKILL, NULL, 0);
	collect(l->pid, &a, &n, &cap, 0);
	for (size_t i = 0; i < n; i++) {
		int fd = (int)syscall(SYS_pidfd_open, a[i], 0);
		struct pollfd p = { fd, POLLIN, 0 };

		if (fd < 0)
			continue;
		(void)syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		while (poll(&p, 1, 5000) < 0 && errno == EINTR)
			;
		(void)close(fd);
	}
	if (l->pidfd >= 0) {
		struct pollfd p = { l->pidfd, POLLIN, 0 };

		while (poll(&p, 1, 5000) < 0 && errno == EINTR)
			;
	}
	free(a);
}

static void fail(struct rst_lazy *l, int err)
{
	bool first;

	pthread_mutex_lock(&l->lock);
	first = l->err == 0;
	if (first)
		l->err = err;
	pthread_mutex_unlock(&l->lock);
	if (first) {
		pr_warn(l->ctx, "the restored pid %d is killed: its memory cannot be filled in", l->pid);
		kill_all(l);
	}
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
static int copy_frame(struct rst_lazy *l, struct target *t, const struct rst_lazy_frame *f,
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
static void frame_done(struct rst_lazy *l, struct target *t, size_t i, int r)
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
static bool frame_take(struct rst_lazy *l, struct target *t, size_t i, bool wait)
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
	if (!frame_take(l, t, (size_t)i, true)) {
		/* copied by the other thread meanwhile (or the target is gone) */
		wake_page(l, t, addr);
		r = COPY_OK;
		goto out;
	}
	r = l->src->get(l->src, 0, (size_t)i, &f);
	if (r == 0)
		r = copy_frame(l, t, &f, &placed);
	frame_done(l, t, (size_t)i, r < 0 ? COPY_RETRY : r);
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

static int add_target(struct rst_lazy *l, struct target *t)
{
	int r;

	pthread_mutex_lock(&l->lock);
	r = ARRAY_RESERVE(l->t, l->capt, l->nt + 1, 4);
	if (r == 0)
		l->t[l->nt++] = t;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	return r;
}

/* A fork: the child's mm, its lazy pages where the parent's were, its frames those the parent lacked. */
static int on_fork(struct rst_lazy *l, struct target *parent, int ufd)
{
	struct target *t = target_new(l, ufd);
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
		r = add_target(l, t);
	}
	if (r < 0) {
		if (t)
			target_free(t);
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

static void *handler(void *arg)
{
	struct rst_lazy *l = arg;
	struct fault *q = NULL;
	size_t nq = 0, capq = 0;
	struct pollfd *p = NULL;
	struct target **pt = NULL;
	size_t cap = 0;

	while (!atomic_load(&l->stop) && close_complete(l)) {
		size_t n = 1, kept = 0;
		int r = 0;

		/* the faults of a target closed since are no more ours to serve */
		for (size_t i = 0; i < nq; i++)
			if (!q[i].t->closed)
				q[kept++] = q[i];
		nq = kept;
		kept = 0;

		pthread_mutex_lock(&l->lock);
		if (ARRAY_RESERVE(p, cap, l->nt + 1, 8) < 0 || !(pt = realloc(pt, cap * sizeof(*pt)))) {
			pthread_mutex_unlock(&l->lock);
			fail(l, sd_err(l->ctx, -ENOMEM, "cannot fill the memory of pid %d", l->pid));
			break;
		}
		p[0] = (struct pollfd){ l->wake, POLLIN, 0 };
		for (size_t i = 0; i < l->nt; i++)
			if (!l->t[i]->closed) {
				pt[n] = l->t[i];
				p[n++] = (struct pollfd){ l->t[i]->uffd, POLLIN, 0 };
			}
		pthread_mutex_unlock(&l->lock);
		/* faults waiting for an event: look again soon */
		if (poll(p, n, nq ? 1 : -1) < 0 && errno != EINTR) {
			fail(l, sd_err(l->ctx, -errno, "cannot fill the memory of pid %d", l->pid));
			break;
		}
		if (p[0].revents) {
			eventfd_t v;

			(void)eventfd_read(l->wake, &v);
		}
		for (size_t i = 1; i < n && r == 0; i++)
			if (p[i].revents)
				r = drain(l, pt[i], &q, &nq, &capq);
		for (size_t i = 0; i < nq && r >= 0; i++) {
			r = serve(l, q[i].t, q[i].addr);
			if (r == COPY_RETRY)
				q[kept++] = q[i];
		}
		if (r < 0) {
			fail(l, r);
			break;
		}
		nq = kept;
	}
	free(q);
	free(p);
	free(pt);
	return NULL;
}

/* ---- the copier ---- */

/* Frame @i into every target that lacks it; whether one has to try again. */
static bool push(struct rst_lazy *l, size_t i)
{
	struct rst_lazy_frame f;
	bool decoded = false, again = false;

	for (size_t k = 0;; k++) {
		struct target *t;
		uint64_t placed = 0;
		int r;

		pthread_mutex_lock(&l->lock);
		t = k < l->nt ? l->t[k] : NULL;
		pthread_mutex_unlock(&l->lock);
		if (!t || atomic_load(&l->stop))
			break;
		if (!frame_take(l, t, i, false))
			continue;
		r = decoded ? 0 : l->src->get(l->src, 1, i, &f);
		decoded = r == 0;
		if (r == 0) {
			pthread_rwlock_rdlock(&t->lk);
			r = copy_frame(l, t, &f, &placed);
			pthread_rwlock_unlock(&t->lk);
		}
		frame_done(l, t, i, r < 0 ? COPY_RETRY : r);
		atomic_fetch_add(&l->pushed, placed);
		if (r < 0) {
			fail(l, r);
			break;
		}
		again |= r == COPY_RETRY;
	}
	return again;
}

/* Whether some live target still lacks frame @i. */
static bool wanted(struct rst_lazy *l, size_t i)
{
	bool w = false;

	pthread_mutex_lock(&l->lock);
	for (size_t k = 0; k < l->nt && !w; k++)
		w = !l->t[k]->closed && !l->t[k]->dead && l->t[k]->state[i] == PENDING;
	pthread_mutex_unlock(&l->lock);
	return w;
}

static void *copier(void *arg)
{
	struct rst_lazy *l = arg;
	long i;

	pthread_mutex_lock(&l->lock);
	while (!l->running && !atomic_load(&l->stop))
		pthread_cond_wait(&l->cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
	/* the source's order first */
	while (!atomic_load(&l->stop) && (i = l->src->next_push(l->src)) >= 0)
		while (push(l, (size_t)i) && !atomic_load(&l->stop))
			(void)usleep(100);
	/* then whatever a target still lacks (a fork's, one that had to wait), until none is left */
	while (!atomic_load(&l->stop)) {
		bool any = false, live = false;
		struct timespec ts;

		for (size_t k = 0; k < l->src->nframes && !atomic_load(&l->stop); k++)
			if (wanted(l, k)) {
				any = true;
				if (push(l, k))
					(void)usleep(100);
			}
		if (any)
			continue;
		pthread_mutex_lock(&l->lock);
		for (size_t k = 0; k < l->nt; k++)
			live |= !l->t[k]->closed;
		if (live && !atomic_load(&l->stop)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			(void)pthread_cond_timedwait(&l->cond, &l->lock, &ts);
		}
		pthread_mutex_unlock(&l->lock);
		if (!live)
			break;
	}
	return NULL;
}

/* ---- the interface ---- */

static void lazy_free(struct rst_lazy *l)
{
	for (size_t i = 0; i < l->nt; i++)
		target_free(l->t[i]);
	free(l->t);
	if (l->src)
		l->src->release(l->src);
	zclose(&l->wake);
	zclose(&l->pidfd);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int sd_rst_lazy_start(struct sdump_ctx *ctx, pid_t pid, int uffd, const struct rst_fill_lazy *vmas,
		      struct rst_lazy_src *src, uint64_t t0, struct rst_lazy **ret)
{
	struct rst_lazy *l = calloc(1, sizeof(*l));
	struct target *t = NULL;
	int r = 0;

	if (!l) {
		(void)close(uffd);
		src->release(src);
		return sd_err(ctx, -ENOMEM, "cannot start the lazy fill of pid %d", pid);
	}
	*l = (struct rst_lazy){ .ctx = ctx, .pid = pid, .src = src, .psz = (uint64_t)sysconf(_SC_PAGESIZE),
				.t0 = t0, .wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	(void)fcntl(uffd, F_SETFL, O_NONBLOCK);
	t = target_new(l, uffd);
	if (!t)
		(void)close(uffd);
	for (size_t i = 0; t && r == 0 && i < vmas->nvmas; i++)
		r = sd_rst_lazy_map_add(&t->map, (struct rst_lazy_span){ vmas->vmas[i][0], vmas->vmas[i][1], 0 });
	if (!t || r < 0 || l->wake < 0 || l->pidfd < 0 || add_target(l, t) < 0) {
		target_free(t);
		lazy_free(l);
		return sd_err(ctx, -ENOMEM, "cannot start the lazy fill of pid %d", pid);
	}
	if (pthread_create(&l->handler, NULL, handler, l) == 0)
		l->have_handler = true;
	if (l->have_handler && pthread_create(&l->copier, NULL, copier, l) == 0)
		l->have_copier = true;
	if (!l->have_copier) {
		sd_rst_lazy_abort(l);
		return sd_errx(ctx, -EAGAIN, "cannot start the lazy fill of pid %d: no threads", pid);
	}
	*ret = l;
	return 0;
}

void sd_rst_lazy_running(struct rst_lazy *l)
{
	pthread_mutex_lock(&l->lock);
	l->running = true;
	l->st.t_running_us = now_us() - l->t0;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

static void lazy_join(struct rst_lazy *l)
{
	if (l->have_copier)
		pthread_join(l->copier, NULL);
	/* the copier is done: nothing will wake the handler but this */
	(void)eventfd_write(l->wake, 1);
	if (l->have_handler)
		pthread_join(l->handler, NULL);
	l->have_copier = l->have_handler = false;
}

int sd_rst_lazy_wait(struct rst_lazy *l, struct rst_lazy_stats *ret_stats)
{
	int e;

	lazy_join(l);
	l->st.faults = atomic_load(&l->faults);
	l->st.fault_pages = atomic_load(&l->fault_pages);
	l->st.pushed = atomic_load(&l->pushed);
	l->st.zero_faults = atomic_load(&l->zero_faults);
	l->st.events = atomic_load(&l->events);
	l->st.forks = atomic_load(&l->forks);
	e = l->err;
	if (ret_stats)
		*ret_stats = l->st;
	lazy_free(l);
	return e;
}

void sd_rst_lazy_abort(struct rst_lazy *l)
{
	atomic_store(&l->stop, true);
	pthread_mutex_lock(&l->lock);
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	(void)eventfd_write(l->wake, 1);
	lazy_join(l);
	lazy_free(l);
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
