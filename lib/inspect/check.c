/* SPDX-License-Identifier: MIT */
/*
 * sdump check: named probes of the kernel features sdump uses. Each one
 * tries the feature for real (never a version comparison), in a child
 * process where it could disturb the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "check: "
#include "ctx.h"
#include "compat.h"
#include "infofmt.h"
#include "live.h"
#include "netlock.h"
#include "procfs.h"
#include "track.h"
#include "util.h"

struct probe {
	const char *name;
	bool required;
	/* 0: present; else -errno, with a reason in @detail */
	int (*fn)(char *detail, size_t size);
};

/* A child that waits to be killed, for the probes that act on another process. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	if (pid <= 0)
		return;
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

static int probe_seize(char *detail, size_t size)
{
	pid_t pid = spawn_sleeper();
	int status, r = 0;

	if (pid < 0)
		return -errno;
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0 || ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0)
		r = -errno;
	else if (waitpid(pid, &status, __WALL) < 0)
		r = -errno;
	else if (!WIFSTOPPED(status) || (status >> 16) != PTRACE_EVENT_STOP)
		r = -EIO;
	if (r == 0) {
		struct sdump_rseq_configuration conf;

		if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, sizeof(conf), &conf) > 0)
			(void)snprintf(detail, size, "PTRACE_GET_RSEQ_CONFIGURATION works");
	}
	reap(pid);
	return r;
}

static int probe_vm_readv(char *detail, size_t size)
{
	static volatile uint64_t word = 0x5d0d5d0d5d0d5d0dull;
	pid_t pid = spawn_sleeper();
	uint64_t got = 0;
	struct iovec l = { &got, sizeof(got) }, r = { (void *)&word, sizeof(word) };
	int e = 0;

	if (pid < 0)
		return -errno;
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) != sizeof(got))
		e = -errno;
	else if (got != word)
		e = -EIO;
	(void)detail;
	(void)size;
	reap(pid);
	return e;
}

static int probe_proc_mem(char *detail, size_t size)
{
	static volatile uint64_t word = 0x0123456789abcdefull;
	char path[PROC_PATH_MAX];
	uint64_t got = 0;
	pid_t pid = spawn_sleeper();
	int fd, e = 0;

	if (pid < 0)
		return -errno;
	fd = open(sd_proc_path(path, pid, "mem"), O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, &got, sizeof(got), (off_t)(uintptr_t)&word) != sizeof(got))
		e = -errno;
	else if (got != word)
		e = -EIO;
	if (fd >= 0)
		(void)close(fd);
	(void)detail;
	(void)size;
	reap(pid);
	return e;
}

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int pagemap_entry(void *addr, uint64_t *ret)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, ret, sizeof(*ret), (off_t)((uintptr_t)addr / (uintptr_t)page_size() * 8));
	(void)close(fd);
	return n == sizeof(*ret) ? 0 : -EIO;
}

static int probe_pagemap(char *detail, size_t size)
{
	volatile char *p = mmap(NULL, (size_t)page_size(), PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pme = 0;
	int r;

	if (p == MAP_FAILED)
		return -errno;
	p[0] = 1;
	r = pagemap_entry((void *)p, &pme);
	(void)munmap((void *)p, (size_t)page_size());
	if (r == 0 && !(pme & PME_PRESENT)) {
		(void)snprintf(detail, size, "a written page is not reported present");
		r = -EIO;
	}
	return r;
}

static int probe_backend(const struct track_ops *o, char *detail, size_t size)
{
	const char *why = NULL;
	int r = o->probe(&why);

	if (r < 0 && why)
		(void)snprintf(detail, size, "%s", why);
	return r;
}

static int probe_soft_dirty(char *detail, size_t size)
{
	return probe_backend(&sd_track_soft_dirty_ops, detail, size);
}

static int probe_pagemap_scan(char *detail, size_t size)
{
	struct page_region reg;
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.vec = (uintptr_t)&reg,
		.vec_len = 1,
		.category_anyof_mask = PAGE_IS_PRESENT,
		.return_mask = PAGE_IS_PRESENT,
	};
	static char page[1] = { 1 };
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	arg.start = (uintptr_t)page & ~(uintptr_t)(page_size() - 1);
	arg.end = arg.start + (uint64_t)page_size();
	if (ioctl(fd, PAGEMAP_SCAN, &arg) < 0)
		r = -errno;
	(void)close(fd);
	if (r == -ENOTTY || r == -EINVAL)
		(void)snprintf(detail, size, "ioctl(PAGEMAP_SCAN) unknown (Linux 6.7+)");
	return r;
}

static int probe_uffd_wp(char *detail, size_t size)
{
	return probe_backend(&sd_track_uffd_wp_ops, detail, size);
}

/* dump -R --live: synchronous userfaultfd write-protection */
static int probe_uffd_wp_sync(char *detail, size_t size)
{
	const char *why = NULL;
	int r = sd_live_probe(&why);

	if (r < 0 && why)
		(void)snprintf(detail, size, "%s", why);
	else if (r == 0)
		(void)snprintf(detail, size, "dump -R --live works");
	return r;
}

static int probe_pidfd_getfd(char *detail, size_t size)
{
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0), fd, r = 0;

	(void)detail;
	(void)size;
	if (pidfd < 0)
		return -errno;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, pidfd, 0);
	if (fd < 0)
		r = -errno;
	else
		(void)close(fd);
	(void)close(pidfd);
	return r;
}

