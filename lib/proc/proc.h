/* SPDX-License-Identifier: MIT */
/*
 * Parsers of /proc/PID files. Pure: they take a buffer and never do I/O, so
 * that the unit tests can feed them anything.
 */
#ifndef SDUMP_PROC_H
#define SDUMP_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum vma_kind {
	VK_ANON = 1,		/* private anonymous, [heap], [stack] */
	VK_FILE = 2,		/* private file mapping */
	VK_FILE_SHARED = 3,	/* shared file mapping: the file holds it */
	VK_SHMEM = 4,		/* shared anonymous, SysV shm (an older image: a shared memfd too) */
	VK_VDSO = 5,
	VK_VVAR = 6,		/* [vvar], [vvar_vclock]: never copied */
	VK_VSYSCALL = 7,	/* [vsyscall]: outside the user address space, ignored */
};

struct vma {
	uint64_t start, end;	/* [start, end) */
	uint64_t pgoff;		/* bytes */
	uint32_t prot;		/* PROT_* */
	bool shared;
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	enum vma_kind kind;
	char *path;		/* NULL for anonymous memory */
	bool tracked;		/* a dump found its writes tracked and re-armed them */
	bool rearmed;		/* ... re-armed by the page scan itself (scanner.rearm) */
	bool has_file_size;
	uint64_t file_size;	/* of the mapped file, when the dump could stat it */
	/* a file mapping: the access mode of its open file (lstat of map_files) */
	bool has_file_flags;
	int file_flags;		/* O_RDONLY or O_RDWR */
	bool deleted;		/* the file has no name left: its path ends in " (deleted)" */
	uint8_t flock;		/* a dump: a flock() held through its open file, no fd showing it: 1 LOCK_SH, 2 LOCK_EX */
	/* a System V shared memory segment, attached whole (VK_SHMEM, "/SYSV<key>"): /proc/sysvipc/shm's */
	bool has_sysv;
	struct vma_sysv {
		int32_t key, shmid;
		uint64_t size;
		uint32_t mode, uid, gid;	/* mode: perms, SHM_DEST, SHM_LOCKED */
	} sysv;
	uint32_t ghost;		/* a dump: its saved contents in ghosts.img, 0 none */
	/*
	 * Shared anonymous memory of a member of a process tree that a member
	 * before it maps too: that member's pid (it makes the object again;
	 * its pass holds the pages it maps), 0 none.
	 */
	pid_t shared_pid;
	/* smaps: its VmFlags (VMF_*), protection key, guard pages */
	bool has_vmflags;
	uint32_t vmflags;
	bool may_write;		/* mw: it may be made writable (VM_MAYWRITE) */
	char vmflag_unknown[4];	/* the first mnemonic VMF_UNKNOWN stands for */
	uint32_t pkey;
	uint64_t *guards;	/* [start, end) pairs, nguards of them, in address order */
	size_t nguards;
};


struct vma_list {
	struct vma *v;
	size_t n, cap;
};

/*
 * The VmFlags of /proc/PID/smaps a restore gives back (they are also the
 * bits of mm.img's Vma.vmflags: never renumber them), then those a dump
 * refuses. Every other mnemonic of Linux 6.18 is derived from what else is
 * saved (rd wr ex sh mr mw me ms: protection, sharing and the file's open
 * mode), is the kernel's own (pf io de ar mm: driver mappings, [vvar]) or
 * not process state (sd: soft-dirty tracking; gu, below); one not known at all is
 * VMF_UNKNOWN, refused.
 */
#define VMF_DONTCOPY (1u << 0)	   /* dc: MADV_DONTFORK */
#define VMF_WIPEONFORK (1u << 1)   /* wf: MADV_WIPEONFORK */
#define VMF_DONTDUMP (1u << 2)	   /* dd: MADV_DONTDUMP */
#define VMF_HUGEPAGE (1u << 3)	   /* hg: MADV_HUGEPAGE */
#define VMF_NOHUGEPAGE (1u << 4)   /* nh: MADV_NOHUGEPAGE */
#define VMF_MERGEABLE (1u << 5)	   /* mg: MADV_MERGEABLE */
#define VMF_LOCKED (1u << 6)	   /* lo: mlock */
#define VMF_LOCKONFAULT (1u << 7)  /* lf: mlock2(MLOCK_ONFAULT) */
#define VMF_SEQ_READ (1u << 8)	   /* sr: MADV_SEQUENTIAL */
#define VMF_RAND_READ (1u << 9)	   /* rr: MADV_RANDOM */
#define VMF_ACCOUNT (1u << 10)	   /* ac: charged to the commit limit */
#define VMF_NORESERVE (1u << 11)   /* nr: MAP_NORESERVE */
#define VMF_DROPPABLE (1u << 12)   /* dp: MAP_DROPPABLE */
#define VMF_SEALED (1u << 13)	   /* sl: mseal */
#define VMF_GROWSDOWN (1u << 14)   /* gd: MAP_GROWSDOWN */
#define VMF_SAVED_MASK ((1u << 15) - 1)
/*
 * gu: guard pages may be in it (it had some installed, or merged with a
 * VMA that had): the kernel's hint, which it spreads on merges; the guard
 * pages themselves are what is saved.
 */
