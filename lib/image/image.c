/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "sdump.h"
#define LOG_PREFIX "image: "
#include "array.h"
#include "ctx.h"
#include "crc32c.h"
#include "fault.h"
#include "image.h"
#include "img_files.h"
#include "util.h"

/*
 * Header: magic[8], u16 format version, u16 type, u32 CRC-32C of the first
 * 12 bytes. Little-endian.
 */
void sd_img_header_fill(uint8_t hdr[IMG_HEADER_SIZE], enum img_type type)
{
	memcpy(hdr, IMG_MAGIC, 8);
	put_le16(hdr + 8, SDUMP_IMAGE_VERSION);
	put_le16(hdr + 10, (uint16_t)type);
	put_le32(hdr + 12, sd_crc32c(0, hdr, 12));
}

int sd_img_header_check(const uint8_t hdr[IMG_HEADER_SIZE], enum img_type type)
{
	if (memcmp(hdr, IMG_MAGIC, 8) != 0)
		return -EBADMSG;
	if (get_le32(hdr + 12) != sd_crc32c(0, hdr, 12))
		return -EBADMSG;
	if ((hdr[8] | hdr[9] << 8) < SDUMP_IMAGE_VERSION_MIN || (hdr[8] | hdr[9] << 8) > SDUMP_IMAGE_VERSION)
		return -EPROTONOSUPPORT;
	if ((hdr[10] | hdr[11] << 8) != (int)type)
		return -EBADMSG;
	return 0;
}

/* mkdir -p: the last component 0700 (it will hold the target's secrets). */
static int mkdir_parents(const char *path)
{
	_cleanup_free_ char *p = strdup(path);
	size_t len;

	if (!p)
		return -ENOMEM;
	len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0)
		return -errno;
	return 0;
}

static int dir_is_empty(int dirfd)
{
	DIR *d;
	struct dirent *de;
	int fd = dup(dirfd), r = 1;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			r = 0;
			break;
		}
	}
	(void)closedir(d);
	return r;
}

/*
 * An image holds the process's secrets and will be restored as it is: it
 * is written only into a directory of our own user that no one else may
 * write to (nor rename, replace or add files in). Group-writable is fine
 * for our own primary group (user-private groups, umask 002).
 */
static int dir_check_owner(struct sdump_ctx *ctx, int dirfd, const char *path)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return sd_err(ctx, -errno, "cannot stat image directory '%s'", path);
	if (st.st_uid != geteuid())
		return sd_errx(ctx, -EPERM,
			       "cannot use image directory '%s': permission denied: it belongs to uid %u, and sdump writes images only into directories of its own user (uid %u)",
			       path, (unsigned int)st.st_uid, (unsigned int)geteuid());
	if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != getegid()))
		return sd_errx(ctx, -EPERM,
			       "cannot use image directory '%s': permission denied: other users may write to it (mode %04o); use a directory only you can write to (sdump creates new ones with mode 0700)",
			       path, (unsigned int)(st.st_mode & 07777));
	return 0;
}

int sd_img_dir_create(struct sdump_ctx *ctx, const char *path, struct img_dir *ret_dir)
{
	struct img_dir d = { .dirfd = -1 };
	int r;

	r = sd_fault_check(FAULT_OPEN);
	if (r == 0)
		r = mkdir_parents(path);
	if (r == 0)
		d.created = true;
	else if (r != -EEXIST)
		return sd_err(ctx, r, "cannot create image directory '%s'", path);

	d.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d.dirfd < 0) {
		r = -errno;
		goto fail;
	}
	r = dir_check_owner(ctx, d.dirfd, path);
	if (r < 0) {
		zclose(&d.dirfd);
		if (d.created)
			(void)rmdir(path);
		return r;
	}
	if (!d.created) {
		r = dir_is_empty(d.dirfd);
		if (r < 0)
			goto fail;
		if (r == 0) {
			r = sd_errx(ctx, -EEXIST, "image directory '%s' is not empty", path);
			goto fail;
		}
		/* an empty directory of ours becomes an image: private, as one we create */
		if (fchmod(d.dirfd, 0700) < 0) {
			r = -errno;
			goto fail;
		}
	}
	/* Probe that we may write here before touching the target. */
	if (faccessat(d.dirfd, ".", W_OK, AT_EACCESS) < 0) {
		r = -errno;
		goto fail;
	}
	d.path = strdup(path);
	if (!d.path) {
		r = -ENOMEM;
		goto fail;
	}
	*ret_dir = d;
	return 0;
