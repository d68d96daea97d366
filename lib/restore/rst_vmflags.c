/* SPDX-License-Identifier: MIT */
/*
 * Restore step 3, the VMAs' flags (smaps VmFlags) and guard pages, around
 * the mapping and the fill of rst_memory.c:
 *
 *  - how a VMA is mapped: commit accounting (ac) is the kernel's verdict
 *    at mmap() and mprotect() time, so a private VMA that had it is mapped
 *    writable (charged) and given its protection after the fill, one that
 *    had not is mapped with its final protection at once (the fill writes
 *    it through /proc/PID/mem, which may); MAP_NORESERVE (nr),
 *    MAP_DROPPABLE (dp) and MAP_GROWSDOWN (gd) as they were;
 *  - before the fill, the madvise() flags (dc wf dd hg nh mg sr rr), so
 *    that no huge page is made where none may be;
 *  - the guard pages installed again as each VMA is mapped (the fill
 *    writes none of them);
 *  - after the fill, the protections, then mlock() (lo, with
 *    MLOCK_ONFAULT where lf);
 *  - last of all, once nothing else changes the address space, mseal()
 *    (sl), and every VMA's flags read back from smaps: a difference fails
 *    the restore with one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "proc.h"
#include "procfs.h"
#include "restore.h"
#include "rst_fill.h"
#include "util.h"

static bool is_private(const struct vma *v)
{
	return v->kind == VK_ANON || v->kind == VK_FILE;
}

void sd_rst_vma_map_how(const struct vma *v, int *ret_prot, int *ret_flags)
{
	int prot = v->kind == VK_FILE_SHARED ? (int)v->prot : PROT_READ | PROT_WRITE;
	int flags = 0;

	if (!v->has_vmflags) {
		/* an image without VmFlags: a PROT_NONE reservation costs no commit charge */
		if (v->prot == PROT_NONE && v->kind == VK_ANON)
			flags |= MAP_NORESERVE;
		if (v->kind == VK_ANON && v->path && !strcmp(v->path, "[stack]"))
			flags |= MAP_GROWSDOWN;
		*ret_prot = prot;
		*ret_flags = flags;
		return;
	}
	if (v->vmflags & VMF_NORESERVE)
		flags |= MAP_NORESERVE;
	if (v->vmflags & VMF_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	/*
	 * Never charged: mapped with its protection (never writable: a
	 * writable private mapping is always charged or MAP_NORESERVE), so
	 * that no mprotect() charges it. A terabyte PROT_NONE reservation
	 * costs nothing either.
	 */
	if (is_private(v) && !(v->vmflags & (VMF_ACCOUNT | VMF_NORESERVE | VMF_DROPPABLE)) &&
	    !(v->prot & PROT_WRITE))
		prot = (int)v->prot;
	*ret_prot = prot;
	*ret_flags = flags;
}

bool sd_rst_vma_mapped_writable(const struct vma *v)
{
	int prot, flags;

	sd_rst_vma_map_how(v, &prot, &flags);
	return prot & PROT_WRITE;
}

struct advice {
	uint32_t flag;
	int advice;
	const char *name;
};

static const struct advice advices[] = {
	{ VMF_DONTCOPY, MADV_DONTFORK, "MADV_DONTFORK" },
	{ VMF_WIPEONFORK, MADV_WIPEONFORK, "MADV_WIPEONFORK" },
	{ VMF_DONTDUMP, MADV_DONTDUMP, "MADV_DONTDUMP" },
	{ VMF_HUGEPAGE, MADV_HUGEPAGE, "MADV_HUGEPAGE" },
	{ VMF_NOHUGEPAGE, MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE" },
	{ VMF_MERGEABLE, MADV_MERGEABLE, "MADV_MERGEABLE" },
	{ VMF_SEQ_READ, MADV_SEQUENTIAL, "MADV_SEQUENTIAL" },
	{ VMF_RAND_READ, MADV_RANDOM, "MADV_RANDOM" },
};

static int advise(struct rst *r, const struct vma *v, uint64_t start, uint64_t len, int advice,
		  const char *name)
{
	long ret;
	int e = sd_rst_try(r, SYS_madvise, (long)start, (long)len, advice, &ret);

	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: %s on 0x%" PRIx64 "-0x%" PRIx64, r->pid,
			      name, v->start, v->end);
	return 0;
}

/* Whether @v is to be restored by these steps: a VMA of the process, not the kernel's. */
static bool handled(const struct vma *v)
{
	return v->has_vmflags && v->kind != VK_VDSO && v->kind != VK_VVAR && v->kind != VK_VSYSCALL;
}

/* The first page of @v that is no guard page (@v->end if none). */
static uint64_t first_unguarded(const struct vma *v)
{
	uint64_t a = v->start;

	for (size_t g = 0; g < v->nguards && v->guards[2 * g] == a; g++)
		a = v->guards[2 * g + 1];
	return MIN(a, v->end);
}

