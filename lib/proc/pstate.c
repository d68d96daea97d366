/*
 * The process-state data model: what its structures own, the names of fd
 * kinds, locks and flags, the paths of removed directories.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "pstate.h"
#include "util.h"

static const char *const fd_kind_names[FDK_MAX + 1] = {
	[FDK_FILE] = "file",
	[FDK_DIR] = "dir",
	[FDK_CHR] = "chr",
	[FDK_PIPE] = "pipe",
	[FDK_FIFO] = "fifo",
	[FDK_TTY] = "tty",
	[FDK_EVENTFD] = "eventfd",
	[FDK_SIGNALFD] = "signalfd",
	[FDK_TIMERFD] = "timerfd",
	[FDK_EPOLL] = "epoll",
	[FDK_INOTIFY] = "inotify",
	[FDK_PIDFD] = "pidfd",
	[FDK_FANOTIFY] = "fanotify",
	[FDK_GHOST] = "ghost",
	[FDK_MEMFD] = "memfd",
	[FDK_PTMX] = "ptmx",
	[FDK_PTS] = "pts",
	[FDK_UNIX] = "unix",
	[FDK_INET] = "inet",
	[FDK_NODE] = "node",
	[FDK_PATH] = "path",
	[FDK_BLK] = "blk",
	[FDK_NS] = "ns",
	[FDK_NETLINK] = "netlink",
	[FDK_PACKET] = "packet",
};

const char *sd_fd_kind_name(enum fd_kind k)
{
	if ((unsigned int)k > FDK_MAX || !fd_kind_names[k])
		return "?";
	return fd_kind_names[k];
}

void sd_process_state_release(struct process_state *ps)
{
	for (size_t i = 0; i < ps->nthreads; i++) {
		free(ps->threads[i].xsave);
		free(ps->threads[i].pending);
		free(ps->threads[i].attrs.cgroup);
		sd_sec_thread_release(&ps->threads[i].sec);
	}
	zfree(&ps->timers);
	ps->ntimers = 0;
	zfree(&ps->threads);
	zfree(&ps->shared);
	zfree(&ps->mm.auxv);
	ps->nthreads = 0;
}

void sd_files_state_release(struct files_state *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->fds[i].path);
		free(fs->fds[i].pipe_data);
		free(fs->fds[i].locks);
		free(fs->fds[i].link_target);
		free(fs->fds[i].removed_parents);
		sd_fd_anon_release(&fs->fds[i].anon);
		sd_sock_state_free(fs->fds[i].sk);
	}
	zfree(&fs->fds);
	fs->n = 0;
}

int sd_removed_dir_path(const char *link, size_t level, char *buf, size_t size)
{
	static const char suffix[] = " (deleted)";
	size_t len = strlen(link), k = 0;
	char *p;

	if (len <= sizeof(suffix) - 1 || strcmp(link + len - (sizeof(suffix) - 1), suffix) ||
	    link[0] != '/' || len - (sizeof(suffix) - 1) >= size)
		return -EINVAL;
	len -= sizeof(suffix) - 1;
	memcpy(buf, link, len);
	buf[len] = '\0';
	/* absolute, no empty, "." or ".." component: each level is one name less */
	for (p = buf; *p; k++) {
		size_t n = strcspn(p + 1, "/");

		if (n == 0 || (n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
			return -EINVAL;
		p += n + 1;
	}
	if (level > k)
		return -EINVAL;
	for (size_t i = 0; i < level; i++)
		*strrchr(buf, '/') = '\0';
	if (!buf[0])
		(void)snprintf(buf, size, "/");
	return 0;
}

static const char *const lock_kind_names[FLK_MAX + 1] = {
	[FLK_POSIX] = "posix",
	[FLK_OFD] = "ofd",
	[FLK_FLOCK] = "flock",
	[FLK_LEASE] = "lease",
};

const char *sd_lock_kind_name(enum lock_kind k)
{
	if ((unsigned int)k > FLK_MAX || !lock_kind_names[k])
		return "?";
	return lock_kind_names[k];
}

void sd_lock_describe(const struct lock_state *l, char ret_buf[LOCK_DESCRIBE_MAX])
{
	const char *rw = l->write ? "write" : "read";
	char range[64];

	if (l->end == LOCK_EOF)
		(void)snprintf(range, sizeof(range), "%" PRIu64 " to the end", l->start);
	else
		(void)snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, l->start, l->end);
	switch (l->kind) {
	case FLK_POSIX:
	case FLK_OFD:
		(void)snprintf(ret_buf, LOCK_DESCRIBE_MAX, "%s %s lock on bytes %s",
			       l->kind == FLK_POSIX ? "POSIX" : "OFD", rw, range);
		break;
	case FLK_FLOCK:
		(void)snprintf(ret_buf, LOCK_DESCRIBE_MAX, "flock %s lock",
			       l->write ? "exclusive" : "shared");
		break;
	case FLK_LEASE:
		(void)snprintf(ret_buf, LOCK_DESCRIBE_MAX, "%s lease", rw);
		break;
	default:
		(void)snprintf(ret_buf, LOCK_DESCRIBE_MAX, "lock of kind %d", (int)l->kind);
	}
}

/* The bits fdinfo's "flags:" may show besides the access mode, in their order. */
static const struct {
	uint32_t bit;
	const char *name;
} fd_flag_names[] = {
	{ O_CREAT, "O_CREAT" },
	{ O_EXCL, "O_EXCL" },
	{ O_NOCTTY, "O_NOCTTY" },
	{ O_TRUNC, "O_TRUNC" },
	{ O_APPEND, "O_APPEND" },
	{ O_NONBLOCK, "O_NONBLOCK" },
	{ O_SYNC, "O_SYNC" }, /* O_SYNC is two bits, O_DSYNC one of them: first */
	{ O_DSYNC, "O_DSYNC" },
	{ O_ASYNC, "O_ASYNC" },
	{ O_DIRECT, "O_DIRECT" },
	{ O_LARGEFILE_KERNEL, "O_LARGEFILE" },
	{ O_DIRECTORY, "O_DIRECTORY" },
	{ O_NOFOLLOW, "O_NOFOLLOW" },
	{ O_NOATIME, "O_NOATIME" },
	{ O_CLOEXEC, "O_CLOEXEC" },
	{ O_TMPFILE & ~O_DIRECTORY, "__O_TMPFILE" }, /* O_TMPFILE holds O_DIRECTORY */
};

void sd_fd_flags_name(uint32_t flags, char ret_buf[FD_FLAGS_NAME_MAX])
{
	static const char *const acc[4] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	size_t len;

	/* an O_PATH fd has no access mode: the kernel keeps O_RDONLY's 0 */
	if (flags & O_PATH) {
		(void)snprintf(ret_buf, FD_FLAGS_NAME_MAX, "O_PATH");
		flags &= ~(uint32_t)(O_PATH | O_ACCMODE);
	} else {
		(void)snprintf(ret_buf, FD_FLAGS_NAME_MAX, "%s", acc[flags & O_ACCMODE]);
		flags &= ~(uint32_t)O_ACCMODE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fd_flag_names); i++) {
		if ((flags & fd_flag_names[i].bit) != fd_flag_names[i].bit)
			continue;
		len = strlen(ret_buf);
		(void)snprintf(ret_buf + len, FD_FLAGS_NAME_MAX - len, "|%s", fd_flag_names[i].name);
		flags &= ~fd_flag_names[i].bit;
	}
	if (flags) {
		len = strlen(ret_buf);
		(void)snprintf(ret_buf + len, FD_FLAGS_NAME_MAX - len, "|0%o", flags);
	}
}
