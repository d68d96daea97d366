/* SPDX-License-Identifier: MIT */
/*
 * pages.img: the page stream of a pass, cut into independent zstd frames of
 * PAGESTORE_FRAME_SIZE bytes, compressed by a pool of threads while the
 * caller goes on copying. Each frame's size and CRC-32C (of its compressed
 * bytes, checked before zstd sees them) are kept in pagemap.img, so one
 * address can be read (and verified) without decompressing anything else.
 */
#ifndef SDUMP_PAGES_IMG_H
#define SDUMP_PAGES_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdump.h"
#include "image.h"
#include "img_files.h"

#define PAGESTORE_FRAME_SIZE (1u << 20)
/*
 * At this zstd level and below a frame is stored as it is (zstd's -1000
 * makes frames nearly raw anyway); at any level, so is a frame zstd cannot
 * make smaller. A raw frame is only checked (its CRC) and copied.
 */
#define PAGESTORE_RAW_LEVEL (-1000)

struct pagestore_frame {
	uint32_t csize;		/* bytes in the file */
	uint32_t crc32c;	/* of those bytes */
	bool raw;		/* the stream's bytes as they are, not a zstd frame */
};

struct pagestore_writer;

/*
 * Start pages.img in @dir with @nthreads compressors (>= 1) at zstd @level,
 * or SDUMP_COMPRESS_LEVEL_AUTO: each frame's level chosen by measure
 * (pages_level.h), the disk's speed measured from the frames' writes.
 */
int sd_pagestore_writer_new(struct sdump_ctx *ctx, struct img_dir *dir, unsigned int nthreads,
			 int level, struct pagestore_writer **ret_w);
/*
 * The same for another file of frames (@f of layout IMG_LAYOUT_FRAMES,
 * ghost-data.img): a stream of any bytes, not only pages.
 */
int sd_pagestore_writer_new_file(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f,
			      unsigned int nthreads, int level, struct pagestore_writer **ret_w);
/*
 * Before the first reserve: room for @bytes of frames (rounded up to whole
 * frames) mapped and faulted in now, and the compressors held back. Frames
 * then wait in memory until sd_pagestore_writer_go() (a frozen target
 * copied at memory speed, compressed once it runs again); when that room
 * is full the hold ends by itself and the rest streams as without it.
 */
int sd_pagestore_writer_hold(struct pagestore_writer *w, uint64_t bytes);
/*
 * Auto level: the frames go out at @bytes_per_s once written (a
 * connection), after the pass if @sequential; not the disk measured.
 */
void sd_pagestore_writer_sink(struct pagestore_writer *w, uint64_t bytes_per_s, bool sequential);

/* The levels the frames got, for the stats (after finish, before free). */
struct pagestore_levels {
	bool automatic;
	int level;		/* the one most frames got */
	int lmin, lmax;
	uint64_t cpu_us;	/* compressing */
	uint64_t bytes;		/* compressed: the stream's bytes */
	uint64_t sink_rate;	/* auto: bytes per second the sink took; 0 not known */
};
void sd_pagestore_writer_levels(struct pagestore_writer *w, struct pagestore_levels *ret);

/* The compressors start on what waits (and finish does, in any case). */
void sd_pagestore_writer_go(struct pagestore_writer *w);
/* Whether the frames still wait: false once the room held ran out. */
bool sd_pagestore_writer_held(struct pagestore_writer *w);
/*
 * Space to copy into: *ret_buf with room for *ret_room bytes (a multiple of
 * the page size, at least one page) at stream offset *ret_off.
 */
int sd_pagestore_reserve(struct pagestore_writer *w, uint8_t **ret_buf, size_t *ret_room,
		      uint64_t *ret_off);
/* Append the first @len bytes of the reserved space to the stream. */
int sd_pagestore_commit(struct pagestore_writer *w, size_t len);
/*
 * Flush, wait for the compressors, commit pages.img. The frame table is
 * returned in *ret_frames (malloc'd, caller frees). A failure of any
 * compressor or write is returned here (or by reserve/commit).
 */
int sd_pagestore_writer_finish(struct pagestore_writer *w, struct pagestore_frame **ret_frames,
			    size_t *ret_nframes, uint64_t *ret_stream_bytes,
			    uint64_t *ret_file_size);