int sd_rst_vmflags_before_fill(struct rst *r)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	int e;

	for (size_t i = 0; i < vl->n; i++) {
		const struct vma *v = &vl->v[i];

		/* built over rounds: a kept VMA had it when it was new, and holds pages now */
		if (!handled(v) || (r->vma_stage && r->vma_stage[i] != RST_VMA_NEW))
			continue;
		for (size_t k = 0; k < sizeof(advices) / sizeof(advices[0]); k++) {
			/* a droppable mapping is wiped on fork and not dumped by itself */
			if (!(v->vmflags & advices[k].flag) ||
			    ((v->vmflags & VMF_DROPPABLE) && (advices[k].flag & (VMF_WIPEONFORK | VMF_DONTDUMP))))
				continue;
			e = advise(r, v, v->start, v->end - v->start, advices[k].advice, advices[k].name);
			if (e < 0)
				return e;
		}
		/*
		 * Charged anonymous memory made inaccessible or read-only stays
		 * charged only if it has an anon_vma by then (it was written): one
		 * page written and dropped again gives it one.
		 */
		if (v->kind == VK_ANON && (v->vmflags & VMF_ACCOUNT) && !(v->prot & PROT_WRITE)) {
			const uint8_t zero = 0;
			uint64_t a = first_unguarded(v);

			if (a == v->end)
				continue;
			e = sd_pwrite_all(r->mem_fd, &zero, 1, (off_t)a);
			if (e < 0)
				return sd_err(r->ctx, e, "cannot write the memory of pid %d at 0x%" PRIx64,
					      r->pid, a);
			e = advise(r, v, a, psz, MADV_DONTNEED, "MADV_DONTNEED");
			if (e < 0)
				return e;
		}
	}
	return 0;
}

int sd_rst_vmflags_guards(struct rst *r, const struct vma *v)
{
	int e;

	for (size_t g = 0; g < v->nguards; g++) {
		e = advise(r, v, v->guards[2 * g], v->guards[2 * g + 1] - v->guards[2 * g],
			   MADV_GUARD_INSTALL, "MADV_GUARD_INSTALL");
		if (e < 0)
			return e;
	}
	return 0;
}

int sd_rst_vmflags_lock(struct rst *r)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	struct rlimit rl = { 0 };
	long ret;
	int e;

	for (size_t i = 0; i < vl->n; i++) {
		const struct vma *v = &vl->v[i];
		bool onfault = v->vmflags & VMF_LOCKONFAULT;

		if (!handled(v) || !(v->vmflags & VMF_LOCKED))
			continue;
		e = sd_rst_try(r, SYS_mlock2, (long)v->start, (long)(v->end - v->start),
			       onfault ? MLOCK_ONFAULT : 0, &ret);
		/*
		 * With guard pages in it, mlock() locks the VMA but fails to fault
		 * them in (ENOMEM), as it did for the process itself: the flags
		 * read back at the end tell whether it is locked.
		 */
		if (e == -ENOMEM && v->nguards && !onfault)
			continue;
		if (e < 0) {
			(void)getrlimit(RLIMIT_MEMLOCK, &rl);
			return sd_errx(r->ctx, e,
				       "cannot restore pid %d: cannot lock 0x%" PRIx64 "-0x%" PRIx64 " (%s): %s; RLIMIT_MEMLOCK is %llu KiB here: raise it (ulimit -l) or restore as root",
				       r->pid, v->start, v->end, onfault ? "mlock2 MLOCK_ONFAULT" : "mlock",
				       strerror(-e), (unsigned long long)(rl.rlim_cur / 1024));
		}
	}
	return 0;
}

/* The flags the kernel shows on the new process's VMA at @addr, from smaps @now. */
static const struct vma *now_at(const struct vma_list *now, uint64_t addr)
{
	const struct vma *n = sd_vma_list_find(now, addr);

	return n && n->has_vmflags ? n : NULL;
}

static int read_now(struct rst *r, struct vma_list *now)
{
	_cleanup_free_ char *maps = NULL, *smaps = NULL;
	char path[PROC_PATH_MAX];
	int e;

	e = sd_read_file(AT_FDCWD, sd_proc_path(path, r->pid, "maps"), &maps, NULL);
	if (e == 0)
		e = sd_proc_parse_maps(maps, now);
	if (e == 0)
		e = sd_read_file(AT_FDCWD, sd_proc_path(path, r->pid, "smaps"), &smaps, NULL);
	if (e == 0)
		e = sd_proc_parse_smaps(smaps, now);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot read the VmFlags of the restored pid %d", r->pid);
	return 0;
}

#define CHECKED (VMF_SAVED_MASK | VMF_UFFD_MISSING | VMF_UFFD_WP | VMF_UFFD_MINOR)

int sd_rst_vmflags_finish(struct rst *r)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	struct vma_list now = { 0 };
	char want[128], got[128];
	long ret;
	int e = 0;

	for (size_t i = 0; i < vl->n && e == 0; i++) {
		const struct vma *v = &vl->v[i];

		if (!handled(v) || !(v->vmflags & VMF_SEALED))
			continue;
		e = sd_rst_try(r, SYS_mseal, (long)v->start, (long)(v->end - v->start), 0, &ret);
		if (e < 0)
			return sd_err(r->ctx, e, "cannot restore pid %d: mseal of 0x%" PRIx64 "-0x%" PRIx64,
				      r->pid, v->start, v->end);
	}
	e = read_now(r, &now);
	for (size_t i = 0; i < vl->n && e == 0; i++) {
		const struct vma *v = &vl->v[i];
		const struct vma *n;

		if (!handled(v))
			continue;
		n = now_at(&now, v->start);
		/* and no userfaultfd registration of the fill's left, but a lazy restore's */
		if (n && (n->vmflags & CHECKED & ~(r->lazy && sd_rst_vma_lazy(v) ? VMF_UFFD_MISSING : 0)) ==
				 (v->vmflags & VMF_SAVED_MASK))
			continue;
		sd_vmflags_str(v->vmflags & VMF_SAVED_MASK, want, sizeof(want));
		sd_vmflags_str(n ? n->vmflags & CHECKED : 0, got, sizeof(got));
		e = sd_errx(r->ctx, -EIO,
			    "cannot restore pid %d: 0x%" PRIx64 "-0x%" PRIx64 " has the VmFlags '%s' once restored, the dump had '%s'",
			    r->pid, v->start, v->end, got, want);
	}
	sd_vma_list_release(&now);
	return e;
}
