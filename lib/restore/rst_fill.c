/* SPDX-License-Identifier: MIT */
/*
 * Filling a restored process's memory, in two steps:
 *
 *  1. Resolve: walk the newest pass's page runs over the filled VMAs and
 *     follow "in the parent" runs down the chain, range by range, to the
 *     pass that stored each page. The result is a list of segments (bytes
 *     of one pass's stream that go to one address), cut at frame
 *     boundaries, sorted by pass and stream offset: every frame a restore
 *     needs becomes one unit of work with the segments it feeds.
 *  2. Write: a thread per online CPU (the caller's among them) takes the
 *     next unit, reads, verifies and decompresses its frame and writes its
 *     segments with one process_vm_writev. Each page has exactly one
 *     source, so units are independent and their order does not matter:
 *     decompression and the kernel's copy into the new process run on
 *     every CPU at once, and no page is copied twice in user space.
 *
 * Zero pages over private file mappings must be written (the file has
 * something else there); the caller's thread writes them first.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "array.h"
#include "ctx.h"
#include "fault.h"
#include "rst_fill.h"
#include "util.h"

#define FILL_THREADS_MAX 8
#define FILL_IOV 256		/* segments per process_vm_writev (IOV_MAX is 1024) */

#define seg rst_fill_seg
#define unit rst_fill_unit

enum fill_fault { FILL_OK, FILL_DECODE, FILL_WRITE };

struct fill {
	struct sdump_ctx *ctx;
	struct chain *c;
	pid_t pid;
	int mem_fd;
	int uffd;		/* of the new process's mm, or -1 */
	size_t psz;
	struct seg *segs;
	size_t nsegs, capsegs;
	struct seg *zeros;	/* zero runs over private file mappings (pass unused) */
	size_t nzeros, capzeros;
	struct unit *units;
	size_t nunits;		/* written here: [0, nunits); a lazy fill's follow up to nall */
	size_t nall;
	struct rst_fill_lazy *lazy;	/* a lazy fill's, or NULL */
	const uint8_t *stage;	/* by VMA: enum rst_vma_stage, or NULL (all new) */
	struct rst_fill_range *rec;	/* a kept VMA: what the newest pass records of it */
	size_t nrec, caprec;
	struct rst_fill_range *drops;	/* what kept VMAs no longer have */
	size_t ndrops, capdrops;
	atomic_size_t next;	/* the next unit to take */
	atomic_uint_fast64_t pages_done;
	atomic_uint_fast64_t uffd_pages;	/* of them, placed with UFFDIO_COPY */
	atomic_bool stop;
	pthread_mutex_t lock;	/* the first failure: */
	enum fill_fault fault;
	int err;
	size_t fpass, fframe;
	uint64_t faddr;
	struct pagestore_decoder fdec;
};

bool sd_rst_vma_filled(const struct vma *v)
{
	return v && (v->kind == VK_ANON || v->kind == VK_FILE || v->kind == VK_SHMEM);
}

static int push(struct seg **a, size_t *n, size_t *cap, struct seg s)
{
	if (ARRAY_RESERVE(*a, *cap, *n + 1, 256) < 0)
		return -ENOMEM;
	(*a)[(*n)++] = s;
	return 0;
}

/* Bytes [off, off + len) of @pass's stream go to @addr: one segment per frame they touch. */
static int add_data(struct fill *f, size_t pass, uint64_t off, uint64_t addr, uint64_t len)
{
	uint64_t fsz = f->c->p[pass].pm.frame_size;

	while (len > 0) {
		uint64_t n = MIN(len, fsz - off % fsz);
		int r = push(&f->segs, &f->nsegs, &f->capsegs, (struct seg){ pass, off, addr, n, false, false });

		if (r < 0)
			return r;
		off += n;
		addr += n;
		len -= n;
	}
	return 0;
}

struct resolve {
	struct fill *f;
	const struct vma *v;
};

/* One run of VMA @v as the chain records it (sd_chain_walk): stored pages planned, zeros where they must be written. */
static int resolve_run(void *data, enum pm_kind kind, size_t pass, uint64_t off, uint64_t addr, uint64_t len)
{
	struct resolve *rs = data;
	struct fill *f = rs->f;

	if (kind == PM_DATA)
		return add_data(f, pass, off, addr, len);
	/* fresh anonymous memory is zeros already; file pages are the file's */
	if (rs->v->kind == VK_FILE)
		return push(&f->zeros, &f->nzeros, &f->capzeros, (struct seg){ 0, 0, addr, len, false, false });
	return 0;
}

