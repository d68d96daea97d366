/* SPDX-License-Identifier: MIT */
/*
 * Restore step 3, part of the mappings: a System V shared memory segment,
 * attached again with shmat() at its address. The segment a dump killed
 * the process of lives on in the IPC namespace: that one is attached
 * again where /proc/sysvipc/shm's id still names it with the same key and
 * size and no process but a member of this restore attaches it; else it
 * is made again with its id (/proc/sys/kernel/shm_next_id, then
 * shmget(IPC_CREAT | IPC_EXCL) of its key, both in the new process's IPC
 * namespace, which is sdump's) and its mode and owner set. Either way it
 * is attached writable, the fill writes its pages from the image, and a
 * read-only attach is made again with SHM_RDONLY after it. Removed at the dump (SHM_DEST):
 * removed again once attached (Linux attaches a removed segment by id);
 * locked (SHM_LOCKED): locked again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "proc.h"
#include "restore.h"
#include "util.h"

#define SYSV_DEST 01000		/* SHM_DEST */
#define SYSV_LOCKED 02000	/* SHM_LOCKED */

/* The segment of that id is there, as the image has it: whether it is to be attached again. */
static int found(struct rst *r, const struct vma *v, const struct shmid_ds *ds)
{
	const struct vma_sysv *s = &v->sysv;

	if ((!(s->mode & SYSV_DEST) && ds->shm_perm.__key != s->key) || ds->shm_segsz != s->size)
		return sd_errx(r->ctx, -EEXIST,
			       "cannot restore pid %d: the System V shared memory segment %d it attached at 0x%" PRIx64 " is another one now (key 0x%08x, %zu bytes; the image's: key 0x%08x, %" PRIu64 " bytes)",
			       r->pid, s->shmid, v->start, (unsigned int)ds->shm_perm.__key, (size_t)ds->shm_segsz,
			       (unsigned int)s->key, s->size);
	/* attached only by members made before this one (a tree's) */
	if (ds->shm_nattch && ds->shm_lpid != r->pid && !sd_rst_tree_made_before(r, ds->shm_lpid))
		return sd_errx(r->ctx, -EBUSY,
			       "cannot restore pid %d: the System V shared memory segment %d (key 0x%08x) it attached at 0x%" PRIx64 " is attached by another process now (pid %d); a restored copy would share its writes",
			       r->pid, s->shmid, (unsigned int)s->key, v->start, (int)ds->shm_lpid);
	return 0;
}

/* Made again in the new process: with its id, key, size and mode. */
static int make(struct rst *r, const struct vma *v)
{
	const struct vma_sysv *s = &v->sysv;
	long id = -1;
	FILE *f;
	int e;

	f = fopen("/proc/sys/kernel/shm_next_id", "we");
	if (!f || fprintf(f, "%d\n", s->shmid) < 0 || fclose(f) != 0)
		return sd_err(r->ctx, -errno,
			      "cannot restore pid %d: cannot make the System V shared memory segment %d again with its id ('/proc/sys/kernel/shm_next_id')",
			      r->pid, s->shmid);
	e = sd_rst_try(r, SYS_shmget, (s->mode & SYSV_DEST) ? IPC_PRIVATE : s->key, (long)s->size,
		       IPC_CREAT | IPC_EXCL | (s->mode & 0777), &id);
	/* not used by our call: no other one may take it */
	f = fopen("/proc/sys/kernel/shm_next_id", "we");
	if (f) {
		(void)fputs("-1\n", f);
		(void)fclose(f);
	}
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot restore pid %d: cannot make the System V shared memory segment %d (key 0x%08x, %" PRIu64 " bytes) again: %s",
			       r->pid, s->shmid, (unsigned int)s->key, s->size,
			       e == -EEXIST ? "another segment has its key now" : strerror(-e));
	if (id != s->shmid) {
		(void)shmctl((int)id, IPC_RMID, NULL);
		return sd_errx(r->ctx, -EEXIST,
			       "cannot restore pid %d: the System V shared memory segment %d was made again as %ld (another one took its id meanwhile)",
			       r->pid, s->shmid, id);
	}
	return 0;
}

