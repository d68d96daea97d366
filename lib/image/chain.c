/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "array.h"
#include "sdump.h"
#define LOG_PREFIX "chain: "
#include "ctx.h"
#include "chain.h"
#include "util.h"

static int pass_open(struct sdump_ctx *ctx, const char *path, struct chain_pass *ret)
{
	struct chain_pass p = { .dir = { .dirfd = -1 }, .rd = { .fd = -1 } };
	int r;

	r = sd_img_dir_open(ctx, path, &p.dir);
	if (r < 0)
		return r;
	r = sd_passimg_read_inventory(ctx, &p.dir, &p.meta);
	if (r == 0)
		r = sd_passimg_read_mm(ctx, &p.dir, p.meta.page_size, &p.vmas);
	if (r == 0)
		r = sd_pmimg_read(ctx, &p.dir, &p.pm);
	/* not needed to read memory, but a damaged file anywhere is an error */
	if (r == 0)
		r = sd_passimg_read_stats(ctx, &p.dir, &p.stats);
	if (r == 0 && p.pm.page_size != p.meta.page_size)
		r = sd_errx(ctx, -EBADMSG, "image '%s' is corrupt: page sizes differ", path);
	/* pages.img against its frame table (sizes, header), whether it is read or not */
	if (r == 0)
		r = sd_pagestore_reader_open(ctx, &p.dir, p.pm.frames, p.pm.nframes, p.pm.frame_size,
					  p.pm.stream_bytes, p.pm.pages_file_size, &p.rd);
	if (r == 0)
		sd_pagestore_reader_release(&p.rd);
	if (r < 0) {
		sd_img_dir_release(&p.dir);
		sd_vma_list_release(&p.vmas);
		sd_pmimg_release(&p.pm);
		return r;
	}
	*ret = p;
	return 0;
}

static void pass_release(struct chain_pass *p)
{
	sd_ghost_set_release(&p->ghosts);
	if (p->rd_open)
		sd_pagestore_reader_release(&p->rd);
	sd_img_dir_release(&p->dir);
	sd_vma_list_release(&p->vmas);
	sd_pmimg_release(&p->pm);
}

/* The path of @child's parent: the "parent" symlink, relative to @child. */
static int parent_path(struct sdump_ctx *ctx, const char *child, char **ret_path)
{
	char lpath[PATH_MAX], link[PATH_MAX], *path, *resolved;
	size_t clen;
	ssize_t n;

	(void)snprintf(lpath, sizeof(lpath), "%s/parent", child);
	n = readlink(lpath, link, sizeof(link) - 1);
	if (n < 0)
		return sd_err(ctx, -errno,
			      "image '%s' names a parent pass but has no readable 'parent' link",
			      child);
	link[n] = '\0';
	if (link[0] == '/') {
		path = strdup(link);
	} else {
		clen = strlen(child);
		path = malloc(clen + 1 + (size_t)n + 1);
		if (path)
			(void)sprintf(path, "%s/%s", child, link);
	}
	if (!path)
		return -ENOMEM;
	/* resolved, for messages and show: "/img/1", not "img/3/../2/../1" (kept as is if missing) */
	resolved = realpath(path, NULL);
	if (resolved) {
		free(path);
		path = resolved;
	}
	*ret_path = path;
	return 0;
}

