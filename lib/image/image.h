/* SPDX-License-Identifier: MIT */
/*
 * Image files: the header, protobuf-c record files with their checksummed
 * trailer, and the atomic commit of a pass directory. Knows nothing of
 * processes. The format is described in man/sdump-images.5.
 */
#ifndef SDUMP_IMAGE_H
#define SDUMP_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "sdump.h"

#define IMG_MAGIC "SDUMPIMG"
#define IMG_HEADER_SIZE 16
#define IMG_TRAILER_SIZE 16
#define IMG_TRAILER_MAGIC 0x444e4553u /* "SEND" */
/*
 * No record file of ours decompresses to more: refuse before allocating (and
 * refuse to write one larger). pagemap.img, the largest, reaches it with
 * some 20 million runs of pages.
 */
#define IMG_REC_MAX_BYTES (256ull * 1024 * 1024)
/*
 * What unpacking one record may allocate: protobuf-c allocates a struct per
 * submessage, so a record of tiny submessages costs many times its size (a
 * VMA of 24 bytes becomes 128, an fd of /dev/null of 25 bytes over 440: its
 * struct has the fields of every kind). Beyond IMG_REC_UNPACK_BASE +
 * IMG_REC_UNPACK_RATIO times the record's size, and in any case beyond
 * IMG_REC_UNPACK_MAX, the record is refused as corrupt.
 */
#define IMG_REC_UNPACK_BASE (64ull * 1024 * 1024)
#define IMG_REC_UNPACK_RATIO 24
#define IMG_REC_UNPACK_MAX (768ull * 1024 * 1024)

enum img_type {
	IMG_INVENTORY = 1,
	IMG_MM = 2,
	IMG_PAGEMAP = 3,
	IMG_PAGES = 4,
	IMG_STATS = 5,
	IMG_CORE = 6,
	IMG_PROCESS = 7,
	IMG_FILES = 8,
	IMG_GHOSTS = 9,
	IMG_GHOST_DATA = 10,
	IMG_TREE = 11,
};

/* An image directory, being written (a pass) or read. */
struct img_dir {
	int dirfd;
	char *path;
	bool created;			/* we made the directory: remove it on abort */
	bool no_sync;			/* scratch (a migration's sender's): nothing fsynced */
	size_t nfiles, cap_files;	/* files this pass created, for sd_img_dir_abort() */
	char **files;
};

/*
 * Create the directory of a new pass (and missing parents), or take an
 * existing empty one. -EEXIST if it is not empty.
 */
int sd_img_dir_create(struct sdump_ctx *ctx, const char *path, struct img_dir *ret_dir);
/* Open an image directory for reading. -ENOENT if it has no inventory.img. */
int sd_img_dir_open(struct sdump_ctx *ctx, const char *path, struct img_dir *ret_dir);
/* Remove every file this pass created (temporary or committed) and the directory if we made it. */
void sd_img_dir_abort(struct sdump_ctx *ctx, struct img_dir *dir);
/* fsync the directory: the last step of a commit. */
int sd_img_dir_sync(struct sdump_ctx *ctx, struct img_dir *dir);
void sd_img_dir_release(struct img_dir *dir);

/* The 16-byte header of every image file. */
void sd_img_header_fill(uint8_t hdr[IMG_HEADER_SIZE], enum img_type type);
/* -EBADMSG unless @hdr is a valid header of @type. */
int sd_img_header_check(const uint8_t hdr[IMG_HEADER_SIZE], enum img_type type);

/* Raw files (pages.img): create "<name>.tmp" 0600, then commit (fsync + rename). */
int sd_img_file_create(struct sdump_ctx *ctx, struct img_dir *dir, const char *name, int *ret_fd);
int sd_img_file_commit(struct sdump_ctx *ctx, struct img_dir *dir, const char *name, int fd);

/* Building a record file in memory: u32 length + packed message, repeated. */
struct img_rec_writer {
	uint8_t *buf;
	size_t len, cap;
};

int sd_img_rec_add(struct img_rec_writer *w, const ProtobufCMessage *msg);
/* Compress, checksum, write "<name>.tmp", fsync, rename. *ret_size: bytes on disk. */
int sd_img_rec_commit(struct sdump_ctx *ctx, struct img_dir *dir, const char *name,
		   enum img_type type, struct img_rec_writer *w, uint64_t *ret_size);
void sd_img_rec_writer_release(struct img_rec_writer *w);
/* One record in one file. */
int sd_img_write_one(struct sdump_ctx *ctx, struct img_dir *dir, const char *name,
		  enum img_type type, const ProtobufCMessage *msg, uint64_t *ret_size);

/* Reading a record file: the whole file is verified and decompressed at open. */
struct img_rec_reader {
	uint8_t *buf;
	size_t len, pos;
};

int sd_img_rec_open(struct sdump_ctx *ctx, struct img_dir *dir, const char *name,
		 enum img_type type, struct img_rec_reader *ret_reader);
/*
 * Unpack the next record as @desc. Returns 1 and *ret_msg (free with
 * protobuf_c_message_free_unpacked), 0 at the end, -EBADMSG.
 */
int sd_img_rec_next(struct img_rec_reader *r, const ProtobufCMessageDescriptor *desc,
		 ProtobufCMessage **ret_msg);
void sd_img_rec_reader_release(struct img_rec_reader *r);
/* A file of exactly one record. */
int sd_img_read_one(struct sdump_ctx *ctx, struct img_dir *dir, const char *name,
		 enum img_type type, const ProtobufCMessageDescriptor *desc,
		 ProtobufCMessage **ret_msg);

/* Pure parts, exposed for the unit tests: encode a record file / decode one. */
int sd_img_rec_encode(enum img_type type, const uint8_t *records, size_t len, uint8_t **ret_buf,
		   size_t *ret_len);
int sd_img_rec_decode(enum img_type type, const uint8_t *file, size_t len, uint8_t **ret_records,
		   size_t *ret_len);

#endif /* SDUMP_IMAGE_H */
