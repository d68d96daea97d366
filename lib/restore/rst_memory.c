/* SPDX-License-Identifier: MIT */
/*
 * Restore step 3: memory. Every VMA mapped where it was (a file mapping
 * from its file, which must be the one of the dump), filled from the chain
 * (sd_rst_fill.c), given its final protection; then the mm fields
 * (PR_SET_MM_MAP: brk, args, environment, auxv, exe).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/prctl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "chain.h"
#include "compat.h"
#include "proc.h"
#include "inject.h"
#include "procfs.h"
#include "restore.h"
#include "rst_fill.h"
#include "util.h"

/* A mapped file must still be the file that was mapped, as large as it was. */
static int check_file(struct rst *r, const struct vma *v)
{
	struct stat st;

	if (stat(v->path, &st) < 0)
		return sd_err(r->ctx, -errno, "cannot restore: file '%s' of the dump", v->path);
	if (st.st_ino != v->ino || major(st.st_dev) != v->dev_major ||
	    minor(st.st_dev) != v->dev_minor || (v->has_file_size && (uint64_t)st.st_size != v->file_size))
		return sd_errx(r->ctx, -ESTALE, "cannot restore: file '%s' changed since the dump", v->path);
	return 0;
}

/* Before anything starts: every mapped file must be as it was (a deleted one is in the image). */
int sd_rst_check_vma_files(struct rst *r)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	int e;

	for (size_t i = 0; i < vl->n; i++) {
		if ((vl->v[i].kind != VK_FILE && vl->v[i].kind != VK_FILE_SHARED) || vl->v[i].deleted)
			continue;
		e = check_file(r, &vl->v[i]);
		if (e < 0)
			return e;
	}
	return 0;
}

/*
 * How to open the file of a file mapping: as it was open (a shared mapping
 * of a file open O_RDWR can be made writable with mprotect, of one open
 * O_RDONLY never: EACCES); an image without that field, read-write for a
 * writable shared mapping only.
 */
