/* SPDX-License-Identifier: MIT */
/*
 * Copy-before-write for live dumps (see live.h). The userfaultfd is created
 * inside the target by an injected syscall, so that it belongs to the
 * target's mm, then taken with pidfd_getfd() and closed in the target at
 * once: sdump holds the only reference, and if sdump dies the kernel drops
 * every protection and wakes every waiting writer.
 *
 * It is a full userfaultfd, not UFFD_USER_MODE_ONLY: the kernel's own
 * writes into the target (read(2) into a buffer, say) must wait for the
 * copy too, not fail with EFAULT.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "live: "
#include "array.h"
#include "ctx.h"
#include "compat.h"
#include "fault.h"
#include "inject.h"
#include "live.h"
#include "util.h"

#define LIVE_FEATURES (UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)
#define NO_PAGE UINT64_MAX

/* In a child: a synchronous write-protect fault is delivered and resolved. */
static int child_probe(void)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_api api = { .api = UFFD_API, .features = LIVE_FEATURES };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	int uffd;

	if (p == MAP_FAILED)
		return 1;
	p[0] = 1;
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0)
		return 2;
	reg.range.start = wp.range.start = (uintptr_t)p;
	reg.range.len = wp.range.len = psz;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0 || ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0)
		return 3;
	wp.mode = 0;
	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0 ? 3 : 0;
}

int sd_live_probe(const char **why)
{
	int r = sd_track_probe_in_child(child_probe);

	if (r <= 0)
		return r;
	*why = r == 2 ? "this kernel has no userfaultfd (CONFIG_USERFAULTFD) with its unmap events"
		      : "this kernel has no userfaultfd write-protection (Linux 5.7+, x86-64)";
	return -EOPNOTSUPP;
}

/*
 * Copying runs at about 0.25 ms per MiB (process_vm_readv, 2 cores);
 * write-protecting at about 0.03 ms per MiB of present pages, and with
 * uffd-wp tracking as much again to move the VMAs aside and then back in a
 * second freeze. So up to an eighth of the present pages (and a bounded
 * amount of memory) are copied frozen.
 */
#define FROZEN_MAX_BYTES (256ull << 20)

bool sd_live_copy_frozen(uint64_t copy, uint64_t present, size_t page_size)
{
	return copy * 8 <= present && copy * page_size <= FROZEN_MAX_BYTES;
}

/* The index of the page at @addr among the pages to copy, or NO_PAGE. */
static uint64_t page_index(const struct live *l, uint64_t addr)
{
	const struct run_list *rl = l->runs;
	size_t lo = 0, hi = rl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct page_run *r = &rl->r[mid];

		if (addr < r->start)
			hi = mid;
		else if (addr >= r->start + r->npages * l->psz)
			lo = mid + 1;
		else
			return r->in_parent ? NO_PAGE : l->first[mid] + (addr - r->start) / l->psz;
	}
	return NO_PAGE;
}

static const struct vma *registered(const struct live *l, uint64_t addr)
{
	for (size_t i = 0; i < l->nregs; i++)
		if (addr >= l->regs[i].start && addr < l->regs[i].end)
			return &l->regs[i];
	return NULL;
}

/* Write-protect or unprotect with the live userfaultfd, over the VMAs registered with it. */
static int set_wp(const struct live *l, uint64_t start, uint64_t len, bool wp)
{
	return sd_track_uffd_wp_range(l->uffd, l->regs, l->nregs, start, len, wp);
}

