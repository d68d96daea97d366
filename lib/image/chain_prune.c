/* SPDX-License-Identifier: MIT */
/*
 * Pruning chains (sdump prune --keep N): the oldest pass kept is squashed
 * beside itself (chain_squash.c) and swapped with it in one rename
 * (RENAME_EXCHANGE), its pass id kept so that its children still link to
 * it; only once every chain given is swapped are the passes no kept one
 * needs removed, each inventory first. At any moment every chain is
 * restorable: an interruption leaves at most passes nobody needs.
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
#define LOG_PREFIX "prune: "
#include "array.h"
#include "ctx.h"
#include "chain.h"
#include "chain_squash.h"
#include "fault.h"
#include "img_files.h"
#include "util.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* Paths of passes, resolved (realpath), to compare. */
struct paths {
	char **p;
	size_t n, cap;
};

static bool paths_have(const struct paths *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->p[i], path))
			return true;
	return false;
}

static int paths_add(struct paths *s, const char *path)
{
	char *c;

	if (paths_have(s, path))
		return 0;
	if (ARRAY_RESERVE(s->p, s->cap, s->n + 1, 16) < 0)
		return -ENOMEM;
	c = strdup(path);
	if (!c)
		return -ENOMEM;
	s->p[s->n++] = c;
	return 0;
}

static void paths_release(struct paths *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->p[i]);
	zfree(&s->p);
	s->n = s->cap = 0;
}

/* The bytes of the regular files in directory @path. */
static uint64_t dir_bytes(const char *path)
{
	uint64_t total = 0;
	struct dirent *de;
	DIR *d = opendir(path);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	(void)closedir(d);
	return total;
}

/* Whether @name is a file a pass directory holds: *.img, *.img.tmp, the parent link. */
static bool pass_file(const char *name)
{
	size_t len = strlen(name);

	return !strcmp(name, "parent") || (len > 4 && !strcmp(name + len - 4, ".img")) ||
	       (len > 8 && !strcmp(name + len - 8, ".img.tmp"));
}

/*
 * Remove the pass directory @path: its inventory first (from then on it is
 * no image), then its other files, then itself. Anything else in it stays,
 * and so does the directory, with a warning.
 */
static int remove_pass(struct sdump_ctx *ctx, const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct dirent *de;
	bool left = false;
	DIR *d;

	if (fd < 0)
		return errno == ENOENT ? 0 : sd_err(ctx, -errno, "cannot open '%s'", path);
	if (unlinkat(fd, sd_imgfile_name(IMGF_INVENTORY), 0) < 0 && errno != ENOENT)
		return sd_err(ctx, -errno, "cannot remove '%s/%s'", path, sd_imgfile_name(IMGF_INVENTORY));
	d = fdopendir(fd);
	if (!d)
		return sd_err(ctx, -errno, "cannot list '%s'", path);
	fd = -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!pass_file(de->d_name) || unlinkat(dirfd(d), de->d_name, 0) < 0)
			left = true;
	}
	(void)closedir(d);
	if (left || rmdir(path) < 0)
		pr_warn(ctx, "'%s' holds files of no image: left there, emptied of the pass", path);
	return 0;
}

/* The passes of the chain ending at @dir, resolved, newest first. */
static int chain_paths(struct sdump_ctx *ctx, const char *dir, struct paths *ret)
{
	struct chain c = { 0 };
	struct paths s = { 0 };
	int r;

	r = sd_chain_open(ctx, dir, &c);
	for (size_t i = 0; r == 0 && i < c.n; i++) {
		char *rp = realpath(c.p[i].dir.path, NULL);

		if (!rp) {
			r = sd_err(ctx, -errno, "cannot resolve '%s'", c.p[i].dir.path);
			break;
		}
		/* one directory twice in a chain cannot be: it would be a loop */
		r = paths_add(&s, rp);
		free(rp);
	}
	sd_chain_release(&c);
	if (r < 0) {
		paths_release(&s);
		return r == -ENOMEM ? sd_err(ctx, r, "cannot read the chain of '%s'", dir) : r;
	}
	*ret = s;
	return 0;
}