static int file_open_flags(const struct vma *v)
{
	if (v->has_file_flags)
		return v->file_flags;
	return v->kind == VK_FILE_SHARED && (v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
}

/* Never anything else than the file of the dump: the mapping made is checked. */
static int check_mapped(struct rst *r, const struct vma *v, dev_t dev, ino_t ino)
{
	char path[PROC_PATH_MAX];
	struct stat st;

	sd_proc_path(path, r->pid, "map_files/%" PRIx64 "-%" PRIx64, v->start, v->end);
	if (stat(path, &st) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot check the file mapped at 0x%" PRIx64,
			      r->pid, v->start);
	if (st.st_dev != dev || st.st_ino != ino)
		return sd_errx(r->ctx, -ESTALE, "cannot restore: file '%s' changed since the dump", v->path);
	return 0;
}

/*
 * A file mapping: its file opened in the new process as it was open
 * (a deleted file: our copy of it, through our fd), mapped, closed again.
 */
static int map_file(struct rst *r, const struct vma *v)
{
	int prot, flags;
	dev_t dev = makedev(v->dev_major, v->dev_minor);
	ino_t ino = v->ino;
	const char *path = v->path;
	char copy[64];
	long fd, ret;
	int e;

	sd_rst_vma_map_how(v, &prot, &flags);
	flags |= MAP_FIXED | (v->kind == VK_FILE ? MAP_PRIVATE : MAP_SHARED);

	if (v->deleted) {
		struct stat st;

		e = sd_rst_ghost_path(r, v->ghost, copy, sizeof(copy), &st);
		if (e < 0)
			return e;
		path = copy;
		dev = st.st_dev;
		ino = st.st_ino;
	}
	e = sd_rst_open_in_child(r, path, file_open_flags(v), &fd);
	if (e < 0)
		return e;
	e = sd_rst_call(r, SYS_mmap, (long)v->start, (long)(v->end - v->start), prot, flags, fd,
		     (long)v->pgoff, &ret);
	/* a flock() held through the mapping's open file: taken on it before the fd goes */
	if (e == 0 && v->flock) {
		long ign;

		e = sd_rst_try(r, SYS_flock, fd, (v->flock == 2 ? LOCK_EX : LOCK_SH) | LOCK_NB, 0, &ign);
		if (e < 0) {
			(void)sd_rst_call(r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
			return sd_errx(r->ctx, e, "cannot restore pid %d: cannot take again the flock() it held through the file mapped at 0x%" PRIx64 " ('%s'): %s",
				       r->pid, v->start, v->path, e == -EWOULDBLOCK ? "another process holds a lock on it now" : strerror(-e));
		}
	}
	if (fd >= 0)
		(void)sd_rst_call(r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot map 0x%" PRIx64 "-0x%" PRIx64 " in the restored pid %d",
			       v->start, v->end, r->pid);
	return check_mapped(r, v, dev, ino);
}

static int map_vma(struct rst *r, const struct vma *v)
{
	long len = (long)(v->end - v->start), ret;
	int flags, prot, e;

	switch (v->kind) {
	case VK_SHMEM:
		return v->has_sysv ? sd_rst_map_sysv(r, v) : sd_rst_map_shmem(r, v);
	case VK_ANON:
		/* with its flags of mmap() and its commit charge (rst_vmflags.c) */
		sd_rst_vma_map_how(v, &prot, &flags);
		flags |= MAP_FIXED | MAP_ANONYMOUS;
		if (v->has_vmflags && (v->vmflags & VMF_DROPPABLE))
			flags |= MAP_DROPPABLE;
		else
			flags |= MAP_PRIVATE;
		e = sd_rst_call(r, SYS_mmap, (long)v->start, len, prot, flags, -1, 0, &ret);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot map 0x%" PRIx64 "-0x%" PRIx64 " in the restored pid %d",
				       v->start, v->end, r->pid);
		return 0;
	case VK_FILE:
	case VK_FILE_SHARED:
		return map_file(r, v);
	default:
		/* [vdso] is mapped with the empty address space, [vvar] with it */
		return 0;
	}
}

/*
 * A shared mapping of a memfd sealed against writes that may never be
 * made writable (no mw: it was mapped after the seal, which took
 * VM_MAYWRITE from it): mapped once the copy is sealed, as it was.
 */
static bool after_seals(struct rst *r, const struct vma *v)
{
	return v->kind == VK_FILE_SHARED && v->deleted && !v->may_write &&
	       sd_rst_ghost_write_sealed(r, v->ghost);
}

/*
 * Every VMA where it was, with its guard pages (the fill writes none of
 * them); the memfds sealed in between (sd_rst_seal_ghosts), before the
 * mappings made after their seals.
 */
int sd_rst_map_vmas(struct rst *r)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	int e = 0;

	for (int round = 0; round < 2 && e == 0; round++) {
		for (size_t i = 0; i < vl->n && e == 0; i++) {
			/* built over rounds: only the VMAs new to this one */
			if (r->vma_stage && r->vma_stage[i] != RST_VMA_NEW)
				continue;
			if (after_seals(r, &vl->v[i]) != (round == 1))
				continue;
			e = map_vma(r, &vl->v[i]);
			if (e == 0)
				e = sd_rst_vmflags_guards(r, &vl->v[i]);
		}
		if (e == 0 && round == 0)
			e = sd_rst_seal_ghosts(r);
	}
	return e;
}

int sd_rst_unmap_vma(struct rst *r, const struct vma *v)
{
	int e;

	/* [vdso] and [vvar] are the kernel's, made with the empty address space */
	if (v->kind == VK_VDSO || v->kind == VK_VVAR || v->kind == VK_VSYSCALL)
		return 0;
	e = sd_rst_call(r, SYS_munmap, (long)v->start, (long)(v->end - v->start), 0, 0, 0, 0, NULL);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot unmap 0x%" PRIx64 "-0x%" PRIx64 " in the restored pid %d",
			       v->start, v->end, r->pid);
	return 0;
}

/*
 * A userfaultfd of the new process's memory, for the fill's UFFDIO_COPY:
 * made there by an injected userfaultfd() (user-mode only: the kernel's
 * own accesses never wait on it), taken with pidfd_getfd() and closed
 * there. -1 when it cannot be had: the fill then does without.
 */
static int take_uffd(struct rst *r)
{
	/*
	 * A lazy restore's must see the kernel's accesses too (a read() into
	 * a missing page waits for it instead of failing with EFAULT): made
	 * while the new process still has our credentials (CAP_SYS_PTRACE).
	 */
	const struct inject_fd_req req = {
		.name = "userfaultfd",
		.nr = SYS_userfaultfd,
		.args = { r->opts->lazy ? O_CLOEXEC | O_NONBLOCK : O_CLOEXEC | UFFD_USER_MODE_ONLY },
		.flags = INJECT_FD_QUIET,
	};
	int pidfd, uffd = -1, e;

	pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	if (pidfd < 0)
		return -1;
	/* closed in the new process at once; any failure: the fill does without */
	e = sd_inject_take_fd(r->ctx, &r->inj, &r->seized, &r->seized.t[0], pidfd, &req, &uffd, NULL);
	(void)close(pidfd);
	return e < 0 || uffd < 0 ? -1 : uffd;
}

