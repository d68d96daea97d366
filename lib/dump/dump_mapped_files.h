/* SPDX-License-Identifier: MIT */
/*
 * The files a process maps, as a pass sees them while the process is
 * frozen: how each was open (a restore opens it the same way), and the
 * deleted ones, whose contents exist nowhere else: a final dump saves them
 * in the image (image/ghost_img.h), once per file; a pre-dump checks that
 * the final dump will be able to.
 */
#ifndef SDUMP_DUMP_MAPPED_FILES_H
#define SDUMP_DUMP_MAPPED_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"
#include "image.h"
#include "proc.h"
#include "pstate.h"

/* A shared object: the device and inode of its mapping. */
struct holder_key {
	dev_t dev;
	ino_t ino;
};

/*
 * What the members of a tree before the one being collected map or have
 * saved (dump_tree.c adds each member's once it is collected), so that
 * what they share is saved once, by the first: a part [off, end) of a
 * shmem object one of their VMAs maps, or a deleted file (or memfd) one
 * maps or holds (@file, off and end 0). @pids: every member of the tree,
 * whom the search for other users of a file or of shared memory passes
 * over.
 */
struct tree_obj {
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	uint64_t off, end;
	pid_t pid;		/* the member */
	bool file;
};

struct tree_objs {
	const pid_t *pids;
	size_t npids;
	struct tree_obj *o;
	size_t n, cap;
};

/* The first member of @t before this one that has the object or file @dev:@ino, else NULL. */
const struct tree_obj *sd_tree_obj_find(const struct tree_objs *t, bool file, uint32_t dev_major,
				     uint32_t dev_minor, uint64_t ino);

/*
 * The walk of /proc for other users of a process's shared anonymous memory
 * made before its freeze (sd_dump_shmem_prewalk()), for the frozen check of
 * sd_dump_mapped_files() to look only at what may have changed since: an
 * object the process had not mapped then, a process created since
 * (ns_last_pid then, last_pid, and now). Only another process's actions can
 * add a user, and those the frozen walk itself races with (it too runs
 * beside them): a fork of a user (a new pid), a mapping of the object
 * through an fd or map_files (a process holding one may map it at any time,
 * before or after the dump: fds are not looked at either way).
 */
struct shmem_prewalk {
	bool valid;		/* the walk found no other user */
	pid_t last_pid;		/* ns_last_pid read before the walk */
	size_t nkeys;
	struct holder_key *keys;	/* the objects looked for */
};
/* Before the seize, the process @pid running and alone (no tree); a failure leaves @pw not valid. */
void sd_dump_shmem_prewalk(pid_t pid, struct shmem_prewalk *pw);
void sd_dump_shmem_prewalk_release(struct shmem_prewalk *pw);

/*
 * For every file mapping of @vmas (read from /proc/@pid/maps, the process
 * frozen): its open mode from the link's mode bits in /proc/@pid/map_files
 * (FMODE_READ gives S_IRUSR, FMODE_WRITE S_IWUSR), and its file's size
 * where the link can be followed. For a deleted file: it
 * must be a regular file sdump can read (CAP_CHECKPOINT_RESTORE), hold at
 * most @o->ghost_limit bytes of data, and if mapped shared, have no other
 * name and be open or mapped in no other process; else the pass is refused
 * with one line naming the file. With @final, its contents go into @dir's
 * ghosts.img and ghost-data.img and its VMAs get their ghost id; the bytes
 * written are added to *@bytes_written. The fds of @fs (a final dump's
 * table, else NULL) of kind FDK_GHOST and FDK_MEMFD are saved alike, with
 * the mappings of the same file (one GhostFile): their file must be held
 * by no other process; a memfd's seals are saved, a hugetlb one refused.
 * Shared anonymous memory must be mapped by no other process either. A
 * member of a tree (@tree, else NULL): the other members may share them;
 * a file a member before it saves is recorded as that member's
 * (GhostFile.shared_pid), without its data.
 */
int sd_dump_mapped_files(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, bool final,
		      struct img_dir *dir, struct vma_list *vmas, struct files_state *fs,
		      const struct tree_objs *tree, const struct shmem_prewalk *pre,
		      uint64_t *bytes_written);

/*
 * The System V shared memory segments @vmas attach (dump_sysv.c): their
 * VMAs get what /proc/sysvipc/shm says of them (vma->sysv); refused with
 * one line: a part of a segment, one another process attaches too (not
 * @pid, nor one of the @nmembers @members of its tree), a process in
 * another IPC namespace. Part of sd_dump_mapped_files().
 */
int sd_dump_sysv(struct sdump_ctx *ctx, pid_t pid, struct vma_list *vmas, const pid_t *members,
		 size_t nmembers);

/*
 * The shared anonymous memory of @vmas must be mapped by no process but
 * @pid (and the members of @tree): else refused with one line. Part of
 * sd_dump_mapped_files() at a final dump; a pre-dump calls it once its
 * target runs on again (the walk of /proc is no part of its freeze).
 */
int sd_dump_shmem_users(struct sdump_ctx *ctx, pid_t pid, const struct vma_list *vmas,
		     const struct tree_objs *tree);

/*
 * A process other than @self and @skip (each may be 0) that has the file
 * @dev/@ino open or mapped: 1 and its pid in *ret_pid, 0 if none was found.
 * Processes that cannot be looked at (gone meanwhile, not ours) are passed
 * over. -errno when /proc itself cannot be read. sd_proc_find_holder_outside:
 * the same of a process other than sdump and the @nskip of @skip (the
 * members of a tree).
 */
int sd_proc_find_holder(dev_t dev, ino_t ino, pid_t self, pid_t skip, pid_t *ret_pid);
int sd_proc_find_holder_outside(dev_t dev, ino_t ino, const pid_t *skip, size_t nskip, pid_t *ret_pid);
/* Whether an fd of @pid is on the file @dev/@ino (false where it cannot be looked at). */
bool sd_proc_fds_have(pid_t pid, dev_t dev, ino_t ino);

#endif /* SDUMP_DUMP_MAPPED_FILES_H */
