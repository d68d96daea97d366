/* SPDX-License-Identifier: MIT */
/*
 * What the members of a tree share, for its dump (dump_tree.c): the pipes
 * between them (each end a member holds), the open file descriptions
 * several hold (kcmp KCMP_FILE), the unix sockets and ptys across members,
 * the sessions and groups, and the shared memory and deleted files a
 * member collected (struct tree_objs) for those after it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "array.h"
#include "ctx.h"
#include "dump_fd_kinds.h"
#include "dump_fd_sock.h"
#include "dump_tree_priv.h"
#include "proc.h"
#include "procfs.h"
#include "util.h"

/* Every pipe end each member holds (by its fds' links and fdinfo flags). */
int sd_tree_read_pipe_ends(struct tdump *td, const struct tmember *tm)
{
	char path[PROC_PATH_MAX], link[64];
	struct dirent *de;
	DIR *d = opendir(sd_proc_path(path, tm->m.pid, "fd"));

	if (!d)
		return sd_err(td->ctx, -errno, "cannot list '%s'", path);
	while ((de = readdir(d))) {
		_cleanup_free_ char *info = NULL;
		unsigned long long ino;
		uint64_t pos;
		uint32_t flags;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		(void)sd_proc_path(path, tm->m.pid, "fd/%s", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "pipe:[%llu]", &ino) != 1)
			continue;
		(void)sd_proc_path(path, tm->m.pid, "fdinfo/%s", de->d_name);
		if (sd_read_file(AT_FDCWD, path, &info, NULL) < 0 || sd_proc_parse_fdinfo(info, &pos, &flags) < 0 ||
		    (flags & O_PATH))
			continue;
		if (ARRAY_RESERVE(td->ends.e, td->ends_cap, td->ends.n + 1, 16) < 0) {
			(void)closedir(d);
			return sd_err(td->ctx, -ENOMEM, "cannot dump pid %d", td->opts->pid);
		}
		td->ends.e[td->ends.n++] = (struct tree_pipe_end){
			.pid = tm->m.pid, .ino = ino,
			.rd = (flags & O_ACCMODE) != O_WRONLY, .wr = (flags & O_ACCMODE) != O_RDONLY,
		};
	}
	(void)closedir(d);
	return 0;
}

/*
 * What members share, once all are collected: an fd whose open file
 * description an earlier member holds is recorded as that one (its
 * description's locks stay with the first); the bytes of a pipe or FIFO
 * are kept on the first member that has them.
 */
int sd_tree_find_shared(struct tdump *td)
{
	for (size_t j = 1; j < td->n; j++) {
		struct tmember *b = td->t[j];

		if (!b->has_pass)
			continue;
		for (size_t f = 0; f < b->p.fs.n; f++) {
			struct fd_state *d = &b->p.fs.fds[f];

			for (size_t i = 0; i < j && !d->has_shared && !d->has_dup_of; i++) {
				const struct tmember *a = td->t[i];

				for (size_t g = 0; a->has_pass && g < a->p.fs.n; g++) {
					const struct fd_state *e = &a->p.fs.fds[g];
					long c;

					if (e->has_dup_of || e->dev != d->dev || e->ino != d->ino)
						continue;
					c = syscall(SYS_kcmp, a->m.pid, b->m.pid, KCMP_FILE, e->fd, d->fd);
					if (c < 0)
						return sd_err(td->ctx, -errno,
							      "cannot compare fd %d of pid %d with fd %d of pid %d (kcmp)",
							      e->fd, a->m.pid, d->fd, b->m.pid);
					if (c != 0)
						continue;
					d->has_shared = true;
					d->shared_pid = e->has_shared ? e->shared_pid : a->m.pid;
					d->shared_fd = e->has_shared ? e->shared_fd : e->fd;
					break;
				}
			}
			if (!d->has_shared)
				continue;
			/* a description's own locks (OFD, flock, lease) are taken again on the first */
			for (size_t k = 0; k < d->nlocks;) {
				if (d->locks[k].kind == FLK_POSIX) {
					k++;
					continue;
				}
				memmove(&d->locks[k], &d->locks[k + 1], (d->nlocks - k - 1) * sizeof(*d->locks));
				d->nlocks--;
			}
		}
	}
	for (size_t j = 0; j < td->n; j++) {
		struct tmember *b = td->t[j];

		for (size_t f = 0; b->has_pass && f < b->p.fs.n; f++) {
			struct fd_state *d = &b->p.fs.fds[f];
			bool seen = false;

			if (!d->has_pipe_data)
				continue;
			for (size_t i = 0; i < j && !seen; i++)
				for (size_t g = 0; td->t[i]->has_pass && g < td->t[i]->p.fs.n; g++)
					if (td->t[i]->p.fs.fds[g].has_pipe_data &&
					    td->t[i]->p.fs.fds[g].ino == d->ino && td->t[i]->p.fs.fds[g].dev == d->dev)
						seen = true;
			if (seen) {
				zfree(&d->pipe_data);
				d->pipe_data_len = 0;
				d->has_pipe_data = false;
			}
		}
	}
	return 0;
}

/*
 * A terminal of a member that is the slave of a pty whose master another
 * member holds (tmux and its shells, script, sshd): a pty slave of the
 * tree's, made again with its master (the master's collector has checked
 * that no process outside the tree holds it).
 */
void sd_tree_pair_ptys(struct tdump *td)
{
	for (size_t j = 0; j < td->n; j++)
		for (size_t i = 0; td->t[j]->has_pass && i < td->n; i++)
			if (i != j && td->t[i]->has_pass)
				sd_dump_pty_pairs_with(&td->t[j]->p.fs, &td->t[i]->p.fs);
}

