/* SPDX-License-Identifier: MIT */
/* tree.img: the members of a process tree, written and read with their checks. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "ctx.h"
#include "img_files.h"
#include "tree.pb-c.h"
#include "tree_img.h"
#include "util.h"

int sd_treeimg_write(struct sdump_ctx *ctx, struct img_dir *dir, const struct proc_tree *t,
		     uint64_t *ret_size)
{
	Tree tr = TREE__INIT;
	_cleanup_free_ TreeMember *m = calloc(t->n ? t->n : 1, sizeof(*m));
	_cleanup_free_ TreeMember **mp = calloc(t->n ? t->n : 1, sizeof(*mp));

	if (!m || !mp)
		return sd_err(ctx, -ENOMEM, "cannot write '%s/tree.img'", dir->path);
	for (size_t i = 0; i < t->n; i++) {
		const struct tree_member *s = &t->m[i];

		tree_member__init(&m[i]);
		m[i].pid = s->pid;
		m[i].ppid = s->ppid;
		m[i].pgid = s->pgid;
		m[i].sid = s->sid;
		m[i].exit_signal = (uint32_t)s->exit_signal;
		m[i].has_zombie = m[i].zombie = s->zombie;
		m[i].has_exit_status = s->zombie;
		m[i].exit_status = s->exit_status;
		m[i].has_stopped = m[i].stopped = s->stopped;
		m[i].has_stop_signal = s->stopped && s->stop_sig > 0 && s->stop_sig != SIGSTOP;
		m[i].stop_signal = s->stop_sig;
		m[i].comm = s->zombie ? (char *)s->comm : NULL;
		m[i].has_files_of_parent = m[i].files_of_parent = s->files_of_parent;
		mp[i] = &m[i];
	}
	tr.n_members = t->n;
	tr.members = mp;
	return sd_imgfile_write_one(ctx, dir, IMGF_TREE, 0, &tr.base, ret_size);
}

static int check_member(const struct proc_tree *t, size_t i)
{
	const struct tree_member *m = &t->m[i];
	long p;

	if (m->pid <= 0 || m->ppid < 0 || m->pgid <= 0 || m->sid < 0 || m->exit_signal < 0 ||
	    m->exit_signal > 64 || sd_tree_find(t, m->pid) != (long)i)
		return -EBADMSG;
	if (m->stop_sig != SIGSTOP && m->stop_sig != SIGTSTP && m->stop_sig != SIGTTIN && m->stop_sig != SIGTTOU)
		return -EBADMSG;
	if (i == 0)
		return m->zombie || m->files_of_parent ? -EBADMSG : 0;
	p = sd_tree_find(t, m->ppid);
	if (p < 0 || (size_t)p >= i || t->m[p].zombie)
		return -EBADMSG;
	return 0;
}

int sd_treeimg_read(struct sdump_ctx *ctx, const char *path, struct proc_tree *ret_t)
{
	struct img_dir d = { .path = (char *)path };
	ProtobufCMessage *msg = NULL;
	struct proc_tree t = { 0 };
	Tree *tr;
	int r;

	d.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d.dirfd < 0)
		return sd_err(ctx, -errno, "cannot open image directory '%s'", path);
	r = sd_imgfile_read_one(ctx, &d, IMGF_TREE, 0, &msg);
	(void)close(d.dirfd);
	if (r < 0)
		return r;
	tr = (Tree *)msg;
	if (tr->n_members == 0 || tr->n_members > TREE_MAX_MEMBERS) {
		r = -EBADMSG;
		goto out;
	}
	t.m = calloc(tr->n_members, sizeof(*t.m));
	if (!t.m) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < tr->n_members; i++) {
		const TreeMember *s = tr->members[i];

		t.m[i] = (struct tree_member){
			.pid = s->pid, .ppid = s->ppid, .pgid = s->pgid, .sid = s->sid,
			.exit_signal = s->exit_signal > 64 ? -1 : (int)s->exit_signal,
			.zombie = s->has_zombie && s->zombie,
			.exit_status = s->exit_status,
			.stopped = s->has_stopped && s->stopped,
			.stop_sig = s->has_stop_signal ? s->stop_signal : SIGSTOP,
			.files_of_parent = s->has_files_of_parent && s->files_of_parent,
		};
		if (s->comm && strlen(s->comm) >= sizeof(t.m[i].comm)) {
			r = -EBADMSG;
			goto out;
		}
		if (s->comm)
			(void)snprintf(t.m[i].comm, sizeof(t.m[i].comm), "%s", s->comm);
		t.n = i + 1;
		r = check_member(&t, i);
		if (r < 0)
			goto out;
	}
out:
	protobuf_c_message_free_unpacked(msg, NULL);
	if (r == -EBADMSG)
		r = sd_errx(ctx, r, "image '%s' is corrupt: tree.img holds no valid process tree", path);
	if (r < 0) {
		sd_tree_release(&t);
		return r;
	}
	*ret_t = t;
	return 0;
}

void sd_tree_release(struct proc_tree *t)
{
	zfree(&t->m);
	t->n = 0;
}

SDUMP_API int sdump_tree_member_dir(struct sdump_ctx *ctx, const char *dir, pid_t pid, char *buf,
				    size_t size)
{
	struct proc_tree t = { 0 };
	char name[TREE_DIR_NAME_MAX];
	long k;
	int r;

	if (!sd_treeimg_present(dir))
		return sd_errx(ctx, -ENOENT, "'%s' is no image of a process tree (no tree.img)", dir);
	r = sd_treeimg_read(ctx, dir, &t);
	if (r < 0)
		return r;
	k = sd_tree_find(&t, pid);
	r = k < 0 ? sd_errx(ctx, -ENOENT, "pid %d is no member of the tree of '%s'", pid, dir)
	    : t.m[k].zombie ? sd_errx(ctx, -ENOENT, "pid %d of the tree of '%s' is a zombie: it has no pass", pid, dir)
	    : 0;
	sd_tree_release(&t);
	if (r == 0 && snprintf(buf, size, "%s/%s", dir, sd_tree_dir_name(pid, name)) >= (int)size)
		r = sd_errx(ctx, -ENAMETOOLONG, "image directory '%s': name too long", dir);
	return r;
}

bool sd_treeimg_present(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool r;

	if (fd < 0)
		return false;
	r = faccessat(fd, "tree.img", F_OK, 0) == 0;
	(void)close(fd);
	return r;
}
