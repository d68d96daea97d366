/* SPDX-License-Identifier: MIT */
/* The state files of a final dump: core-<tid>.img, process.img, files.img. */
#ifndef SDUMP_STATE_IMG_H
#define SDUMP_STATE_IMG_H

#include <stdint.h>

#include "sdump.h"
#include "image.h"
#include "pstate.h"

/* Write them all; *ret_size gets their bytes on disk. */
int sd_stateimg_write(struct sdump_ctx *ctx, struct img_dir *dir, const struct process_state *ps,
		   const struct files_state *fs, uint64_t *ret_size);
/* Read and validate them (-EBADMSG: corrupt). */
int sd_stateimg_read(struct sdump_ctx *ctx, struct img_dir *dir, struct process_state *ret_ps,
		  struct files_state *ret_fs);

#endif /* SDUMP_STATE_IMG_H */