/* Where the pages of VMA @v come from, as the newest pass and its parents record them. */
static int resolve(struct fill *f, const struct vma *v)
{
	struct resolve rs = { .f = f, .v = v };
	int r = sd_chain_walk(f->ctx, f->c, 0, v->start, v->end, resolve_run, &rs);

	if (r == -ENOMEM)
		return sd_err(f->ctx, r, "cannot plan the memory of pid %d", f->pid);
	return r;
}

/* [s, e) after the ranges of @a, joined to the last one where they touch. */
static int range_push(struct rst_fill_range **a, size_t *n, size_t *cap, uint64_t s, uint64_t e)
{
	if (*n && (*a)[*n - 1].end == s) {
		(*a)[*n - 1].end = e;
		return 0;
	}
	if (ARRAY_RESERVE(*a, *cap, *n + 1, 64) < 0)
		return -ENOMEM;
	(*a)[(*n)++] = (struct rst_fill_range){ s, e };
	return 0;
}

struct delta {
	struct fill *f;
	const struct vma *v;
	size_t k;		/* in f->rec, the walk over the pass before */
};

/*
 * A run of a kept VMA as the newest pass records it: what that pass
 * stores itself is written (zeros too: the page held something else),
 * what it has from a parent is in the process already.
 */
static int kept_run(void *data, enum pm_kind kind, size_t pass, uint64_t off, uint64_t addr, uint64_t len)
{
	struct delta *d = data;
	struct fill *f = d->f;
	int r = range_push(&f->rec, &f->nrec, &f->caprec, addr, addr + len);

	if (r < 0 || pass != 0)
		return r;
	if (kind == PM_DATA)
		return add_data(f, pass, off, addr, len);
	return push(&f->zeros, &f->nzeros, &f->capzeros, (struct seg){ 0, 0, addr, len, false, false });
}

/* A run the pass before recorded: the part the newest pass records nowhere is dropped. */
static int dropped_run(void *data, enum pm_kind kind, size_t pass, uint64_t off, uint64_t addr, uint64_t len)
{
	struct delta *d = data;
	struct fill *f = d->f;
	uint64_t s = addr, e = addr + len;
	int r = 0;

	(void)pass;
	(void)off;
	/* anonymous zeros and nothing are the same memory */
	if (kind == PM_ZERO && d->v->kind == VK_ANON)
		return 0;
	while (s < e && r == 0) {
		while (d->k < f->nrec && f->rec[d->k].end <= s)
			d->k++;
		if (d->k == f->nrec || f->rec[d->k].start >= e)
			return range_push(&f->drops, &f->ndrops, &f->capdrops, s, e);
		if (f->rec[d->k].start > s)
			r = range_push(&f->drops, &f->ndrops, &f->capdrops, s, f->rec[d->k].start);
		s = f->rec[d->k].end;
	}
	return r;
}

/* A kept VMA: what changed between the pass before (c->p[1], in the process) and the newest. */
static int resolve_kept(struct fill *f, const struct vma *v)
{
	struct delta d = { .f = f, .v = v };
	int r;

	f->nrec = 0;
	r = sd_chain_walk(f->ctx, f->c, 0, v->start, v->end, kept_run, &d);
	if (r == 0 && f->c->n > 1)
		r = sd_chain_walk(f->ctx, f->c, 1, v->start, v->end, dropped_run, &d);
	if (r == -ENOMEM)
		return sd_err(f->ctx, r, "cannot plan the memory of pid %d", f->pid);
	return r;
}

/*
 * Segments [first, f->nsegs) lie in VMA @v: if they are long (8 pages on
 * average: one ioctl per segment, where process_vm_writev takes 256 at a
 * time) and the VMA is anonymous, register it so that they are placed with
 * UFFDIO_COPY. All of them then must be: a registered VMA's missing pages
 * no longer fault in for process_vm_writev.
 */
static void register_lazy(struct fill *f, const struct vma *v, size_t first);