/*
 * A lazy restore's userfaultfd: with every event of the mm (a fork, an
 * mremap, an munmap or MADV_DONTNEED of a lazy VMA must be seen).
 */
static int lazy_uffd(struct rst *r, int uffd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = sd_rst_lazy_features() };

	if (uffd < 0)
		return sd_errx(r->ctx, -ENOTSUP,
			       "cannot restore pid %d lazily: no userfaultfd for its memory (restore it without --lazy)",
			       r->pid);
	if (ioctl(uffd, UFFDIO_API, &api) < 0)
		return sd_err(r->ctx, -errno,
			      "cannot restore pid %d lazily: the userfaultfd has not the events it needs (restore it without --lazy)",
			      r->pid);
	return 0;
}

/* The lazy filler started over what sd_rst_fill left in @lz; it owns @uffd from here. */
static int lazy_start(struct rst *r, int uffd, struct rst_fill_lazy *lz)
{
	struct rst_lazy_src *src;
	int e;

	e = sd_rst_lazy_src_chain(r->ctx, &r->chain, lz, &src);
	if (e < 0) {
		(void)close(uffd);
		return e;
	}
	return sd_rst_lazy_start(r->ctx, r->pid, uffd, lz, src, r->t0, r->opts->detach,
				 r->tree ? sd_rst_tree_kin(r->tree) : NULL, &r->lazy);
}

int sd_rst_lazy_finish(struct rst *r)
{
	struct rst_lazy_stats st;
	char run[32], all[32];
	int e;

	/* a fetch hook lives in the caller: the fill stays here, detached or not */
	if (r->opts->detach && !r->opts->lazy_fetch) {
		e = sd_rst_lazy_detach(r->lazy, &st);
		r->lazy = NULL;
		r->lazy_st = st;
		sd_fmt_duration(run, sizeof(run), st.t_running_us);
		if (e == 0 && !st.t_complete_us) {
			sd_log(r->ctx, SDUMP_LOG_INFO,
			       "restore %d: lazy: running after %s, the memory follows (helper process %d, sdump-lazy, fills it)",
			       r->pid, run, (int)st.helper);
			return 0;
		}
	} else {
		e = sd_rst_lazy_wait(r->lazy, &st);
		r->lazy = NULL;
		r->lazy_st = st;
	}
	sd_fmt_duration(run, sizeof(run), st.t_running_us);
	sd_fmt_duration(all, sizeof(all), st.t_complete_us);
	if (e < 0) {
		const char *msg = sdump_ctx_last_error(r->ctx);
		char why[512];

		(void)snprintf(why, sizeof(why), "%s", msg ? msg : strerror(-e));
		/* the first error is the one said: it becomes the reason of this one */
		sdump_ctx_clear_error(r->ctx);
		/* killed and gone: reaped, it is our child */
		if (!r->opts->detach)
			while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
				;
		return sd_errx(r->ctx, e, "the restored pid %d was killed, its memory incomplete: %s", r->pid, why);
	}
	if (e == 0)
		sd_log(r->ctx, SDUMP_LOG_INFO,
		       "restore %d: lazy: running after %s, memory complete after %s: %" PRIu64
		       " faults served (%" PRIu64 " pages, %" PRIu64 " zero), %" PRIu64
		       " pages pushed, %" PRIu64 " events (%" PRIu64 " forks)",
		       r->pid, run, all, st.faults, st.fault_pages, st.zero_faults, st.pushed, st.events,
		       st.forks);
	return e;
}

static int final_protections(struct rst *r);

/*
 * A restore built over rounds (r->vma_stage): what each round changed.
 * The first round, with no VMA kept, places its long runs with
 * UFFDIO_COPY; a round before the last leaves every VMA writable, as it
 * was mapped to be filled.
 */
