/* SPDX-License-Identifier: MIT */
/* The fd table at the final dump: the generic fields of each fd, then what its kind takes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "array.h"
#include "ctx.h"
#include "dump_fd_anon.h"
#include "dump_fd_extra.h"
#include "dump_fd_kinds.h"
#include "dump_state.h"
#include "proc.h"
#include "util.h"
#include "procfs.h"

int sd_state_check_supported(struct sdump_ctx *ctx, pid_t pid, const struct seized *s, bool in_tree)
{
	for (size_t i = 0; i < s->n && !in_tree; i++) {
		_cleanup_free_ char *kids = NULL;
		char path[PROC_PATH_MAX];

		(void)sd_proc_path(path, pid, "task/%d/children", s->t[i].tid);
		if (sd_read_file(AT_FDCWD, path, &kids, NULL) == 0 && kids[0] && kids[0] != '\n')
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: it has child processes (%.*s); a dump takes its whole tree, which a check of one process does not look at yet",
				       pid, (int)strcspn(kids, " \n"), kids);
	}
	return sd_attrs_check_supported(ctx, pid, s);
}

static int refuse(struct sdump_ctx *ctx, const struct dump_fd_kind *k, const struct fd_probe *p)
{
	char what[DUMP_FD_KIND_WHAT_MAX];

	sd_dump_fd_kind_what(k, p, what);
	return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is %s (%s), not supported yet",
		       p->pid, p->fd, what, p->path);
}

/*
 * A file reopened by its path at the restore must be there by that path:
 * one in a directory a mount was made over since it was opened (or under
 * a file bind-mounted over it) is hidden.
 */
static int check_reachable(struct sdump_ctx *ctx, pid_t pid, const struct fd_state *d)
{
	int h;

	switch (d->kind) {
	case FDK_FILE: case FDK_DIR: case FDK_CHR: case FDK_BLK: case FDK_FIFO: case FDK_PATH:
		break;
	default:
		return 0;
	}
	h = sd_fs_path_hidden(d->path, (uint32_t)(d->dev >> 32), (uint32_t)d->dev, d->ino);
	if (h == 0)
		return 0;
	return sd_refuse(ctx, -EOPNOTSUPP,
			 "cannot dump pid %d: fd %d is '%s', whose path leads %s now (a mount over it or a directory of its path hides it): a restore could not open it; unmount what hides it, or close the fd, before the dump",
			 pid, d->fd, d->path, h == 1 ? "nowhere" : "to another file");
}

static int add_fd_one(struct sdump_ctx *ctx, pid_t pid, int pidfd, int fd, const struct tree_pipe_ends *tree,
		      struct files_state *fs)
{
	struct fd_probe p = { .pid = pid, .pidfd = pidfd, .fd = fd, .tree = tree };
	const struct dump_fd_kind *k;
	struct fd_state *d;
	_cleanup_free_ char *info = NULL;
	char path[PROC_PATH_MAX], link[PATH_MAX], anon[PROC_ANON_NAME_MAX];
	struct stat st;
	ssize_t n;
	int r;

	d = &fs->fds[fs->n];
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	(void)sd_proc_path(path, pid, "fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : sd_err(ctx, -errno, "cannot read '%s'", path);
	link[n] = '\0';
	d->path = strdup(link);
	if (!d->path)
		return -ENOMEM;
	if (stat(path, &st) < 0)
		return sd_err(ctx, -errno, "cannot stat fd %d of pid %d", fd, pid);
	{
		long gone;

		if (sd_fs_is_ended_proc(path, link, &gone))
			return sd_refuse(ctx, -EOPNOTSUPP,
					 "cannot dump pid %d: fd %d is %s of /proc/%ld of a process that has ended (%s), which no restore can open again; close it before the dump",
					 pid, fd, S_ISDIR(st.st_mode) ? "a directory" : "a file", gone, link);
	}
	(void)sd_proc_path(path, pid, "fdinfo/%d", fd);
	r = sd_read_file(AT_FDCWD, path, &info, NULL);
	if (r < 0 || sd_proc_parse_fdinfo(info, &d->pos, &d->flags) < 0)
		return sd_err(ctx, r < 0 ? r : -EBADMSG, "cannot read '%s'", path);
	/* devices as mm.img has them: major << 32 | minor */
	d->dev = (uint64_t)major(st.st_dev) << 32 | minor(st.st_dev);
	d->ino = st.st_ino;
	d->size = (uint64_t)st.st_size;
	d->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
	d->atime_ns = (uint64_t)st.st_atim.tv_sec * 1000000000u + (uint64_t)st.st_atim.tv_nsec;
	d->mode = st.st_mode;
	d->rdev = (uint64_t)major(st.st_rdev) << 32 | minor(st.st_rdev);

	p.st = &st;
	p.path = d->path;
	p.info = info;
	p.flags = d->flags;
	if (sd_proc_parse_anon_link(d->path, anon))
		p.anon = anon;
	k = sd_dump_fd_kind_find(&p);
	if (!k)
		return sd_refuse(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d (%s) is of a kind not supported yet",
			       pid, fd, d->path);
	if (!k->kind)
		return refuse(ctx, k, &p);
	d->kind = k->kind;
	if (k->collect) {
		r = k->collect(ctx, &p, fs, d);
		if (r < 0)
			return r;
	}
	r = check_reachable(ctx, pid, d);
	if (r < 0)
		return r;
	r = sd_dump_fd_extra(ctx, &p, info, d);
	if (r < 0)
		return r;
	fs->n++;
	return 0;
}

/*
 * One fd into fs->fds[fs->n]; what a failure or a vanished fd leaves there
 * is freed. One a preflight refused stays, of no kind: the checks of the
 * whole table (shared files, locks, epoll watches) see it as a dump would.
 */
static int add_fd(struct sdump_ctx *ctx, pid_t pid, int pidfd, int fd, const struct tree_pipe_ends *tree,
		  struct files_state *fs)
{
	size_t n = fs->n, refused = ctx->refusals.n;
	int r = add_fd_one(ctx, pid, pidfd, fd, tree, fs);

