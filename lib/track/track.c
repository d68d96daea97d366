/* SPDX-License-Identifier: MIT */
/* Tracking backends: names, selection, and the state file of each process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "track: "
#include "ctx.h"
#include "procfs.h"
#include "track.h"
#include "util.h"

static const char *const names[] = {
	[SDUMP_TRACK_AUTO] = "auto",
	[SDUMP_TRACK_SOFT_DIRTY] = "soft-dirty",
	[SDUMP_TRACK_UFFD_WP] = "uffd-wp",
	[SDUMP_TRACK_NONE] = "none",
};

SDUMP_API const char *sdump_track_name(enum sdump_track track)
{
	if ((unsigned int)track >= ARRAY_SIZE(names))
		return NULL;
	return names[track];
}

SDUMP_API int sdump_track_parse(const char *name, enum sdump_track *ret_track)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(name, names[i])) {
			*ret_track = (enum sdump_track)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* In the order auto tries them. */
static const struct track_ops *const backends[] = {
	&sd_track_soft_dirty_ops,
	&sd_track_uffd_wp_ops,
	&sd_track_none_ops,
};

int sd_track_probe_in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(fn());
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

const struct track_ops *sd_track_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

bool sd_track_is_userfaultfd(pid_t pid, int fd)
{
	char path[PROC_PATH_MAX], link[64];
	ssize_t n;

	(void)sd_proc_path(path, pid, "fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return !strcmp(link, "anon_inode:[userfaultfd]");
}

int sd_track_left_fd(pid_t pid, const struct track_state *st)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		int fd = backends[i]->left_fd ? backends[i]->left_fd(pid, st) : -1;

		if (fd >= 0)
			return fd;
	}
	return -1;
}

const struct track_ops *sd_track_select(struct sdump_ctx *ctx, enum sdump_track track)
{
	const char *why = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		const struct track_ops *o = backends[i];

		if (track != SDUMP_TRACK_AUTO && o->id != track)
			continue;
		if (o->probe(&why) == 0) {
			pr_debug(ctx, "using %s", o->name);
			return o;
		}
		if (track != SDUMP_TRACK_AUTO) {
			sd_errx(ctx, -EOPNOTSUPP, "tracker %s does not work on this kernel: %s", o->name,
				why ? why : "probe failed");
			return NULL;
		}
		pr_debug(ctx, "%s does not work here: %s", o->name, why ? why : "probe failed");
	}
	return &sd_track_none_ops;
}

/*
 * The state directory: $SDUMP_STATE_DIR, else /run/sdump (root), else
 * $XDG_RUNTIME_DIR/sdump. A tmpfs is right: start times only mean
 * something until the next boot.
 */
static int state_path(pid_t pid, uint64_t start_time, char *buf, size_t size, bool create)
{
	const char *dir = getenv("SDUMP_STATE_DIR");
	struct stat st;
	char d[512];

	if (!dir || !*dir) {
		if (geteuid() == 0 || !getenv("XDG_RUNTIME_DIR")) {
			dir = "/run/sdump";
		} else {
			(void)snprintf(d, sizeof(d), "%s/sdump", getenv("XDG_RUNTIME_DIR"));
			dir = d;
		}
	}
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	/* what it says decides which fd of the target we trust: ours alone, or ignored */
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	if (snprintf(buf, size, "%s/track-%d-%" PRIu64, dir, pid, start_time) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

int sd_track_state_read(pid_t pid, uint64_t start_time, struct track_state *ret)
{
	_cleanup_free_ char *buf = NULL;
	struct track_state st = { .fd = -1 };
	char path[600];
	int r;

	r = state_path(pid, start_time, path, sizeof(path), false);
	if (r < 0)
		return r;
	r = sd_read_file(AT_FDCWD, path, &buf, NULL);
	if (r < 0)
		return r;
	if (sscanf(buf, "%32s %15s %d", st.pass_id, st.tracker, &st.fd) != 3 ||
	    strlen(st.pass_id) != 32)
		return -ENOENT;
	*ret = st;
	return 0;
}

/*
 * The state files of processes that are gone: a file names a pid and its
 * start time, and a process with that pid and start time no longer exists
 * (exited, or the pid reused). Removed by every pass that writes one.
 */
static void prune_states(const char *path)
{
	char dir[600], f[900], *slash;
	struct dirent *de;
	DIR *d;

	(void)snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *stat = NULL;
		char state, rest;
		uint64_t start, now_start;
		int pid;

		if (sscanf(de->d_name, "track-%d-%" SCNu64 "%c", &pid, &start, &rest) != 2 || pid <= 0)
			continue;
		(void)snprintf(f, sizeof(f), "/proc/%d/stat", pid);
		if (sd_read_file(AT_FDCWD, f, &stat, NULL) == 0 &&
		    sd_proc_parse_stat(stat, &state, &now_start) == 0 && now_start == start)
			continue;
		(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int sd_track_state_write(pid_t pid, uint64_t start_time, const struct track_state *st)
{
	char path[600], tmp[640], line[128];
	int fd, r, n;

	r = state_path(pid, start_time, path, sizeof(path), true);
	if (r < 0)
		return r;
	prune_states(path);
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(line, sizeof(line), "%s %s %d\n", st->pass_id, st->tracker, st->fd);
	/* a stale one first: then a fresh file of ours, never one planted there */
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = sd_write_all(fd, line, (size_t)n);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

void sd_track_state_remove(pid_t pid, uint64_t start_time)
{
	char path[600];

	if (state_path(pid, start_time, path, sizeof(path), false) == 0)
		(void)unlink(path);
}
