/* SPDX-License-Identifier: MIT */
/* sdump extract: the dumped memory of an address range, through the chain. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "sdump.h"
#define LOG_PREFIX "extract: "
#include "ctx.h"
#include "chain.h"
#include "util.h"

#define OUT_CHUNK (1u << 20)

/* The range must be covered by VMAs of the newest pass with no hole. */
static int check_range(struct sdump_ctx *ctx, const struct chain *c, uint64_t addr, uint64_t len)
{
	const struct vma_list *vl = &c->p[0].vmas;
	uint64_t a = addr, end;

	if (len == 0 || addr + len < addr)
		return sd_errx(ctx, -ERANGE, "bad range 0x%" PRIx64 "+%" PRIu64, addr, len);
	end = addr + len;
	while (a < end) {
		const struct vma *v = vma_list_find(vl, a);

		if (!v)
			return sd_errx(ctx, -ERANGE,
				       "address 0x%" PRIx64 " is not in any VMA recorded in '%s'", a,
				       c->p[0].dir.path);
		a = v->end;
	}
	return 0;
}

/*
 * A page nobody stored: a file mapping shows its file (which must still be
 * the file that was mapped), anything else zeros.
 */
static int absent_page(struct sdump_ctx *ctx, const struct vma *v, uint64_t page, uint8_t *out,
		       size_t psz, int *file_fd, const struct vma **file_vma)
{
	struct stat st;
	ssize_t n;

	memset(out, 0, psz);
	if (v->kind != VK_FILE && v->kind != VK_FILE_SHARED)
		return 0;
	if (*file_vma != v) {
		zclose(file_fd);
		*file_vma = NULL;
		*file_fd = open(v->path ? v->path : "", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (*file_fd < 0)
			return sd_err(ctx, -errno, "cannot read the unsaved pages of file mapping '%s'",
				      v->path ? v->path : "?");
		if (fstat(*file_fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != v->ino ||
		    major(st.st_dev) != v->dev_major || minor(st.st_dev) != v->dev_minor) {
			zclose(file_fd);
			return sd_errx(ctx, -ESTALE, "file '%s' was replaced since the dump", v->path);
		}
		*file_vma = v;
	}
	/* past the end of the file the page reads as zeros, as in the process */
	n = pread_all(*file_fd, out, psz, (off_t)(v->pgoff + (page - v->start)));
	if (n < 0)
		return sd_err(ctx, (int)n, "cannot read '%s'", v->path);
	return 0;
}

SDUMP_API int sdump_extract(struct sdump_ctx *ctx, const char *dir, uint64_t addr, uint64_t len,
			    int out_fd)
{
	struct chain c = { 0 };
	const struct vma *file_vma = NULL;
	uint8_t *buf = NULL, *page = NULL;
	int file_fd = -1, r;
	size_t psz, fill = 0;
	uint64_t a, end;

	r = chain_open(ctx, dir, &c);
	if (r < 0)
		return r;
	r = check_range(ctx, &c, addr, len);
	if (r < 0)
		goto out;
	psz = c.p[0].meta.page_size;
	buf = malloc(OUT_CHUNK);
	page = malloc(psz);
	if (!buf || !page) {
		r = sd_err(ctx, -ENOMEM, "cannot extract");
		goto out;
	}
	end = addr + len;
	for (a = addr & ~(uint64_t)(psz - 1); a < end; a += psz) {
		const struct vma *v = vma_list_find(&c.p[0].vmas, a);
		uint64_t from = MAX(a, addr), to = MIN(a + psz, end), off = 0;
		enum page_src src;
		size_t pass = 0;

		r = chain_resolve(ctx, &c, a, &src, &pass, &off);
		if (r < 0)
			goto out;
		if (src == PAGE_DATA)
			r = chain_read_page(ctx, &c, pass, off, page);
		else if (src == PAGE_ZERO || !v)
			memset(page, 0, psz);
		else
			r = absent_page(ctx, v, a, page, psz, &file_fd, &file_vma);
		if (r < 0)
			goto out;
		if (fill + (to - from) > OUT_CHUNK) {
			r = write_all(out_fd, buf, fill);
			if (r < 0) {
				r = sd_err(ctx, r, "cannot write the extracted memory");
				goto out;
			}
			fill = 0;
		}
		memcpy(buf + fill, page + (from - a), to - from);
		fill += to - from;
	}
	r = write_all(out_fd, buf, fill);
	if (r < 0)
		r = sd_err(ctx, r, "cannot write the extracted memory");
out:
	zclose(&file_fd);
	free(buf);
	free(page);
	chain_release(&c);
	return r;
}
