/* SPDX-License-Identifier: MIT */
/*
 * sdump release: tracking ended. The userfaultfd the uffd-wp tracker keeps
 * in the process between passes is closed there (an injected close(),
 * which also removes the write-protection of every VMA it tracked), and
 * sdump's state file for the process is removed. The process is seized
 * only for that one call, and always resumed and detached.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "release: "
#include "ctx.h"
#include "inject.h"
#include "procfs.h"
#include "proc.h"
#include "seize.h"
#include "track.h"
#include "util.h"

/* Close @fd in @pid, seized for the call alone. */
static int close_in_target(struct sdump_ctx *ctx, pid_t pid, int fd)
{
	struct injector inj = { .pid = pid, .mem_fd = -1 };
	struct seized s = { 0 };
	long args[6] = { fd }, ret = 0;
	int r;

	r = sd_seize_process(ctx, pid, &s);
	if (r < 0)
		return r;
	r = sd_inject_call(ctx, &inj, &s, NULL, SYS_close, args, 0, &ret);
	sd_seize_detach(ctx, &s, NULL);
	if (r == 0 && ret < 0)
		r = sd_errx(ctx, (int)ret, "cannot close fd %d in pid %d: %s", fd, pid,
			    strerror((int)-ret));
	return r;
}

SDUMP_API int sdump_release(struct sdump_ctx *ctx, pid_t pid, struct sdump_release_info *ret)
{
	_cleanup_free_ char *stat = NULL;
	struct sdump_release_info info = { .fd = -1 };
	struct track_state st;
	char path[PROC_PATH_MAX], state;
	uint64_t start_time;
	bool have_state;
	int r, fd;

	(void)sd_proc_path(path, pid, "stat");
	r = sd_read_file(AT_FDCWD, path, &stat, NULL);
	if (r == -ENOENT || r == -ESRCH)
		return sd_errx(ctx, -ESRCH, "cannot release pid %d: no such process", pid);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	if (sd_proc_parse_stat(stat, &state, &start_time) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
	have_state = sd_track_state_read(pid, start_time, &st) == 0;
	if (have_state)
		(void)snprintf(info.tracker, sizeof(info.tracker), "%s", st.tracker);
	/* the fd the state file names, if still a userfaultfd; else one a failed pass left */
	fd = sd_track_left_fd(pid, have_state ? &st : NULL);
	if (fd >= 0 && sd_track_is_userfaultfd(pid, fd)) {
		r = close_in_target(ctx, pid, fd);
		if (r < 0)
			return r;
		info.fd = fd;
		if (!info.tracker[0])
			(void)snprintf(info.tracker, sizeof(info.tracker), "uffd-wp");
	}
	if (have_state)
		sd_track_state_remove(pid, start_time);
	info.had_state = have_state;
	if (ret)
		*ret = info;
	return 0;
}
