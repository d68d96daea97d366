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
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1 << 8) /* Linux 6.14 */
#endif

/* guard pages: Linux 6.13 */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
/* mmap flags and calls newer than the headers: MAP_DROPPABLE 6.11, mseal 6.10 */
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif
#ifndef SYS_mlock2
#define SYS_mlock2 325
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

/* timerfd: Linux 3.17, CONFIG_CHECKPOINT_RESTORE (fs/timerfd.c) */
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, __u64)
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
#define PME_GUARD (1ULL << 58) /* a guard page (MADV_GUARD_INSTALL), Linux 6.15 */
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

/* prctl(2) options newer than the headers */
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65			/* Linux 6.3 */
#define PR_GET_MDWE 66
#endif
#ifndef PR_MDWE_REFUSE_EXEC_GAIN
#define PR_MDWE_REFUSE_EXEC_GAIN (1UL << 0)
#endif
#ifndef PR_MDWE_NO_INHERIT
#define PR_MDWE_NO_INHERIT (1UL << 1)	/* Linux 6.6 */
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67		/* Linux 6.4 */
#define PR_GET_MEMORY_MERGE 68
#endif
#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH 78		/* Linux 6.16 */
#define PR_FUTEX_HASH_SET_SLOTS 1
#define PR_FUTEX_HASH_GET_SLOTS 2
#endif
#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE 62		/* Linux 5.14 */
#define PR_SCHED_CORE_GET 0
#endif
#ifndef PR_GET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57		/* Linux 5.6 */
#define PR_GET_IO_FLUSHER 58
#endif
#ifndef PR_SPEC_L1D_FLUSH
#define PR_SPEC_L1D_FLUSH 2		/* Linux 5.15 */
#endif
#ifndef PR_SPEC_DISABLE_NOEXEC
#define PR_SPEC_DISABLE_NOEXEC (1UL << 4)
#endif

#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1)	/* Linux 6.18 */
#endif

/* membarrier(2): an enum in the headers that have it, hence a name of our own (Linux 6.3) */
#define SDUMP_MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)

/* arch_prctl(2), x86 */
#ifndef ARCH_GET_CPUID
#define ARCH_GET_CPUID 0x1011		/* Linux 4.12 */
#define ARCH_SET_CPUID 0x1012
#endif
#ifndef ARCH_GET_XCOMP_PERM
#define ARCH_GET_XCOMP_SUPP 0x1021	/* Linux 5.16 */
#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#endif

/* Syscall user dispatch as ptrace shows it: Linux 6.3 */
#ifndef PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG
#define PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG 0x4211
#endif
struct sdump_sud_config {
	__u64 mode;
	__u64 selector;
	__u64 offset;
	__u64 len;
};

/* sched_setattr(2) and sched_getattr(2): glibc has no wrapper, nor the struct before 2.41 */
struct sdump_sched_attr {
	__u32 size;
	__u32 sched_policy;
	__u64 sched_flags;
	__s32 sched_nice;
	__u32 sched_priority;
	__u64 sched_runtime;
	__u64 sched_deadline;
	__u64 sched_period;
	__u32 sched_util_min;		/* Linux 5.3 */
	__u32 sched_util_max;
};
#ifndef SCHED_FLAG_RESET_ON_FORK
#define SCHED_FLAG_RESET_ON_FORK 0x01
#endif
#ifndef SCHED_FLAG_KEEP_POLICY
#define SCHED_FLAG_KEEP_POLICY 0x08
#define SCHED_FLAG_KEEP_PARAMS 0x10
#endif
#ifndef SCHED_FLAG_UTIL_CLAMP_MIN
#define SCHED_FLAG_UTIL_CLAMP_MIN 0x20
#define SCHED_FLAG_UTIL_CLAMP_MAX 0x40
#endif

/* ioprio_get(2) and ioprio_set(2): no glibc wrappers */
#define SDUMP_IOPRIO_WHO_PROCESS 1

/* A pty master's ioctl that opens its slave (Linux 4.13) */
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/*
 * The kernel's O_LARGEFILE (asm-generic/fcntl.h), which fdinfo's "flags:"
 * shows on every fd opened by open(): glibc's O_LARGEFILE is 0 on 64-bit.
 */
#ifndef O_LARGEFILE_KERNEL
#define O_LARGEFILE_KERNEL 0100000
#endif

/* POSIX timers restored with their ids (Linux 6.16) */
#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#define PR_TIMER_CREATE_RESTORE_IDS_GET 2
#endif
#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)	/* Linux 4.3 */
#endif
#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c	/* Linux 4.4 */
#endif
#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d	/* Linux 4.16 */
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)	/* Linux 4.17 */
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U	/* Linux 6.3 */
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U	/* Linux 6.3 */
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010	/* Linux 5.1 */
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020	/* Linux 6.3 */
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76		/* Linux 6.5 */
#endif
#ifndef SO_PEEK_OFF
#define SO_PEEK_OFF 42		/* Linux 3.4 */
#endif

/* socket options glibc's headers may lack (linux/in.h, linux/in6.h clash with netinet/in.h) */
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51	/* Linux 6.3 */
#endif
#ifndef IPV6_FLOWINFO
#define IPV6_FLOWINFO 11
#endif
#ifndef IP_RECVERR_RFC4884
#define IP_RECVERR_RFC4884 26	/* Linux 5.9 */
#endif
#ifndef IPV6_RECVERR_RFC4884
#define IPV6_RECVERR_RFC4884 31	/* Linux 5.9 */
#endif
#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72		/* Linux 5.14 */
#endif
#ifndef SOF_TIMESTAMPING_OPT_ID
#define SOF_TIMESTAMPING_OPT_ID (1 << 7)
#endif
#ifndef SOF_TIMESTAMPING_BIND_PHC
#define SOF_TIMESTAMPING_BIND_PHC (1 << 15)	/* Linux 5.14 */
#endif
#ifndef UDPLITE_SEND_CSCOV
#define UDPLITE_SEND_CSCOV 10	/* UDP-Lite's checksum coverage (linux/udp.h) */
#endif
#ifndef UDPLITE_RECV_CSCOV
#define UDPLITE_RECV_CSCOV 11
#endif
#ifndef SOL_RAW
#define SOL_RAW 255
#endif
#ifndef ICMP_FILTER
#define ICMP_FILTER 1		/* SOL_RAW, an IPPROTO_ICMP raw socket's (linux/icmp.h) */
#endif
#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36		/* Linux 4.5 */
#endif
#ifndef PACKET_VNET_HDR_SZ
#define PACKET_VNET_HDR_SZ 24	/* Linux 6.8 */
#endif
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71	/* Linux 5.14 */
#endif

#endif /* SDUMP_COMPAT_H */
