/* SPDX-License-Identifier: MIT */
/*
 * Process and thread attributes of the data model (pstate.h): what the
 * kernel keeps of a process or thread besides its memory, registers,
 * signals and fds, each readable back by the program (scheduling
 * extras, prctl(2) and arch_prctl(2) values, /proc settings). Collected by
 * dump/dump_attrs.c, written by image/attr_img.c, put back by
 * restore/rst_attrs.c.
 */
#ifndef SDUMP_PATTR_H
#define SDUMP_PATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most bytes of a CPU mask kept: 8192 CPUs; of a node mask: 1024 nodes. */
#define ATTR_CPUMASK_MAX 1024
#define ATTR_NODEMASK_MAX 128
#define ATTR_NSPEC 3
/* The most bytes of /proc/PID/cgroup kept. */
#define ATTR_CGROUP_MAX 4096
#define ATTR_NGROUPS_MAX 256

/*
 * A thread's attributes beyond its registers and signals (dump/dump_attrs.c,
 * restore/rst_attrs.c). !valid: an image of an older sdump, without them.
 */
struct attr_thread {
	bool valid;
	uint8_t cpus[ATTR_CPUMASK_MAX];	/* sched_getaffinity() */
	size_t cpus_len;
	int pdeathsig;
	uint64_t timerslack_ns;
	bool has_timerslack_default;	/* false: a real-time thread, whose default cannot be read */
	uint64_t timerslack_default_ns;
	uint32_t personality;
	int ioprio;
	uint32_t spec[ATTR_NSPEC];	/* PR_GET_SPECULATION_CTRL of PR_SPEC_STORE_BYPASS, _INDIRECT_BRANCH, _L1D_FLUSH */
	int tsc;			/* PR_GET_TSC */
	int mce_kill;			/* PR_MCE_KILL_GET */
	bool keepcaps;
	bool cpuid;			/* ARCH_GET_CPUID: cpuid does not fault */
	uint64_t sched_flags;		/* sched_getattr() */
	uint64_t sched_runtime, sched_deadline, sched_period; /* DEADLINE, or runtime: a fair thread's slice */
	uint32_t util_min, util_max;
	int mempolicy;			/* get_mempolicy(): mode | mode flags */
	uint8_t mempolicy_nodes[ATTR_NODEMASK_MAX];
	size_t mempolicy_nodes_len;	/* 0: no node mask (MPOL_DEFAULT, MPOL_LOCAL) */
	char *cgroup;			/* its /proc/PID/task/TID/cgroup where not the process's, else NULL */
	/* credentials of its own, apart from the process's (a raw setresuid() in one thread) */
	bool own_creds;
	uint32_t uid[4], gid[4];	/* real, effective, saved, file-system */
	size_t ngroups;
	uint32_t groups[ATTR_NGROUPS_MAX];
};

/* mlockall(2)'s flags, as the image keeps them (the kernel's values) */
#define SDUMP_MCL_FUTURE 2
#define SDUMP_MCL_ONFAULT 4

/* The same for the whole process. */
struct attr_process {
	bool valid;
	int oom_score_adj;
	bool child_subreaper;
	uint32_t membarrier;		/* MEMBARRIER_CMD_GET_REGISTRATIONS */
	uint32_t mdwe;			/* PR_GET_MDWE */
	uint32_t coredump_filter;
	bool memory_merge;		/* PR_GET_MEMORY_MERGE */
	bool has_autogroup;
	int autogroup_nice;
	uint64_t xcomp_perm;		/* ARCH_GET_XCOMP_PERM */
	int futex_slots;		/* PR_FUTEX_HASH_GET_SLOTS, -1: not on the kernel */
	uint32_t thp_disable;		/* PR_GET_THP_DISABLE as returned (Linux 6.18: bit 1 except advised) */
	uint32_t mcl_future;		/* mlockall() for mappings to come: SDUMP_MCL_FUTURE [| SDUMP_MCL_ONFAULT], or 0 */
	bool has_loginuid;		/* false: a kernel without audit (no /proc/PID/loginuid) */
	uint32_t loginuid;		/* the audit login uid; (uint32_t)-1 unset */
	bool has_cgroup;		/* false: an image of an older sdump */
	char cgroup[ATTR_CGROUP_MAX];	/* /proc/PID/cgroup as read, every thread in the same */
};

/* The ids of a thread's stat flags (/proc/PID/stat field 9, PF_* of the kernel's sched.h) we look at. */
#define PATTR_PF_MEMALLOC_NOIO 0x00080000u
#define PATTR_PF_LOCAL_THROTTLE 0x00100000u
/* Both are set by PR_SET_IO_FLUSHER, and only together by it. */
#define PATTR_PF_IO_FLUSHER (PATTR_PF_MEMALLOC_NOIO | PATTR_PF_LOCAL_THROTTLE)

/*
 * Pure helpers (pattr.c), fed buffers by the dump and the restore and by
 * the unit tests.
 *
 * The nice value of /proc/PID/autogroup text ("/autogroup-17 nice 0");
 * -ENODATA for the empty text of a task in no autogroup (the root task
 * group), -EBADMSG for anything else.
 */
int sd_pattr_parse_autogroup(const char *buf, int *ret_nice);
/*
 * The value of the line "@key:" of /proc/PID/status text, blanks around it
 * dropped, into @out (cut to @size - 1 bytes); -ENOENT without the line.
 */
int sd_pattr_status_value(const char *buf, const char *key, char *out, size_t size);
/* Whether CPU mask @a (@alen bytes) holds only CPUs of @b; missing bytes are zeros. */
bool sd_pattr_cpus_subset(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* The CPUs of @a that are not in @b, into @ret (room for @alen bytes). */
void sd_pattr_cpus_minus(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *ret);
/* A CPU mask as a list, "0-3,8,10-11" ("none" when empty), cut to @size - 1 bytes. */
void sd_pattr_fmt_cpus(const uint8_t *mask, size_t len, char *buf, size_t size);
/* The name of scheduling policy @policy (SCHED_RESET_ON_FORK left out): "SCHED_FIFO", ... */
const char *sd_sched_policy_name(int policy);
/* The name of resource limit @res: "RLIMIT_NOFILE", ... */
const char *sd_rlimit_name(int res);

#endif /* SDUMP_PATTR_H */