/* The pass @path squashed beside itself, then swapped with it; the old one is removed. */
static int squash_in_place(struct sdump_ctx *ctx, const char *path, struct sdump_prune_info *info)
{
	struct img_dir out = { .dirfd = -1 };
	uint64_t before = dir_bytes(path);
	int r;

	r = sd_chain_squash_tmp(ctx, path, path, &out, NULL);
	if (r < 0)
		return r;
	if (fault_fails(FAULT_OPEN) ||
	    renameat2(AT_FDCWD, out.path, AT_FDCWD, path, RENAME_EXCHANGE) < 0) {
		r = errno == EINVAL ? sd_errx(ctx, -EOPNOTSUPP,
					      "cannot swap '%s' with its squashed copy: this file system has no atomic exchange of directories (RENAME_EXCHANGE)",
					      path)
				    : sd_err(ctx, -errno, "cannot swap '%s' with its squashed copy", path);
		sd_img_dir_abort(ctx, &out);
		sd_img_dir_release(&out);
		return r;
	}
	r = sd_chain_sync_parent(ctx, path);
	/* the old pass is at the temporary path now */
	if (r == 0)
		r = remove_pass(ctx, out.path);
	if (r == 0) {
		info->squashed++;
		info->bytes_freed += before - MIN(before, dir_bytes(path));
		pr_info(ctx, "'%s': made self-contained", path);
	}
	sd_img_dir_release(&out);
	return r;
}

SDUMP_API int sdump_prune(struct sdump_ctx *ctx, const char *const *dirs, size_t ndirs,
			  unsigned int keep, struct sdump_prune_info *ret_info)
{
	struct sdump_prune_info info = { .chains = ndirs };
	struct paths *ch = NULL, kept = { 0 }, done = { 0 };
	int r = 0;

	if (keep < 1)
		return sd_errx(ctx, -EINVAL, "prune keeps at least one pass of each chain");
	if (!ndirs)
		return sd_errx(ctx, -EINVAL, "prune needs the newest pass of a chain");
	ch = calloc(ndirs, sizeof(*ch));
	if (!ch)
		return sd_err(ctx, -ENOMEM, "cannot prune");
	/* every chain read first: nothing changes if one of them is damaged */
	for (size_t i = 0; r == 0 && i < ndirs; i++)
		r = chain_paths(ctx, dirs[i], &ch[i]);
	for (size_t i = 0; r == 0 && i < ndirs; i++)
		for (size_t k = 0; r == 0 && k < MIN((size_t)keep, ch[i].n); k++)
			r = paths_add(&kept, ch[i].p[k]);
	/* the oldest kept pass of each chain self-contained, before anything is removed */
	for (size_t i = 0; r == 0 && i < ndirs; i++) {
		const char *oldest;

		if (ch[i].n <= keep)
			continue;
		oldest = ch[i].p[keep - 1];
		if (paths_have(&done, oldest))
			continue;
		r = sd_check_cancel(ctx);
		if (r == 0)
			r = squash_in_place(ctx, oldest, &info);
		if (r == 0)
			r = paths_add(&done, oldest);
	}
	/* then what no kept pass needs any more, newest first */
	for (size_t i = 0; r == 0 && i < ndirs; i++) {
		for (size_t k = keep; r == 0 && k < ch[i].n; k++) {
			uint64_t bytes;

			if (paths_have(&kept, ch[i].p[k]) || paths_have(&done, ch[i].p[k]))
				continue;
			bytes = dir_bytes(ch[i].p[k]);
			r = remove_pass(ctx, ch[i].p[k]);
			if (r == 0)
				r = paths_add(&done, ch[i].p[k]);
			if (r == 0) {
				info.deleted++;
				info.bytes_freed += bytes;
				pr_info(ctx, "'%s': removed", ch[i].p[k]);
			}
		}
	}
	if (r == -ENOMEM)
		r = sd_err(ctx, r, "cannot prune");
	for (size_t i = 0; i < ndirs; i++)
		paths_release(&ch[i]);
	free(ch);
	paths_release(&kept);
	paths_release(&done);
	if (r == 0 && ret_info)
		*ret_info = info;
	return r;
}