int sd_chain_open(struct sdump_ctx *ctx, const char *dir, struct chain *ret_chain)
{
	struct chain c = { .file_fd = -1 };
	char *path = strdup(dir);
	size_t cap = 0;
	int r = 0;

	if (!path)
		return -ENOMEM;
	for (;;) {
		struct chain_pass *child;

		if (c.n == CHAIN_MAX_PASSES) {
			r = sd_errx(ctx, -ELOOP, "chain of '%s' is longer than %d passes", dir,
				    CHAIN_MAX_PASSES);
			break;
		}
		r = ARRAY_RESERVE(c.p, cap, c.n + 1, 4);
		if (r < 0)
			break;
		r = pass_open(ctx, path, &c.p[c.n]);
		if (r == -ENOENT && c.n > 0) {
			sdump_ctx_clear_error(ctx);
			r = sd_errx(ctx, -ENOENT,
				    "parent image '%s' of '%s' is missing (its 'parent' link points there: a chain needs every pass it links to)",
				    path, c.p[c.n - 1].dir.path);
		}
		if (r < 0)
			break;
		c.n++;
		if (c.n > 1) {
			const struct pass_meta *pm = &c.p[c.n - 1].meta;

			child = &c.p[c.n - 2];
			if (strcmp(child->meta.parent_pass_id, pm->pass_id)) {
				r = sd_errx(ctx, -EBADMSG,
					    "'%s' is not the parent of '%s': pass id %s, expected %s",
					    path, child->dir.path, pm->pass_id,
					    child->meta.parent_pass_id);
				break;
			}
			/* start times count from boot: compare them within one boot only */
			if (pm->pid != child->meta.pid || pm->start_time != child->meta.start_time ||
			    pm->boot_id_hi != child->meta.boot_id_hi ||
			    pm->boot_id_lo != child->meta.boot_id_lo ||
			    pm->page_size != child->meta.page_size) {
				r = sd_errx(ctx, -EBADMSG, "parent '%s' of '%s' is of another process",
					    path, child->dir.path);
				break;
			}
		}
		if (!c.p[c.n - 1].meta.parent_pass_id[0])
			break;
		free(path);
		path = NULL;
		r = parent_path(ctx, c.p[c.n - 1].dir.path, &path);
		if (r < 0)
			break;
	}
	free(path);
	if (r < 0) {
		sd_chain_release(&c);
		return r;
	}
	*ret_chain = c;
	return 0;
}

int sd_chain_push(struct sdump_ctx *ctx, const char *dir, struct chain *c)
{
	struct chain_pass np, *p;
	const struct pass_meta *pm = &c->p[0].meta;
	int r = pass_open(ctx, dir, &np);

	if (r < 0)
		return r;
	if (strcmp(np.meta.parent_pass_id, pm->pass_id) || np.meta.pid != pm->pid ||
	    np.meta.start_time != pm->start_time || np.meta.boot_id_hi != pm->boot_id_hi ||
	    np.meta.boot_id_lo != pm->boot_id_lo || np.meta.page_size != pm->page_size)
		r = sd_errx(ctx, -EBADMSG, "'%s' is not the child of '%s': its parent is pass %s, not %s",
			    dir, c->p[0].dir.path, np.meta.parent_pass_id[0] ? np.meta.parent_pass_id : "none",
			    pm->pass_id);
	else if (c->n == CHAIN_MAX_PASSES)
		r = sd_errx(ctx, -ELOOP, "chain of '%s' is longer than %d passes", dir, CHAIN_MAX_PASSES);
	p = r == 0 ? realloc(c->p, (c->n + 1) * sizeof(*c->p)) : NULL;
	if (r == 0 && !p)
		r = -ENOMEM;
	if (r < 0) {
		pass_release(&np);
		return r;
	}
	memmove(p + 1, p, c->n * sizeof(*p));
	p[0] = np;
	c->p = p;
	c->n++;
	/* the file last read for unsaved pages was of a VMA of the pass that was newest */
	zclose(&c->file_fd);
	c->file_vma = NULL;
	return 0;
}

void sd_chain_release(struct chain *c)
{
	/* a chain never opened (all zeros) holds nothing, fd 0 least of all */
	if (!c->p)
		return;
	zclose(&c->file_fd);
	c->file_vma = NULL;
	zfree(&c->page);
	sd_chain_tree_release(c);
	for (size_t i = 0; i < c->n; i++)
		pass_release(&c->p[i]);
	zfree(&c->p);
	c->n = 0;
}

/* Where the contents of one page come from. */
enum page_src { PAGE_ABSENT, PAGE_ZERO, PAGE_DATA };

/*
 * Resolve the page at @addr through the chain. For PAGE_DATA, *ret_pass and
 * *ret_off say which pass's stream holds it, at which offset.
 */
