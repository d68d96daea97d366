/* SPDX-License-Identifier: MIT */
/*
 * Inside the lazy filler (rst_lazy.h): what its two files share.
 * rst_lazy.c places pages and runs the handler (faults and events);
 * rst_lazy_run.c runs the copier, starts, ends and detaches the filler.
 */
#ifndef SDUMP_RST_LAZY_PRIV_H
#define SDUMP_RST_LAZY_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sdump.h"
#include "rst_lazy.h"

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
	struct rst_lazy_kin kin;	/* what a failure kills: it, with a tree every member */
	struct rst_lazy_src *src;
	uint64_t psz, t0;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* a frame's state changed, the copier may start, a new target */
	struct target **t;	/* under lock; added by the handler only */
	size_t nt, capt;
	int wake;		/* eventfd: the handler looks again at its targets */
	int guard;		/* socket to the guard (rst_lazy_guard.c) */
	pid_t guard_middle;	/* the process that forked it, not reaped yet (or 0) */
	bool detach;		/* the fill goes on in a helper (sd_rst_lazy_detach) */
	bool pause;		/* the handler stops, for the helper to take over */
	struct fault *q;	/* faults read, not served yet (the handler's) */
	size_t nq, capq;
	pthread_t handler, copier[RST_LAZY_SLOTS - 1];
	bool have_handler;
	size_t ncopiers;	/* started: copier i uses the source's slot i + 1 */
	bool running;		/* the process runs: the copier pushes */
	atomic_bool stop;
	int err;		/* the first failure, under lock */
	struct rst_lazy_stats st;	/* under lock, but for these: */
	atomic_uint_fast64_t faults, fault_pages, pushed, zero_faults, events, forks;
};

/* The targets, their frames, failures (rst_lazy.c). */
struct target *sd_rst_lazy_target_new(struct rst_lazy *l, int uffd);
void sd_rst_lazy_target_free(struct target *t);
int sd_rst_lazy_add_target(struct rst_lazy *l, struct target *t);
/* The restored process killed (first failure only), everything told to stop. */
void sd_rst_lazy_fail(struct rst_lazy *l, int err);
bool sd_rst_lazy_frame_take(struct rst_lazy *l, struct target *t, size_t i, bool wait);
void sd_rst_lazy_frame_done(struct rst_lazy *l, struct target *t, size_t i, int r);
int sd_rst_lazy_copy_frame(struct rst_lazy *l, struct target *t, const struct rst_lazy_frame *f,
			   uint64_t *placed);
void *sd_rst_lazy_handler(void *arg);

#endif /* SDUMP_RST_LAZY_PRIV_H */
