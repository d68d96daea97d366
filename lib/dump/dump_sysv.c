/* SPDX-License-Identifier: MIT */
/*
 * System V shared memory segments a process attaches (shmat: a VMA of
 * "/SYSV<key> (deleted)", its inode the shmid): each one's key, id, size,
 * mode and owner from /proc/sysvipc/shm, saved on its VMA for the restore
 * to attach it again with the same id (rst_sysv.c); its pages are saved as
 * those of any shared anonymous memory. Refused: a part of a segment (a
 * VMA of it split or cut by mprotect or munmap), a segment a process
 * outside the dump attaches too (its nattch counts more VMAs than those of
 * the process and its tree), a process in another IPC namespace than
 * sdump's, whose segments /proc/sysvipc/shm does not show.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "dump: "
#include "ctx.h"
#include "dump_mapped_files.h"
#include "proc.h"
#include "proc_sysv.h"
#include "procfs.h"
#include "util.h"

static bool is_sysv(const struct vma *v)
{
	return v->kind == VK_SHMEM && v->path && !strncmp(v->path, "/SYSV", strlen("/SYSV"));
}

/* How many VMAs of @l attach segment @v's. */
static size_t attaches(const struct vma_list *l, const struct vma *v)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += is_sysv(&l->v[i]) && l->v[i].ino == v->ino && l->v[i].dev_major == v->dev_major &&
		     l->v[i].dev_minor == v->dev_minor;
	return n;
}

/* The VMAs of @pid's tree (@members, every one, @pid among them, or none) attaching @v's segment. */
static size_t tree_attaches(pid_t pid, const struct vma_list *vmas, const pid_t *members, size_t nmembers,
			    const struct vma *v)
{
	size_t n = attaches(vmas, v);

	for (size_t k = 0; k < nmembers; k++) {
		_cleanup_free_ char *maps = NULL;
		struct vma_list l = { 0 };
		char path[PROC_PATH_MAX];

		if (members[k] == pid ||
		    sd_read_file(AT_FDCWD, sd_proc_path(path, members[k], "maps"), &maps, NULL) < 0 ||
		    sd_proc_parse_maps(maps, &l) < 0)
			continue;
		n += attaches(&l, v);
		sd_vma_list_release(&l);
	}
	return n;
}

/* Whether @pid is in sdump's IPC namespace. */
static bool same_ipc_ns(pid_t pid)
{
	char path[PROC_PATH_MAX];
	struct stat a, b;

	return stat(sd_proc_path(path, pid, "ns/ipc"), &a) == 0 && stat("/proc/self/ns/ipc", &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int sd_dump_sysv(struct sdump_ctx *ctx, pid_t pid, struct vma_list *vmas, const pid_t *members,
		 size_t nmembers)
{
	_cleanup_free_ char *text = NULL;
	long psz = sysconf(_SC_PAGESIZE);
	int r;

	for (size_t i = 0; i < vmas->n; i++) {
		struct vma *v = &vmas->v[i];
		struct proc_sysv_shm s;
		size_t n;

		if (!is_sysv(v))
			continue;
		if (!text) {
			if (!same_ipc_ns(pid))
				return sd_refuse(ctx, -EOPNOTSUPP,
						 "cannot dump pid %d: it attaches System V shared memory (0x%" PRIx64 "-0x%" PRIx64 ") in another IPC namespace than sdump's, not supported yet; dump it from inside that namespace",
						 pid, v->start, v->end);
			r = sd_read_file(AT_FDCWD, "/proc/sysvipc/shm", &text, NULL);
			if (r < 0)
				return sd_err(ctx, r, "cannot read '/proc/sysvipc/shm'");
		}
		r = sd_proc_parse_sysv_shm(text, (int32_t)v->ino, &s);
		if (r == -EBADMSG)
			return sd_errx(ctx, r, "cannot read '/proc/sysvipc/shm': a line does not parse");
		if (r < 0)
			return sd_errx(ctx, -ESTALE, "cannot dump pid %d: its System V shared memory segment %" PRIu64 " at 0x%" PRIx64 " is not in /proc/sysvipc/shm",
				       pid, v->ino, v->start);
		if (v->pgoff || v->end - v->start != ((s.size + (uint64_t)psz - 1) & ~((uint64_t)psz - 1)))
			return sd_refuse(ctx, -EOPNOTSUPP,
					 "cannot dump pid %d: 0x%" PRIx64 "-0x%" PRIx64 " is a part of the System V shared memory segment %d (key 0x%08x, %" PRIu64 " bytes) as mprotect() or munmap() left it, not supported yet; attach it whole",
					 pid, v->start, v->end, s.shmid, (unsigned int)s.key, s.size);
		n = tree_attaches(pid, vmas, members, nmembers, v);
		if (s.nattch > n)
			return sd_refuse(ctx, -EOPNOTSUPP,
					 "cannot dump pid %d: the System V shared memory segment %d (key 0x%08x) it attaches at 0x%" PRIx64 " is attached %" PRIu64 " times, %zu of them by the process%s: another process attaches it too, and a restored copy would no longer share its writes; dump that process with it (in one tree)",
					 pid, s.shmid, (unsigned int)s.key, v->start, s.nattch, n,
					 nmembers ? " and its tree" : "");
		v->has_sysv = true;
		v->sysv = (struct vma_sysv){ s.key, s.shmid, s.size, s.mode, s.uid, s.gid };
		pr_debug(ctx, "0x%" PRIx64 "-0x%" PRIx64 ": System V shared memory %d (key 0x%08x, mode %o, %" PRIu64 " bytes)",
			 v->start, v->end, s.shmid, (unsigned int)s.key, s.mode, s.size);
	}
	return 0;
}
