/* SPDX-License-Identifier: MIT */
/*
 * Auto-converge (mig_throttle.c): a process slowed down to about PCT % of
 * its CPU time by a helper process, through its cgroup's cpu.max where it
 * has one of its own, else short freezes; undone when stopped, or when
 * the sender dies.
 */
#ifndef SDUMP_MIG_THROTTLE_H
#define SDUMP_MIG_THROTTLE_H

#include <sys/types.h>

#include "sdump.h"

struct mig_throttle {
	pid_t helper;		/* 0: not running */
	int wfd;		/* its pipe: closed, it undoes what it did and exits */
	const char *how;	/* "cpu.max of its cgroup" or "short freezes" */
};

/* @pid slowed to @pct % (1-99) until sd_mig_throttle_stop; t->how says how. */
int sd_mig_throttle_start(struct sdump_ctx *ctx, pid_t pid, unsigned int pct, struct mig_throttle *t);
/* Undone (cpu.max back, every thread detached) and the helper reaped; nothing if not running. */
void sd_mig_throttle_stop(struct mig_throttle *t);

#endif /* SDUMP_MIG_THROTTLE_H */