/* Its mode and owner as dumped, removed or locked as it was. */
static int finish(struct rst *r, const struct vma *v)
{
	const struct vma_sysv *s = &v->sysv;
	struct shmid_ds ds;

	if (shmctl(s->shmid, IPC_STAT, &ds) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot read System V shared memory segment %d",
			      r->pid, s->shmid);
	ds.shm_perm.uid = s->uid;
	ds.shm_perm.gid = s->gid;
	ds.shm_perm.mode = s->mode & 0777;
	if (shmctl(s->shmid, IPC_SET, &ds) < 0 ||
	    ((s->mode & SYSV_LOCKED) && shmctl(s->shmid, SHM_LOCK, NULL) < 0) ||
	    ((s->mode & SYSV_DEST) && shmctl(s->shmid, IPC_RMID, NULL) < 0))
		return sd_err(r->ctx, -errno,
			      "cannot restore pid %d: cannot give the System V shared memory segment %d its mode, owner and state again",
			      r->pid, s->shmid);
	return 0;
}

/* shmat() of @v's segment at its address: read and write for the fill, or as @v was. */
static int attach(struct rst *r, const struct vma *v, bool as_dumped)
{
	int flags = SHM_REMAP | ((v->prot & PROT_EXEC) ? SHM_EXEC : 0);
	long addr;
	int e;

	if (as_dumped && !(v->prot & PROT_WRITE))
		flags |= SHM_RDONLY;
	e = sd_rst_try(r, SYS_shmat, v->sysv.shmid, (long)v->start, flags, &addr);
	if (e == 0 && (uint64_t)addr != v->start)
		e = -EFAULT;
	return e;
}

int sd_rst_sysv_protect(struct rst *r, const struct vma *v)
{
	uint32_t given = PROT_READ | ((v->prot & PROT_WRITE) ? PROT_WRITE : 0) | (v->prot & PROT_EXEC);
	int e = 0;

	/* read-only as shmat(SHM_RDONLY) made it (no VM_MAYWRITE): attached again so, the pages in the segment */
	if (!(v->prot & PROT_WRITE))
		e = attach(r, v, true);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot restore pid %d: cannot attach System V shared memory segment %d read-only at 0x%" PRIx64 ": %s",
			       r->pid, v->sysv.shmid, v->start, strerror(-e));
	/* no access at all: mprotect()'s */
	if (v->prot != given)
		e = sd_rst_call(r, SYS_mprotect, (long)v->start, (long)(v->end - v->start), v->prot, 0, 0, 0, NULL);
	return e;
}

int sd_rst_map_sysv(struct rst *r, const struct vma *v)
{
	const struct vma_sysv *s = &v->sysv;
	struct shmid_ds ds;
	bool again;
	int e;

	again = shmctl(s->shmid, IPC_STAT, &ds) == 0;
	if (!again && errno != EINVAL && errno != EIDRM)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot read System V shared memory segment %d",
			      r->pid, s->shmid);
	e = again ? found(r, v, &ds) : make(r, v);
	if (e < 0)
		return e;
	/* writable for the fill; its protection once filled (sd_rst_sysv_protect) */
	e = attach(r, v, false);
	if (e < 0) {
		if (!again)
			(void)shmctl(s->shmid, IPC_RMID, NULL);
		return sd_errx(r->ctx, e, "cannot restore pid %d: cannot attach System V shared memory segment %d at 0x%" PRIx64 ": %s",
			       r->pid, s->shmid, v->start, strerror(-e));
	}
	pr_debug(r->ctx, "0x%" PRIx64 "-0x%" PRIx64 ": System V shared memory segment %d (key 0x%08x) %s", v->start,
		 v->end, s->shmid, (unsigned int)s->key, again ? "attached again" : "made again");
	return finish(r, v);
}
