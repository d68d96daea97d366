/* SPDX-License-Identifier: MIT */
/*
 * Soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY; x86-64, ppc64le, s390x distro
 * kernels): writing "4" to /proc/PID/clear_refs clears the soft-dirty bit of
 * every page, the kernel sets it again on the next write (and on every page
 * of a new VMA, and on pages mremap moved), pagemap bit 55 reports it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "soft-dirty: "
#include "ctx.h"
#include "compat.h"
#include "track.h"
#include "util.h"
#include "procfs.h"

static int self_pme(void *addr, uint64_t *ret)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	long psz = sysconf(_SC_PAGESIZE);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, ret, sizeof(*ret), (off_t)((uintptr_t)addr / (uintptr_t)psz * 8));
	(void)close(fd);
	return n == sizeof(*ret) ? 0 : -EIO;
}

/* In a child: clear_refs must clear bit 55 and a write must set it again. */
static int child_probe(void)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	volatile char *p = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t before, after;
	int fd;

	if (p == MAP_FAILED)
		return 1;
	p[0] = 1;
	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "4", 1) != 1)
		return 1;
	(void)close(fd);
	if (self_pme((void *)p, &before) < 0)
		return 1;
	p[0] = 2;
	if (self_pme((void *)p, &after) < 0)
		return 1;
	return (before & PME_SOFT_DIRTY) || !(after & PME_SOFT_DIRTY);
}

static int sd_probe(const char **why)
{
	int r = sd_track_probe_in_child(child_probe);

	if (r <= 0)
		return r;
	*why = "bit 55 never sets (CONFIG_MEM_SOFT_DIRTY is off)";
	return -EOPNOTSUPP;
}

static int sd_open(struct tracker *t, int prev_fd)
{
	(void)t;
	(void)prev_fd;
	return 0;
}

static int sd_arm(struct tracker *t, const struct vma_list *vmas, const struct run_list *saved)
{
	(void)saved;
	char path[PROC_PATH_MAX];
	int fd, r = 0;

	(void)vmas;
	(void)sd_proc_path(path, t->pid, "clear_refs");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "4", 1) != 1)
		r = -errno;
	if (fd >= 0)
		(void)close(fd);
	if (r < 0)
		return sd_err(t->ctx, r, "cannot clear soft-dirty bits of pid %d", t->pid);
	return 0;
}


static void sd_close(struct tracker *t)
{
	(void)t;
}

const struct track_ops sd_track_soft_dirty_ops = {
	.name = "soft-dirty",
	.id = SDUMP_TRACK_SOFT_DIRTY,
	.written = SCAN_WRITTEN_SOFT_DIRTY,
	.probe = sd_probe,
	.open = sd_open,
	.arm = sd_arm,
	.close = sd_close,
};