fail:
	r = sd_err(ctx, r, "cannot use image directory '%s'", path);
	zclose(&d.dirfd);
	if (d.created)
		(void)rmdir(path);
	return r;
}

int sd_img_dir_open(struct sdump_ctx *ctx, const char *path, struct img_dir *ret_dir)
{
	struct img_dir d = { .dirfd = -1 };
	int r;

	d.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d.dirfd < 0)
		return sd_err(ctx, -errno, "cannot open image directory '%s'", path);
	if (faccessat(d.dirfd, sd_imgfile_name(IMGF_INVENTORY), F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		if (r == -ENOENT && faccessat(d.dirfd, sd_imgfile_name(IMGF_TREE), F_OK, 0) == 0) {
			zclose(&d.dirfd);
			return sd_errx(ctx, r,
				       "'%s' is the image of a process tree: this reads one member's pass, '%s/pid-PID' (sdump restore takes the tree)",
				       path, path);
		}
		zclose(&d.dirfd);
		if (r == -ENOENT)
			return sd_errx(ctx, r, "'%s' is not an sdump image: no %s", path,
				       sd_imgfile_name(IMGF_INVENTORY));
		return sd_err(ctx, r, "cannot open '%s/%s'", path, sd_imgfile_name(IMGF_INVENTORY));
	}
	d.path = strdup(path);
	if (!d.path) {
		zclose(&d.dirfd);
		return -ENOMEM;
	}
	*ret_dir = d;
	return 0;
}

static int dir_track(struct img_dir *dir, const char *name)
{
	char *s;

	for (size_t i = 0; i < dir->nfiles; i++)
		if (!strcmp(dir->files[i], name))
			return 0;
	if (ARRAY_RESERVE(dir->files, dir->cap_files, dir->nfiles + 1, 16) < 0)
		return -ENOMEM;
	s = strdup(name);
	if (!s)
		return -ENOMEM;
	dir->files[dir->nfiles++] = s;
	return 0;
}

void sd_img_dir_abort(struct sdump_ctx *ctx, struct img_dir *dir)
{
	char tmp[256];

	if (dir->dirfd < 0)
		return;
	/* The inventory first: from here on the directory is no image, whatever happens. */
	for (size_t i = 0; i < dir->nfiles; i++) {
		if (strcmp(dir->files[i], sd_imgfile_name(IMGF_INVENTORY)))
			continue;
		if (unlinkat(dir->dirfd, dir->files[i], 0) < 0 && errno != ENOENT)
			pr_warn(ctx, "cannot remove '%s/%s', ignoring: %s", dir->path, dir->files[i],
				strerror(errno));
	}
	for (size_t i = 0; i < dir->nfiles; i++) {
		(void)snprintf(tmp, sizeof(tmp), "%s.tmp", dir->files[i]);
		(void)unlinkat(dir->dirfd, tmp, 0);
		if (unlinkat(dir->dirfd, dir->files[i], 0) < 0 && errno != ENOENT)
			pr_warn(ctx, "cannot remove '%s/%s', ignoring: %s", dir->path, dir->files[i],
				strerror(errno));
	}
	(void)unlinkat(dir->dirfd, "parent", 0);
	if (dir->created && dir->path && rmdir(dir->path) < 0)
		pr_warn(ctx, "cannot remove '%s', ignoring: %s", dir->path, strerror(errno));
}