static int read_mem(const struct live *l, uint64_t addr, void *buf, size_t len)
{
	struct iovec lo = { buf, len }, re = { (void *)(uintptr_t)addr, len };
	ssize_t n;
	int r = sd_fault_check(FAULT_PROCREAD);

	if (r < 0)
		return r;
	n = process_vm_readv(l->pid, &lo, 1, &re, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	n = pread(l->memfd, buf, len, (off_t)addr);
	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EIO;
}

static int unprotect(const struct live *l, uint64_t addr, uint64_t len)
{
	return set_wp(l, addr, len, false);
}

/* Under l->lock: the handler's first error wins. */
static void fail(struct live *l, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct live *l, int err, const char *fmt, ...)
{
	va_list ap;

	if (l->error)
		return;
	l->error = err;
	va_start(ap, fmt);
	(void)vsnprintf(l->errmsg, sizeof(l->errmsg), fmt, ap);
	va_end(ap);
}

/* Memory for @len bytes of saved pages, freed with the rest at sd_live_release(). */
void sd_live_prepare(struct live *l, uint64_t bytes)
{
	size_t len = (size_t)MIN(bytes, FROZEN_MAX_BYTES);
	uint8_t *a;

	if (len == 0 || l->arena)
		return;
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return;
	if (madvise(a, len, MADV_POPULATE_WRITE) < 0)
		for (size_t i = 0; i < len; i += 4096)
			a[i] = 0;
	l->arena = a;
	l->arena_len = len;
	l->arena_used = 0;
}

uint64_t sd_live_frozen_max(void)
{
	return FROZEN_MAX_BYTES;
}

static void *saved_alloc(struct live *l, size_t len)
{
	void *buf;

	if (l->arena && l->arena_len - l->arena_used >= len) {
		buf = l->arena + l->arena_used;
		l->arena_used += len;
		return buf;
	}

	if (ARRAY_RESERVE(l->allocs, l->cap_allocs, l->nallocs + 1, 64) < 0)
		return NULL;
	buf = malloc(len);
	if (buf)
		l->allocs[l->nallocs++] = buf;
	return buf;
}

/* Save the page at @addr as it is now, unless the copier has it or it is saved. */
static void save_page(struct live *l, uint64_t addr)
{
	uint64_t idx = page_index(l, addr);
	void *buf;
	int r;

	if (idx == NO_PAGE || l->done[idx] || l->saved[idx])
		return;
	buf = saved_alloc(l, l->psz);
	if (!buf) {
		fail(l, -ENOMEM, "out of memory saving a page of pid %d", l->pid);
		return;
	}
	r = read_mem(l, addr, buf, l->psz);
	if (r < 0) {
		fail(l, r, "cannot read page 0x%" PRIx64 " of pid %d before its write: %s", addr,
		     l->pid, strerror(-r));
		return;
	}
	l->saved[idx] = buf;
	l->saved_pages++;
}

/* Memory unmapped, moved or discarded while the copy runs. */
static void lose_range(struct live *l, uint64_t start, uint64_t end)
{
	start &= ~(uint64_t)(l->psz - 1);
	for (uint64_t a = start; a < end; a += l->psz) {
		uint64_t idx = page_index(l, a);

		if (idx != NO_PAGE && !l->done[idx] && !l->saved[idx]) {
			fail(l, -EAGAIN,
			     "pid %d unmapped memory at 0x%" PRIx64 " before it was copied: the image would not be one instant (dump again, or without --live)",
			     l->pid, a);
			break;
		}
	}
	if (sd_run_list_add(&l->written, start, (end - start + l->psz - 1) / l->psz, l->psz) < 0)
		fail(l, -ENOMEM, "out of memory");
}

static void handle(struct live *l, const struct uffd_msg *m)
{
	uint64_t addr;
	int r;

	pthread_mutex_lock(&l->lock);
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		addr = m->arg.pagefault.address & ~(uint64_t)(l->psz - 1);
		save_page(l, addr);
		if (sd_run_list_add(&l->written, addr, 1, l->psz) < 0)
			fail(l, -ENOMEM, "out of memory");
		l->faults++;
		pthread_mutex_unlock(&l->lock);
		/* the write goes on whatever happened: a failed pass must not hold the target */
		r = unprotect(l, addr, l->psz);
		if (r < 0) {
			pthread_mutex_lock(&l->lock);
			fail(l, r, "cannot let pid %d write 0x%" PRIx64 ": %s", l->pid, addr,
			     strerror(-r));
			pthread_mutex_unlock(&l->lock);
		}
		return;
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		lose_range(l, m->arg.remove.start, m->arg.remove.end);
		break;
	case UFFD_EVENT_REMAP:
		lose_range(l, m->arg.remap.from, m->arg.remap.from + m->arg.remap.len);
		lose_range(l, m->arg.remap.to, m->arg.remap.to + m->arg.remap.len);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&l->lock);
}

static void *handler_main(void *arg)
{
	struct live *l = arg;
	struct pollfd pfd[3] = {
		{ .fd = l->uffd, .events = POLLIN },
		{ .fd = l->stopfd, .events = POLLIN },
		{ .fd = l->pidfd, .events = POLLIN },
	};
	struct uffd_msg msg[64];

	for (;;) {
		ssize_t n;

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			n = read(l->uffd, msg, sizeof(msg));
			for (ssize_t i = 0; i < n / (ssize_t)sizeof(msg[0]); i++)
				handle(l, &msg[i]);
			if (n > 0 || errno == EAGAIN || errno == EINTR)
				continue;
		}
		/* told to stop, the target gone, or the userfaultfd broken */
		if (pfd[0].revents & (POLLERR | POLLHUP))
			break;
		if (pfd[1].revents || pfd[2].revents)
			break;
	}
	return NULL;
}

