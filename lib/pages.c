/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "sdump.h"
#define LOG_PREFIX "pages: "
#include "ctx.h"
#include "pages.h"
#include "util.h"

bool page_is_zero(const void *page, size_t page_size)
{
	const uint64_t *p = page;
	size_t n = page_size / sizeof(uint64_t);

	/* most pages that are not zero say so in their first words */
	if (p[0] | p[1] | p[n - 1])
		return false;
	for (size_t i = 0; i < n; i += 8) {
		if (p[i] | p[i + 1] | p[i + 2] | p[i + 3] | p[i + 4] | p[i + 5] | p[i + 6] |
		    p[i + 7])
			return false;
	}
	return true;
}

static bool process_exited(const struct page_source *src)
{
	struct pollfd pfd = { .fd = src->pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0;
}

/* Read up to @n pages at @addr: returns the pages read from @addr on, or -errno. */
static ssize_t read_pages(const struct page_source *src, uint64_t addr, void *buf, size_t n,
			  struct copy_counts *counts)
{
	const struct vma *v = vma_list_find(src->vmas, addr);
	size_t len = n * src->page_size;
	ssize_t got = 0;

	if (v && (v->prot & PROT_READ)) {
		struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };

		got = process_vm_readv(src->pid, &l, 1, &r, 1, 0);
		if (got < 0 && errno == ESRCH)
			return -ESRCH;
		if (got > 0) {
			counts->vm_readv_bytes += (uint64_t)got;
			return got / (ssize_t)src->page_size;
		}
	}
	/* unreadable memory, or process_vm_readv could not start: /proc/PID/mem reads it all */
	got = pread(src->memfd, buf, len, (off_t)addr);
	if (got < 0 && errno != EIO && errno != EFAULT)
		return -errno;
	if (got <= 0)
		return 0;
	counts->mem_bytes += (uint64_t)got;
	return got / (ssize_t)src->page_size;
}

int pages_copy(struct sdump_ctx *ctx, const struct page_source *src, const struct run_list *runs,
	       struct pagestore_writer *w, struct pm_list *out, struct copy_counts *counts)
{
	const size_t psz = src->page_size;
	int r;

	for (size_t ri = 0; ri < runs->n; ri++) {
		uint64_t addr = runs->r[ri].start, left = runs->r[ri].npages;

		if (runs->r[ri].in_parent) {
			r = pm_list_add(out, addr, left, PM_PARENT, 0, psz);
			if (r < 0)
				return sd_err(ctx, r, "cannot record pages");
			counts->parent += left;
			continue;
		}
		while (left > 0) {
			uint8_t *buf;
			size_t room, kept = 0;
			uint64_t off;
			ssize_t got;

			r = pagestore_reserve(w, &buf, &room, &off);
			if (r < 0)
				return r;
			got = read_pages(src, addr, buf, (size_t)MIN(left, room / psz), counts);
			if (got < 0 || (got == 0 && process_exited(src))) {
				if (got == 0 || got == -ESRCH)
					return sd_errx(ctx, -ESRCH, "process %d exited during the pass",
						       src->pid);
				return sd_err(ctx, (int)got, "cannot read memory of pid %d at 0x%" PRIx64,
					      src->pid, addr);
			}
			if (got == 0) {
				pr_debug(ctx, "page 0x%" PRIx64 " went away, left out", addr);
				counts->lost++;
				addr += psz;
				left--;
				continue;
			}
			for (ssize_t i = 0; i < got; i++) {
				uint8_t *page = buf + (size_t)i * psz;
				uint64_t a = addr + (uint64_t)i * psz;

				if (page_is_zero(page, psz)) {
					r = pm_list_add(out, a, 1, PM_ZERO, 0, psz);
					counts->zero++;
				} else {
					if ((size_t)i != kept)
						memcpy(buf + kept * psz, page, psz);
					r = pm_list_add(out, a, 1, PM_DATA, off + kept * psz, psz);
					kept++;
				}
				if (r < 0)
					return sd_err(ctx, r, "cannot record pages");
			}
			r = pagestore_commit(w, kept * psz);
			if (r < 0)
				return r;
			counts->data += kept;
			addr += (uint64_t)got * psz;
			left -= (uint64_t)got;
		}
	}
	return 0;
}
