/* SPDX-License-Identifier: MIT */
/*
 * An inotify at the final dump: its watches from its fdinfo, each inode's
 * path found through the file handle fdinfo gives (open_by_handle_at() on
 * a mount of its file system, then the link of that fd), so that a
 * restore can watch it again; refused, with one line, when events wait
 * unread in its queue (a restore would lose them) or an inode has no path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "dump_fd_anon.h"
#include "procfs.h"
#include "pstate_anon.h"
#include "util.h"

/* "\040" and the like of a mountinfo path, undone in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

int sd_dump_mount_of(uint64_t dev, int mnt_id, char **ret_path)
{
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;
	int r = sd_read_file(AT_FDCWD, "/proc/self/mountinfo", &text, NULL);

	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned int maj, min;
		char mnt[PATH_MAX];
		struct stat st;
		int fd;

		int id;

		/* "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw" */
		if (sscanf(line, "%d %*d %u:%u %*s %4095s", &id, &maj, &min, mnt) != 4 ||
		    (mnt_id >= 0 ? id != mnt_id : ((uint64_t)maj << 32 | min) != dev))
			continue;
		unescape(mnt);
		/* not O_PATH: open_by_handle_at() does not take one as its mount */
		fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* a mount hidden under another one is not reached by its path */
		if (fstat(fd, &st) == 0 &&
		    (mnt_id >= 0 || ((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) == dev)) {
			if (ret_path && !(*ret_path = strdup(mnt))) {
				(void)close(fd);
				return -ENOMEM;
			}
			return fd;
		}
		(void)close(fd);
	}
	return -ENOENT;
}

int sd_dump_notify_path(struct sdump_ctx *ctx, const struct fd_probe *p, const char *what,
			struct inotify_watch *w)
{
	struct {
		struct file_handle fh;
		uint8_t bytes[INOTIFY_HANDLE_MAX];
	} h;
	char link[PROC_PATH_MAX], path[PATH_MAX];
	struct stat st;
	int mfd, fd;
	ssize_t n;

	mfd = sd_dump_mount_of(w->dev, -1, NULL);
	if (mfd < 0)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is %s watching inode %llu of a file system (device %u:%u) that sdump sees no mount of, so that a restore could not watch it again",
			       p->pid, p->fd, what, (unsigned long long)w->ino, (unsigned int)(w->dev >> 32),
			       (unsigned int)w->dev);
	h.fh.handle_bytes = w->handle_bytes;
	h.fh.handle_type = w->handle_type;
	memcpy(h.fh.f_handle, w->handle, w->handle_bytes);
	fd = (int)syscall(SYS_open_by_handle_at, mfd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;

		(void)close(mfd);
		if (r == -EPERM)
			return sd_refuse(ctx, r,
				       "cannot dump pid %d: permission denied: finding the files fd %d (%s) watches needs CAP_DAC_READ_SEARCH (open_by_handle_at); %s",
				       p->pid, p->fd, what, sd_root_advice("sdump"));
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is %s watching inode %llu, which cannot be opened by its file handle (%s), so that a restore could not watch it again",
			       p->pid, p->fd, what, (unsigned long long)w->ino, strerror(-r));
	}
	(void)close(mfd);
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	(void)close(fd);
	if (n < 0)
		return sd_err(ctx, -errno, "cannot read '%s'", link);
	path[n] = '\0';
	/* the path must name the inode: none left (removed), or another in our view of the mounts */
	if (path[0] != '/' || lstat(path, &st) < 0 || st.st_ino != w->ino ||
	    ((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) != w->dev)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is %s watching inode %llu, which has no path a restore could watch it by ('%s'); dump it once the watch is removed",
			       p->pid, p->fd, what, (unsigned long long)w->ino, path);
	w->path = strdup(path);
	return w->path ? 0 : sd_err(ctx, -ENOMEM, "cannot read the watches of fd %d of pid %d", p->fd, p->pid);
}

int sd_dump_inotify(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		    struct fd_state *d)
{
	struct fd_anon_state *a = &d->anon;
	size_t total = 0;
	int queued = 0, r;

	r = sd_proc_parse_inotify(p->info, &a->inotify, &a->ninotify);
	if (r == -ENOMEM)
		return sd_err(ctx, r, "cannot read the watches of inotify %d of pid %d", p->fd, p->pid);
	if (r < 0)
		return sd_errx(ctx, -EBADMSG, "cannot read the watches of inotify %d of pid %d in its fdinfo",
			       p->fd, p->pid);
	r = sd_fd_probe_queued(ctx, p, "inotify", &queued);
	if (r < 0)
		return r;
	if (queued > 0)
		return sd_refuse(ctx, -EBUSY,
			       "cannot dump pid %d: fd %d is an inotify with %d bytes of events not read yet, which a restore would lose; dump it once the process has read them",
			       p->pid, p->fd, queued);
	for (size_t i = 0; i < done->n; i++)
		total += done->fds[i].anon.ninotify;
	if (total + a->ninotify > INOTIFY_MAX_WATCHES)
		return sd_refuse(ctx, -E2BIG, "cannot dump pid %d: its inotifys hold more than %u watches, more than an image keeps",
			       p->pid, INOTIFY_MAX_WATCHES);
	if (a->ninotify && a->inotify[a->ninotify - 1].wd > INOTIFY_MAX_WD)
		return sd_refuse(ctx, -E2BIG,
			       "cannot dump pid %d: fd %d is an inotify whose watch descriptors go up to %d; a restore gives them back only up to %d",
			       p->pid, p->fd, a->inotify[a->ninotify - 1].wd, INOTIFY_MAX_WD);
	for (size_t i = 0; i < a->ninotify; i++) {
		r = sd_dump_notify_path(ctx, p, "an inotify", &a->inotify[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
