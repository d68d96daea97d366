/* SPDX-License-Identifier: MIT */
/*
 * Post-copy migration (sdump receive --restore --lazy). The final pass is
 * sent with its pages.img as a head only (the file's header and size);
 * once it is committed, the sender pushes the file's bytes in blocks, in
 * order, and first those the receiver asks for; the receiver restores
 * lazily, the restore's reads of that file waiting for their bytes
 * (sdump_restore_opts.lazy_fetch), and the process runs as soon as its
 * state is whole.
 *
 * The handover: the sender's copy, still frozen, is killed only once the
 * receiver has every byte. If the connection dies before, the receiver
 * kills its copy (it cannot go on) and the sender resumes its own; once
 * the sender has sent every byte and the receiver was told to run, a
 * connection lost leaves the sender's copy stopped (nobody can tell
 * whether the receiver's runs on).
 */
#ifndef SDUMP_MIG_LAZY_H
#define SDUMP_MIG_LAZY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "mig_net.h"

/* The receiver's HELLO flag asking for post-copy. */
#define MIG_HELLO_POSTCOPY 1u

/* Sender: pages.img (@fd, @size bytes) of the final pass as MIG_FILE_HEAD and its header. */
int sd_mig_lazy_send_head(struct mig_conn *c, int fd, const char *dir, const char *name,
			  uint64_t size);
/* Receiver: a MIG_FILE_HEAD (@msg, @len): the file made, its header written, sized. */
int sd_mig_lazy_recv_head(struct mig_conn *c, int dirfd, const char *path, const uint8_t *msg,
			  size_t len, uint64_t *bytes);

/*
 * Sender, the final pass committed by the receiver (@dir, the target
 * frozen): serve its pages.img, answer READY with GO, until the receiver
 * has every byte and says its copy runs (0; *ret_dest_pid). An error:
 * the target is to be resumed (the receiver's copy dies or never ran);
 * SDUMP_HANDOVER_UNSURE: to be left stopped. @h armed before the last of
 * GO and the last byte goes.
 */
int sd_mig_lazy_serve(struct mig_conn *c, const char *dir, pid_t pid, struct sdump_handover *h,
		      pid_t *ret_dest_pid);

/* Receiver: the final pass @dir committed; a thread fills its pages.img from @c. */
struct mig_lazy_rx;
int sd_mig_lazy_rx_start(struct sdump_ctx *ctx, struct mig_conn *c, const char *dir,
			 struct mig_lazy_rx **ret);
/* The restore's before_start: READY sent, GO awaited; @pid runs from then on. */
int sd_mig_lazy_rx_go(struct mig_lazy_rx *x, pid_t pid);
/* sdump_restore_opts.lazy_fetch over it. */
int sd_mig_lazy_fetch(void *data, uint64_t off, uint64_t len);
/*
 * After the restore (@ok: it returned 0): once every byte is here, the
 * thread ended, 0; the connection lost before: the process killed (by
 * the thread, at once), reaped, -ECONNRESET. Not @ok: the thread stopped.
 * Frees @x; the connection is the caller's again.
 */
int sd_mig_lazy_rx_end(struct mig_lazy_rx *x, bool ok);

#endif /* SDUMP_MIG_LAZY_H */
