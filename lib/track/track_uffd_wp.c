/* SPDX-License-Identifier: MIT */
/*
 * userfaultfd write-protection in async mode (Linux 6.7): the kernel clears
 * a page's uffd-wp bit on the first write after protection, with no fault
 * delivered to anyone, and PAGEMAP_SCAN reports the pages without the bit
 * as PAGE_IS_WRITTEN.
 *
 * The userfaultfd must belong to the target: it is created there with an
 * injected syscall, moved to a high fd number, and sdump works on a copy
 * taken with pidfd_getfd(); the target keeps it between passes (closing it
 * ends the tracking, which the next pass notices).
 *
 * A userfaultfd belongs to the memory of the process that created it, and
 * fork() copies the fd into every child: a child's copy of its parent's
 * (the same open file as the parent's fd) tracks the parent. Used for the
 * child, its protection of the pages it saved fell on the parent's pages,
 * already running again, and erased writes the parent made since its own
 * scan: the next pass lacked them (a tree that forked between passes).
 * Such a copy is closed in the child, which gets one of its own.
 *
 * WP_ASYNC implies UFFD_FEATURE_WP_UNPOPULATED: pages that do not exist
 * get a pte marker, which pagemap reports as a swapped page (see scan.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "uffd-wp: "
#include "ctx.h"
#include "compat.h"
#include "track.h"
#include "util.h"
#include "procfs.h"

/* In a child: async uffd-wp marks exactly the written page, seen by PAGEMAP_SCAN. */
static int child_probe(void)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 4 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	struct page_region out[4];
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = PM_SCAN_CHECK_WPASYNC,
		.vec = (uintptr_t)out,
		.vec_len = 4,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	long n;
	int uffd, pm;

	if (p == MAP_FAILED)
		return 1;
	memset(p, 1, 4 * psz);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0)
		return 2;
	reg.range.start = wp.range.start = (uintptr_t)p;
	reg.range.len = wp.range.len = 4 * psz;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0 || ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0)
		return 3;
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return 1;
	arg.start = (uintptr_t)p;
	arg.end = (uintptr_t)p + 4 * psz;
	p[2 * psz] = 2;
	n = ioctl(pm, PAGEMAP_SCAN, &arg);
	if (n != 1 || out[0].start != (uintptr_t)p + 2 * psz || out[0].end != out[0].start + psz)
		return 4;
	return 0;
}

static int uffd_probe(const char **why)
{
	const char *env = getenv("SDUMP_NO_PAGEMAP_SCAN");
	int r;

	/* reading the written bits needs the ioctl the tests may switch off */
	if (env && !strcmp(env, "1")) {
		*why = "PAGEMAP_SCAN switched off (SDUMP_NO_PAGEMAP_SCAN=1)";
		return -EOPNOTSUPP;
	}
	r = sd_track_probe_in_child(child_probe);
	if (r <= 0)
		return r;
	if (r == 2)
		*why = "no userfaultfd with UFFD_FEATURE_WP_ASYNC (Linux 6.7+)";
	else
		*why = "async write-protection or PAGEMAP_SCAN does not work";
	return -EOPNOTSUPP;
}

static bool is_userfaultfd(pid_t pid, int fd)
{
	char path[PROC_PATH_MAX], link[64];
	ssize_t n;

	(void)sd_proc_path(path, pid, "fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return !strcmp(link, "anon_inode:[userfaultfd]");
}

/* Create the userfaultfd in the target, high up in its fd table, and kept there. */
static int create_in_target(struct tracker *t)
{
	struct sdump_ctx *ctx = t->ctx;
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
	/*
	 * UFFD_USER_MODE_ONLY: without CAP_SYS_PTRACE the target may not create
	 * a kernel-mode one when vm.unprivileged_userfaultfd is 0 (the default).
	 */
	const struct inject_fd_req req = {
		.name = "userfaultfd",
		.nr = SYS_userfaultfd,
		.args = { O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY },
		.flags = INJECT_FD_KEEP | INJECT_FD_MOVE_HIGH,
	};
	int r, uffd, target_fd;

	r = sd_inject_take_fd(ctx, &t->inj, t->seized, NULL, t->pidfd, &req, &uffd, &target_fd);
	if (r < 0)
		return r;
	if (uffd < 0)
		return sd_err(ctx, uffd, "cannot create a userfaultfd in pid %d", t->pid);
	t->fd = uffd;
	t->target_fd = target_fd;
	if (ioctl(t->fd, UFFDIO_API, &api) < 0)
		return sd_err(ctx, -errno, "cannot enable async write-protection in pid %d", t->pid);
	pr_debug(ctx, "pid %d: userfaultfd created as fd %d", t->pid, t->target_fd);
	return 0;
}

/*
 * Whether @fd of @pid is the same open file as @fd of its parent in a
 * process of its own: a copy fork() made. A child that shares its
 * parent's memory (CLONE_VM) shares its tracking too, and one that shares
 * its fd table (CLONE_FILES) has no copy to close.
 */
static bool inherited(pid_t pid, int fd)
{
	_cleanup_free_ char *buf = NULL;
	char path[PROC_PATH_MAX];
	uint32_t ppid = 0;

	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "status"), &buf, NULL) < 0 ||
	    sd_proc_parse_status_ids(buf, "\nPPid:", &ppid, 1, NULL) < 0 || ppid == 0)
		return false;
	return syscall(SYS_kcmp, pid, (pid_t)ppid, KCMP_FILE, fd, fd) == 0 &&
	       syscall(SYS_kcmp, pid, (pid_t)ppid, KCMP_VM, 0, 0) != 0 &&
	       syscall(SYS_kcmp, pid, (pid_t)ppid, KCMP_FILES, 0, 0) != 0;
}

