/* SPDX-License-Identifier: MIT */
/*
 * The small record files of a pass: inventory.img, mm.img, stats.img.
 * Conversions between the protobuf messages and our structs, with the
 * validation of everything read.
 */
#ifndef SDUMP_PASS_IMG_H
#define SDUMP_PASS_IMG_H

#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "image.h"
#include "proc.h"

enum pass_kind { PASS_KIND_PRE_DUMP = 1, PASS_KIND_DUMP = 2 };

struct pass_meta {
	uint32_t format_version;
	char pass_id[33];
	char parent_pass_id[33];	/* "" for a first pass */
	char parent_path[512];		/* "" for a first pass */
	enum pass_kind kind;
	pid_t pid;
	uint64_t start_time;
	char tracker[16];
	uint32_t page_size;
	char kernel[65];
	uint64_t time_start_ns, time_end_ns;
	char comm[16];
	uint64_t boot_id_hi, boot_id_lo;
};

const char *sd_pass_kind_name(enum pass_kind kind);

int sd_passimg_write_inventory(struct sdump_ctx *ctx, struct img_dir *dir, const struct pass_meta *m);
int sd_passimg_read_inventory(struct sdump_ctx *ctx, struct img_dir *dir, struct pass_meta *ret_m);

/*
 * The most VMAs an image may hold: the largest vm.max_map_count distributions
 * ship (the kernel's default is 65530). More is refused, at dump and read.
 */
#define MM_MAX_VMAS (1u << 20)

/* -EOPNOTSUPP for more than MM_MAX_VMAS VMAs or one above PM_ADDR_LIMIT. */
int sd_passimg_write_mm(struct sdump_ctx *ctx, struct img_dir *dir, const struct vma_list *vmas,
		     uint64_t *ret_size);
/*
 * At most MM_MAX_VMAS VMAs, sorted, not overlapping, page aligned, below
 * PM_ADDR_LIMIT: else -EBADMSG.
 */
int sd_passimg_read_mm(struct sdump_ctx *ctx, struct img_dir *dir, uint32_t page_size,
		    struct vma_list *ret_vmas);

int sd_passimg_write_stats(struct sdump_ctx *ctx, struct img_dir *dir, const struct sdump_stats *st);
int sd_passimg_read_stats(struct sdump_ctx *ctx, struct img_dir *dir, struct sdump_stats *ret_st);

/* A new random pass id: 32 hex digits. */
int sd_pass_id_new(char out[33]);

#endif /* SDUMP_PASS_IMG_H */