/*
 * The unix sockets of every member in one table, checked as one process's
 * are: a peer, a listener or a client waiting in its backlog may be in
 * another member. A socket an earlier member holds too (has_shared) is
 * its: only the first holder's fd is in the table.
 */
int sd_tree_check_sockets(struct tdump *td)
{
	struct files_state all = { 0 };
	size_t cap = 0;
	int r = 0;

	for (size_t j = 0; r == 0 && j < td->n; j++)
		for (size_t f = 0; td->t[j]->has_pass && f < td->t[j]->p.fs.n; f++) {
			const struct fd_state *d = &td->t[j]->p.fs.fds[f];

			if (d->kind != FDK_UNIX || !d->sk || d->has_dup_of || d->has_shared)
				continue;
			if (ARRAY_RESERVE(all.fds, cap, all.n + 1, 16) < 0) {
				r = sd_err(td->ctx, -ENOMEM, "cannot dump pid %d", td->opts->pid);
				break;
			}
			/* a shallow copy: the socket state is the member's own */
			all.fds[all.n++] = *d;
		}
	if (r == 0)
		r = sd_dump_unix_table(td->ctx, td->opts, &all);
	free(all.fds);
	return r;
}

/*
 * A session or group is made again by its leader; one whose leader is
 * gone (it called setsid() and then ended) by a helper with its pid
 * (rst_tree.c), which forks the session's members whose parent is outside
 * it with CLONE_PARENT: they must have one parent. The root's comes from
 * outside.
 */
/* The session of @m's parent in the tree (the root's: -1). */
static pid_t parent_sid(const struct tdump *td, const struct tree_member *m)
{
	for (size_t k = 0; k < td->n; k++)
		if (td->t[k]->m.pid == m->ppid)
			return td->t[k]->m.sid;
	return -1;
}

int sd_tree_check_ids(struct tdump *td)
{
	const struct tree_member *root = &td->t[0]->m;

	for (size_t i = 1; i < td->n; i++) {
		const struct tree_member *m = &td->t[i]->m;
		const struct tree_member *top = NULL;
		bool sid = false;

		for (size_t k = 0; k < td->n; k++)
			sid |= td->t[k]->m.pid == m->sid;
		if (sid || m->sid == root->sid || m->sid == m->pid)
			continue;
		/* its members whose parent is outside it are forked by one helper: they have one parent */
		for (size_t k = 1; k < td->n; k++) {
			const struct tree_member *o = &td->t[k]->m;

			if (o->sid != m->sid || parent_sid(td, o) == m->sid)
				continue;
			if (top && top->ppid != o->ppid)
				return sd_refuse(td->ctx, -EOPNOTSUPP,
						 "cannot dump pid %d: session %d of its tree, whose leader is gone, has members of two parents (%d, %d); sdump cannot make such a session again",
						 root->pid, m->sid, top->ppid, o->ppid);
			top = o;
		}
	}
	return 0;
}

/* @o into the list of what the members collected have (each object and file once a member). */
static int add_obj(struct tdump *td, const struct tree_obj *o)
{
	for (size_t i = 0; i < td->objs.n; i++) {
		const struct tree_obj *x = &td->objs.o[i];

		if (x->pid == o->pid && x->file == o->file && x->ino == o->ino && x->dev_major == o->dev_major &&
		    x->dev_minor == o->dev_minor && x->off == o->off && x->end == o->end)
			return 0;
	}
	if (ARRAY_RESERVE(td->objs.o, td->objs.cap, td->objs.n + 1, 16) < 0)
		return sd_err(td->ctx, -ENOMEM, "cannot dump pid %d", td->opts->pid);
	td->objs.o[td->objs.n++] = *o;
	return 0;
}

/*
 * What member @tm, just collected, maps and holds that the members after
 * it may share: the parts of shmem objects its VMAs map (saved in its
 * pass: the members after it save the rest), the deleted files and memfds
 * it maps or holds (saved in its pass at a final dump: the members after
 * it refer to them). A pre-dump saves no files, but the members after it
 * look for no other users of them among the tree.
 */
int sd_tree_note_member(struct tdump *td, const struct tmember *tm)
{
	int r = 0;

	for (size_t v = 0; v < tm->p.vmas.n && r == 0; v++) {
		const struct vma *w = &tm->p.vmas.v[v];
		struct tree_obj o = {
			.dev_major = w->dev_major, .dev_minor = w->dev_minor, .ino = w->ino, .pid = tm->m.pid,
		};

		if (w->kind == VK_SHMEM && w->path) {
			o.off = w->pgoff;
			o.end = w->pgoff + (w->end - w->start);
			r = add_obj(td, &o);
		} else if ((w->kind == VK_FILE || w->kind == VK_FILE_SHARED) && w->deleted) {
			o.file = true;
			r = add_obj(td, &o);
		}
	}
	for (size_t f = 0; f < tm->p.fs.n && r == 0; f++) {
		const struct fd_state *d = &tm->p.fs.fds[f];
		struct tree_obj o = {
			.dev_major = (uint32_t)(d->dev >> 32), .dev_minor = (uint32_t)d->dev, .ino = d->ino,
			.pid = tm->m.pid, .file = true,
		};

		if (d->kind == FDK_GHOST || d->kind == FDK_MEMFD)
			r = add_obj(td, &o);
	}
	return r;
}