/*
 * A userfaultfd an earlier pass of ours left where we put them (the 16 fds
 * below RLIMIT_NOFILE), when the state file that named it is gone (a pass
 * failed after arming): reuse it rather than add another one. With @own,
 * only one of the process's own, not a copy of its parent's.
 */
static int find_ours(pid_t pid, bool own)
{
	long limit = sd_inject_fd_limit(pid);

	for (long fd = limit - 1; fd >= limit - 16 && fd >= 0; fd--)
		if (is_userfaultfd(pid, (int)fd) && !(own && inherited(pid, (int)fd)))
			return (int)fd;
	return -1;
}

/* Close in the target every copy of a parent's userfaultfd where ours go. */
static int close_inherited(struct tracker *t)
{
	long limit = sd_inject_fd_limit(t->pid);

	for (long fd = limit - 1; fd >= limit - 16 && fd >= 0; fd--) {
		const long args[6] = { fd };
		long ret;
		int r;

		if (!is_userfaultfd(t->pid, (int)fd) || !inherited(t->pid, (int)fd))
			continue;
		r = sd_inject_call(t->ctx, &t->inj, t->seized, NULL, SYS_close, args, 0, &ret);
		if (r == 0 && ret < 0)
			r = (int)ret;
		if (r < 0)
			return sd_err(t->ctx, r, "cannot close fd %ld of pid %d, its parent's userfaultfd",
				      fd, t->pid);
		pr_debug(t->ctx, "pid %d: fd %ld, its parent's userfaultfd, closed", t->pid, fd);
	}
	return 0;
}

static int uffd_open(struct tracker *t, int prev_fd)
{
	int r;

	if (prev_fd < 0 || !is_userfaultfd(t->pid, prev_fd) || inherited(t->pid, prev_fd))
		prev_fd = find_ours(t->pid, true);
	/* the fd a previous pass left, if the target still has it */
	if (prev_fd >= 0 && is_userfaultfd(t->pid, prev_fd)) {
		t->fd = (int)syscall(SYS_pidfd_getfd, t->pidfd, prev_fd, 0);
		if (t->fd >= 0) {
			t->target_fd = prev_fd;
			return 0;
		}
	}
	if (t->incremental)
		pr_warn(t->ctx, "pid %d closed its tracking userfaultfd: this pass saves everything",
			t->pid);
	t->incremental = false;
	r = close_inherited(t);
	return r < 0 ? r : create_in_target(t);
}

/* A VMA not registered (new, or the fd was closed) is not tracked. */
static int uffd_vma_tracked(struct tracker *t, struct scanner *sc, const struct vma *v)
{
	(void)t;
	return sd_scanner_tracked(sc, v->start);
}

/*
 * Async write-protection installs a pte marker on every page of the range,
 * page tables included: a huge sparse reservation (a JVM heap, sanitizer
 * shadow memory) would cost gigabytes of them. Writable VMAs above 64 GiB,
 * and PROT_NONE or read-only ones above 1 GiB (reservations, mostly empty),
 * stay unregistered: each pass saves their present pages, which is what a
 * scan of unregistered memory reports anyway.
 */
#define TRACK_MAX_WRITABLE (64ull << 30)
#define TRACK_MAX_OTHER (1ull << 30)

static bool trackable(const struct vma *v)
{
	uint64_t max = (v->prot & PROT_WRITE) ? TRACK_MAX_WRITABLE : TRACK_MAX_OTHER;

	return (v->kind == VK_ANON || v->kind == VK_FILE) && v->end - v->start <= max;
}

int sd_track_uffd_wp_range(int uffd, const struct vma *v, size_t n, uint64_t start, uint64_t len,
			bool wp)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t s = MAX(start, v[i].start), e = MIN(start + len, v[i].end);
		struct uffdio_writeprotect arg = {
			.range = { s, e - s },
			.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
		};

		if (s >= e)
			continue;
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &arg) < 0 && (wp || errno != ENOENT))
			return -errno;
	}
	return 0;
}

