/* SPDX-License-Identifier: MIT */
/*
 * A pass on the wire (mig_pass.c): its files sent as they are on disk,
 * and received into a directory, every name one an image has, nothing
 * outside it.
 */
#ifndef SDUMP_MIG_PASS_H
#define SDUMP_MIG_PASS_H

#include <sys/types.h>

#include "mig_net.h"

/*
 * Every file of the pass in @dir but its parent link, inventory.img last;
 * MIG_FILE each. A tree's pass: each member's directory (MIG_DIR, its
 * files), then the top's files, tree.img among them.
 */
int sd_mig_send_dir(struct mig_conn *c, const char *dir, pid_t pid);
/*
 * The files of a pass into @dirfd (a new, empty directory named @path for
 * messages) until MIG_PASS_END: each name one of an image file
 * (img_files.c), each file new, written and fsynced; a tree member's
 * directory (pid-N) made for the files after its MIG_DIR, with its parent
 * link into the pass before, @prev (its name beside @path's, NULL for
 * the first pass); *ret_bytes their size.
 */
int sd_mig_recv_files(struct mig_conn *c, int dirfd, const char *path, const char *prev,
		      uint64_t *ret_bytes);
/* Remove the files of a pass directory and of its tree members' directories, then it. */
void sd_mig_remove_pass(const char *dir);

#endif /* SDUMP_MIG_PASS_H */
