/* SPDX-License-Identifier: MIT */
/*
 * What the members of a restored tree share (rst_tree.c makes the tree):
 * an open file description an earlier member holds, given to a later one
 * (pidfd_getfd); a pipe an earlier member made; a shmem object or a
 * deleted file an earlier member made, mapped or held by those after it;
 * the unix sockets of all members, made by the first member with one, each
 * later member given its own. sdump keeps its own fds on all of them until
 * the members that want them are made.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "array.h"
#include "ctx.h"
#include "fault.h"
#include "inject.h"
#include "procfs.h"
#include "proc.h"
#include "netlock.h"
#include "restore.h"
#include "rst_sock.h"
#include "tree_img.h"
#include "util.h"
#include "rst_tree_priv.h"

struct rst *sd_rst_tree_member(struct rst_tree *t, size_t i)
{
	return i < t->tree.n ? &t->m[i] : NULL;
}

/* Our fd @ours put into member @r, at a number of its own: pidfd_getfd() of it there. */
int sd_rst_tree_give(struct rst *r, int ours, long *ret_tmp)
{
	long pidfd = -1;
	int e;

	e = sd_rst_call(r, SYS_pidfd_open, getpid(), 0, 0, 0, 0, 0, &pidfd);
	if (e == 0)
		e = sd_rst_call(r, SYS_pidfd_getfd, pidfd, ours, 0, 0, 0, 0, ret_tmp);
	if (pidfd >= 0)
		(void)sd_rst_call(r, SYS_close, pidfd, 0, 0, 0, 0, 0, NULL);
	return e;
}

int sd_rst_tree_shared_fd(struct rst *r, const struct fd_state *d, long *ret_tmp)
{
	struct rst_tree *t = r->tree;
	long k = t ? sd_tree_find(&t->tree, d->shared_pid) : -1;
	int ours, e;

	/* the image checks that a member before this one holds it */
	if (k < 0 || &t->m[k] >= r || t->m[k].pidfd < 0)
		return sd_errx(r->ctx, -EBADMSG,
			       "cannot restore pid %d: fd %d shares the open file description of pid %d, which is no member made before it",
			       r->pid, d->fd, d->shared_pid);
	ours = (int)syscall(SYS_pidfd_getfd, t->m[k].pidfd, d->shared_fd, 0);
	if (ours < 0)
		return sd_err(r->ctx, -errno, "cannot take fd %d of the restored pid %d", d->shared_fd,
			      d->shared_pid);
	e = sd_rst_tree_give(r, ours, ret_tmp);
	(void)close(ours);
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot give pid %d the open file description of fd %d of pid %d",
			       r->pid, d->shared_fd, d->shared_pid);
	return 0;
}

int sd_rst_tree_pipe(struct rst *r, const struct fd_state *d, int32_t pfd[2], bool *ret_found)
{
	struct rst_tree *t = r->tree;

	*ret_found = false;
	for (size_t i = 0; i < t->npipes; i++) {
		long a = -1, b = -1;
		int e;

		if (t->pipes[i].ino != d->ino || t->pipes[i].dev != d->dev)
			continue;
		e = sd_rst_tree_give(r, t->pipes[i].fd[0], &a);
		if (e == 0)
			e = sd_rst_tree_give(r, t->pipes[i].fd[1], &b);
		if (e < 0)
			return e;
		pfd[0] = (int32_t)a;
		pfd[1] = (int32_t)b;
		*ret_found = true;
		return 0;
	}
	return 0;
}

int sd_rst_tree_pipe_made(struct rst *r, const struct fd_state *d, const int32_t pfd[2])
{
	struct rst_tree *t = r->tree;
	struct rst_pipe *p;

	if (ARRAY_RESERVE(t->pipes, t->cap_pipes, t->npipes + 1, 8) < 0)
		return -ENOMEM;
	p = &t->pipes[t->npipes];
	p->dev = d->dev;
	p->ino = d->ino;
	p->fd[0] = (int)syscall(SYS_pidfd_getfd, r->pidfd, pfd[0], 0);
	p->fd[1] = p->fd[0] < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, r->pidfd, pfd[1], 0);
	if (p->fd[1] < 0) {
		int e = -errno;

		if (p->fd[0] >= 0)
			(void)close(p->fd[0]);
		return sd_err(r->ctx, e, "cannot take the pipe of fd %d of pid %d", d->fd, r->pid);
	}
	t->npipes++;
	return 0;
}

