/* SPDX-License-Identifier: MIT */
/*
 * Squashing a chain: one self-contained pass equal to its newest one. The
 * newest pass's files are copied as they are (mm.img, the state files, the
 * saved deleted files), its pagemap resolved through the parents into a
 * pagemap and pages.img of its own, its inventory kept but for the parent.
 * Everything is written in a temporary directory beside the destination,
 * renamed into place once committed: the chain read is never written to.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "squash: "
#include "ctx.h"
#include "chain.h"
#include "chain_squash.h"
#include "fault.h"
#include "img_files.h"
#include "util.h"

struct squash {
	struct sdump_ctx *ctx;
	struct chain *c;
	struct pagestore_writer *w;
	struct pm_list out;
	size_t psz;
	uint64_t pages_data, pages_zero, runs;
};

/* One resolved run into the new pass: zeros recorded as such, data copied into its stream. */
static int put_run(void *data, enum pm_kind kind, size_t pass, uint64_t off, uint64_t addr,
		   uint64_t len)
{
	struct squash *q = data;
	struct pagestore_reader *rd;
	int r;

	if (kind == PM_ZERO) {
		q->pages_zero += len / q->psz;
		return sd_pm_list_add(&q->out, addr, len / q->psz, PM_ZERO, 0, q->psz);
	}
	r = sd_chain_reader(q->ctx, q->c, pass, &rd);
	if (r < 0)
		return r;
	if (++q->runs % 256 == 0 && (r = sd_check_cancel(q->ctx)) < 0)
		return r;
	while (len > 0) {
		uint8_t *buf;
		size_t room;
		uint64_t to;

		r = sd_pagestore_reserve(q->w, &buf, &room, &to);
		if (r < 0)
			return r;
		room = (size_t)MIN((uint64_t)room, len);
		r = sd_pagestore_read(q->ctx, rd, off, buf, room);
		if (r == 0)
			r = sd_pagestore_commit(q->w, room);
		if (r == 0)
			r = sd_pm_list_add(&q->out, addr, room / q->psz, PM_DATA, to, q->psz);
		if (r < 0)
			return r;
		q->pages_data += room / q->psz;
		off += room;
		addr += room;
		len -= room;
	}
	return 0;
}

/* The files of the newest pass that are not its pages, pagemap, stats or inventory: copied. */
static bool copied(const char *name)
{
	size_t len = strlen(name);

	if (len > 4 && !strcmp(name + len - 4, ".tmp"))
		return false;
	return strcmp(name, sd_imgfile_name(IMGF_INVENTORY)) && strcmp(name, sd_imgfile_name(IMGF_PAGES)) &&
	       strcmp(name, sd_imgfile_name(IMGF_PAGEMAP)) && strcmp(name, sd_imgfile_name(IMGF_STATS));
}