static int probe_clone3_set_tid(char *detail, size_t size)
{
	/*
	 * Ask for our own PID: EEXIST proves both that clone3 knows set_tid and
	 * that we hold the capability it needs (checked first), without
	 * creating anything.
	 */
	pid_t tid = getpid();
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)&tid,
		.set_tid_size = 1,
	};
	long r = syscall(SYS_clone3, &args, sizeof(args));

	if (r == 0)
		_exit(0);
	if (r > 0) {
		reap((pid_t)r);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	r = -errno;
	if (r == -EPERM)
		(void)snprintf(detail, size, "needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN");
	return (int)r;
}

static int probe_set_mm_map(char *detail, size_t size)
{
	unsigned int sz = 0;

	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&sz, 0, 0) < 0)
		return -errno;
	(void)snprintf(detail, size, "struct prctl_mm_map is %u bytes", sz);
	return 0;
}

/* TCP repair mode (--tcp-established): on a socket of ours, then off. */
static int probe_tcp_repair(char *detail, size_t size)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = TCP_REPAIR_ON, r = 0;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)) < 0) {
		r = -errno;
		if (r == -EPERM)
			(void)snprintf(detail, size, "needs CAP_NET_ADMIN");
	}
	(void)close(fd);
	return r;
}

/*
 * The network lock (nft): the locks held, each by the pid dumped and its
 * image (the stale ones are gone by now: sdump_check sweeps them first).
 */
static int probe_network_lock(char *detail, size_t size)
{
	struct netlock_info *v;
	size_t n, k = 0;
	int r = sd_netlock_list(&v, &n);

	if (r == -ENOENT)
		(void)snprintf(detail, size, "no nft command (apt-get install nftables): --tcp-established cannot lock");
	if (r < 0)
		return r;
	k = (size_t)snprintf(detail, size, n ? "held:" : "nft works, no lock held");
	for (size_t i = 0; i < n && k < size; i++)
		k += (size_t)snprintf(detail + k, size - k, " pid %d (image %s)%s", v[i].pid, v[i].image,
				      i + 1 < n ? "," : "");
	free(v);
	return 0;
}

static const struct probe probes[] = {
	{ "ptrace-seize", true, probe_seize },
	{ "proc-pid-mem", true, probe_proc_mem },
	{ "process-vm-readv", false, probe_vm_readv },
	{ "pagemap", true, probe_pagemap },
	{ "soft-dirty", false, probe_soft_dirty },
	{ "pagemap-scan", false, probe_pagemap_scan },
	{ "uffd-wp-async", false, probe_uffd_wp },
	{ "uffd-wp-sync", false, probe_uffd_wp_sync },
	{ "pidfd-getfd", false, probe_pidfd_getfd },
	{ "clone3-set-tid", false, probe_clone3_set_tid },
	{ "prctl-set-mm-map", false, probe_set_mm_map },
	{ "tcp-repair", false, probe_tcp_repair },
	{ "network-lock", false, probe_network_lock },
};

SDUMP_API int sdump_check(struct sdump_ctx *ctx, struct sdump_feature *ret_features, size_t max)
{
	size_t n = 0;

	/* a lock a dump that died half way left goes, with a warning */
	sd_netlock_sweep(ctx);
	for (size_t i = 0; i < ARRAY_SIZE(probes) && n < max; i++, n++) {
		struct sdump_feature *f = &ret_features[n];
		int r;

		memset(f, 0, sizeof(*f));
		f->name = probes[i].name;
		f->required = probes[i].required;
		r = probes[i].fn(f->detail, sizeof(f->detail));
		f->present = r == 0;
		if (r < 0 && !f->detail[0])
			(void)snprintf(f->detail, sizeof(f->detail), "%s", strerror(-r));
		pr_debug(ctx, "%s: %s", f->name, f->present ? "present" : f->detail);
	}
	if (n < max) {
		const struct track_ops *o = sd_track_select(ctx, SDUMP_TRACK_AUTO);
		struct sdump_feature *f = &ret_features[n++];

		memset(f, 0, sizeof(*f));
		f->name = "track-auto";
		f->present = o != &sd_track_none_ops;
		f->value = o->name;
		(void)snprintf(f->detail, sizeof(f->detail), "--track auto uses %s", o->name);
	}
	return (int)n;
}

SDUMP_API void sdump_features_write_json(const struct sdump_feature *f, size_t n, FILE *out)
{
	const char *track_auto = "none";
	bool possible = true, first = true;

	fputs("{\"features\":[", out);
	for (size_t i = 0; i < n; i++) {
		if (f[i].value) {
			track_auto = f[i].value;
			continue;
		}
		if (f[i].required && !f[i].present)
			possible = false;
		fprintf(out, "%s{\"name\":", first ? "" : ",");
		sd_json_str(out, f[i].name);
		fprintf(out, ",\"present\":%s,\"required\":%s,\"detail\":",
			f[i].present ? "true" : "false", f[i].required ? "true" : "false");
		sd_json_str(out, f[i].detail);
		fputc('}', out);
		first = false;
	}
	fputs("],\"track_auto\":", out);
	sd_json_str(out, track_auto);
	fprintf(out, ",\"full_pre_dump_possible\":%s}\n", possible ? "true" : "false");
}
