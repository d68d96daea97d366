/* SPDX-License-Identifier: MIT */
/*
 * Restore step 3, part of the mappings: shared anonymous memory
 * (MAP_SHARED | MAP_ANONYMOUS, "/dev/zero (deleted)" in the maps) as the
 * shmem objects it was. One object per inode of the dump, however many
 * VMAs map it: a shared mapping split in parts (mprotect, munmap of a
 * middle), or mapped again (mremap with an old size of 0), is one object
 * whose pages every part shares, each at its offset in it. A lone
 * mapping at offset 0 is one mmap() as it was made; otherwise the object
 * is made as large as its VMAs reach (a temporary mapping of that size),
 * and each VMA maps it from an fd the new process opens on it through
 * /proc/PID/map_files, at its offset; the object keeps the name the
 * kernel gives it ("/dev/zero (deleted)"). An object that an fd or a
 * private mapping reached too was saved whole as a deleted file, made
 * again as shared anonymous memory (rst_ghost.c): mapped from it. The fill writes such an
 * object's pages without UFFDIO_COPY (rst_fill.c), which fails on a page
 * that another VMA of the object put there already.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "proc.h"
#include "procfs.h"
#include "restore.h"
#include "util.h"

/* The first VMA of @vl of the object @v maps (@v itself if none before it). */
static const struct vma *first_of(const struct vma_list *vl, const struct vma *v)
{
	for (size_t i = 0; i < vl->n && &vl->v[i] != v; i++)
		if (sd_vma_same_shmem(&vl->v[i], v))
			return &vl->v[i];
	return v;
}

/* The object's size: as far as its VMAs reach into it; whether it is one lone VMA at 0. */
static uint64_t object_size(const struct vma_list *vl, const struct vma *v, bool *ret_lone)
{
	uint64_t size = 0;
	size_t n = 0;

	for (size_t i = 0; i < vl->n; i++) {
		const struct vma *w = &vl->v[i];

		if (w != v && !sd_vma_same_shmem(w, v))
			continue;
		size = MAX(size, w->pgoff + (w->end - w->start));
		n++;
	}
	*ret_lone = n == 1 && v->pgoff == 0;
	return size;
}

/* Map @v from the fd the new process holds on its object. */
static int map_from(struct rst *r, const struct vma *v, long fd)
{
	int prot, flags;
	long ret;
	int e;

	sd_rst_vma_map_how(v, &prot, &flags);
	e = sd_rst_call(r, SYS_mmap, (long)v->start, (long)(v->end - v->start), prot,
			flags | MAP_FIXED | MAP_SHARED, fd, (long)v->pgoff, &ret);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot map 0x%" PRIx64 "-0x%" PRIx64 " in the restored pid %d",
			       v->start, v->end, r->pid);
	return 0;
}

/*
 * After @e (0: the new process holds @fd on the object, or -1 on error),
 * @v mapped from @fd, @fd closed there, and the object kept for the
 * members after it that map it too (@others).
 */
static int map_through(struct rst *r, const struct vma *v, int e, long fd, bool others)
{
	if (e == 0)
		e = map_from(r, v, fd);
	if (fd >= 0)
		(void)sd_rst_call(r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
	if (e == 0 && others)
		e = sd_rst_tree_shmem_made(r, v);
	return e;
}

/* An fd of the new process on the object mapped at [start, end) there. */
static int open_object(struct rst *r, uint64_t start, uint64_t end, long *ret_fd)
{
	char path[PROC_PATH_MAX];

	sd_proc_path(path, r->pid, "map_files/%" PRIx64 "-%" PRIx64, start, end);
	return sd_rst_open_in_child(r, path, O_RDWR | O_CLOEXEC, ret_fd);
}

/*
 * An object an fd or a private mapping reached too: the copy of its saved
 * contents (rst_ghost.c made it shared anonymous memory), mapped from it.
 */
static int map_saved(struct rst *r, const struct vma *v, bool others)
{
	char path[64];
	struct stat st;
	long fd = -1;
	int e;

	e = sd_rst_ghost_path(r, v->ghost, path, sizeof(path), &st);
	if (e == 0)
		e = sd_rst_open_in_child(r, path, O_RDWR | O_CLOEXEC, &fd);
	e = map_through(r, v, e, fd, others);
	pr_debug(r->ctx, "0x%" PRIx64 "-0x%" PRIx64 ": shared memory at offset 0x%" PRIx64 " of saved object %u",
		 v->start, v->end, v->pgoff, v->ghost);
	return e;
}

int sd_rst_map_shmem(struct rst *r, const struct vma *v)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	const struct vma *first = first_of(vl, v);
	long fd = -1, tmp = 0, ign;
	int prot, flags, e;
	uint64_t size;
	bool lone, others;

	if (v->shared_pid) {
		/* a member before it made the object */
		e = sd_rst_tree_shmem_fd(r, v, &fd);
		if (e == 0)
			e = map_from(r, v, fd);
		if (fd >= 0)
			(void)sd_rst_call(r, SYS_close, fd, 0, 0, 0, 0, 0, NULL);
		pr_debug(r->ctx, "0x%" PRIx64 "-0x%" PRIx64 ": shared memory of pid %d", v->start, v->end,
			 v->shared_pid);
		return e;
	}
	sd_rst_vma_map_how(v, &prot, &flags);
	size = object_size(vl, first, &lone);
	/* members after it that map it too may reach further into it */
	others = first == v && v->path && sd_rst_tree_shmem_reach(r, v, &size);
	if (size != v->end - v->start)
		lone = false;
	if (v->ghost)
		return map_saved(r, v, others);
	if (lone || !v->path) {
		e = sd_rst_call(r, SYS_mmap, (long)v->start, (long)(v->end - v->start), prot,
				flags | MAP_FIXED | MAP_ANONYMOUS | MAP_SHARED, -1, 0, &ign);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot map 0x%" PRIx64 "-0x%" PRIx64 " in the restored pid %d",
				       v->start, v->end, r->pid);
		return others ? sd_rst_tree_shmem_made(r, v) : 0;
	}
	if (first != v) {
		/* mapped already: its object, through it */
		e = open_object(r, first->start, first->end, &fd);
	} else {
		/* made at its size where the kernel finds room, opened, unmapped */
		e = sd_rst_call(r, SYS_mmap, 0, (long)size, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0, &tmp);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot make the shared memory of 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " bytes) in the restored pid %d",
				       v->start, v->end, size, r->pid);
		e = open_object(r, (uint64_t)tmp, (uint64_t)tmp + size, &fd);
		(void)sd_rst_call(r, SYS_munmap, tmp, (long)size, 0, 0, 0, 0, NULL);
	}
	e = map_through(r, v, e, fd, others);
	pr_debug(r->ctx, "0x%" PRIx64 "-0x%" PRIx64 ": shared memory at offset 0x%" PRIx64 " of an object of %" PRIu64 " bytes%s",
		 v->start, v->end, v->pgoff, size, first != v ? ", mapped before" : "");
	return e;
}