static int protect(struct tracker *t, uint64_t start, uint64_t len)
{
	struct uffdio_writeprotect wp = {
		.range = { start, len },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};

	if (ioctl(t->fd, UFFDIO_WRITEPROTECT, &wp) < 0)
		return sd_err(t->ctx, -errno, "cannot write-protect 0x%llx-0x%llx of pid %d",
			      (unsigned long long)start, (unsigned long long)(start + len), t->pid);
	return 0;
}

static int uffd_arm(struct tracker *t, const struct vma_list *vmas, const struct run_list *saved)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);

	/*
	 * Tracked VMAs: only the written pages lost their protection. A run
	 * may go on into the next VMA (runs of neighbours are joined), which
	 * may be untracked or not registered at all (shared memory, saved
	 * whole): each run is cut at the VMAs' bounds, and only its parts in
	 * tracked VMAs are protected.
	 */
	for (size_t i = 0; i < saved->n; i++) {
		const struct page_run *run = &saved->r[i];
		uint64_t a = run->start, b = run->start + run->npages * psz;
		const struct vma *v = sd_vma_list_find(vmas, a);
		int r;

		if (run->in_parent)
			continue;
		for (; v && v < vmas->v + vmas->n && v->start < b; v++) {
			uint64_t s = MAX(a, v->start), e = MIN(b, v->end);

			/* (protected again by the scan already: sd_scanner_can_rearm()) */
			if (!v->tracked || v->rearmed || s >= e)
				continue;
			r = protect(t, s, e - s);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < vmas->n; i++) {
		const struct vma *v = &vmas->v[i];
		struct uffdio_register reg = {
			.range = { v->start, v->end - v->start },
			.mode = UFFDIO_REGISTER_MODE_WP,
		};
		struct uffdio_writeprotect wp = {
			.range = { v->start, v->end - v->start },
			.mode = UFFDIO_WRITEPROTECT_MODE_WP,
		};

		if (!trackable(v) || v->tracked)
			continue;
		/* registering again with the same userfaultfd is allowed and cheap */
		if (ioctl(t->fd, UFFDIO_REGISTER, &reg) < 0) {
			/* not trackable (e.g. VM_DROPPABLE): saved whole every pass */
			pr_debug(t->ctx, "cannot register 0x%llx-0x%llx: %s", (unsigned long long)v->start,
				 (unsigned long long)v->end, strerror(errno));
			continue;
		}
		if (ioctl(t->fd, UFFDIO_WRITEPROTECT, &wp) < 0)
			return sd_err(t->ctx, -errno, "cannot write-protect 0x%llx-0x%llx of pid %d",
				      (unsigned long long)v->start, (unsigned long long)v->end, t->pid);
	}
	return 0;
}

static void uffd_close(struct tracker *t)
{
	zclose(&t->fd);
}

static void uffd_lend_vma(struct tracker *t, struct vma *v)
{
	struct uffdio_range range = { v->start, v->end - v->start };

	(void)ioctl(t->fd, UFFDIO_UNREGISTER, &range);
	v->tracked = false;
}

static int uffd_take_back(struct tracker *t, const struct vma_list *vmas,
			  const struct run_list *written)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	struct run_list none = { 0 };
	int r;

	r = uffd_arm(t, vmas, &none);
	/* what was written since the instant reads as written to the next pass */
	for (size_t i = 0; i < written->n && r == 0; i++) {
		const struct page_run *w = &written->r[i];

		r = sd_track_uffd_wp_range(t->fd, vmas->v, vmas->n, w->start, w->npages * psz, false);
		if (r < 0)
			r = sd_err(t->ctx, r, "cannot mark 0x%" PRIx64 " of pid %d written", w->start,
				   t->pid);
	}
	return r;
}

/* The fd the state file names, else one where create_in_target() puts them. */
static int uffd_left_fd(pid_t pid, const struct track_state *st)
{
	if (st && !strcmp(st->tracker, sd_track_uffd_wp_ops.name))
		return st->fd;
	return find_ours(pid, false);
}

const struct track_ops sd_track_uffd_wp_ops = {
	.name = "uffd-wp",
	.id = SDUMP_TRACK_UFFD_WP,
	.written = SCAN_WRITTEN_UFFD_WP,
	.probe = uffd_probe,
	.open = uffd_open,
	.vma_tracked = uffd_vma_tracked,
	.arm = uffd_arm,
	.close = uffd_close,
	.lend_vma = uffd_lend_vma,
	.take_back = uffd_take_back,
	.left_fd = uffd_left_fd,
};