int sd_img_dir_sync(struct sdump_ctx *ctx, struct img_dir *dir)
{
	if (dir->no_sync)
		return 0;
	if (fault_fails(FAULT_WRITE) || fsync(dir->dirfd) < 0)
		return sd_err(ctx, -errno, "cannot sync '%s'", dir->path);
	return 0;
}

void sd_img_dir_release(struct img_dir *dir)
{
	zclose(&dir->dirfd);
	zfree(&dir->path);
	for (size_t i = 0; i < dir->nfiles; i++)
		zfree(&dir->files[i]);
	zfree(&dir->files);
	dir->nfiles = dir->cap_files = 0;
}

int sd_img_file_create(struct sdump_ctx *ctx, struct img_dir *dir, const char *name, int *ret_fd)
{
	char tmp[256];
	int fd, r;

	r = dir_track(dir, name);
	if (r < 0)
		return sd_err(ctx, r, "cannot create '%s/%s'", dir->path, name);
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = fault_fails(FAULT_OPEN) ? -1
	     : openat(dir->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return sd_err(ctx, -errno, "cannot create '%s/%s'", dir->path, tmp);
	*ret_fd = fd;
	return 0;
}

int sd_img_file_commit(struct sdump_ctx *ctx, struct img_dir *dir, const char *name, int fd)
{
	char tmp[256];

	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if (!dir->no_sync && (fault_fails(FAULT_WRITE) || fsync(fd) < 0))
		return sd_err(ctx, -errno, "cannot write '%s/%s'", dir->path, tmp);
	if (renameat(dir->dirfd, tmp, dir->dirfd, name) < 0)
		return sd_err(ctx, -errno, "cannot rename '%s/%s'", dir->path, tmp);
	return 0;
}

int sd_img_rec_add(struct img_rec_writer *w, const ProtobufCMessage *msg)
{
	size_t sz = protobuf_c_message_get_packed_size(msg);

	if (sz > UINT32_MAX)
		return -E2BIG;
	if (ARRAY_RESERVE(w->buf, w->cap, w->len + 4 + sz, 4096) < 0)
		return -ENOMEM;
	put_le32(w->buf + w->len, (uint32_t)sz);
	protobuf_c_message_pack(msg, w->buf + w->len + 4);
	w->len += 4 + sz;
	return 0;
}

void sd_img_rec_writer_release(struct img_rec_writer *w)
{
	zfree(&w->buf);
	w->len = w->cap = 0;
}

/*
 * Record file: header, one zstd frame (content checksum on) holding the
 * records, trailer: u64 frame length, u32 CRC-32C of everything before the
 * trailer, u32 trailer magic. A truncated file loses its trailer.
 */
int sd_img_rec_encode(enum img_type type, const uint8_t *records, size_t len, uint8_t **ret_buf,
		   size_t *ret_len)
{
	size_t bound = ZSTD_compressBound(len), zlen;
	ZSTD_CCtx *cctx;
	uint8_t *buf;

	buf = malloc(IMG_HEADER_SIZE + bound + IMG_TRAILER_SIZE);
	if (!buf)
		return -ENOMEM;
	cctx = ZSTD_createCCtx();
	if (!cctx) {
		free(buf);
		return -ENOMEM;
	}
	(void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
	(void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	zlen = ZSTD_compress2(cctx, buf + IMG_HEADER_SIZE, bound, records, len);
	ZSTD_freeCCtx(cctx);
	if (ZSTD_isError(zlen)) {
		free(buf);
		return -EIO;
	}
	sd_img_header_fill(buf, type);
	put_le64(buf + IMG_HEADER_SIZE + zlen, zlen);
	put_le32(buf + IMG_HEADER_SIZE + zlen + 8, sd_crc32c(0, buf, IMG_HEADER_SIZE + zlen + 8));
	put_le32(buf + IMG_HEADER_SIZE + zlen + 12, IMG_TRAILER_MAGIC);
	*ret_buf = buf;
	*ret_len = IMG_HEADER_SIZE + zlen + IMG_TRAILER_SIZE;
	return 0;
}

int sd_img_rec_decode(enum img_type type, const uint8_t *file, size_t len, uint8_t **ret_records,
		   size_t *ret_len)
{
	const uint8_t *tr, *z;
	unsigned long long csize;
	uint64_t zlen;
	uint8_t *out;
	size_t n;
	int r;

	if (len < IMG_HEADER_SIZE + IMG_TRAILER_SIZE)
		return -EBADMSG;
	r = sd_img_header_check(file, type);
	if (r < 0)
		return r;
	tr = file + len - IMG_TRAILER_SIZE;
	zlen = get_le64(tr);
	if (get_le32(tr + 12) != IMG_TRAILER_MAGIC || zlen != len - IMG_HEADER_SIZE - IMG_TRAILER_SIZE)
		return -EBADMSG;
	if (get_le32(tr + 8) != sd_crc32c(0, file, len - 8))
		return -EBADMSG;
	z = file + IMG_HEADER_SIZE;
	csize = ZSTD_getFrameContentSize(z, zlen);
	if (csize == ZSTD_CONTENTSIZE_ERROR || csize == ZSTD_CONTENTSIZE_UNKNOWN ||
	    csize > IMG_REC_MAX_BYTES)
		return -EBADMSG;
	if (ZSTD_findFrameCompressedSize(z, zlen) != zlen)
		return -EBADMSG;
	out = malloc(csize ? csize : 1);
	if (!out)
		return -ENOMEM;
	n = ZSTD_decompress(out, csize, z, zlen);
	if (ZSTD_isError(n) || n != csize) {
		free(out);
		return -EBADMSG;
	}
	*ret_records = out;
	*ret_len = n;
	return 0;
}

int sd_img_rec_commit(struct sdump_ctx *ctx, struct img_dir *dir, const char *name,
		   enum img_type type, struct img_rec_writer *w, uint64_t *ret_size)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int r;

	if (w->len > IMG_REC_MAX_BYTES)
		return sd_errx(ctx, -EFBIG, "cannot write '%s/%s': %zu MiB of records, more than an image file may hold (%llu MiB)",
			       dir->path, name, w->len >> 20, IMG_REC_MAX_BYTES >> 20);
	r = sd_img_rec_encode(type, w->buf ? w->buf : (const uint8_t *)"", w->len, &buf, &len);
	if (r < 0)
		return sd_err(ctx, r, "cannot encode '%s'", name);
	r = sd_img_file_create(ctx, dir, name, &fd);
	if (r < 0)
		return r;
	r = sd_write_all(fd, buf, len);
	if (r < 0)
		return sd_err(ctx, r, "cannot write '%s/%s.tmp'", dir->path, name);
	r = sd_img_file_commit(ctx, dir, name, fd);
	if (r < 0)
		return r;
	if (ret_size)
		*ret_size = len;
	return 0;
}

int sd_img_write_one(struct sdump_ctx *ctx, struct img_dir *dir, const char *name,
		  enum img_type type, const ProtobufCMessage *msg, uint64_t *ret_size)
{
	struct img_rec_writer w = { 0 };
	int r;

	r = sd_img_rec_add(&w, msg);
	if (r < 0)
		r = sd_err(ctx, r, "cannot encode '%s'", name);
	else
		r = sd_img_rec_commit(ctx, dir, name, type, &w, ret_size);
	sd_img_rec_writer_release(&w);
	return r;
}

int sd_img_rec_open(struct sdump_ctx *ctx, struct img_dir *dir, const char *name,
		 enum img_type type, struct img_rec_reader *ret_reader)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *file = NULL;
	struct stat st;
	uint8_t *recs;
	ssize_t n;
	size_t len;
	int r;

	/* O_NONBLOCK: a FIFO planted in the directory must not hang us */
	fd = openat(dir->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return sd_err(ctx, -errno, "cannot open '%s/%s'", dir->path, name);
	if (fstat(fd, &st) < 0)
		return sd_err(ctx, -errno, "cannot stat '%s/%s'", dir->path, name);
	if (!S_ISREG(st.st_mode))
		return sd_errx(ctx, -EBADMSG, "'%s/%s' is not a regular file", dir->path, name);
	/* A record file is compressed: it can never be larger than what it decompresses to. */
	if ((uint64_t)st.st_size > IMG_REC_MAX_BYTES)
		return sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: too large", dir->path,
			       name);
	file = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!file)
		return sd_err(ctx, -ENOMEM, "cannot read '%s/%s'", dir->path, name);
	n = sd_pread_all(fd, file, (size_t)st.st_size, 0);
	if (n < 0)
		return sd_err(ctx, (int)n, "cannot read '%s/%s'", dir->path, name);
	r = sd_img_rec_decode(type, file, (size_t)n, &recs, &len);
	if (r == -EPROTONOSUPPORT)
		return sd_errx(ctx, r, "image file '%s/%s' has an unsupported format version",
			       dir->path, name);
	if (r == -EBADMSG)
		return sd_errx(ctx, r, "image file '%s/%s' is corrupt or truncated: checksum mismatch",
			       dir->path, name);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s/%s'", dir->path, name);
	*ret_reader = (struct img_rec_reader){ .buf = recs, .len = len };
	return 0;
}

