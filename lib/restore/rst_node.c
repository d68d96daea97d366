/* SPDX-License-Identifier: MIT */
/*
 * Restore step 3, before the child exists: the fds that sdump opens itself
 * and gives the new process (r->src), as sd_rst_prepare_ptys does: a
 * deleted FIFO, device node or symlink made again at its path (mknod,
 * symlink), opened once for each of its fds and removed, so that /proc
 * names it "PATH (deleted)" as it did, a FIFO with the bytes that were in
 * it; a deleted file that keeps another name, opened through its old name
 * linked again to it for a moment; a pidfd of a process that has exited,
 * one of a child of ours that exits and is reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

/*
 * The flags sdump opens a file again with: O_CLOEXEC always (the new
 * process has it through fork), O_NOCTTY (a terminal's device node must
 * not become sdump's controlling terminal; the file keeps no such flag).
 */
static int node_open_flags(const struct fd_state *d)
{
	return (int)(d->flags & ~(uint32_t)(O_CREAT | O_EXCL | O_TRUNC | O_ASYNC | O_TMPFILE)) | O_CLOEXEC | O_NOCTTY;
}

/* "/dir/name" of "/dir/name (deleted)", in @buf. */
static int undeleted(const struct rst *r, const struct fd_state *d, char *buf, size_t size)
{
	if (sd_removed_dir_path(d->path, 0, buf, size) < 0)
		return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: fd %d is a deleted file whose path '%s' says it is not",
			       r->chain.p[0].dir.path, d->fd, d->path);
	return 0;
}

static bool same_node(const struct fd_state *a, const struct fd_state *b)
{
	return b->kind == FDK_NODE && b->dev == a->dev && b->ino == a->ino && !b->has_dup_of && !b->has_shared;
}

static const char *node_what(uint32_t mode)
{
	return S_ISFIFO(mode) ? "FIFO" : S_ISLNK(mode) ? "symlink" : "device node";
}

/* Node @name made as fd @i had it: its type, device, target, owner and mode. */
static int node_make(struct rst *r, const struct fd_state *d, const char *name)
{
	dev_t rdev = makedev((unsigned int)(d->rdev >> 32), (unsigned int)d->rdev);
	int e;

	if (S_ISLNK(d->mode))
		e = symlink(d->link_target, name) < 0 ? -errno : 0;
	else
		e = mknod(name, (d->mode & S_IFMT) | 0600, S_ISFIFO(d->mode) ? 0 : rdev) < 0 ? -errno : 0;
	if (e == -EEXIST)
		return sd_errx(r->ctx, e,
			       "cannot restore pid %d: fd %d was the deleted %s '%s', whose name is taken now; remove what is there",
			       r->pid, d->fd, node_what(d->mode), name);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot make the deleted %s '%s' of fd %d again",
			      r->pid, node_what(d->mode), name, d->fd);
	/* the owner first: a chown clears set-id bits that the mode then puts back */
	if (fchownat(AT_FDCWD, name, d->node_uid, d->node_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (!S_ISLNK(d->mode) && chmod(name, d->mode & 07777) < 0)) {
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot give the %s '%s' of fd %d its owner and mode",
			   r->pid, node_what(d->mode), name, d->fd);
		(void)unlink(name);
	}
	return e;
}

/*
 * A deleted node: made, each fd of it opened (a FIFO through an end of
 * ours held read-write meanwhile, so that no open blocks, and its bytes
 * written back), then removed.
 */
static int node_prepare(struct rst *r, size_t i)
{
	const struct fd_state *d = &r->fs.fds[i];
	char name[PATH_MAX];
	int keep = -1, e;

	e = undeleted(r, d, name, sizeof(name));
	if (e == 0)
		e = node_make(r, d, name);
	if (e < 0)
		return e;
	if (S_ISFIFO(d->mode)) {
		keep = open(name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (keep < 0)
			e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot open the FIFO '%s' again", r->pid, name);
		if (e == 0 && d->pipe_size && fcntl(keep, F_SETPIPE_SZ, (int)d->pipe_size) < 0)
			e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot give the FIFO '%s' its size", r->pid, name);
		for (size_t k = i; e == 0 && k < r->fs.n; k++)
			if (same_node(d, &r->fs.fds[k]) && r->fs.fds[k].has_pipe_data)
				e = sd_write_all(keep, r->fs.fds[k].pipe_data, r->fs.fds[k].pipe_data_len);
		if (e < 0 && keep >= 0)
			e = sd_err(r->ctx, e, "cannot restore pid %d: cannot put the bytes of the FIFO '%s' back", r->pid, name);
	}
	for (size_t k = i; e == 0 && k < r->fs.n; k++) {
		const struct fd_state *o = &r->fs.fds[k];
		int flags = node_open_flags(o), fd;

		if (!same_node(d, o) || r->src[k] >= 0)
			continue;
		fd = open(name, flags | (S_ISFIFO(d->mode) ? O_NONBLOCK : 0));
		if (fd >= 0 && S_ISFIFO(d->mode) && !(flags & O_PATH) && fcntl(fd, F_SETFL, flags) < 0) {
			(void)close(fd);
			fd = -1;
		}
		if (fd < 0) {
			e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot open the %s '%s' as fd %d",
				   r->pid, node_what(d->mode), name, o->fd);
			break;
		}
		r->node_fds[k] = r->src[k] = fd;
	}
	if (keep >= 0)
		(void)close(keep);
	if (unlink(name) < 0 && e == 0)
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot remove '%s' again", r->pid, name);
	return e;
}