static int chain_resolve(struct sdump_ctx *ctx, const struct chain *c, uint64_t addr,
			 enum page_src *ret_src, size_t *ret_pass, uint64_t *ret_off)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct chain_pass *p = &c->p[i];
		const struct pm_entry *e = sd_pm_list_find(&p->pm.list, addr, p->meta.page_size);

		if (!e)
			break;
		switch (e->kind) {
		case PM_DATA:
			*ret_src = PAGE_DATA;
			*ret_pass = i;
			*ret_off = e->off + (addr - e->vaddr);
			return 0;
		case PM_ZERO:
			*ret_src = PAGE_ZERO;
			return 0;
		case PM_PARENT:
			if (i + 1 == c->n)
				return sd_errx(ctx, -EBADMSG,
					       "image '%s' is corrupt: page 0x%" PRIx64 " is in a parent it does not have",
					       p->dir.path, addr);
			continue;
		}
	}
	*ret_src = PAGE_ABSENT;
	return 0;
}

int sd_chain_walk(struct sdump_ctx *ctx, const struct chain *c, size_t pass, uint64_t a, uint64_t b,
	       sd_chain_walk_fn fn, void *data)
{
	const struct chain_pass *p = &c->p[pass];
	const struct pm_list *l = &p->pm.list;
	const struct pm_entry *e = sd_pm_list_find_ge(l, a, p->meta.page_size);
	int r = 0;

	for (; e && e < l->e + l->n && e->vaddr < b && r == 0; e++) {
		uint64_t s = MAX(a, e->vaddr), t = MIN(b, e->vaddr + e->npages * p->meta.page_size);

		if (e->kind == PM_DATA)
			r = fn(data, PM_DATA, pass, e->off + (s - e->vaddr), s, t - s);
		else if (e->kind == PM_ZERO)
			r = fn(data, PM_ZERO, pass, 0, s, t - s);
		else if (pass + 1 == c->n)
			return sd_errx(ctx, -EBADMSG,
				       "image '%s' is corrupt: page 0x%" PRIx64 " is in a parent it does not have",
				       p->dir.path, s);
		else
			r = sd_chain_walk(ctx, c, pass + 1, s, t, fn, data);
	}
	return r;
}

uint64_t sd_chain_next_recorded(const struct chain *c, uint64_t addr)
{
	const struct chain_pass *p = &c->p[0];
	const struct pm_entry *e = sd_pm_list_find_ge(&p->pm.list, addr, p->meta.page_size);

	if (!e)
		return UINT64_MAX;
	return MAX(e->vaddr, addr);
}

/* A page of a deleted file nobody stored: the file's contents the newest pass saved. */
static int deleted_page(struct sdump_ctx *ctx, struct chain *c, const struct vma *v, uint64_t page,
			uint8_t *out, size_t psz, bool lenient)
{
	struct chain_pass *p = &c->p[0];
	const struct ghost_file *f;
	int r;

	if (!p->ghosts_read) {
		r = sd_ghost_set_read(ctx, &p->dir, &p->ghosts);
		if (r < 0)
			return r;
		p->ghosts_read = true;
	}
	f = sd_ghost_set_find(&p->ghosts, v->ghost);
	if (!f && lenient)
		return 0;
	if (!f && p->meta.kind == PASS_KIND_DUMP)
		return sd_errx(ctx, -EBADMSG,
			       "image '%s' is corrupt: 0x%" PRIx64 "-0x%" PRIx64 " maps a deleted file whose contents it does not have",
			       p->dir.path, v->start, v->end);
	if (!f)
		return sd_errx(ctx, -ENOENT,
			       "the unsaved pages of the deleted file '%s' at 0x%" PRIx64 " are in no image: a pre-dump does not save a deleted file's contents, the final dump does",
			       v->path, page);
	if (f->shared_pid)
		return sd_chain_member_ghost(ctx, c, f, v->pgoff + (page - v->start), out, psz, lenient);
	return sd_ghost_read_at(ctx, &p->ghosts, f, v->pgoff + (page - v->start), out, psz);
}

/*
 * A page nobody stored: a file mapping shows its file (which must still be
 * the file that was mapped), anything else zeros.
 */