/* Member k of @r's tree, which must come before @r: else NULL. */
static struct rst *member_before(struct rst *r, pid_t pid)
{
	struct rst_tree *t = r->tree;
	long k = t ? sd_tree_find(&t->tree, pid) : -1;

	if (k < 0 || &t->m[k] >= r || t->tree.m[k].zombie)
		return NULL;
	return &t->m[k];
}

bool sd_rst_tree_made_before(struct rst *r, pid_t pid)
{
	return member_before(r, pid) != NULL;
}

bool sd_rst_tree_shmem_reach(struct rst *r, const struct vma *v, uint64_t *size)
{
	struct rst_tree *t = r->tree;
	bool found = false;

	for (size_t i = 0; t && i < t->tree.n; i++) {
		const struct vma_list *vl = &t->m[i].chain.p[0].vmas;

		if (&t->m[i] <= r || t->tree.m[i].zombie || !t->m[i].chain.n)
			continue;
		for (size_t k = 0; k < vl->n; k++) {
			const struct vma *w = &vl->v[k];

			if (w->shared_pid != r->pid || !sd_vma_same_shmem(w, v))
				continue;
			*size = MAX(*size, w->pgoff + (w->end - w->start));
			found = true;
		}
	}
	return found;
}

int sd_rst_tree_shmem_made(struct rst *r, const struct vma *v)
{
	struct rst_tree *t = r->tree;
	char path[PROC_PATH_MAX];
	int fd;

	if (ARRAY_RESERVE(t->shm, t->cap_shm, t->nshm + 1, 8) < 0)
		return sd_err(r->ctx, -ENOMEM, "cannot restore pid %d", r->pid);
	sd_proc_path(path, r->pid, "map_files/%" PRIx64 "-%" PRIx64, v->start, v->end);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot open its shared memory at 0x%" PRIx64 " for the other members",
			      r->pid, v->start);
	t->shm[t->nshm++] = (struct rst_shm){
		.pid = r->pid, .dev_major = v->dev_major, .dev_minor = v->dev_minor, .ino = v->ino, .fd = fd,
	};
	return 0;
}

int sd_rst_tree_shmem_fd(struct rst *r, const struct vma *v, long *ret_fd)
{
	struct rst_tree *t = r->tree;

	for (size_t i = 0; t && member_before(r, v->shared_pid) && i < t->nshm; i++) {
		const struct rst_shm *o = &t->shm[i];

		if (o->pid == v->shared_pid && o->ino == v->ino && o->dev_major == v->dev_major &&
		    o->dev_minor == v->dev_minor)
			return sd_rst_tree_give(r, o->fd, ret_fd);
	}
	return sd_errx(r->ctx, -EBADMSG,
		       "image '%s' is corrupt: 0x%" PRIx64 "-0x%" PRIx64 " of pid %d shares the memory of pid %d, which maps no such memory before it",
		       r->chain.p[0].dir.path, v->start, v->end, r->pid, v->shared_pid);
}

int sd_rst_tree_ghost(struct rst *r, const struct ghost_file *f, int *ret_fd)
{
	struct rst *k = member_before(r, f->shared_pid);

	for (size_t i = 0; k && k->ghost_fds && i < k->ghosts.n; i++) {
		const struct ghost_file *g = &k->ghosts.f[i];

		if (g->shared_pid || g->ino != f->ino || g->dev_major != f->dev_major ||
		    g->dev_minor != f->dev_minor || k->ghost_fds[i] < 0 || (g->mode & S_IFMT) != (f->mode & S_IFMT))
			continue;
		*ret_fd = fcntl(k->ghost_fds[i], F_DUPFD_CLOEXEC, 3);
		if (*ret_fd < 0)
			return sd_err(r->ctx, -errno, "cannot restore pid %d", r->pid);
		pr_debug(r->ctx, "the deleted file '%s': the copy of pid %d", f->path, k->pid);
		return 0;
	}
	return sd_errx(r->ctx, -EBADMSG,
		       "image '%s' is corrupt: the deleted file '%s' is saved by pid %d, which has no such file before it",
		       r->chain.p[0].dir.path, f->path, f->shared_pid);
}