/* Stop the threads and drop everything; NULL-safe. The temp file is left to sd_img_dir_abort(). */
void sd_pagestore_writer_free(struct pagestore_writer *w);

/*
 * Reading one pass's pages.img. Frames are decompressed on demand; once
 * frames are read in order (frame i, then i + 1), a pool of threads (one
 * per CPU, at most PAGESTORE_PREFETCH_MAX) reads, verifies and
 * decompresses the next frames ahead of the caller, in a window of
 * threads + 2 frames: memory stays bounded (about 2 MiB a frame), and
 * random access stays as it was.
 */
#define PAGESTORE_PREFETCH_MAX 8

struct pagestore_prefetch;
struct ZSTD_DCtx_s;

struct pagestore_reader {
	int fd;
	enum img_file file;	/* IMGF_PAGES, or another file of frames */
	const char *path;	/* the image directory, for messages (borrowed) */
	const struct pagestore_frame *frames;
	size_t nframes;
	uint64_t *frame_off;	/* file offset of each frame */
	uint64_t stream_bytes;
	uint32_t frame_size;
	size_t zmax;		/* the largest compressed frame */
	size_t cached;		/* index of the frame at cur, or SIZE_MAX */
	const uint8_t *cur;	/* its decompressed bytes */
	size_t last;		/* the frame loaded before it, or SIZE_MAX */
	uint8_t *buf;		/* one decompressed frame (without prefetching) */
	uint8_t *zbuf;
	struct ZSTD_DCtx_s *dctx; /* kept: a context per call costs allocations */
	int prefetch_threads;	/* threads ahead: 0 one per online CPU, -1 none */
	struct pagestore_prefetch *pf; /* once frames are read in order */
	/*
	 * A file still arriving (post-copy migration): called before the bytes
	 * [off, off + len) are read, returns once they are in the file, or
	 * -errno (the read fails with it). Called from any reading thread.
	 */
	int (*fetch)(void *data, uint64_t off, uint64_t len);
	void *fetch_data;
};

/*
 * Open @dir's pages.img described by the frame table (kept by reference).
 * -EBADMSG when the file's header or size does not match the table.
 */
int sd_pagestore_reader_open(struct sdump_ctx *ctx, struct img_dir *dir,
			  const struct pagestore_frame *frames, size_t nframes,
			  uint32_t frame_size, uint64_t stream_bytes, uint64_t file_size,
			  struct pagestore_reader *ret_r);
/* The same for another file of frames (@f of layout IMG_LAYOUT_FRAMES). */
int sd_pagestore_reader_open_file(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f,
			       const struct pagestore_frame *frames, size_t nframes,
			       uint32_t frame_size, uint64_t stream_bytes, uint64_t file_size,
			       struct pagestore_reader *ret_r);
/* Copy @len bytes at stream offset @off into @out; each frame is verified. */
int sd_pagestore_read(struct sdump_ctx *ctx, struct pagestore_reader *r, uint64_t off, void *out,
		   size_t len);
/*
 * Decoding frames of one reader from several threads at once, each with a
 * decoder of its own: frame @i read, verified and decompressed: its d->len
 * bytes at d->data (d->buf, or for a raw frame d->zbuf, as read). No message (threads call it): 0, or -errno with the
 * failure kept in @d for sd_pagestore_decode_error(), which makes the message.
 */
struct pagestore_decoder {
	struct ZSTD_DCtx_s *dctx;
	uint8_t *buf, *zbuf;
	const uint8_t *data;	/* the frame: buf, or zbuf when it is raw */
	size_t cap, zcap;	/* their sizes */
	size_t len;
	int fault;		/* what failed: a private code */
	int err;
};

int sd_pagestore_decode(const struct pagestore_reader *r, struct pagestore_decoder *d, size_t i);
int sd_pagestore_decode_error(struct sdump_ctx *ctx, const struct pagestore_reader *r,
			   const struct pagestore_decoder *d, size_t i);
void sd_pagestore_decoder_release(struct pagestore_decoder *d);

/* Check the CRC-32C of every frame, without decompressing. */
int sd_pagestore_verify(struct sdump_ctx *ctx, struct pagestore_reader *r);
void sd_pagestore_reader_release(struct pagestore_reader *r);

#endif /* SDUMP_PAGES_IMG_H */
