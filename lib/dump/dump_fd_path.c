/* SPDX-License-Identifier: MIT */
/*
 * The collectors of the fd kinds a restore opens by path, or makes again at
 * it: a deleted FIFO, device node or symlink (FDK_NODE), a deleted file
 * that keeps another name, a namespace fd of the process's own namespace
 * (FDK_NS), a file of another process's /proc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "dump_fd_kinds.h"
#include "dump_mapped_files.h"
#include "proc.h"
#include "procfs.h"
#include "util.h"

int sd_dump_node(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		 struct fd_state *d)
{
	char target[PATH_MAX], name[PATH_MAX];
	pid_t other;
	ssize_t n;
	int copy, r;

	(void)done;
	if (sd_removed_dir_path(p->path, 0, name, sizeof(name)) < 0)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is a deleted file (%s) whose name is too long to make again",
			       p->pid, p->fd, p->path);
	d->has_node_owner = true;
	d->node_uid = p->st->st_uid;
	d->node_gid = p->st->st_gid;
	/* a FIFO another process holds too: a new one made at the restore would no longer join them */
	if (S_ISFIFO(p->st->st_mode)) {
		r = sd_proc_find_holder(p->st->st_dev, p->st->st_ino, p->pid, getpid(), &other);
		if (r > 0)
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: fd %d is the deleted FIFO '%s', which pid %d holds too; a restore makes a FIFO of its own: dump them together, or let one close it",
				       p->pid, p->fd, name, other);
	}
	if (!S_ISLNK(p->st->st_mode))
		return 0;
	copy = sd_fd_probe_take(ctx, p);
	if (copy < 0)
		return copy;
	n = readlinkat(copy, "", target, sizeof(target) - 1);
	r = n < 0 ? -errno : 0;
	(void)close(copy);
	if (r < 0)
		return sd_err(ctx, r, "cannot read the deleted symlink of fd %d of pid %d", p->fd, p->pid);
	target[n] = '\0';
	d->link_target = strdup(target);
	return d->link_target ? 0 : sd_err(ctx, -ENOMEM, "cannot read fd %d of pid %d", p->fd, p->pid);
}

/*
 * A file whose name in its link was removed, but which has links left
 * (linked to another name first): that other name, looked for in the
 * directory the removed one was in. The restore opens the file through the
 * old name linked again to it for a moment, so that the fd names it as it
 * did.
 */
int sd_dump_linked_deleted(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
			   struct fd_state *d)
{
	char name[PATH_MAX], other[PATH_MAX + 256];
	struct dirent *de;
	struct stat st;
	char *slash;
	DIR *dir;

	(void)done;
	/* a file that is there, whose name ends in " (deleted)" */
	if (stat(p->path, &st) == 0 && st.st_dev == p->st->st_dev && st.st_ino == p->st->st_ino)
		return 0;
	if (sd_removed_dir_path(p->path, 0, name, sizeof(name)) < 0 || !(slash = strrchr(name, '/')))
		goto refuse;
	*slash = '\0';
	dir = opendir(name[0] ? name : "/");
	while (dir && (de = readdir(dir))) {
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != p->st->st_dev ||
		    st.st_ino != p->st->st_ino || !S_ISREG(st.st_mode))
			continue;
		(void)snprintf(other, sizeof(other), "%s/%s", name, de->d_name);
		closedir(dir);
		d->link_target = strdup(other);
		if (!d->link_target)
			return sd_err(ctx, -ENOMEM, "cannot read fd %d of pid %d", p->fd, p->pid);
		pr_debug(ctx, "pid %d: fd %d (%s) is the file at '%s'", p->pid, p->fd, p->path, other);
		return 0;
	}
	if (dir)
		closedir(dir);
refuse:
	return sd_refuse(ctx, -EOPNOTSUPP,
		       "cannot dump pid %d: fd %d is a deleted file (%s), not supported yet: it keeps %ju other link%s, none in its directory, where sdump looks for one",
		       p->pid, p->fd, p->path, (uintmax_t)p->st->st_nlink, p->st->st_nlink == 1 ? "" : "s");
}

/*
 * A namespace fd ("net:[4026531840]"): one of the process's own namespaces
 * (the inode of a /proc/PID/ns link of its) is opened again from the
 * restored process's /proc/self/ns; another refused.
 */
int sd_dump_ns(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
	       struct fd_state *d)
{
	static const char *const names[] = { "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
					     "time", "time_for_children", "user", "uts" };
	char path[PROC_PATH_MAX];
	size_t type = strcspn(p->path, ":");

	(void)done;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct stat st;

		if (strncmp(names[i], p->path, type) || (names[i][type] && names[i][type] != '_'))
			continue;
		(void)sd_proc_path(path, p->pid, "ns/%s", names[i]);
		if (stat(path, &st) < 0 || st.st_dev != p->st->st_dev || st.st_ino != p->st->st_ino)
			continue;
		(void)snprintf(d->ns, sizeof(d->ns), "%s", names[i]);
		return 0;
	}
	return sd_refuse(ctx, -EOPNOTSUPP,
		       "cannot dump pid %d: fd %d is a namespace fd (%s) of a namespace the process is not in, which a restore could not find again; only one of its own namespaces is restored",
		       p->pid, p->fd, p->path);
}

int sd_dump_proc_other(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		       struct fd_state *d)
{
	_cleanup_free_ char *stat = NULL;
	char path[PROC_PATH_MAX], state;
	long pid = strtol(p->path + strlen("/proc/"), NULL, 10);
	uint64_t start = 0;

	(void)done;
	if (sd_read_file(AT_FDCWD, sd_proc_path(path, (pid_t)pid, "stat"), &stat, NULL) < 0 ||
	    sd_proc_parse_stat(stat, &state, &start) < 0)
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is a file of /proc/%ld (%s), a process that has exited, which a restore could not open again",
			       p->pid, p->fd, pid, p->path);
	d->has_proc_start = true;
	d->proc_start = start;
	return 0;
}
