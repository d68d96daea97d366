/* SPDX-License-Identifier: MIT */
/* What inject.c shares with inject_batch.c: nothing outside lib/ptrace uses it. */
#ifndef SDUMP_INJECT_PRIV_H
#define SDUMP_INJECT_PRIV_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/user.h>

#include "inject.h"

/* The batch's table, after the caller's part of the scratch area. */
#define INJECT_BATCH_BYTES (INJECT_BATCH_MAX * sizeof(struct inject_batch_call))

/* Put the saved registers back and park the thread in an event stop again. */
int sd_inject_restore_thread(struct seized_thread *t, const struct user_regs_struct *saved);

/*
 * The thread @t set to run sdump's code at @regs: our own signals blocked
 * (nothing may end us while it is not as it was) and every one of its own
 * but @allow (0: none), then its registers set. On failure all is put
 * back and -errno returned, the error not said. sd_inject_leave() puts
 * the two masks back once the thread is stopped again, its registers back.
 */
int sd_inject_enter(struct seized_thread *t, int allow, const struct user_regs_struct *regs,
		    bool fault_point, sigset_t *ret_oldmask);
void sd_inject_leave(struct seized_thread *t, const sigset_t *oldmask);

/* A thread not in signal-delivery-stop: resuming it must not consume a signal. */
struct seized_thread *sd_inject_pick_thread(struct seized *s);

/* Where the trampoline's batch code starts, or (@end) where its tgkill returns to. */
uint64_t sd_inject_tramp_batch_ip(const struct injector *inj, bool end);

#endif /* SDUMP_INJECT_PRIV_H */
