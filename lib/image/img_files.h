/* SPDX-License-Identifier: MIT */
/*
 * The files of an image directory, one row each in img_files[]
 * (img_files.c): the name, the type its header carries, the message of
 * its records and how it is laid out. man/sdump-images.5 describes each
 * file. A new file is a value here, a row there, a new enum img_type value
 * (image.h: never reuse one, it is on disk) and its entry in the man page.
 */
#ifndef SDUMP_IMG_FILES_H
#define SDUMP_IMG_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <protobuf-c/protobuf-c.h>

#include "sdump.h"
#include "image.h"

enum img_file {
	IMGF_INVENTORY,		/* inventory.img: what the pass is; written last */
	IMGF_MM,		/* mm.img */
	IMGF_PAGEMAP,		/* pagemap.img */
	IMGF_PAGES,		/* pages.img */
	IMGF_STATS,		/* stats.img */
	IMGF_CORE,		/* core-<tid>.img: one per thread, a final dump only */
	IMGF_PROCESS,		/* process.img: a final dump only */
	IMGF_FILES,		/* files.img: a final dump only */
	IMGF_GHOSTS,		/* ghosts.img: deleted files' contents, a final dump that has any */
	IMGF_GHOST_DATA,	/* ghost-data.img: their bytes, in frames */
	IMGF_TREE,		/* tree.img: the members of a process tree, at the top of its image */
	IMGF_COUNT
};

enum img_layout {
	/* a record file: header, one zstd frame of records, trailer (image.c) */
	IMG_LAYOUT_RECORDS = 1,
	/*
	 * pages.img: header, then independent zstd frames listed in
	 * pagemap.img (pages_img.c); ghost-data.img the same, its frames
	 * listed in ghosts.img
	 */
	IMG_LAYOUT_FRAMES,
};

struct img_file_desc {
	/* its name in the directory; of a per-thread file the pattern, "core-<tid>.img" */
	const char *name;
	enum img_type type;	/* the type in its header */
	enum img_layout layout;	/* both compressed, differently */
	/*
	 * The message of its records (pagemap.img: of the first, a
	 * PagemapHead; PagemapEntry records follow; ghosts.img: a GhostHead,
	 * then GhostFile records). NULL for the files of frames.
	 */
	const ProtobufCMessageDescriptor *msg;
	bool per_thread;	/* one per thread: "<tid>" in the name stands for its id */
};

/* The longest name a file of an image can have, its NUL included. */
#define IMG_NAME_MAX 32

/* The row of @f. */
const struct img_file_desc *sd_imgfile(enum img_file f);
/* The name of @f; of a per-thread file its pattern ("core-<tid>.img"), for messages. */
const char *sd_imgfile_name(enum img_file f);
/*
 * The name of @f in a directory into @buf, and @buf: for a per-thread file
 * the name of thread @tid's ("core-4242.img"), for any other its name
 * (@tid is not used).
 */
const char *sd_imgfile_name_tid(enum img_file f, pid_t tid, char buf[IMG_NAME_MAX]);

/*
 * The row whose name @name is (a per-thread file's with a thread id, in
 * decimal without a leading zero): -ENOENT for a name no image has.
 */
int sd_imgfile_lookup(const char *name, enum img_file *ret);

/*
 * sd_img_write_one(), sd_img_read_one(), sd_img_rec_commit() and sd_img_rec_open() of
 * image.h for a file of the table: its name (with @tid for a per-thread
 * file, else 0), its header type and the message it holds come from its
 * row.
 */
int sd_imgfile_write_one(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f, pid_t tid,
		      const ProtobufCMessage *msg, uint64_t *ret_size);
int sd_imgfile_read_one(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f, pid_t tid,
		     ProtobufCMessage **ret_msg);
int sd_imgfile_rec_commit(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f,
		       struct img_rec_writer *w, uint64_t *ret_size);
int sd_imgfile_rec_open(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f,
		     struct img_rec_reader *ret_reader);

#endif /* SDUMP_IMG_FILES_H */
