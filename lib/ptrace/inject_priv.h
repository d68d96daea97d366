/* SPDX-License-Identifier: MIT */
/* What inject.c shares with inject_batch.c: nothing outside lib/ptrace uses it. */
#ifndef SDUMP_INJECT_PRIV_H
#define SDUMP_INJECT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

#include "inject.h"

/* The batch's table, after the caller's part of the scratch area. */
#define INJECT_BATCH_BYTES (INJECT_BATCH_MAX * sizeof(struct inject_batch_call))

/* Put the saved registers back and park the thread in an event stop again. */
int sd_inject_restore_thread(struct seized_thread *t, const struct user_regs_struct *saved);

/* A thread not in signal-delivery-stop: resuming it must not consume a signal. */
struct seized_thread *sd_inject_pick_thread(struct seized *s);

/* Where the trampoline's batch code starts, or (@end) where its tgkill returns to. */
uint64_t sd_inject_tramp_batch_ip(const struct injector *inj, bool end);

#endif /* SDUMP_INJECT_PRIV_H */