static int fill_staged(struct rst *r)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	struct rst_fill_range *drops = NULL;
	struct rst_fill_stats st;
	size_t ndrops = 0;
	bool kept = false;
	int e, uffd = -1;

	for (size_t i = 0; i < vl->n; i++)
		kept |= r->vma_stage[i] == RST_VMA_KEPT;
	if (!kept)
		uffd = take_uffd(r);
	e = sd_rst_fill_staged(r->ctx, &r->chain, r->pid, r->mem_fd, uffd, r->vma_stage, &drops,
			       &ndrops, &st);
	zclose(&uffd);
	for (size_t i = 0; i < ndrops && e == 0; i++)
		e = sd_rst_call(r, SYS_madvise, (long)drops[i].start, (long)(drops[i].end - drops[i].start),
				MADV_DONTNEED, 0, 0, 0, NULL);
	free(drops);
	if (e < 0)
		return e;
	r->fill = st;
	r->fill_drops = ndrops;
	return r->stage_round ? 0 : final_protections(r);
}

int sd_rst_fill_memory(struct rst *r)
{
	struct rst_fill_lazy lz = { 0 };
	struct rst_fill_stats st;
	int e, uffd;

	e = sd_rst_vmflags_before_fill(r);
	if (e < 0)
		return e;
	if (r->vma_stage)
		return fill_staged(r);
	uffd = take_uffd(r);
	if (r->opts->lazy) {
		e = lazy_uffd(r, uffd);
		if (e < 0) {
			zclose(&uffd);
			return e;
		}
	}
	e = sd_rst_fill(r->ctx, &r->chain, r->pid, r->mem_fd, uffd, r->opts->lazy ? &lz : NULL, &st);
	/* the lazy filler's from here, if it has anything to fill */
	if (e == 0 && lz.nunits > 0) {
		e = lazy_start(r, uffd, &lz);
		uffd = -1;
	}
	/* else closed at once: that unregisters every VMA before anything else runs */
	zclose(&uffd);
	free(lz.segs);
	free(lz.units);
	free(lz.vmas);
	if (e < 0)
		return e;
	r->fill = st;
	return final_protections(r);
}

/* Final protections; shared file mappings were mapped with theirs. */
static int final_protections(struct rst *r)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	int e = 0;

	for (size_t i = 0; i < vl->n && e == 0; i++) {
		const struct vma *v = &vl->v[i];

		if (v->has_sysv)
			e = sd_rst_sysv_protect(r, v);
		else if (sd_rst_vma_filled(v))
			e = sd_rst_call(r, SYS_mprotect, (long)v->start, (long)(v->end - v->start),
				     (long)v->prot, 0, 0, 0, NULL);
	}
	/* locked last: mlock() faults in what the fill did not write */
	if (e == 0)
		e = sd_rst_vmflags_lock(r);
	return e;
}

/* Whether /proc/@pid/exe is the file at @path already. */
static bool exe_is_already(pid_t pid, const char *path)
{
	char link[64];
	struct stat a, b;

	(void)snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	return stat(link, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int sd_rst_restore_mm(struct rst *r)
{
	const struct mm_fields *mm = &r->ps.mm;
	struct prctl_mm_map map = {
		.start_code = mm->start_code,
		.end_code = mm->end_code,
		.start_data = mm->start_data,
		.end_data = mm->end_data,
		.start_brk = mm->start_brk,
		.brk = mm->brk,
		.start_stack = mm->start_stack,
		.arg_start = mm->arg_start,
		.arg_end = mm->arg_end,
		.env_start = mm->env_start,
		.env_end = mm->env_end,
		.auxv_size = (__u32)mm->auxv_len,
	};
	uint64_t auxv, a;
	long fd = -1;
	int e;

	/*
	 * The kernel refuses a new exe while the old one is still mapped
	 * (EBUSY). The restored process starts with the restorer's exe: when
	 * that is already the dumped one (a program restoring through
	 * libsdump a process of its own binary), it is left as it is.
	 */
	if (!exe_is_already(r->pid, mm->exe)) {
		e = sd_rst_open_in_child(r, mm->exe, O_RDONLY | O_CLOEXEC, &fd);
		if (e < 0)
			return e;
	}
	map.exe_fd = (__u32)fd;
	e = sd_rst_data_put(r, mm->auxv, mm->auxv_len, &auxv);
	if (e < 0)
		return e;
	map.auxv = (__u64 *)(uintptr_t)auxv;
	e = sd_rst_data_put(r, &map, sizeof(map), &a);
	if (e == 0)
		e = sd_rst_call(r, SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)a, sizeof(map), 0, 0, NULL);
	if (fd >= 0)
		(void)sd_rst_call(r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot restore the mm fields of pid %d", r->pid);
	return 0;
}
