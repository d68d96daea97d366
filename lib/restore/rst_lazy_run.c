/* SPDX-License-Identifier: MIT */
/*
 * The lazy filler's copier and its life (rst_lazy.h, rst_lazy_priv.h): the
 * copier pushes every frame, the source's order first, into every target
 * that lacks it; start, the process running, the end, an abort, and the
 * detach of a restore -d, where a helper process of its own (sdump-lazy)
 * takes the fill over.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "compat.h"
#include "ctx.h"
#include "rst_lazy.h"
#include "rst_lazy_priv.h"
#include "orphan.h"
#include "util.h"

/* ---- the copier ---- */

/* Frame @i into every target that lacks it, read into @slot; whether one has to try again. */
static bool push(struct rst_lazy *l, unsigned int slot, size_t i)
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
		if (!sd_rst_lazy_frame_take(l, t, i, false))
			continue;
		r = decoded ? 0 : l->src->get(l->src, slot, i, &f);
		decoded = r == 0;
		if (r == 0) {
			pthread_rwlock_rdlock(&t->lk);
			r = sd_rst_lazy_copy_frame(l, t, &f, &placed);
			pthread_rwlock_unlock(&t->lk);
		}
		sd_rst_lazy_frame_done(l, t, i, r < 0 ? COPY_RETRY : r);
		atomic_fetch_add(&l->pushed, placed);
		if (r < 0) {
			sd_rst_lazy_fail(l, r);
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

struct copier_arg {
	struct rst_lazy *l;
	unsigned int slot;
};

static void *copier(void *arg)
{
	struct copier_arg *ca = arg;
	struct rst_lazy *l = ca->l;
	unsigned int slot = ca->slot;
	long i;

	free(ca);

	pthread_mutex_lock(&l->lock);
	while (!l->running && !atomic_load(&l->stop))
		pthread_cond_wait(&l->cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
	/* the source's order first */
	while (!atomic_load(&l->stop) && (i = l->src->next_push(l->src)) >= 0)
		while (push(l, slot, (size_t)i) && !atomic_load(&l->stop))
			(void)usleep(100);
	/* then whatever a target still lacks (a fork's, one that had to wait), until none is left */
	while (!atomic_load(&l->stop)) {
		bool any = false, live = false;
		struct timespec ts;

		for (size_t k = 0; k < l->src->nframes && !atomic_load(&l->stop); k++)
			if (wanted(l, k)) {
				any = true;
				if (push(l, slot, k))
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

static void reap_middle(struct rst_lazy *l)
{
	sd_orphan_reap(l->guard_middle);
	l->guard_middle = 0;
}

static void lazy_free(struct rst_lazy *l)
{
	reap_middle(l);
	for (size_t i = 0; i < l->nt; i++)
		sd_rst_lazy_target_free(l->t[i]);
	free(l->t);
	free(l->q);
	for (size_t i = 1; i < l->kin.n; i++)
		zclose(&l->kin.fd[i]);
	free(l->kin.pid);
	free(l->kin.fd);
	if (l->src)
		l->src->release(l->src);
	zclose(&l->wake);
	zclose(&l->pidfd);
	zclose(&l->guard);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static int start_thread(struct rst_lazy *l, pthread_t *th, bool *have, void *(*fn)(void *))
{
	if (*have)
		return 0;
	if (pthread_create(th, NULL, fn, l) != 0)
		return sd_errx(l->ctx, -EAGAIN, "cannot fill the memory of pid %d lazily: no thread", l->pid);
	*have = true;
	return 0;
}

/* What a failure of @l kills: its process, and a tree's other members (@tree). */
static int kin_make(struct rst_lazy *l, const struct rst_lazy_kin *tree)
{
	size_t n = tree ? tree->n + 1 : 1;

	l->kin.pid = calloc(n, sizeof(*l->kin.pid));
	l->kin.fd = calloc(n, sizeof(*l->kin.fd));
	if (!l->kin.pid || !l->kin.fd)
		return -ENOMEM;
	l->kin.pid[0] = l->pid;
	l->kin.fd[0] = l->pidfd;
	l->kin.n = 1;
	l->kin.root = tree ? tree->root : l->pid;
	l->kin.said = tree ? tree->said : NULL;
	for (size_t i = 0; tree && i < tree->n; i++) {
		int fd;

		if (tree->pid[i] == l->pid)
			continue;
		fd = (int)syscall(SYS_pidfd_open, tree->pid[i], 0);
		if (fd < 0)
			continue;
		l->kin.pid[l->kin.n] = tree->pid[i];
		l->kin.fd[l->kin.n++] = fd;
	}
	return 0;
}

/*
 * The copiers: one per CPU (a CPU decompresses about 1 GiB/s of frames,
 * UFFDIO_COPY goes faster), as many as the eager fill's threads would be.
 */
static int start_copiers(struct rst_lazy *l)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = (size_t)MIN(MAX(cpus, 1L), (long)RST_LAZY_SLOTS - 1);

	want = MIN(want, MAX(l->src->nframes, (size_t)1));
	while (l->ncopiers < want) {
		struct copier_arg *ca = malloc(sizeof(*ca));

		if (ca)
			*ca = (struct copier_arg){ l, (unsigned int)l->ncopiers + 1 };
		if (!ca || pthread_create(&l->copier[l->ncopiers], NULL, copier, ca) != 0) {
			free(ca);
			if (l->ncopiers > 0)
				break;
			return sd_errx(l->ctx, -EAGAIN, "cannot fill the memory of pid %d lazily: no thread", l->pid);
		}
		l->ncopiers++;
	}
	return 0;
}

int sd_rst_lazy_start(struct sdump_ctx *ctx, pid_t pid, int uffd, const struct rst_fill_lazy *vmas,
		      struct rst_lazy_src *src, uint64_t t0, bool detach, const struct rst_lazy_kin *tree,
		      struct rst_lazy **ret)
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
				.t0 = t0, .wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), .guard = -1,
				.detach = detach };
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	(void)fcntl(uffd, F_SETFL, O_NONBLOCK);
	t = sd_rst_lazy_target_new(l, uffd);
	if (!t)
		(void)close(uffd);
	for (size_t i = 0; t && r == 0 && i < vmas->nvmas; i++)
		r = sd_rst_lazy_map_add(&t->map, (struct rst_lazy_span){ vmas->vmas[i][0], vmas->vmas[i][1], 0 });
	if (!t || r < 0 || l->wake < 0 || l->pidfd < 0 || kin_make(l, tree) < 0 ||
	    sd_rst_lazy_add_target(l, t) < 0) {
		sd_rst_lazy_target_free(t);
		lazy_free(l);
		return sd_err(ctx, -ENOMEM, "cannot start the lazy fill of pid %d", pid);
	}
	/* still alone here (the fill's threads are done): the guard is forked first */
	r = sd_rst_lazy_guard_start(ctx, &l->kin, uffd, &l->guard, &l->guard_middle);
	if (r == 0)
		r = start_thread(l, &l->handler, &l->have_handler, sd_rst_lazy_handler);
	if (r < 0) {
		sd_rst_lazy_abort(l);
		return r;
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
	/* it runs: the guard's maker is reaped (gone by now, as a rule) */
	reap_middle(l);
	/* in a helper's, with detach; the handler goes on meanwhile */
	if (!l->detach && start_copiers(l) < 0)
		sd_rst_lazy_fail(l, -EAGAIN);
}

static void lazy_join(struct rst_lazy *l)
{
	for (size_t i = 0; i < l->ncopiers; i++)
		pthread_join(l->copier[i], NULL);
	/* the copier is done: nothing will wake the handler but this */
	(void)eventfd_write(l->wake, 1);
	if (l->have_handler)
		pthread_join(l->handler, NULL);
	l->ncopiers = 0;
	l->have_handler = false;
}

/* The statistics of @l, from its counters. */
static void lazy_collect(struct rst_lazy *l)
{
	l->st.faults = atomic_load(&l->faults);
	l->st.fault_pages = atomic_load(&l->fault_pages);
	l->st.pushed = atomic_load(&l->pushed);
	l->st.zero_faults = atomic_load(&l->zero_faults);
	l->st.events = atomic_load(&l->events);
	l->st.forks = atomic_load(&l->forks);
}

int sd_rst_lazy_wait(struct rst_lazy *l, struct rst_lazy_stats *ret_stats)
{
	int e;

	if (!l->ncopiers && !atomic_load(&l->stop) && start_copiers(l) < 0)
		sd_rst_lazy_fail(l, -EAGAIN);
	lazy_join(l);
	lazy_collect(l);
	e = l->err;
	if (ret_stats)
		*ret_stats = l->st;
	/* every userfaultfd closed, or the process gone: the guard may go */
	sd_rst_lazy_guard_done(l->guard);
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
	/* the caller killed the process first */
	if (l->guard >= 0)
		sd_rst_lazy_guard_done(l->guard);
	lazy_free(l);
}

static void helper_say(struct sdump_ctx *ctx, pid_t pid, const struct rst_lazy_stats *st)
{
	char run[32], all[32];

	sd_fmt_duration(run, sizeof(run), st->t_running_us);
	sd_fmt_duration(all, sizeof(all), st->t_complete_us);
	sd_log(ctx, SDUMP_LOG_INFO,
	       "restore %d: lazy (helper %d): running after %s, memory complete after %s: %" PRIu64
	       " faults served (%" PRIu64 " pages, %" PRIu64 " zero), %" PRIu64 " pages pushed, %" PRIu64
	       " events (%" PRIu64 " forks)",
	       (int)pid, (int)getpid(), run, all, st->faults, st->fault_pages, st->zero_faults, st->pushed,
	       st->events, st->forks);
}

/*
 * The helper of a detached lazy restore: the fills of @ls (a process's, or
 * every member's of the tree of @root) go on here, all at once, to their end.
 */
static void helper_main(struct rst_lazy **ls, size_t n, pid_t root)
{
	struct sdump_ctx *ctx = ls[0]->ctx;
	struct rst_lazy_stats st, all = { 0 };
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC), failed = 0;

	(void)prctl(PR_SET_NAME, "sdump-lazy", 0, 0, 0);
	(void)setsid();
	if (devnull >= 0) {
		(void)dup2(devnull, 0);
		(void)dup2(devnull, 1);
		(void)close(devnull);
	}
	(void)signal(SIGPIPE, SIG_IGN);
	for (size_t k = 0; k < n; k++) {
		struct rst_lazy *l = ls[k];
		int e;

		/* no other thread here: the locks made anew */
		pthread_mutex_init(&l->lock, NULL);
		pthread_cond_init(&l->cond, NULL);
		for (size_t i = 0; i < l->nt; i++)
			pthread_rwlock_init(&l->t[i]->lk, NULL);
		l->detach = false;
		e = start_thread(l, &l->handler, &l->have_handler, sd_rst_lazy_handler);
		if (e == 0)
			e = start_copiers(l);
		if (e < 0)
			sd_rst_lazy_fail(l, e);
	}
	for (size_t k = 0; k < n; k++) {
		pid_t pid = ls[k]->pid;
		int e = sd_rst_lazy_wait(ls[k], &st);

		if (e < 0) {
			const char *msg = sdump_ctx_last_error(ctx);

			sd_log(ctx, SDUMP_LOG_ERROR, "restore %d: the lazy fill failed, the %s killed: %s",
			       (int)pid, n > 1 ? "tree was" : "process was", msg ? msg : strerror(-e));
			failed = 1;
			continue;
		}
		helper_say(ctx, pid, &st);
		all.t_complete_us = MAX(all.t_complete_us, st.t_complete_us);
	}
	if (n > 1 && !failed) {
		char t[32];

		sd_fmt_duration(t, sizeof(t), all.t_complete_us);
		sd_log(ctx, SDUMP_LOG_INFO, "restore %d: lazy (helper %d): the memory of the tree's %zu processes complete after %s",
		       (int)root, (int)getpid(), n, t);
	}
	_exit(failed);
}

struct helper_arg {
	struct rst_lazy **ls;
	size_t n;
	pid_t root;
};

static void helper_run(void *arg)
{
	struct helper_arg *h = arg;

	helper_main(h->ls, h->n, h->root);
}

int sd_rst_lazy_detach_all(struct rst_lazy **ls, size_t n, pid_t root, struct rst_lazy_stats *ret_stats)
{
	struct helper_arg h = { ls, n, root };
	pid_t helper;
	int e = 0;

	/* the handlers stop where they are (their queues kept), for the helper's to go on from */
	for (size_t k = 0; k < n; k++) {
		ls[k]->pause = true;
		(void)eventfd_write(ls[k]->wake, 1);
	}
	for (size_t k = 0; k < n; k++) {
		if (ls[k]->have_handler)
			pthread_join(ls[k]->handler, NULL);
		ls[k]->have_handler = false;
		ls[k]->pause = false;
	}
	/* nobody's child, as the guard */
	helper = sd_orphan_spawn(helper_run, &h);
	if (helper < 0) {
		/* no helper: the fills end here, as without -d */
		pr_warn(ls[0]->ctx, "no helper process for the lazy fill of pid %d: it ends before the restore returns",
			root);
		for (size_t k = 0; k < n; k++)
			if (start_thread(ls[k], &ls[k]->handler, &ls[k]->have_handler, sd_rst_lazy_handler) < 0)
				sd_rst_lazy_fail(ls[k], -EAGAIN);
		for (size_t k = 0; k < n; k++) {
			int r = sd_rst_lazy_wait(ls[k], &ret_stats[k]);

			if (r < 0 && e == 0)
				e = r;
		}
		return e;
	}
	for (size_t k = 0; k < n; k++) {
		ls[k]->st.helper = helper;
		ret_stats[k] = ls[k]->st;
		/* our copies only: the helper and the guards hold theirs */
		lazy_free(ls[k]);
	}
	return 0;
}

int sd_rst_lazy_detach(struct rst_lazy *l, struct rst_lazy_stats *ret_stats)
{
	struct rst_lazy_stats st;
	int e = sd_rst_lazy_detach_all(&l, 1, l->pid, &st);

	if (ret_stats)
		*ret_stats = st;
	return e;
}
