/* SPDX-License-Identifier: MIT */
/*
 * What the final dump saves of an fd beyond its kind's fields: the owner and
 * signal of its I/O signals, the locks held through it, which fds share one
 * open file description; and what it refuses of these (dump_fd_extra.c).
 * dump_files.c calls sd_dump_fd_extra() once per fd it takes, and
 * sd_dump_fd_table() once the whole table is in.
 */
#ifndef SDUMP_DUMP_FD_EXTRA_H
#define SDUMP_DUMP_FD_EXTRA_H

#include "sdump.h"
#include "bgread.h"
#include "dump_fd_kinds.h"
#include "pstate.h"

/*
 * The owner (F_GETOWN_EX) and signal (F_GETSIG) of fd @p, and the locks its
 * fdinfo @info lists, into @d (kind and generic fields set). Refuses, with
 * one line: a flag no restore could give back, an owner outside the
 * process, a lease being broken, a lock of a kind sdump does not know.
 */
int sd_dump_fd_extra(struct sdump_ctx *ctx, const struct fd_probe *p, const char *info,
		  struct fd_state *d);

/*
 * The whole table @fs of pid @pid: which fds share an open file description
 * (kcmp; their locks then kept on the lowest only); refused, with one
 * line: a pipe in packet mode that holds bytes.
 */
int sd_dump_fd_table(struct sdump_ctx *ctx, pid_t pid, struct files_state *fs);
/*
 * Refused, with one line: a lock /proc/locks names pid @pid as holder of
 * that no fd of table @fs shows, unless a flock() a mapping of @vmas holds
 * (marked there: vma->flock; @vmas may be NULL) or an fd of one of the
 * @nmembers @members of its tree shows (@members may be NULL). @locks: that file as read since the
 * freeze began (or NULL: read now). Still frozen, before the tracker is
 * armed again: the read sleeps meanwhile (see bgread.h).
 */
int sd_dump_fd_locks_seen(struct sdump_ctx *ctx, pid_t pid, struct bg_read *locks,
			  const struct files_state *fs, struct vma_list *vmas, const pid_t *members,
			  size_t nmembers);
/*
 * A reader of /proc/locks first waits for an RCU grace period (fs/locks.c
 * locks_start(): percpu_down_write()), 7-16 ms here, unless a reader
 * before it left the lock in its writer mode, which lasts a grace period
 * more: one read just before the seize, thrown away, most often spares
 * the frozen one that wait.
 */
void sd_dump_fd_locks_prime(void);

#endif /* SDUMP_DUMP_FD_EXTRA_H */