static int absent_page(struct sdump_ctx *ctx, struct chain *c, const struct vma *v, uint64_t page,
		       uint8_t *out, size_t psz, bool lenient)
{
	int *file_fd = &c->file_fd;
	const struct vma **file_vma = &c->file_vma;
	struct stat st;
	ssize_t n;

	memset(out, 0, psz);
	if (v->kind == VK_SHMEM && v->shared_pid)
		return sd_chain_member_page(ctx, c, v, page, out, psz, lenient);
	if (v->kind != VK_FILE && v->kind != VK_FILE_SHARED)
		return 0;
	if (v->deleted)
		return deleted_page(ctx, c, v, page, out, psz, lenient);
	if (*file_vma != v) {
		zclose(file_fd);
		*file_vma = NULL;
		/*
		 * The path is the image's word: a regular file is opened, read and
		 * checked, never a device or a FIFO (opening one can have effects)
		 */
		if (stat(v->path ? v->path : "", &st) == 0 && !S_ISREG(st.st_mode)) {
			if (lenient)
				return 0;
			return sd_errx(ctx, -ESTALE, "file '%s' was replaced since the dump", v->path);
		}
		*file_fd = open(v->path ? v->path : "", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (*file_fd < 0 && lenient)
			return 0;
		if (*file_fd < 0)
			return sd_err(ctx, -errno, "cannot read the unsaved pages of file mapping '%s'",
				      v->path ? v->path : "?");
		if (fstat(*file_fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != v->ino ||
		    major(st.st_dev) != v->dev_major || minor(st.st_dev) != v->dev_minor) {
			zclose(file_fd);
			if (lenient)
				return 0;
			return sd_errx(ctx, -ESTALE, "file '%s' was replaced since the dump", v->path);
		}
		*file_vma = v;
	}
	/* past the end of the file the page reads as zeros, as in the process */
	n = sd_pread_all(*file_fd, out, psz, (off_t)(v->pgoff + (page - v->start)));
	if (n < 0)
		return sd_err(ctx, (int)n, "cannot read '%s'", v->path);
	return 0;
}

/* Read one page of PAGE_DATA into @out. */
static int chain_read_page(struct sdump_ctx *ctx, struct chain *c, size_t pass, uint64_t off, void *out)
{
	struct pagestore_reader *rd;
	int r = sd_chain_reader(ctx, c, pass, &rd);

	if (r < 0)
		return r;
	return sd_pagestore_read(ctx, rd, off, out, c->p[pass].meta.page_size);
}

int sd_chain_read_range(struct sdump_ctx *ctx, struct chain *c, uint64_t addr, void *out, size_t len,
		     bool lenient)
{
	size_t psz = c->p[0].meta.page_size;
	uint8_t *o = out;
	uint64_t a, end = addr + len;
	int r;

	if (!c->page) {
		c->page = malloc(psz);
		if (!c->page)
			return sd_err(ctx, -ENOMEM, "cannot read the image");
	}
	for (a = addr & ~(uint64_t)(psz - 1); a < end; a += psz) {
		const struct vma *v = sd_vma_list_find(&c->p[0].vmas, a);
		uint64_t from = MAX(a, addr), to = MIN(a + psz, end), off = 0;
		enum page_src src = PAGE_ABSENT;
		size_t pass = 0;

		r = chain_resolve(ctx, c, a, &src, &pass, &off);
		if (r < 0)
			return r;
		if (src == PAGE_DATA)
			r = chain_read_page(ctx, c, pass, off, c->page);
		else if (src == PAGE_ZERO || !v)
			memset(c->page, 0, psz);
		else
			r = absent_page(ctx, c, v, a, c->page, psz, lenient);
		if (r < 0)
			return r;
		memcpy(o, c->page + (from - a), to - from);
		o += to - from;
	}
	return 0;
}

int sd_chain_reader(struct sdump_ctx *ctx, struct chain *c, size_t pass,
		 struct pagestore_reader **ret_rd)
{
	struct chain_pass *p = &c->p[pass];
	int r;

	if (!p->rd_open) {
		r = sd_pagestore_reader_open(ctx, &p->dir, p->pm.frames, p->pm.nframes,
					  p->pm.frame_size, p->pm.stream_bytes,
					  p->pm.pages_file_size, &p->rd);
		if (r < 0)
			return r;
		p->rd_open = true;
	}
	*ret_rd = &p->rd;
	return 0;
}
