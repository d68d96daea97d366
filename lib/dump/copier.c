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
#include "fault.h"
#include "copier.h"
#include "util.h"

static bool process_exited(const struct page_source *src)
{
	struct pollfd pfd = { .fd = src->pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0;
}

/*
 * Read up to @n pages at @addr: returns the pages read from @addr on, or
 * -errno. @shared: pages another process maps too, which process_vm_readv
 * would pin, and so copy (see SC_EXCLUSIVE): read through /proc/PID/mem.
 */
static ssize_t read_pages(const struct page_source *src, uint64_t addr, void *buf, size_t n,
			  bool shared, struct copy_counts *counts)
{
	const struct vma *v = sd_vma_list_find(src->vmas, addr);
	size_t len = n * src->page_size;
	ssize_t got = sd_fault_check(FAULT_PROCREAD);

	/* a failure, not a page that went away (EIO and EFAULT below mean that) */
	if (got < 0)
		return got;
	if (v && (v->prot & PROT_READ) && !shared) {
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

/*
 * Pages at buf[idx...idx+n) were read from @addr on: record zero pages as
 * such, keep the others, moved down to buf[*kept...] (their stream offset
 * is @off plus their place there).
 */
static int keep_pages(const struct page_source *src, uint8_t *buf, size_t idx, size_t n,
		      uint64_t addr, uint64_t off, size_t *kept, struct pm_list *out,
		      struct copy_counts *counts)
{
	const size_t psz = src->page_size;

	for (size_t i = 0; i < n; i++) {
		uint8_t *page = buf + (idx + i) * psz;
		uint64_t a = addr + (uint64_t)i * psz;
		int r;

		if (sd_page_is_zero(page, psz)) {
			r = sd_pm_list_add(out, a, 1, PM_ZERO, 0, psz);
			counts->zero++;
		} else {
			if (idx + i != *kept)
				memcpy(buf + *kept * psz, page, psz);
			r = sd_pm_list_add(out, a, 1, PM_DATA, off + *kept * psz, psz);
			(*kept)++;
			counts->data++;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Pages of the copy done so far, for the progress callback (rate-limited there). */
static void progress(struct sdump_ctx *ctx, const struct copy_counts *counts)
{
	sd_progress_update(ctx, counts->data + counts->zero + counts->lost);
}

static int exited_error(struct sdump_ctx *ctx, const struct page_source *src)
{
	return sd_errx(ctx, -ESRCH, "process %d exited during the pass", src->pid);
}

/* Copy one run, in as many pieces as the page stream needs. */
static int copy_run(struct sdump_ctx *ctx, const struct page_source *src, uint64_t addr,
		    uint64_t left, bool shared, struct pagestore_writer *w, struct pm_list *out,
		    struct copy_counts *counts)
{
	const size_t psz = src->page_size;
	int r;

	while (left > 0) {
		uint8_t *buf;
		size_t room, kept = 0;
		uint64_t off;
		ssize_t got;

		r = sd_check_cancel(ctx);
		if (r < 0)
			return r;
		progress(ctx, counts);
		r = sd_pagestore_reserve(w, &buf, &room, &off);
		if (r < 0)
			return r;
		got = read_pages(src, addr, buf, (size_t)MIN(left, room / psz), shared, counts);
		if (got == -ESRCH || (got == 0 && process_exited(src)))
			return exited_error(ctx, src);
		if (got < 0)
			return sd_err(ctx, (int)got, "cannot read memory of pid %d at 0x%" PRIx64,
				      src->pid, addr);
		if (got == 0) {
			pr_debug(ctx, "page 0x%" PRIx64 " went away, left out", addr);
			counts->lost++;
			addr += psz;
			left--;
			continue;
		}
		if (src->copied) {
			r = src->copied(src->copied_data, addr, buf, (size_t)got);
			if (r < 0)
				return r;
		}
		r = keep_pages(src, buf, 0, (size_t)got, addr, off, &kept, out, counts);
		if (r < 0)
			return sd_err(ctx, r, "cannot record pages");
		r = sd_pagestore_commit(w, kept * psz);
		if (r < 0)
			return r;
		addr += (uint64_t)got * psz;
		left -= (uint64_t)got;
	}
	return 0;
}

/* Runs this short are gathered, up to BATCH_IOV of them, into one process_vm_readv. */
#define BATCH_RUN_PAGES 16
#define BATCH_IOV 512

static bool batchable(const struct page_source *src, const struct page_run *run)
{
	const struct vma *v;

	if (run->in_parent || run->shared || run->npages >= BATCH_RUN_PAGES)
		return false;
	v = sd_vma_list_find(src->vmas, run->start);
	return v && (v->prot & PROT_READ) && run->start + run->npages * src->page_size <= v->end;
}

/*
 * Copy runs [*ri, ...) that are short and readable with one
 * process_vm_readv: scattered single pages are the common case of an
 * incremental pass, and one call for 512 of them runs at about twice the
 * speed of a pread of /proc/PID/mem per page (bench/read_methods.c).
 * Whatever the batch could not read goes through copy_run().
 */
static int copy_batch(struct sdump_ctx *ctx, const struct page_source *src,
		      const struct run_list *runs, size_t *ri, struct pagestore_writer *w,
		      struct pm_list *out, struct copy_counts *counts)
{
	const size_t psz = src->page_size;
	struct iovec iov[BATCH_IOV], local;
	size_t n = 0, pages = 0, room, kept = 0, done = 0, first = *ri;
	uint8_t *buf;
	uint64_t off;
	ssize_t got;
	int r;

	r = sd_pagestore_reserve(w, &buf, &room, &off);
	if (r < 0)
		return r;
	while (*ri < runs->n && n < BATCH_IOV && batchable(src, &runs->r[*ri]) &&
	       (pages + runs->r[*ri].npages) * psz <= room) {
		iov[n++] = (struct iovec){ (void *)(uintptr_t)runs->r[*ri].start,
					   runs->r[*ri].npages * psz };
		pages += runs->r[*ri].npages;
		(*ri)++;
	}
	if (n == 0) { /* no room left in this frame: copy_run() moves on to the next */
		(*ri)++;
		return copy_run(ctx, src, runs->r[first].start, runs->r[first].npages, false, w, out,
				counts);
	}
	local = (struct iovec){ buf, pages * psz };
	got = fault_fails(FAULT_PROCREAD) ? -1 : process_vm_readv(src->pid, &local, 1, iov, n, 0);
	if (got < 0 && errno == ESRCH)
		return exited_error(ctx, src);
	if (got > 0)
		counts->vm_readv_bytes += (uint64_t)got;
	done = got > 0 ? (size_t)got / psz : 0;
	/* runs read whole */
	for (size_t k = 0, idx = 0; k < n; k++) {
		size_t np = iov[k].iov_len / psz;

		if (idx + np > done) {
			/* commit what is kept, then the rest one run at a time */
			r = sd_pagestore_commit(w, kept * psz);
			if (r < 0)
				return r;
			for (size_t m = k; m < n; m++) {
				uint64_t a = (uintptr_t)iov[m].iov_base, np2 = iov[m].iov_len / psz;

				r = copy_run(ctx, src, a, np2, false, w, out, counts);
				if (r < 0)
					return r;
			}
			return 0;
		}
		if (src->copied) {
			r = src->copied(src->copied_data, (uintptr_t)iov[k].iov_base, buf + idx * psz, np);
			if (r < 0)
				return r;
		}
		r = keep_pages(src, buf, idx, np, (uintptr_t)iov[k].iov_base, off, &kept, out, counts);
		if (r < 0)
			return sd_err(ctx, r, "cannot record pages");
		idx += np;
	}
	return sd_pagestore_commit(w, kept * psz);
}

int sd_pages_copy(struct sdump_ctx *ctx, const struct page_source *src, const struct run_list *runs,
	       struct pagestore_writer *w, struct pm_list *out, struct copy_counts *counts)
{
	const size_t psz = src->page_size;
	size_t ri = 0;
	int r;

	while (ri < runs->n) {
		const struct page_run *run = &runs->r[ri];

		r = sd_check_cancel(ctx);
		if (r < 0)
			return r;
		progress(ctx, counts);
		if (run->in_parent) {
			r = sd_pm_list_add(out, run->start, run->npages, PM_PARENT, 0, psz);
			if (r < 0)
				return sd_err(ctx, r, "cannot record pages");
			counts->parent += run->npages;
			ri++;
			continue;
		}
		if (batchable(src, run)) {
			r = copy_batch(ctx, src, runs, &ri, w, out, counts);
		} else {
			r = copy_run(ctx, src, run->start, run->npages, run->shared, w, out, counts);
			ri++;
		}
		if (r < 0)
			return r;
	}
	progress(ctx, counts);
	return 0;
}