/* A file whose name went but that keeps another: its old name linked again to it for the open. */
static int linked_prepare(struct rst *r, size_t i)
{
	const struct fd_state *d = &r->fs.fds[i];
	char name[PATH_MAX];
	struct stat st;
	int fd, e;

	e = undeleted(r, d, name, sizeof(name));
	if (e < 0)
		return e;
	if (stat(d->link_target, &st) < 0 || st.st_ino != d->ino ||
	    ((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) != d->dev)
		return sd_errx(r->ctx, -ESTALE,
			       "cannot restore pid %d: fd %d was the deleted file '%s', also at '%s', which is another file now or gone",
			       r->pid, d->fd, name, d->link_target);
	if (link(d->link_target, name) < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot link '%s' to '%s' again for fd %d%s",
			      r->pid, name, d->link_target, d->fd, errno == EEXIST ? " (its name is taken now)" : "");
	fd = open(name, node_open_flags(d));
	e = fd < 0 ? sd_err(r->ctx, -errno, "cannot restore pid %d: cannot open '%s' as fd %d", r->pid, name, d->fd) : 0;
	if (unlink(name) < 0 && e == 0)
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot remove '%s' again", r->pid, name);
	if (e == 0 && !(d->flags & O_PATH) && lseek(fd, (off_t)d->pos, SEEK_SET) < 0)
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: fd %d (%s)", r->pid, d->fd, d->path);
	if (e < 0 && fd >= 0)
		(void)close(fd);
	if (e == 0)
		r->node_fds[i] = r->src[i] = fd;
	return e;
}

/*
 * A pidfd of a process that has exited: of a child of ours, made, given a
 * pidfd with the flags it had (PIDFD_NONBLOCK, PIDFD_THREAD) and killed and
 * reaped. Polled it is readable; a signal sent through it fails with ESRCH.
 * The other pidfds of the process of fd @i (pidfs gives every pidfd of one
 * process one inode) are pidfds of the same child, opened alike; in a
 * tree, those of the other members too: the child an earlier member made,
 * else one left alive for the members after (reaped once all are built).
 */
static int dead_pidfd_prepare(struct rst *r, size_t i)
{
	const struct fd_state *d = &r->fs.fds[i];
	int e = 0;
	pid_t child = r->tree ? sd_rst_tree_dead_pid(r, d->dev, d->ino) : 0;
	bool ours = !child;

	if (ours)
		child = fork();
	if (child < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot make a process for its pidfd %d",
			      r->pid, d->fd);
	if (child == 0) {
		/* never left behind by a sdump that dies before it kills it */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			(void)pause();
	}
	if (ours && r->tree) {
		e = sd_rst_tree_dead_made(r, d->dev, d->ino, child);
		if (e < 0) {
			(void)kill(child, SIGKILL);
			while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
				;
			return sd_err(r->ctx, e, "cannot restore pid %d", r->pid);
		}
	}
	for (size_t k = i; e == 0 && k < r->fs.n; k++) {
		const struct fd_state *o = &r->fs.fds[k];
		int fd;

		if (o->kind != FDK_PIDFD || o->pidfd_pid != -1 || o->has_dup_of || o->has_shared ||
		    r->src[k] >= 0 || o->dev != d->dev || o->ino != d->ino)
			continue;
		fd = (int)syscall(SYS_pidfd_open, child, (unsigned int)(o->flags & (O_NONBLOCK | O_EXCL)));
		if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			e = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot open its pidfd %d again", r->pid,
				   o->fd);
			if (fd >= 0)
				(void)close(fd);
			break;
		}
		r->node_fds[k] = r->src[k] = fd;
	}
	if (!r->tree) {
		(void)kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return e;
}

int sd_rst_prepare_nodes(struct rst *r)
{
	int e = 0;

	r->node_fds = malloc((r->fs.n ? r->fs.n : 1) * sizeof(*r->node_fds));
	if (!r->node_fds)
		return sd_err(r->ctx, -ENOMEM, "cannot restore pid %d", r->pid);
	for (size_t i = 0; i < r->fs.n; i++)
		r->node_fds[i] = -1;
	for (size_t i = 0; i < r->fs.n && e == 0; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (d->has_dup_of || d->has_shared || r->src[i] >= 0)
			continue;
		if (d->kind == FDK_NODE)
			e = node_prepare(r, i);
		else if (d->kind == FDK_FILE && d->link_target)
			e = linked_prepare(r, i);
		else if (d->kind == FDK_PIDFD && d->pidfd_pid == -1)
			e = dead_pidfd_prepare(r, i);
	}
	return e;
}

int sd_rst_node_open(struct rst *r, size_t i, long *ret_tmp)
{
	(void)ret_tmp;
	return sd_errx(r->ctx, -EBADMSG, "cannot restore pid %d: fd %d (a deleted %s) was not made", r->pid,
		       r->fs.fds[i].fd, node_what(r->fs.fds[i].mode));
}

void sd_rst_nodes_release(struct rst *r)
{
	for (size_t i = 0; r->node_fds && i < r->fs.n; i++)
		zclose(&r->node_fds[i]);
	zfree(&r->node_fds);
}