/* The userfaultfd, created in the target and then ours alone. */
static int take_uffd(struct live *l, struct tracker *t)
{
	struct uffdio_api api = { .api = UFFD_API, .features = LIVE_FEATURES };
	const struct inject_fd_req req = {
		.name = "userfaultfd",
		.nr = SYS_userfaultfd,
		.args = { O_CLOEXEC | O_NONBLOCK },
	};
	int r, uffd;

	r = sd_inject_take_fd(t->ctx, &t->inj, t->seized, NULL, l->pidfd, &req, &uffd, NULL);
	if (r < 0)
		return r;
	if (uffd == -EPERM)
		return sd_errx(l->ctx, -EPERM,
			       "--live: pid %d may not create a userfaultfd that also serves the kernel's writes (it needs CAP_SYS_PTRACE, or sysctl vm.unprivileged_userfaultfd=1)",
			       l->pid);
	if (uffd < 0)
		return sd_err(l->ctx, uffd, "cannot create a userfaultfd in pid %d", l->pid);
	l->uffd = uffd;
	if (ioctl(l->uffd, UFFDIO_API, &api) < 0)
		return sd_err(l->ctx, -errno, "cannot set up the userfaultfd of pid %d", l->pid);
	return 0;
}

static int protect(struct live *l, uint64_t start, uint64_t len)
{
	int r = set_wp(l, start, len, true);

	if (r < 0)
		return sd_err(l->ctx, r, "cannot write-protect 0x%" PRIx64 "-0x%" PRIx64 " of pid %d",
			      start, start + len, l->pid);
	return 0;
}

/*
 * Shared memory can be written by other processes, and the vdso by nobody:
 * both are copied while frozen, as is whatever the kernel will not
 * register (private file mappings, for one).
 */
static bool may_register(const struct vma *v)
{
	return sd_vma_kind_saved(v->kind) && v->kind != VK_SHMEM && v->kind != VK_VDSO &&
	       v->kind != VK_FILE_SHARED;
}

