/* SPDX-License-Identifier: MIT */
/*
 * A pass on the wire (mig_pass.c): its files sent as they are on disk,
 * and received into a directory, every name one an image has, nothing
 * outside it.
 */
#ifndef SDUMP_MIG_PASS_H
#define SDUMP_MIG_PASS_H

#include <limits.h>
#include <sys/types.h>

#include "mig_net.h"

/*
 * Every file of the pass in @dir but its parent link, inventory.img last;
 * MIG_FILE each. A tree's pass: each member's directory (MIG_DIR, its
 * files), then the top's files, tree.img among them.
 */
int sd_mig_send_dir(struct mig_conn *c, const char *dir, pid_t pid);
/*
 * The files and directories of a pass received and not yet synced:
 * fsynced together (or when this many are open), so that the first
 * fsync's journal commit takes the others' too, instead of one commit a
 * file while the sender of the final pass is frozen.
 */
#define MIG_UNSYNCED_MAX 64
struct mig_unsynced {
	int fd[MIG_UNSYNCED_MAX];
	size_t n;
	char path[PATH_MAX];	/* the directory of the first, for a message */
};
/* @fd, ours now, to be fsynced with the others (all of them now if full: its error). */
int sd_mig_sync_later(struct mig_conn *c, struct mig_unsynced *u, int fd, const char *path);
/* Every fd of @u fsynced and closed: the first failure, with its message. */
int sd_mig_sync_now(struct mig_conn *c, struct mig_unsynced *u);
/* Every fd of @u closed, unsynced (what they hold is being removed). */
void sd_mig_sync_drop(struct mig_unsynced *u);

/*
 * The files of a pass into @dirfd (a new, empty directory named @path for
 * messages) until MIG_PASS_END: each name one of an image file
 * (img_files.c), each file new; a tree member's
 * directory (pid-N) made for the files after its MIG_DIR, with its parent
 * link into the pass before, @prev (its name beside @path's, NULL for
 * the first pass); *ret_bytes their size. Each file and member directory
 * written, its writeback started, and left in @u to be synced.
 */
int sd_mig_recv_files(struct mig_conn *c, int dirfd, const char *path, const char *prev,
		      struct mig_unsynced *u, uint64_t *ret_bytes);
/* Remove the files of a pass directory and of its tree members' directories, then it. */
void sd_mig_remove_pass(const char *dir);

#endif /* SDUMP_MIG_PASS_H */