/* Every member's unix sockets in one table, made in @r; those of the others kept for their turn. */
static int make_unix(struct rst *r)
{
	struct rst_tree *t = r->tree;
	struct files_state all = { 0 };
	_cleanup_free_ struct rst **own = NULL;
	_cleanup_free_ int *fdno = NULL;
	size_t cap = 0, cap_own = 0, cap_no = 0;
	int e = 0;

	for (size_t m = 0; e == 0 && m < t->tree.n; m++)
		for (size_t f = 0; !t->tree.m[m].zombie && f < t->m[m].fs.n; f++) {
			const struct fd_state *d = &t->m[m].fs.fds[f];

			if (!sd_rst_unix_is_own(d))
				continue;
			if (ARRAY_RESERVE(all.fds, cap, all.n + 1, 16) < 0 ||
			    ARRAY_RESERVE(own, cap_own, all.n + 1, 16) < 0 ||
			    ARRAY_RESERVE(fdno, cap_no, all.n + 1, 16) < 0) {
				e = sd_err(r->ctx, -ENOMEM, "cannot restore the sockets of pid %d", r->pid);
				break;
			}
			all.fds[all.n] = *d;
			own[all.n] = &t->m[m];
			fdno[all.n++] = d->fd;
		}
	t->socks_made = true;
	if (e == 0)
		e = sd_rst_unix_make(r, &all, own, fdno);
	/* the others': ours, out of @r */
	for (size_t n = 0; e == 0 && n < all.n; n++) {
		struct rst_sock_kept *k;

		if (own[n] == r)
			continue;
		if (ARRAY_RESERVE(t->socks, t->cap_socks, t->nsocks + 1, 16) < 0) {
			e = sd_err(r->ctx, -ENOMEM, "cannot restore the sockets of pid %d", r->pid);
			break;
		}
		k = &t->socks[t->nsocks];
		*k = (struct rst_sock_kept){ .pid = own[n]->pid, .fd = fdno[n] };
		k->ours = (int)syscall(SYS_pidfd_getfd, r->pidfd, all.fds[n].fd, 0);
		if (k->ours < 0)
			e = sd_err(r->ctx, -errno, "cannot take the socket of fd %d of pid %d", fdno[n], k->pid);
		else
			t->nsocks++;
		if (e == 0)
			e = sd_rst_call(r, SYS_close, all.fds[n].fd, 0, 0, 0, 0, 0, NULL);
	}
	free(all.fds);
	return e;
}

int sd_rst_tree_unix(struct rst *r)
{
	struct rst_tree *t = r->tree;
	int e = 0;

	if (!t->socks_made)
		return make_unix(r);
	for (size_t f = 0; e == 0 && f < r->fs.n; f++) {
		const struct fd_state *d = &r->fs.fds[f];
		const struct rst_sock_kept *k = NULL;
		int cloexec = (d->flags & O_CLOEXEC) ? O_CLOEXEC : 0;
		long tmp = -1;

		if (!sd_rst_unix_is_own(d))
			continue;
		for (size_t n = 0; n < t->nsocks && !k; n++)
			if (t->socks[n].pid == r->pid && t->socks[n].fd == d->fd)
				k = &t->socks[n];
		if (!k)
			return sd_errx(r->ctx, -EBADMSG, "cannot restore pid %d: the socket of fd %d was not made with the tree's",
				       r->pid, d->fd);
		e = sd_rst_tree_give(r, k->ours, &tmp);
		if (e == 0 && tmp == d->fd)
			e = sd_rst_call(r, SYS_fcntl, tmp, F_SETFD, cloexec ? FD_CLOEXEC : 0, 0, 0, 0, NULL);
		else if (e == 0) {
			e = sd_rst_call(r, SYS_dup3, tmp, d->fd, cloexec, 0, 0, 0, NULL);
			(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
		}
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot give pid %d the socket of its fd %d", r->pid, d->fd);
	}
	return 0;
}

pid_t sd_rst_tree_dead_pid(struct rst *r, uint64_t dev, uint64_t ino)
{
	const struct rst_tree *t = r->tree;

	for (size_t k = 0; k < t->ndead; k++)
		if (t->dead[k].dev == dev && t->dead[k].ino == ino)
			return t->dead[k].pid;
	return 0;
}

int sd_rst_tree_dead_made(struct rst *r, uint64_t dev, uint64_t ino, pid_t pid)
{
	struct rst_tree *t = r->tree;

	if (ARRAY_RESERVE(t->dead, t->cap_dead, t->ndead + 1, 4) < 0)
		return -ENOMEM;
	t->dead[t->ndead++] = (struct rst_dead){ dev, ino, pid };
	return 0;
}

void sd_rst_tree_dead_end(struct rst_tree *t)
{
	for (size_t k = 0; k < t->ndead; k++) {
		(void)kill(t->dead[k].pid, SIGKILL);
		while (waitpid(t->dead[k].pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	zfree(&t->dead);
	t->ndead = t->cap_dead = 0;
}