static int register_vmas(struct live *l, struct tracker *t, struct vma_list *vmas)
{
	l->regs = calloc(vmas->n ? vmas->n : 1, sizeof(*l->regs));
	if (!l->regs)
		return sd_err(l->ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < vmas->n; i++) {
		struct vma *v = &vmas->v[i];
		struct uffdio_register reg = { .range = { v->start, v->end - v->start },
					       .mode = UFFDIO_REGISTER_MODE_WP };
		int r;

		if (!may_register(v))
			continue;
		/* a VMA has one userfaultfd: the tracker's steps aside (tracking re-armed later) */
		if (track_lends_vmas(t))
			t->ops->lend_vma(t, v);
		if (ioctl(l->uffd, UFFDIO_REGISTER, &reg) < 0) {
			pr_debug(l->ctx, "0x%" PRIx64 "-0x%" PRIx64 " not registered (%s): copied frozen",
				 v->start, v->end, strerror(errno));
			continue;
		}
		l->regs[l->nregs++] = *v;
		/* borrowed from the tracker: every write counts, so every page is protected */
		if (!l->lift) {
			r = protect(l, v->start, v->end - v->start);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

#define SAVE_BATCH_IOV 512
#define SAVE_BATCH_PAGES 4096

struct save_batch {
	struct iovec iov[SAVE_BATCH_IOV];
	size_t n;
	uint64_t pages;
};

/*
 * Read the pieces gathered in @b with one process_vm_readv into one buffer,
 * each page then saved; a piece it cannot read goes through /proc/PID/mem,
 * and a page nothing can read is left to the copier, which says why.
 */
static int save_flush(struct live *l, struct save_batch *b)
{
	uint8_t *buf;
	struct iovec local;
	ssize_t got;
	size_t off = 0;

	if (b->n == 0)
		return 0;
	buf = saved_alloc(l, b->pages * l->psz);
	if (!buf)
		return sd_err(l->ctx, -ENOMEM, "out of memory saving %" PRIu64 " pages of pid %d",
			      b->pages, l->pid);
	local = (struct iovec){ buf, b->pages * l->psz };
	got = process_vm_readv(l->pid, &local, 1, b->iov, b->n, 0);
	if (got < 0)
		got = 0;
	for (size_t i = 0; i < b->n; i++) {
		uint64_t a = (uintptr_t)b->iov[i].iov_base;
		size_t len = b->iov[i].iov_len;

		for (size_t k = 0; k < len; k += l->psz) {
			bool ok = off + k + l->psz <= (size_t)got ||
				  pread(l->memfd, buf + off + k, l->psz, (off_t)(a + k)) == (ssize_t)l->psz;
			uint64_t idx = page_index(l, a + k);

			if (ok && idx != NO_PAGE && !l->saved[idx]) {
				l->saved[idx] = buf + off + k;
				l->saved_pages++;
			}
		}
		off += len;
	}
	b->n = 0;
	b->pages = 0;
	return 0;
}

static int save_piece(struct live *l, struct save_batch *b, uint64_t start, uint64_t npages)
{
	while (npages > 0) {
		uint64_t n = MIN(npages, SAVE_BATCH_PAGES);
		int r;

		if (b->n == SAVE_BATCH_IOV || b->pages + n > SAVE_BATCH_PAGES) {
			r = save_flush(l, b);
			if (r < 0)
				return r;
		}
		b->iov[b->n++] = (struct iovec){ (void *)(uintptr_t)start, n * l->psz };
		b->pages += n;
		start += n * l->psz;
		npages -= n;
	}
	return 0;
}

/* Save now the pages of [start, end) that no registered VMA protects. */
static int save_unprotected(struct live *l, struct save_batch *b, uint64_t start, uint64_t end)
{
	while (start < end) {
		const struct vma *v = registered(l, start);
		uint64_t next = end;
		int r;

		if (v) {
			start = v->end;
			continue;
		}
		for (size_t i = 0; i < l->nregs; i++)
			if (l->regs[i].start > start && l->regs[i].start < next)
				next = l->regs[i].start;
		r = save_piece(l, b, start, (next - start) / l->psz);
		if (r < 0)
			return r;
		start = next;
	}
	return 0;
}

/* The pages to copy: indexed, protected (lift mode) or copied now (not registered). */
static int prepare_pages(struct live *l)
{
	const struct run_list *rl = l->runs;
	struct save_batch b = { .n = 0 };
	int r;

	l->first = calloc(rl->n ? rl->n : 1, sizeof(*l->first));
	if (!l->first)
		return sd_err(l->ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < rl->n; i++) {
		l->first[i] = l->npages;
		if (!rl->r[i].in_parent)
			l->npages += rl->r[i].npages;
	}
	l->done = calloc(l->npages ? l->npages : 1, 1);
	l->saved = calloc(l->npages ? l->npages : 1, sizeof(*l->saved));
	if (!l->done || !l->saved)
		return sd_err(l->ctx, -ENOMEM, "out of memory for %" PRIu64 " pages", l->npages);
	for (size_t i = 0; i < rl->n; i++) {
		const struct page_run *run = &rl->r[i];

		if (run->in_parent)
			continue;
		if (l->lift && l->nregs) {
			r = protect(l, run->start, run->npages * l->psz);
			if (r < 0)
				return r;
		}
		r = save_unprotected(l, &b, run->start, run->start + run->npages * l->psz);
		if (r < 0)
			return r;
	}
	return save_flush(l, &b);
}

/* A tracker that lends VMAs: those the live userfaultfd did not take are armed now. */
static int arm_others(struct live *l, struct tracker *t, const struct vma_list *vmas,
		      const struct run_list *runs)
{
	struct vma_list rest = { 0 };
	int r;

	rest.v = calloc(vmas->n ? vmas->n : 1, sizeof(*rest.v));
	if (!rest.v)
		return sd_err(l->ctx, -ENOMEM, "out of memory");
	for (size_t i = 0; i < vmas->n; i++)
		if (!registered(l, vmas->v[i].start))
			rest.v[rest.n++] = vmas->v[i];
	r = t->ops->arm(t, &rest, runs);
	free(rest.v); /* the paths belong to @vmas */
	return r;
}

int sd_live_arm(struct tracker *t, int memfd, struct vma_list *vmas, const struct run_list *runs,
	     bool frozen, struct live *l)
{
	int r;
	uint64_t t0, t1, t2, t3;
	/* the memory sd_live_prepare() made ready stays */
	const struct {
		uint8_t *base;
		size_t len;
	} arena = { l->arena, l->arena_len };

	*l = (struct live){
		.ctx = t->ctx,
		.pid = t->pid,
		.pidfd = t->pidfd,
		.memfd = memfd,
		.uffd = -1,
		.stopfd = -1,
		.psz = (size_t)sysconf(_SC_PAGESIZE),
		.lift = !track_lends_vmas(t),
		.frozen = frozen,
		.runs = runs,
	};
	l->arena = arena.base;
	l->arena_len = arena.len;
	t0 = now_us();
	pthread_mutex_init(&l->lock, NULL);
	r = frozen ? 0 : take_uffd(l, t);
	if (r < 0)
		return r;
	t1 = now_us();
	r = frozen ? 0 : register_vmas(l, t, vmas);
	t2 = now_us();
	if (r == 0)
		r = prepare_pages(l);
	t3 = now_us();
	if (r == 0 && !frozen && track_lends_vmas(t))
		r = arm_others(l, t, vmas, runs);
	if (r < 0)
		return r;
	pr_debug(l->ctx,
		 "pid %d: %zu VMAs protected, %" PRIu64 " pages copied frozen; userfaultfd %" PRIu64
		 " us, register %" PRIu64 " us, pages %" PRIu64 " us, tracker %" PRIu64 " us",
		 l->pid, l->nregs, l->saved_pages, t1 - t0, t2 - t1, t3 - t2, now_us() - t3);
	return 0;
}

int sd_live_start(struct live *l)
{
	int r;

	if (l->uffd < 0)
		return 0;

	l->stopfd = eventfd(0, EFD_CLOEXEC);
	if (l->stopfd < 0)
		return sd_err(l->ctx, -errno, "cannot create an eventfd");
	r = pthread_create(&l->thread, NULL, handler_main, l);
	if (r)
		return sd_err(l->ctx, -r, "cannot start the fault handler");
	l->thread_running = true;
	return 0;
}

int sd_live_copied(void *data, uint64_t addr, void *buf, size_t npages)
{
	struct live *l = data;
	uint8_t *b = buf;
	int r = 0;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < npages; i++) {
		uint64_t idx = page_index(l, addr + i * l->psz);

		if (idx == NO_PAGE)
			continue;
		if (l->saved[idx]) {
			memcpy(b + i * l->psz, l->saved[idx], l->psz);
			l->saved[idx] = NULL;
		}
		l->done[idx] = 1;
	}
	pthread_mutex_unlock(&l->lock);
	if (l->lift) {
		r = unprotect(l, addr, npages * l->psz);
		if (r < 0)
			r = sd_err(l->ctx, r, "cannot lift the protection of 0x%" PRIx64 " of pid %d",
				   addr, l->pid);
	}
	return r;
}

static void stop_thread(struct live *l)
{
	uint64_t one = 1;

	if (!l->thread_running)
		return;
	if (write(l->stopfd, &one, sizeof(one)) != sizeof(one))
		pr_warn(l->ctx, "cannot stop the fault handler: %s", strerror(errno));
	pthread_join(l->thread, NULL);
	l->thread_running = false;
}

int sd_live_stop(struct live *l)
{
	stop_thread(l);
	if (l->error)
		return sd_errx(l->ctx, l->error, "%s", l->errmsg);
	return 0;
}

static bool same_vma(const struct vma *a, const struct vma *b)
{
	return a->start == b->start && a->end == b->end && a->kind == b->kind &&
	       a->pgoff == b->pgoff && a->prot == b->prot;
}

int sd_live_handover(struct live *l, struct tracker *t, struct vma_list *now)
{
	struct vma_list back = { 0 };
	int r;

	r = sd_live_stop(l);
	if (r < 0)
		return r;
	/* frozen: no write is lost between the two userfaultfds */
	zclose(&l->uffd);
	back.v = calloc(now->n ? now->n : 1, sizeof(*back.v));
	if (!back.v)
		return sd_err(l->ctx, -ENOMEM, "out of memory");
	/* a VMA that changed during the copy stays untracked: the next pass saves it whole */
	for (size_t i = 0; i < now->n; i++) {
		const struct vma *was = registered(l, now->v[i].start);

		if (was && same_vma(was, &now->v[i])) {
			back.v[back.n] = now->v[i];
			back.v[back.n++].tracked = false;
		}
	}
	r = t->ops->take_back(t, &back, &l->written);
	free(back.v);
	return r;
}

void sd_live_release(struct live *l)
{
	if (l->arena)
		(void)munmap(l->arena, l->arena_len);
	l->arena = NULL;
	l->arena_len = l->arena_used = 0;
	if (!l->ctx)
		return;
	stop_thread(l);
	zclose(&l->uffd);
	zclose(&l->stopfd);
	for (size_t i = 0; i < l->nallocs; i++)
		free(l->allocs[i]);
	free(l->allocs);
	free(l->saved);
	free(l->done);
	free(l->first);
	free(l->regs);
	sd_run_list_release(&l->written);
	pthread_mutex_destroy(&l->lock);
	*l = (struct live){ .uffd = -1, .stopfd = -1 };
}