static int copy_file(struct sdump_ctx *ctx, struct img_dir *from, struct img_dir *to, const char *name,
		     uint64_t *ret_size)
{
	_cleanup_close_ int in = -1, out = -1;
	_cleanup_free_ uint8_t *buf = malloc(1 << 16);
	uint64_t total = 0;
	ssize_t n;
	int r;

	if (!buf)
		return sd_err(ctx, -ENOMEM, "cannot copy '%s/%s'", from->path, name);
	in = openat(from->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return sd_err(ctx, -errno, "cannot read '%s/%s'", from->path, name);
	r = sd_img_file_create(ctx, to, name, &out);
	if (r < 0)
		return r;
	while ((n = read(in, buf, 1 << 16)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sd_err(ctx, -errno, "cannot read '%s/%s'", from->path, name);
		r = sd_write_all(out, buf, (size_t)n);
		if (r < 0)
			return sd_err(ctx, r, "cannot write '%s/%s.tmp'", to->path, name);
		total += (uint64_t)n;
	}
	r = sd_img_file_commit(ctx, to, name, out);
	if (r == 0)
		*ret_size = total;
	return r;
}

static int copy_files(struct sdump_ctx *ctx, struct img_dir *from, struct img_dir *to, uint64_t *ret_mm)
{
	struct dirent *de;
	int r = 0, fd;
	DIR *d;

	fd = openat(from->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			(void)close(fd);
		return sd_err(ctx, -errno, "cannot list '%s'", from->path);
	}
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		uint64_t size = 0;

		if (de->d_name[0] == '.' || !copied(de->d_name))
			continue;
		/* the parent link, and anything that is no file of an image, stay behind */
		if (fstatat(from->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		r = copy_file(ctx, from, to, de->d_name, &size);
		if (r == 0 && !strcmp(de->d_name, sd_imgfile_name(IMGF_MM)))
			*ret_mm = size;
	}
	(void)closedir(d);
	return r;
}

int sd_chain_squash_into(struct sdump_ctx *ctx, struct chain *c, struct img_dir *out,
		      struct sdump_squash_info *ret_info)
{
	struct chain_pass *top = &c->p[0];
	struct squash q = { .ctx = ctx, .c = c, .psz = top->meta.page_size };
	struct pmimg pm = { 0 };
	struct sdump_stats st = top->stats;
	struct pass_meta meta = top->meta;
	uint64_t size = 0, mm = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int r;

	r = copy_files(ctx, &top->dir, out, &mm);
	if (r < 0)
		return r;
	r = sd_pagestore_writer_new(ctx, out, ncpu > 0 ? (unsigned int)ncpu : 1, -1, &q.w);
	if (r < 0)
		return r;
	for (size_t i = 0; i < top->vmas.n && r == 0; i++)
		r = sd_chain_walk(ctx, c, 0, top->vmas.v[i].start, top->vmas.v[i].end, put_run, &q);
	if (r == -ENOMEM)
		r = sd_err(ctx, r, "cannot squash '%s'", top->dir.path);
	if (r == 0)
		r = sd_pagestore_writer_finish(q.w, &pm.frames, &pm.nframes, &pm.stream_bytes,
					    &pm.pages_file_size);
	sd_pagestore_writer_free(q.w);
	if (r == 0) {
		pm.page_size = (uint32_t)q.psz;
		pm.frame_size = PAGESTORE_FRAME_SIZE;
		pm.list = q.out;
		q.out = (struct pm_list){ 0 };
		r = sd_pmimg_write(ctx, out, &pm, &size);
	}
	sd_pm_list_release(&q.out);
	if (r < 0) {
		sd_pmimg_release(&pm);
		return r;
	}
	/* the pass as it was made, but for what it now holds itself */
	st.pages_written = q.pages_data + q.pages_zero;
	st.pages_zero = q.pages_zero;
	st.pages_in_parent = 0;
	st.bytes_written = pm.pages_file_size + size + mm;
	sd_pmimg_release(&pm);
	r = sd_passimg_write_stats(ctx, out, &st);
	if (r == 0)
		r = sd_img_dir_sync(ctx, out);
	meta.parent_pass_id[0] = '\0';
	meta.parent_path[0] = '\0';
	if (r == 0)
		r = sd_passimg_write_inventory(ctx, out, &meta);
	if (r == 0)
		r = sd_img_dir_sync(ctx, out);
	if (r == 0 && ret_info)
		*ret_info = (struct sdump_squash_info){
			.passes = c->n,
			.pages_data = q.pages_data,
			.pages_zero = q.pages_zero,
			.bytes_written = st.bytes_written,
		};
	return r;
}

int sd_chain_squash_tmp(struct sdump_ctx *ctx, const char *dir, const char *beside,
		     struct img_dir *ret_out, struct sdump_squash_info *ret_info)
{
	_cleanup_free_ char *copy = strdup(beside);
	struct chain c = { 0 };
	struct img_dir out = { .dirfd = -1 };
	char tmp[PATH_MAX];
	const char *base, *parent;
	char *slash;
	int r;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	while (slash && slash > copy && !slash[1]) {
		*slash = '\0';
		slash = strrchr(copy, '/');
	}
	base = slash ? slash + 1 : copy;
	parent = slash ? (slash == copy ? "/" : copy) : ".";
	if (slash)
		*slash = '\0';
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.squash-XXXXXX", parent, base) >= (int)sizeof(tmp))
		return sd_errx(ctx, -ENAMETOOLONG, "cannot squash into '%s': name too long", beside);
	r = sd_chain_open(ctx, dir, &c);
	if (r < 0)
		return r;
	if (fault_fails(FAULT_OPEN) || !mkdtemp(tmp)) {
		r = sd_err(ctx, -errno, "cannot create a directory beside '%s'", beside);
		goto out;
	}
	r = sd_img_dir_create(ctx, tmp, &out);
	if (r < 0) {
		(void)rmdir(tmp);
		goto out;
	}
	out.created = true;
	r = sd_chain_squash_into(ctx, &c, &out, ret_info);
	if (r < 0) {
		sd_img_dir_abort(ctx, &out);
		sd_img_dir_release(&out);
		goto out;
	}
	*ret_out = out;
out:
	sd_chain_release(&c);
	return r;
}

/* fsync the directory holding @path: a rename there is durable. */
int sd_chain_sync_parent(struct sdump_ctx *ctx, const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int fd = -1;
	char *slash;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	while (slash && slash > copy && !slash[1]) {
		*slash = '\0';
		slash = strrchr(copy, '/');
	}
	if (slash == copy)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	fd = open(slash ? copy : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fault_fails(FAULT_WRITE) || fsync(fd) < 0)
		return sd_err(ctx, -errno, "cannot sync the directory of '%s'", path);
	return 0;
}

SDUMP_API int sdump_squash(struct sdump_ctx *ctx, const char *dir, const char *new_dir,
			   struct sdump_squash_info *ret_info)
{
	struct sdump_squash_info info;
	struct img_dir out = { .dirfd = -1 };
	struct stat st;
	int r;

	if (!dir || !*dir || !new_dir || !*new_dir)
		return sd_errx(ctx, -EINVAL, "squash needs an image and a new directory");
	/* an existing one must be an empty directory, which the rename replaces */
	if (lstat(new_dir, &st) == 0) {
		_cleanup_close_ int fd = open(new_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		DIR *d = fd < 0 ? NULL : fdopendir(fd);
		struct dirent *de;
		bool empty = true;

		if (!d)
			return sd_errx(ctx, -EEXIST, "cannot squash into '%s': it exists and is no directory", new_dir);
		fd = -1;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				empty = false;
		(void)closedir(d);
		if (!empty)
			return sd_errx(ctx, -EEXIST, "cannot squash into '%s': it is not empty", new_dir);
	}
	r = sd_chain_squash_tmp(ctx, dir, new_dir, &out, &info);
	if (r < 0)
		return r;
	if (rename(out.path, new_dir) < 0) {
		r = sd_err(ctx, -errno, "cannot rename '%s' to '%s'", out.path, new_dir);
		sd_img_dir_abort(ctx, &out);
	} else if ((r = sd_chain_sync_parent(ctx, new_dir)) < 0) {
		/* in place but perhaps not durable: none rather than one that may vanish */
		char *p = strdup(new_dir);

		if (p) {
			free(out.path);
			out.path = p;
			sd_img_dir_abort(ctx, &out);
		}
	}
	sd_img_dir_release(&out);
	if (r == 0) {
		char b[32];

		sd_fmt_size(b, sizeof(b), info.bytes_written);
		pr_info(ctx, "'%s': %" PRIu64 " passes into one, %" PRIu64 " pages (%" PRIu64 " zero), %s",
			new_dir, info.passes, info.pages_data + info.pages_zero, info.pages_zero, b);
		if (ret_info)
			*ret_info = info;
	}
	return r;
}
