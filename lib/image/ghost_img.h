/* SPDX-License-Identifier: MIT */
/*
 * Saved file contents ("ghost files"): the bytes of a file that exists
 * nowhere else any more (a deleted file a process still maps or holds
 * open), kept in the image with its holes, each file once. ghosts.img lists
 * the files (their identity, size and data extents) and the frame table of
 * ghost-data.img, which holds the data of every file, extent after extent,
 * in independent zstd frames written and read by the frame machinery of
 * pages_img.h. What a file is and why it must be saved is the dump's
 * business; this module reads an open file and gives its bytes back into
 * another one.
 */
#ifndef SDUMP_GHOST_IMG_H
#define SDUMP_GHOST_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdump.h"
#include "image.h"
#include "pages_img.h"

/* At most this many files in one image, extents in one file. */
#define GHOST_MAX_FILES 65536u
#define GHOST_MAX_EXTENTS (1u << 22)

/* A run of data of a file; between runs and after the last, holes. */
struct ghost_extent {
	uint64_t off, len;
	uint64_t soff;		/* where its data is in the stream (set by the writer, the reader) */
};

struct ghost_file {
	uint32_t id;		/* >= 1, in the order they were added */
	char *path;		/* as /proc showed it, for messages */
	uint64_t size;		/* st_size */
	uint32_t mode, uid, gid;
	uint32_t dev_major, dev_minor;
	uint64_t ino;		/* of the original file */
	bool has_seals;		/* a memfd: its seals (F_GET_SEALS) */
	uint32_t seals;
	/*
	 * A member of a process tree: the same file is saved by member
	 * shared_pid, before it in the tree, which makes the copy they share;
	 * this record has no data (0: saved here).
	 */
	int32_t shared_pid;
	uint64_t stream_off;	/* its data's place in the stream of ghost-data.img */
	uint64_t data_bytes;	/* the sum of its extents */
	struct ghost_extent *ext;
	size_t next;
};

void sd_ghost_file_release(struct ghost_file *f);

/*
 * The data extents of the regular file open at @fd, of @size bytes, found
 * with SEEK_DATA and SEEK_HOLE (a file system without them reports one
 * extent: the whole file). No message: -errno; -EFBIG (nothing allocated)
 * as soon as they hold more than @limit bytes, with what was counted so
 * far, at least @limit + 1, in *ret_data_bytes.
 */
int sd_ghost_extents(int fd, uint64_t size, uint64_t limit, struct ghost_extent **ret_ext,
		  size_t *ret_next, uint64_t *ret_data_bytes);

/* Writing: ghosts.img and ghost-data.img of a pass, made on the first file added. */
struct ghost_writer;

int sd_ghost_writer_new(struct sdump_ctx *ctx, struct img_dir *dir, unsigned int nthreads,
		     int level, struct ghost_writer **ret_w);
/* The id of the file already saved as @dev_major:@dev_minor and @ino, or 0. */
uint32_t sd_ghost_writer_find(const struct ghost_writer *w, uint32_t dev_major, uint32_t dev_minor,
			   uint64_t ino);
/*
 * Save the file open at @fd (read with pread from its extents; the file
 * must not change meanwhile): @meta gives its identity, size, mode and
 * path (copied; its id, extents and stream fields are ignored); a
 * directory (S_IFDIR in its mode) has no data and @fd is not read, nor has
 * a file another member saves (@meta->shared_pid). The data
 * must stay within @limit bytes: -EFBIG without a message otherwise, for
 * the caller to say why in its own words. Its id in *ret_id.
 */
int sd_ghost_writer_add(struct ghost_writer *w, int fd, const struct ghost_file *meta,
		     uint64_t limit, uint32_t *ret_id);
/* Commit ghost-data.img, then ghosts.img; the bytes both take on disk in *ret_size. */
int sd_ghost_writer_finish(struct ghost_writer *w, uint64_t *ret_size);
/* NULL-safe; temp files are left to sd_img_dir_abort(). */
void sd_ghost_writer_free(struct ghost_writer *w);

/* Reading the ghosts of one pass. */
struct ghost_set {
	bool present;		/* the pass has a ghosts.img */
	struct ghost_file *f;
	size_t n;
	uint32_t frame_size;
	uint64_t stream_bytes, data_file_size;
	struct pagestore_frame *frames;
	size_t nframes;
	struct img_dir *dir;	/* borrowed */
	struct pagestore_reader rd;
	bool rd_open;
};

/*
 * Read and validate @dir's ghosts.img (ids ascending from 1, extents
 * sorted, inside each file and adding up to the stream, files' data one
 * after the other): -EBADMSG otherwise. A pass without ghosts.img gives an
 * empty set. ghost-data.img is opened on first use.
 */
int sd_ghost_set_read(struct sdump_ctx *ctx, struct img_dir *dir, struct ghost_set *ret_set);
/* The file with this id, or NULL. */
const struct ghost_file *sd_ghost_set_find(const struct ghost_set *s, uint32_t id);
/*
 * Make the open, empty, writable regular file @out_fd a copy of @f: its
 * size, its data where it had data and holes where it had holes. @what
 * names @out_fd in messages.
 */
int sd_ghost_copy_to_fd(struct sdump_ctx *ctx, struct ghost_set *s, const struct ghost_file *f,
		     int out_fd, const char *what);
/* @len bytes of @f at @off into @out: data from the image, holes and the end as zeros. */
int sd_ghost_read_at(struct sdump_ctx *ctx, struct ghost_set *s, const struct ghost_file *f,
		  uint64_t off, void *out, size_t len);
/* Check the CRC-32C of every frame of ghost-data.img. */
int sd_ghost_set_verify(struct sdump_ctx *ctx, struct ghost_set *s);
void sd_ghost_set_release(struct ghost_set *s);

#endif /* SDUMP_GHOST_IMG_H */