	if (r == 0 && fs->n == n && ctx->refusals.n > refused && fs->fds[n].path)
		fs->n++;
	if (fs->n == n) {
		zfree(&fs->fds[n].path);
		zfree(&fs->fds[n].pipe_data);
		zfree(&fs->fds[n].locks);
		zfree(&fs->fds[n].link_target);
		sd_fd_anon_release(&fs->fds[n].anon);
		memset(&fs->fds[n].anon, 0, sizeof(fs->fds[n].anon));
		sd_sock_state_free(fs->fds[n].sk);
		fs->fds[n].sk = NULL;
	}
	return r;
}

/*
 * Whether the other end of the pipe of fd @d (a read end if @rd) is open
 * anywhere: poll() on our copy of it says POLLHUP on a read end once no
 * writer is left, POLLERR on a write end once no reader is (fs/pipe.c
 * pipe_poll; a probe on 6.18).
 */
static int other_end_open(struct sdump_ctx *ctx, pid_t pid, int pidfd, const struct fd_state *d,
			  bool rd, bool *ret_open)
{
	struct pollfd p = { .events = rd ? POLLIN : POLLOUT };
	int r;

	p.fd = (int)syscall(SYS_pidfd_getfd, pidfd, d->fd, 0);
	if (p.fd < 0)
		return sd_err(ctx, -errno, "cannot take fd %d of pid %d", d->fd, pid);
	r = poll(&p, 1, 0);
	if (r < 0)
		r = sd_err(ctx, -errno, "cannot poll the pipe of fd %d of pid %d", d->fd, pid);
	(void)close(p.fd);
	if (r < 0)
		return r;
	*ret_open = !(p.revents & (rd ? POLLHUP : POLLERR));
	return 0;
}

/*
 * A pipe of which the process holds one end only (prog | cat): if its
 * other end is open elsewhere, it goes outside, and a restore must be
 * given a pipe to stand in for it (--inherit-fd); the bytes in it are then
 * not the process's: they stay in the pipe for whoever reads it, and are
 * not saved. If its other end is closed everywhere (the stdin of a here
 * document read to its end), a new pipe with that end closed, its bytes
 * written back, is the same to the process.
 */
static int mark_external_pipes(struct sdump_ctx *ctx, pid_t pid, int pidfd,
			       const struct tree_pipe_ends *tree, struct files_state *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		struct fd_state *d = &fs->fds[i];
		bool rd = false, wr = false, open = false;
		int r;

		if (d->kind != FDK_PIPE)
			continue;
		for (size_t k = 0; k < fs->n; k++) {
			const struct fd_state *e = &fs->fds[k];

			if (e->kind != FDK_PIPE || e->ino != d->ino || (e->flags & O_PATH))
				continue;
			rd |= (e->flags & O_ACCMODE) != O_WRONLY;
			wr |= (e->flags & O_ACCMODE) != O_RDONLY;
		}
		/* a tree: the other end in another member is inside too */
		for (size_t k = 0; tree && k < tree->n; k++) {
			if (tree->e[k].pid == pid || tree->e[k].ino != d->ino)
				continue;
			rd |= tree->e[k].rd;
			wr |= tree->e[k].wr;
		}
		if (rd && wr)
			continue;
		r = other_end_open(ctx, pid, pidfd, d, rd, &open);
		if (r < 0)
			return r;
		d->external = open;
		if (d->external) {
			zfree(&d->pipe_data);
			d->pipe_data_len = 0;
			d->has_pipe_data = false;
		}
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int sd_files_collect(struct sdump_ctx *ctx, pid_t pid, int pidfd, int skip_fd,
		  const struct tree_pipe_ends *tree_pipes, struct files_state *ret_fs)
{
	struct files_state fs = { 0 };
	int *fds = NULL, r = 0;
	size_t nfds = 0, cap = 0;
	struct dirent *de;
	char path[PROC_PATH_MAX];
	DIR *d;

	(void)sd_proc_path(path, pid, "fd");
	d = opendir(path);
	if (!d)
		return sd_err(ctx, -errno, "cannot list '%s'", path);
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (de->d_name[0] == '.' || *end || fd == skip_fd)
			continue;
		if (ARRAY_RESERVE(fds, cap, nfds + 1, 64) < 0) {
			r = -ENOMEM;
			break;
		}
		fds[nfds++] = (int)fd;
	}
	(void)closedir(d);
	if (r == 0) {
		qsort(fds, nfds, sizeof(*fds), cmp_int);
		fs.fds = calloc(nfds ? nfds : 1, sizeof(*fs.fds));
		if (!fs.fds)
			r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < nfds; i++)
		r = add_fd(ctx, pid, pidfd, fds[i], tree_pipes, &fs);
	if (r == 0)
		r = sd_dump_fd_table(ctx, pid, &fs);
	if (r == 0)
		r = mark_external_pipes(ctx, pid, pidfd, tree_pipes, &fs);
	if (r == 0)
		r = sd_dump_pty_pairs(&fs);
	if (r == 0)
		r = sd_dump_epoll_table(ctx, pid, &fs);
	free(fds);
	if (r < 0) {
		sd_files_state_release(&fs);
		return r == -ENOMEM ? sd_err(ctx, r, "cannot list the fds of pid %d", pid) : r;
	}
	*ret_fs = fs;
	return 0;
}

