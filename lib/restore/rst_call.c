/* SPDX-License-Identifier: MIT */
/*
 * How every step of a restore acts on the new process: system calls
 * injected into it, their arguments written to the trampoline's data area
 * through /proc/PID/mem.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/syscall.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "inject.h"
#include "restore.h"
#include "util.h"

int sd_rst_call_in(struct rst *r, struct seized_thread *t, long nr, long a0, long a1, long a2, long a3,
		long a4, long a5, long *ret)
{
	const long args[6] = { a0, a1, a2, a3, a4, a5 };
	long v;
	int e;

	/* closing an fd of ours never fails: no fault point (fault.h) */
	if (nr == SYS_close)
		e = sd_inject_call(r->ctx, &r->inj, NULL, t, nr, args, INJECT_UNDO, &v);
	else
		e = sd_inject_call(r->ctx, &r->inj, NULL, t, nr, args, 0, &v);
	if (e < 0)
		return e;
	if (ret)
		*ret = v;
	if (v < 0 && v > -4096)
		return sd_err(r->ctx, (int)v, "system call %ld in the restored pid %d failed", nr, r->pid);
	return 0;
}

int sd_rst_call(struct rst *r, long nr, long a0, long a1, long a2, long a3, long a4, long a5,
	     long *ret)
{
	return sd_rst_call_in(r, &r->seized.t[0], nr, a0, a1, a2, a3, a4, a5, ret);
}

int sd_rst_try_in(struct rst *r, struct seized_thread *t, long nr, long a0, long a1, long a2,
	       long *ret)
{
	const long args[6] = { a0, a1, a2, 0, 0, 0 };
	long v;
	int e;

	e = sd_inject_call(r->ctx, &r->inj, NULL, t, nr, args, 0, &v);
	if (e < 0)
		return e;
	if (v < 0 && v > -4096)
		return (int)v;
	*ret = v;
	return 0;
}

int sd_rst_try(struct rst *r, long nr, long a0, long a1, long a2, long *ret)
{
	return sd_rst_try_in(r, &r->seized.t[0], nr, a0, a1, a2, ret);
}

int sd_rst_mem_write(struct rst *r, uint64_t addr, const void *buf, size_t len)
{
	int e = sd_pwrite_all(r->mem_fd, buf, len, addr);

	if (e < 0)
		return sd_err(r->ctx, e, "cannot write the memory of pid %d at 0x%" PRIx64, r->pid, addr);
	return 0;
}

int sd_rst_data_put(struct rst *r, const void *buf, size_t len, uint64_t *ret_addr)
{
	size_t off = TRAMP_DATA + ((r->data_used + 15) & ~(size_t)15);
	int e;

	if (off + len > TRAMP_STACK_TOP - 16384)
		return sd_errx(r->ctx, -E2BIG, "restore: trampoline data full");
	e = sd_rst_mem_write(r, r->tramp + off, buf, len);
	if (e < 0)
		return e;
	r->data_used = off + len - TRAMP_DATA;
	*ret_addr = r->tramp + off;
	return 0;
}

void sd_rst_data_reset(struct rst *r)
{
	r->data_used = 0;
}

int sd_rst_data_str(struct rst *r, const char *s, uint64_t *ret_addr)
{
	return sd_rst_data_put(r, s, strlen(s) + 1, ret_addr);
}

int sd_rst_open_in_child(struct rst *r, const char *path, int flags, long *ret_fd)
{
	uint64_t a = 0;
	int e;

	sd_rst_data_reset(r);
	e = sd_rst_data_str(r, path, &a);
	if (e == 0)
		e = sd_rst_try(r, SYS_openat, AT_FDCWD, (long)a, flags, ret_fd);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot open '%s' in the restored pid %d", path, r->pid);
	return 0;
}

int sd_rst_take_fd(struct rst *r, long fd)
{
	int pidfd = r->pidfd >= 0 ? r->pidfd : (int)syscall(SYS_pidfd_open, r->pid, 0), copy = -1, e;

	if (pidfd >= 0)
		copy = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
	e = errno;
	if (pidfd >= 0 && pidfd != r->pidfd)
		(void)close(pidfd);
	return copy < 0 ? -e : copy;
}