static void register_vma(struct fill *f, const struct vma *v, size_t first)
{
	struct uffdio_register reg = { .range = { v->start, v->end - v->start },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	uint64_t bytes = 0;

	if (f->lazy) {
		register_lazy(f, v, first);
		return;
	}
	/*
	 * shared memory that another VMA maps too, or made from its saved
	 * contents, or a System V segment that may still hold pages (attached
	 * again where it lived on): UFFDIO_COPY fails where a page is there
	 */
	if (f->uffd < 0 || (v->kind != VK_ANON && v->kind != VK_SHMEM) || first == f->nsegs ||
	    !sd_rst_vma_mapped_writable(v) || sd_vma_shmem_shared(&f->c->p[0].vmas, v) || v->shared_pid ||
	    v->ghost || v->has_sysv)
		return;
	for (size_t i = first; i < f->nsegs; i++)
		bytes += f->segs[i].len;
	if (bytes / (f->nsegs - first) < 8 * f->psz)
		return;
	if (ioctl(f->uffd, UFFDIO_REGISTER, &reg) < 0 || !(reg.ioctls & (1ull << _UFFDIO_COPY))) {
		pr_debug(f->ctx, "0x%" PRIx64 "-0x%" PRIx64 " not registered for UFFDIO_COPY",
			 v->start, v->end);
		return;
	}
	for (size_t i = first; i < f->nsegs; i++)
		f->segs[i].uffd = true;
}

/*
 * A lazy fill: VMA @v stays empty and registered (missing mode) for the
 * process's faults and the background copy if sd_rst_vma_lazy() says so;
 * every other VMA is written here, without the userfaultfd (its faults
 * would reach the handler: an mlock() among them, before it runs).
 */
static void register_lazy(struct fill *f, const struct vma *v, size_t first)
{
	struct uffdio_register reg = { .range = { v->start, v->end - v->start },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };

	if (!sd_rst_vma_lazy(v))
		return;
	if (ioctl(f->uffd, UFFDIO_REGISTER, &reg) < 0 || !(reg.ioctls & (1ull << _UFFDIO_COPY))) {
		pr_debug(f->ctx, "0x%" PRIx64 "-0x%" PRIx64 " not registered: filled before the start",
			 v->start, v->end);
		return;
	}
	if (sd_rst_lazy_vmas_add(f->lazy, v->start, v->end) < 0) {
		/* registered, so it must be served: without room to say so, written now */
		for (size_t i = first; i < f->nsegs; i++)
			f->segs[i].uffd = true;
		return;
	}
	for (size_t i = first; i < f->nsegs; i++)
		f->segs[i].uffd = f->segs[i].lazy = true;
}

bool sd_rst_vma_lazy(const struct vma *v)
{
	return v->kind == VK_ANON && v->prot != PROT_NONE &&
	       !(v->vmflags & (VMF_LOCKED | VMF_LOCKONFAULT | VMF_DROPPABLE | VMF_SEALED |
			       VMF_WIPEONFORK | VMF_HUGETLB));
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	if (x->pass != y->pass)
		return x->pass < y->pass ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * A lazy fill: the units whose segments all lie in lazy VMAs go last, in
 * their order (newest pass first), for the handler and the background copy;
 * a frame that feeds any other VMA is written here whole.
 */
static void split_lazy(struct fill *f)
{
	struct unit *tmp = malloc(f->nall * sizeof(*tmp) + 1);
	size_t ne = 0, nl = 0;

	if (!tmp) {
		/* written here, every one */
		for (size_t i = 0; i < f->nsegs; i++)
			f->segs[i].lazy = false;
		return;
	}
	for (size_t i = 0; i < f->nall; i++) {
		const struct unit *u = &f->units[i];
		bool lazy = true;

		for (size_t k = 0; k < u->n && lazy; k++)
			lazy = f->segs[u->first + k].lazy;
		if (lazy) {
			tmp[nl++] = *u;
			continue;
		}
		for (size_t k = 0; k < u->n; k++)
			f->segs[u->first + k].lazy = false;
		f->units[ne++] = *u;
	}
	memcpy(f->units + ne, tmp, nl * sizeof(*tmp));
	free(tmp);
	f->nunits = ne;
}

/* Sort the segments and cut them into units, one per frame. */
static int plan_units(struct fill *f)
{
	qsort(f->segs, f->nsegs, sizeof(*f->segs), seg_cmp);
	f->units = calloc(f->nsegs ? f->nsegs : 1, sizeof(*f->units));
	if (!f->units)
		return sd_err(f->ctx, -ENOMEM, "cannot plan the memory of pid %d", f->pid);
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct seg *s = &f->segs[i];
		size_t frame = (size_t)(s->off / f->c->p[s->pass].pm.frame_size);
		struct unit *u = f->nunits ? &f->units[f->nunits - 1] : NULL;

		if (u && u->pass == s->pass && u->frame == frame)
			u->n++;
		else
			f->units[f->nunits++] = (struct unit){ s->pass, frame, i, 1 };
	}
	f->nall = f->nunits;
	if (f->lazy)
		split_lazy(f);
	return 0;
}

static void fill_fail(struct fill *f, enum fill_fault fault, int err, const struct unit *u,
		      uint64_t addr, const struct pagestore_decoder *d)
{
	pthread_mutex_lock(&f->lock);
	if (f->fault == FILL_OK) {
		f->fault = fault;
		f->err = err;
		f->fpass = u->pass;
		f->fframe = u->frame;
		f->faddr = addr;
		if (d) {
			f->fdec.fault = d->fault;
			f->fdec.err = d->err;
		}
	}
	pthread_mutex_unlock(&f->lock);
	atomic_store(&f->stop, true);
}

/*
 * Place @len bytes at @dst in fresh memory of a registered VMA: the kernel
 * allocates each page and copies into it, without zeroing it first.
 */
static int uffd_copy(int uffd, uint64_t dst, const uint8_t *src, uint64_t len)
{
	for (int again = 0; len > 0;) {
		struct uffdio_copy c = { .dst = dst, .src = (uintptr_t)src, .len = len,
					 .mode = UFFDIO_COPY_MODE_DONTWAKE };

		if (fault_fails(FAULT_WRITE))
			return -errno;
		if (ioctl(uffd, UFFDIO_COPY, &c) == 0)
			return 0;
		if (c.copy > 0) { /* a part, then EAGAIN: go on from there */
			dst += (uint64_t)c.copy;
			src += c.copy;
			len -= (uint64_t)c.copy;
		} else if (errno != EAGAIN || ++again > 100) {
			return -errno;
		}
	}
	return 0;
}

/*
 * Write @n segments of a frame (at @frame, stream offset @frame_off) with one
 * process_vm_writev; whatever it could not write (memory it cannot write:
 * /proc/PID/mem can) goes segment by segment through mem_fd. 0 or -errno,
 * with *ret_addr where it failed.
 */
static int write_batch(const struct fill *f, const struct seg *const *segs, size_t n,
		       const uint8_t *frame, uint64_t frame_off, uint64_t *ret_addr)
{
	struct iovec local[FILL_IOV], remote[FILL_IOV];
	size_t total = 0, k = 0;
	ssize_t got;

	for (size_t j = 0; j < n; j++) {
		local[j] = (struct iovec){ (void *)(uintptr_t)(frame + (segs[j]->off - frame_off)),
					   segs[j]->len };
		remote[j] = (struct iovec){ (void *)(uintptr_t)segs[j]->addr, segs[j]->len };
		total += segs[j]->len;
	}
	got = fault_fails(FAULT_WRITE) ? -1 : process_vm_writev(f->pid, local, n, remote, n, 0);
	if (got == (ssize_t)total)
		return 0;
	/* whole segments written, then the rest one by one */
	for (size_t done = got > 0 ? (size_t)got : 0; k < n && done >= segs[k]->len; k++)
		done -= segs[k]->len;
	for (; k < n; k++) {
		int r = sd_pwrite_all(f->mem_fd, local[k].iov_base, segs[k]->len, segs[k]->addr);

		if (r < 0) {
			*ret_addr = segs[k]->addr;
			return r;
		}
	}
	return 0;
}

/* Write the segments of a unit, whose frame is at @frame. */
static int write_segs(struct fill *f, const struct seg *segs, size_t n, const uint8_t *frame,
		      uint64_t frame_off, uint64_t *ret_addr)
{
	const struct seg *batch[FILL_IOV];
	size_t nb = 0;
	int r;

	for (size_t k = 0; k < n; k++) {
		const struct seg *s = &segs[k];

		if (s->uffd) {
			r = uffd_copy(f->uffd, s->addr, frame + (s->off - frame_off), s->len);
			if (r < 0) {
				*ret_addr = s->addr;
				return r;
			}
			atomic_fetch_add(&f->uffd_pages, s->len / f->psz);
			continue;
		}
		batch[nb++] = s;
		if (nb == FILL_IOV) {
			r = write_batch(f, batch, nb, frame, frame_off, ret_addr);
			if (r < 0)
				return r;
			nb = 0;
		}
	}
	return nb ? write_batch(f, batch, nb, frame, frame_off, ret_addr) : 0;
}

/* Take units until none is left or something failed; the caller's thread reports progress. */
static void fill_units(struct fill *f, bool caller)
{
	struct pagestore_decoder d = { 0 };

	while (!atomic_load(&f->stop)) {
		size_t i = atomic_fetch_add(&f->next, 1);
		const struct unit *u;
		struct pagestore_reader *rd;
		uint64_t addr = 0, pages = 0;
		int r;

		if (i >= f->nunits)
			break;
		u = &f->units[i];
		rd = &f->c->p[u->pass].rd;
		r = sd_pagestore_decode(rd, &d, u->frame);
		if (r < 0) {
			fill_fail(f, FILL_DECODE, r, u, 0, &d);
			break;
		}
		r = write_segs(f, &f->segs[u->first], u->n, d.data,
			       (uint64_t)u->frame * rd->frame_size, &addr);
		if (r < 0) {
			fill_fail(f, FILL_WRITE, r, u, addr, NULL);
			break;
		}
		for (size_t k = 0; k < u->n; k++)
			pages += f->segs[u->first + k].len / f->psz;
		pages += atomic_fetch_add(&f->pages_done, pages);
		if (caller) {
			sd_progress_update(f->ctx, pages);
			if (sd_check_cancel(f->ctx) < 0)
				atomic_store(&f->stop, true);
		}
	}
	sd_pagestore_decoder_release(&d);
}

static void *fill_thread(void *arg)
{
	fill_units(arg, false);
	return NULL;
}

static int write_zeros(struct fill *f)
{
	size_t bufsz = 256u << 10;
	uint8_t *zero = calloc(1, bufsz);
	int r = 0;

	if (!zero)
		return sd_err(f->ctx, -ENOMEM, "cannot fill the memory of pid %d", f->pid);
	for (size_t i = 0; i < f->nzeros && r == 0; i++) {
		for (uint64_t a = f->zeros[i].addr, end = a + f->zeros[i].len; a < end && r == 0;) {
			size_t n = (size_t)MIN(end - a, (uint64_t)bufsz);

			r = sd_pwrite_all(f->mem_fd, zero, n, a);
			if (r < 0)
				r = sd_err(f->ctx, r, "cannot write the memory of pid %d at 0x%" PRIx64,
					   f->pid, a);
			a += n;
		}
		atomic_fetch_add(&f->pages_done, f->zeros[i].len / f->psz);
	}
	free(zero);
	return r;
}

/* Open the readers of the passes the units read (messages here, before any thread). */
static int open_readers(struct fill *f)
{
	for (size_t i = 0; i < f->nall; i++) {
		struct pagestore_reader *rd;
		int r;

		if (i > 0 && f->units[i - 1].pass == f->units[i].pass)
			continue;
		r = sd_chain_reader(f->ctx, f->c, f->units[i].pass, &rd);
		if (r < 0)
			return r;
	}
	return 0;
}

static int run_threads(struct fill *f, unsigned int *ret_threads)
{
	pthread_t th[FILL_THREADS_MAX];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int want = (unsigned int)MAX(1, MIN(cpus, FILL_THREADS_MAX)), started = 0;
	int r;

	/*
	 * A thread for every few frames at least: with a handful (a lazy
	 * restore's eager part, a small process) the one thread has done them
	 * all before a second gets its turn on a CPU of a busy machine, and
	 * its join would only wait for that turn.
	 */
	want = (unsigned int)MIN((size_t)want, MAX(f->nunits / 4, (size_t)1));
	/* fewer threads than wanted only makes it slower */
	while (started + 1 < want && pthread_create(&th[started], NULL, fill_thread, f) == 0)
		started++;
	fill_units(f, true);
	for (unsigned int k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	*ret_threads = started + 1;
	switch (f->fault) {
	case FILL_OK:
		break;
	case FILL_DECODE:
		return sd_pagestore_decode_error(f->ctx, &f->c->p[f->fpass].rd, &f->fdec, f->fframe);
	case FILL_WRITE:
		return sd_err(f->ctx, f->err, "cannot write the memory of pid %d at 0x%" PRIx64,
			      f->pid, f->faddr);
	}
	r = sd_check_cancel(f->ctx);
	if (r < 0)
		return r;
	return 0;
}

static int fill(struct fill *f, struct rst_fill_stats *ret_stats);

int sd_rst_fill(struct sdump_ctx *ctx, struct chain *c, pid_t pid, int mem_fd, int uffd,
	     struct rst_fill_lazy *lazy, struct rst_fill_stats *ret_stats)
{
	struct fill f = { .ctx = ctx, .c = c, .pid = pid, .mem_fd = mem_fd, .uffd = uffd,
			  .psz = c->p[0].meta.page_size, .lazy = uffd >= 0 ? lazy : NULL };

	return fill(&f, ret_stats);
}

int sd_rst_fill_staged(struct sdump_ctx *ctx, struct chain *c, pid_t pid, int mem_fd, int uffd,
		    const uint8_t *stage, struct rst_fill_range **ret_drops, size_t *ret_ndrops,
		    struct rst_fill_stats *ret_stats)
{
	struct fill f = { .ctx = ctx, .c = c, .pid = pid, .mem_fd = mem_fd, .uffd = uffd,
			  .psz = c->p[0].meta.page_size, .stage = stage };
	int r = fill(&f, ret_stats);

	if (r < 0) {
		free(f.drops);
		return r;
	}
	*ret_drops = f.drops;
	*ret_ndrops = f.ndrops;
	return 0;
}

static int fill(struct fill *f_, struct rst_fill_stats *ret_stats)
{
	struct fill f = *f_;
	const struct vma_list *vl = &f.c->p[0].vmas;
	struct sdump_ctx *ctx = f.ctx;
	pid_t pid = f.pid;
	struct uffdio_api api = { .api = UFFD_API };
	struct rst_fill_stats st = { 0 };
	uint64_t total = 0;
	int r = 0;

	pthread_mutex_init(&f.lock, NULL);
	if (f.uffd >= 0 && !f.lazy && ioctl(f.uffd, UFFDIO_API, &api) < 0)
		f.uffd = -1;
	for (size_t i = 0; i < vl->n && r == 0; i++) {
		size_t first = f.nsegs;
		uint8_t how = f.stage ? f.stage[i] : RST_VMA_NEW;

		if (!sd_rst_vma_filled(&vl->v[i]) || how == RST_VMA_LATER)
			continue;
		/*
		 * MAP_DROPPABLE memory comes back empty, as the kernel may give it
		 * at any time: a copy of the process is as a fork, where such
		 * state (the vDSO getrandom()'s) must not be used twice
		 */
		if (vl->v[i].vmflags & VMF_DROPPABLE)
			continue;
		if (how == RST_VMA_KEPT) {
			r = resolve_kept(&f, &vl->v[i]);
			continue;
		}
		r = resolve(&f, &vl->v[i]);
		if (r == 0)
			register_vma(&f, &vl->v[i], first);
	}
	free(f.rec);
	f.rec = NULL;
	if (r == 0)
		r = plan_units(&f);
	if (r == 0)
		r = open_readers(&f);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < f.nsegs; i++)
		total += f.segs[i].lazy ? 0 : f.segs[i].len / f.psz;
	for (size_t i = 0; i < f.nzeros; i++)
		total += f.zeros[i].len / f.psz;
	sd_progress_begin(ctx, "restore", "memory", pid, total, f.psz);
	r = write_zeros(&f);
	if (r == 0)
		r = run_threads(&f, &st.threads);
	sd_progress_end(ctx);
	if (r < 0)
		goto out;
	st.pages = total;
	st.bytes = total * f.psz;
	st.frames = f.nunits;
	st.uffd_pages = atomic_load(&f.uffd_pages);
	*ret_stats = st;
	if (f.lazy) {
		/* the lazy units and every segment go to the lazy fill */
		f.lazy->segs = f.segs;
		f.lazy->units = f.units;
		f.lazy->first = f.nunits;
		f.lazy->nunits = f.nall - f.nunits;
		for (size_t i = f.nunits; i < f.nall; i++)
			for (size_t k = 0; k < f.units[i].n; k++)
				f.lazy->pages += f.segs[f.units[i].first + k].len / f.psz;
		f.segs = NULL;
		f.units = NULL;
	}
out:
	free(f.segs);
	free(f.zeros);
	free(f.units);
	pthread_mutex_destroy(&f.lock);
	f_->drops = f.drops;
	f_->ndrops = f.ndrops;
	if (r < 0 && !f_->stage) /* sd_rst_fill has none; sd_rst_fill_staged frees them */
		free(f.drops);
	return r;
}