#define VMF_MAYBE_GUARD (1u << 15)
#define VMF_UFFD_MISSING (1u << 16) /* um: registered with a userfaultfd */
#define VMF_UFFD_WP (1u << 17)	    /* uw: sdump's own tracking, or refused */
#define VMF_UFFD_MINOR (1u << 18)   /* ui */
#define VMF_HUGETLB (1u << 19)	    /* ht: hugetlbfs */
#define VMF_SYNC (1u << 20)	    /* sf: MAP_SYNC of a DAX file */
#define VMF_SHADOW_STACK (1u << 21) /* ss */
#define VMF_UNKNOWN (1u << 31)

/* The smaps mnemonic of one VMF_* bit ("dc"), or NULL. */
const char *sd_vmflag_name(uint32_t bit);
/* @flags as smaps mnemonics, "dc wf", into @buf; "-" when none. */
void sd_vmflags_str(uint32_t flags, char *buf, size_t size);

/*
 * Parse /proc/PID/smaps text into the VMAs of @l (from the maps file of
 * the same moment): each one's VmFlags, protection key and has_vmflags.
 * A VMA of @l the text does not show keeps has_vmflags false. -EBADMSG on a
 * VmFlags line before any VMA.
 */
int sd_proc_parse_smaps(const char *buf, struct vma_list *l);

/*
 * Parse /proc/PID/maps text. -EBADMSG on a malformed line. Paths keep a
 * " (deleted)" suffix; pseudo-paths such as "[heap]" are kept as they are.
 * A mapping of a deleted file is a file mapping (VK_FILE, VK_FILE_SHARED)
 * with @deleted set, and so is a mapping of a memfd, shared or private;
 * shared anonymous memory and SysV shm, which show as deleted files too,
 * are shmem (VK_SHMEM).
 */
int sd_proc_parse_maps(const char *buf, struct vma_list *ret_list);
void sd_vma_list_release(struct vma_list *l);
/*
 * Whether @a and @b map the same shared anonymous memory (VK_SHMEM of one
 * inode: parts of a split mapping, or one mapped again with mremap).
 */
bool sd_vma_same_shmem(const struct vma *a, const struct vma *b);
/* Whether a VMA of @l other than @v maps the shared anonymous memory @v maps. */
bool sd_vma_shmem_shared(const struct vma_list *l, const struct vma *v);
/* The VMA containing @addr, or NULL. The list is sorted, as /proc gives it. */
const struct vma *sd_vma_list_find(const struct vma_list *l, uint64_t addr);

/* "rw-p" for a VMA; @out has room for 5 bytes. */
void sd_vma_prot_str(uint32_t prot, bool shared, char out[5]);

/*
 * The fields of /proc/PID/stat after the comm, into @f[3] up to @f[max - 1],
 * numbered as in proc(5) (f[3] is the state letter). The comm in parentheses
 * may hold anything, including ") ": parsing starts at the last ')'. Returns
 * the number of the first field not read (so 53 when all 52 were), -EBADMSG.
 */
int sd_proc_stat_fields(const char *buf, uint64_t *f, int max);
/* The state letter (field 3) and the start time (field 22, clock ticks since boot). */
int sd_proc_parse_stat(const char *buf, char *ret_state, uint64_t *ret_start_time);

/* Process name from /proc/PID/comm text without the newline, into @out (16 bytes). */
void sd_proc_parse_comm(const char *buf, char out[16]);

/* The Tgid: line of /proc/PID/status. */
int sd_proc_parse_status_tgid(const char *buf, pid_t *ret_tgid);
/*
 * /proc/PID/fdinfo/N: the offset ("pos:", decimal) and the open flags
 * ("flags:", octal, O_CLOEXEC included). -EBADMSG if either is missing.
 */
int sd_proc_parse_fdinfo(const char *buf, uint64_t *ret_pos, uint32_t *ret_flags);
/*
 * A /proc/PID/fd/N link to an anonymous inode, "anon_inode:[eventfd]" or
 * "anon_inode:inotify": true, and its name without the brackets ("eventfd",
 * cut to PROC_ANON_NAME_MAX - 1 bytes) in @ret_name. False for any other
 * link, @ret_name untouched.
 */
#define PROC_ANON_NAME_MAX 64
bool sd_proc_parse_anon_link(const char *link, char ret_name[PROC_ANON_NAME_MAX]);
/* /proc/sys/kernel/random/boot_id "xxxxxxxx-xxxx-..." as two 64-bit halves. */
int sd_proc_parse_boot_id(const char *buf, uint64_t *ret_hi, uint64_t *ret_lo);

/*
 * The numbers after @key ("\nUid:", "\nGroups:") of /proc/PID/status, at
 * most @max of them; how many in @ret_n (may be NULL). -EBADMSG without @key.
 */
int sd_proc_parse_status_ids(const char *buf, const char *key, uint32_t *out, size_t max,
			  size_t *ret_n);
/* The Umask: line of /proc/PID/status (octal). */
int sd_proc_parse_status_umask(const char *buf, uint32_t *ret_umask);
/* A "KEY:   N kB" line of /proc/PID/status (VmLck, VmRSS, ...): N. -EBADMSG if none. */
int sd_proc_parse_status_kb(const char *buf, const char *key, uint64_t *ret_kb);
/*
 * The soft limit of the line starting with @name ("Max open files") of
 * /proc/PID/limits; "unlimited" is UINT64_MAX.
 */
int sd_proc_parse_limit_soft(const char *buf, const char *name, uint64_t *ret_soft);

#endif /* SDUMP_PROC_H */
