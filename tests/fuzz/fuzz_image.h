/* SPDX-License-Identifier: MIT */
/*
 * The image-reader fuzzer's shared parts: the base chain it builds
 * (fuzz_base.c), the rewriting of files of frames (fuzz_frames.c) and the
 * harness itself (fuzz_image.c).
 */
#ifndef SDUMP_FUZZ_IMAGE_H
#define SDUMP_FUZZ_IMAGE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zstd.h>

#include "sdump.h"
#include "ctx.h"
#include "crc32c.h"
#include "ghost.pb-c.h"
#include "ghost_img.h"
#include "image.h"
#include "img_files.h"
#include "pages_img.h"
#include "pass_img.h"
#include "pagemap_img.h"
#include "pstate.h"
#include "state_img.h"
#include "tree_img.h"
#include "util.h"

#define PSZ 4096u
#define TID 4242
#define ANON_START 0x10000000ull
#define ANON_PAGES 512u
#define FILE_START 0x400000ull
#define FILE_PAGES 4u
#define VDSO_START 0x7ffff7ff0000ull
#define STACK_START 0x7ffffffde000ull
#define STACK_END 0x7ffffffff000ull
#define FRAME_SIZE (16 * PSZ)
/*
 * The deleted file: data in [0, 3 pages) and [5 pages, GHOST_SIZE), a hole
 * between; mapped from its second page on, to its last (partial) page.
 */
#define GHOST_START 0x500000ull
#define SHM_START 0x600000ull	/* shared memory of another member of a tree: no pages */
#define GHOST_PAGES 7u
#define GHOST_PGOFF PSZ
#define GHOST_HOLE_START (3 * PSZ)
#define GHOST_HOLE_END (5 * PSZ)
#define GHOST_SIZE (7 * PSZ + 123)
#define GHOST_FRAME_SIZE (2 * PSZ) /* ghost-data.img's frames: several, however small */

struct base_file {
	const char *pass;	/* "1" (pre-dump) or "2" (dump) */
	const char *name;
	uint8_t *data;		/* pristine contents */
	size_t len;
};

/* A file of frames and the file that keeps its frame table. */
struct frames_file {
	const char *name, *index;
	enum img_file f;
	uint32_t frame_size;	/* the harness's framing, base image and mode 0 */
};

extern char base_dir[256];
extern char pass_path[2][300];
extern struct base_file files[];
extern const size_t nfiles;
extern const struct frames_file frames_files[2];
extern int ghost_fd;
extern struct stat ghost_st;
extern char ghost_path[320];
extern struct sdump_ctx *ctx;

/* fuzz_base.c */
__attribute__((noreturn)) void die(const char *what);
void build_pass(int n, const char *file_path, const struct stat *file_st);
void make_ghost_file(void);
void fill_pattern(uint8_t *p, size_t len, uint64_t seed);

/* fuzz_frames.c */
uint8_t *read_whole(const char *path, size_t *ret_len);
void write_whole(const char *pass, const char *name, const uint8_t *data, size_t len);
struct base_file *find_file(const char *pass, const char *name);
const char *pass_dir(const char *pass);
const struct frames_file *frames_file_of(const char *name);
void write_stream(const struct frames_file *ff, const char *pass, const uint8_t *data, size_t len);
void write_fixed(const struct frames_file *ff, const char *pass, uint8_t *f, size_t len);
void reframe(int n);
/* The stream of a file of frames in the pass at @dirpath, decompressed: -errno. */
int read_stream(const struct frames_file *ff, const char *dirpath, uint8_t **ret, size_t *ret_len);

#endif /* SDUMP_FUZZ_IMAGE_H */
