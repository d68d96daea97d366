/* SPDX-License-Identifier: MIT */
/*
 * Kernel uapi constants and structs that the system headers may be too old
 * to define. Every definition is guarded so that newer headers win.
 */
#ifndef SDUMP_COMPAT_H
#define SDUMP_COMPAT_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/types.h>

/* PAGEMAP_SCAN: Linux 6.7, fs/proc/task_mmu.c */
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)

struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

/* userfaultfd features newer than the headers: Linux 6.4 (WP_UNPOPULATED), 6.7 (WP_ASYNC) */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

/* pagemap entry bits, Documentation/admin-guide/mm/pagemap.rst */
#define PME_SOFT_DIRTY (1ULL << 55)
#define PME_EXCLUSIVE (1ULL << 56)
#define PME_UFFD_WP (1ULL << 57)
#define PME_FILE (1ULL << 61)
#define PME_SWAP (1ULL << 62)
#define PME_PRESENT (1ULL << 63)
#define PME_PFN_MASK ((1ULL << 55) - 1)

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
/* Linux 5.13; glibc's <sys/ptrace.h> names it only from 2.35 on */
struct sdump_rseq_configuration {
	__u64 rseq_abi_pointer;
	__u32 rseq_abi_size;
	__u32 signature;
	__u32 flags;
	__u32 pad;
};

/*
 * The kernel's O_LARGEFILE (asm-generic/fcntl.h), which fdinfo's "flags:"
 * shows on every fd opened by open(): glibc's O_LARGEFILE is 0 on 64-bit.
 */
#define O_LARGEFILE_KERNEL 0100000

#endif /* SDUMP_COMPAT_H */