/* An allocator for protobuf-c that refuses to go beyond a budget. */
struct unpack_budget {
	size_t left;
};

static void *budget_alloc(void *data, size_t size)
{
	struct unpack_budget *b = data;

	if (size > b->left)
		return NULL;
	b->left -= size;
	return malloc(size);
}

/* Unpacked messages are freed with the default allocator: plain free(). */
static void budget_free(void *data, void *p)
{
	(void)data;
	free(p);
}

int sd_img_rec_next(struct img_rec_reader *r, const ProtobufCMessageDescriptor *desc,
		 ProtobufCMessage **ret_msg)
{
	struct unpack_budget budget;
	ProtobufCAllocator alloc = { budget_alloc, budget_free, &budget };
	ProtobufCMessage *m;
	uint32_t sz;

	if (r->pos == r->len)
		return 0;
	if (r->len - r->pos < 4)
		return -EBADMSG;
	sz = get_le32(r->buf + r->pos);
	if (sz > r->len - r->pos - 4)
		return -EBADMSG;
	budget.left = (size_t)MIN(IMG_REC_UNPACK_BASE + IMG_REC_UNPACK_RATIO * (uint64_t)sz,
				  IMG_REC_UNPACK_MAX);
	m = protobuf_c_message_unpack(desc, &alloc, sz, r->buf + r->pos + 4);
	if (!m)
		return -EBADMSG;
	r->pos += 4 + sz;
	*ret_msg = m;
	return 1;
}

void sd_img_rec_reader_release(struct img_rec_reader *r)
{
	zfree(&r->buf);
	r->len = r->pos = 0;
}

int sd_img_read_one(struct sdump_ctx *ctx, struct img_dir *dir, const char *name,
		 enum img_type type, const ProtobufCMessageDescriptor *desc,
		 ProtobufCMessage **ret_msg)
{
	struct img_rec_reader rd;
	ProtobufCMessage *m = NULL;
	int r;

	r = sd_img_rec_open(ctx, dir, name, type, &rd);
	if (r < 0)
		return r;
	r = sd_img_rec_next(&rd, desc, &m);
	if (r == 1 && rd.pos != rd.len)
		r = -EBADMSG;
	sd_img_rec_reader_release(&rd);
	if (r <= 0) {
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
		return sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: bad record", dir->path,
			       name);
	}
	*ret_msg = m;
	return 0;
}
