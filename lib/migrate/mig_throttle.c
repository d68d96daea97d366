/* SPDX-License-Identifier: MIT */
/*
 * Auto-converge (migrate --auto-converge): a process that writes faster
 * than the rounds send is slowed down, as QEMU slows a guest's vCPUs, by a
 * helper process of ours, so that nothing stays behind if the sender dies
 * (the helper dies with it, PR_SET_PDEATHSIG, and undoes what it did):
 *
 *  - where the process has a cgroup (v2) of its own, holding it alone, with
 *    the cpu controller: its cpu.max becomes PCT % of a 100 ms period, and
 *    goes back to what it was when the helper ends;
 *  - else short freezes: every thread seized (ptrace) and interrupted for
 *    (100 - PCT) ms of every 100, let run PCT ms. A tracer that dies
 *    detaches its tracees: they run on whatever happens to the helper.
 *
 * The helper stops while a pass is made (the dump seizes the process
 * itself) and starts again for the send, the long part of a round.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "migrate: "
#include "ctx.h"
#include "util.h"
#include "mig_throttle.h"

#define PERIOD_US 100000

/* The cgroup v2 directory of @pid if it holds @pid alone and has cpu.max; else false. */
static bool own_cgroup(pid_t pid, char *dir, size_t size)
{
	_cleanup_free_ char *cg = NULL, *procs = NULL;
	char path[64], *nl;
	long other;

	(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (sd_read_file(AT_FDCWD, path, &cg, NULL) < 0 || strncmp(cg, "0::/", 4))
		return false;
	nl = strchr(cg, '\n');
	if (nl)
		*nl = 0;
	if (!strcmp(cg + 3, "/") || strstr(cg + 3, "/.."))
		return false;
	if (snprintf(dir, size, "/sys/fs/cgroup%s", cg + 3) >= (int)size)
		return false;
	(void)snprintf(path, sizeof(path), "%s", "cgroup.procs");
	{
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		bool ok;

		if (dfd < 0)
			return false;
		ok = faccessat(dfd, "cpu.max", W_OK, 0) == 0 && sd_read_file(dfd, path, &procs, NULL) == 0;
		close(dfd);
		if (!ok)
			return false;
	}
	/* it alone: a slower neighbour would be a change of someone else's */
	other = strtol(procs, &nl, 10);
	return other == pid && (*nl == '\n' || !*nl) && (!*nl || !nl[1]);
}

static int write_str(const char *dir, const char *name, const char *s)
{
	char path[PATH_MAX + 32];
	int fd, r;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = sd_write_all(fd, s, strlen(s));
	close(fd);
	return r;
}

/* The helper: cpu.max set, until the pipe closes; then the old value back. */
static void __attribute__((noreturn)) helper_cgroup(const char *dir, unsigned int pct, int rfd)
{
	_cleanup_free_ char *old = NULL;
	char path[PATH_MAX + 32], val[64];
	struct pollfd p = { rfd, POLLIN, 0 };

	(void)snprintf(path, sizeof(path), "%s/cpu.max", dir);
	if (sd_read_file(AT_FDCWD, path, &old, NULL) < 0)
		_exit(1);
	(void)snprintf(val, sizeof(val), "%u %u\n", PERIOD_US / 100 * pct, PERIOD_US);
	if (write_str(dir, "cpu.max", val) < 0)
		_exit(1);
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	(void)write_str(dir, "cpu.max", old);
	_exit(0);
}

/* Every thread of @pid seized, once; new ones picked up at each freeze. */
static void seize_all(pid_t pid, pid_t *tids, size_t *n, size_t cap)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	(void)snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && *n < cap) {
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);
		bool have = false;

		if (tid <= 0)
			continue;
		for (size_t i = 0; i < *n && !have; i++)
			have = tids[i] == tid;
		if (!have && ptrace(PTRACE_SEIZE, tid, NULL, NULL) == 0)
			tids[(*n)++] = tid;
	}
	closedir(d);
}

/* The helper: freezes of (100 - pct) ms in every 100, until the pipe closes; then detached. */
static void __attribute__((noreturn)) helper_freeze(pid_t pid, unsigned int pct, int rfd)
{
	pid_t tids[1024];
	size_t n = 0;
	struct pollfd p = { rfd, POLLIN, 0 };
	int status;

	for (;;) {
		seize_all(pid, tids, &n, sizeof(tids) / sizeof(tids[0]));
		if (!n)
			_exit(1);
		for (size_t i = 0; i < n; i++)
			(void)ptrace(PTRACE_INTERRUPT, tids[i], NULL, NULL);
		for (size_t i = 0; i < n; i++)
			(void)waitpid(tids[i], &status, __WALL);
		if (poll(&p, 1, (100 - (int)pct) * PERIOD_US / 100000) != 0)
			break;
		for (size_t i = 0; i < n; i++)
			(void)ptrace(PTRACE_CONT, tids[i], NULL, NULL);
		if (poll(&p, 1, (int)pct * PERIOD_US / 100000) != 0)
			break;
	}
	for (size_t i = 0; i < n; i++)
		(void)ptrace(PTRACE_DETACH, tids[i], NULL, NULL);
	_exit(0);
}

int sd_mig_throttle_start(struct sdump_ctx *ctx, pid_t pid, unsigned int pct, struct mig_throttle *t)
{
	char dir[PATH_MAX];
	bool cg = own_cgroup(pid, dir, sizeof(dir));
	pid_t parent = getpid();
	int pfd[2];
	pid_t h;

	t->helper = 0;
	t->how = cg ? "cpu.max of its cgroup" : "short freezes";
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sd_err(ctx, -errno, "cannot slow pid %d down", pid);
	h = fork();
	if (h < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return sd_err(ctx, -errno, "cannot slow pid %d down", pid);
	}
	if (h == 0) {
		/* with the sender gone (even killed), the pipe's end wakes us: we undo and go */
		close(pfd[1]);
		if (getppid() != parent)
			_exit(1);
		if (cg)
			helper_cgroup(dir, pct, pfd[0]);
		helper_freeze(pid, pct, pfd[0]);
	}
	close(pfd[0]);
	t->helper = h;
	t->wfd = pfd[1];
	return 0;
}

void sd_mig_throttle_stop(struct mig_throttle *t)
{
	if (t->helper <= 0)
		return;
	close(t->wfd);
	while (waitpid(t->helper, NULL, 0) < 0 && errno == EINTR)
		;
	t->helper = 0;
}
