/* SPDX-License-Identifier: MIT */
/*
 * Restore step 3, before the child exists: the deleted files a final dump
 * saved (ghosts.img), each brought back as an unnamed file of its own
 * (O_TMPFILE), which the new process maps instead of the file that is
 * gone. Made in the directory the file was deleted from, so that it lies
 * on the same file system, or where that directory is gone or cannot have
 * one, in the image's directory; a memfd's as a memfd of its name.
 * Unnamed, such a file needs no cleaning up: it goes with its last
 * mapping, or with sdump if the restore fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "ghost_img.h"
#include "restore.h"
#include "util.h"

/*
 * A memfd's copy is a memfd of the same name, so that it shows as the
 * process knew it ("/memfd:NAME (deleted)").
 */
static int make_memfd(struct rst *r, const char *path, const char **ret_where)
{
	const char *name = path + strlen("/memfd:");
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot make a copy of the memfd '%s'",
			      r->pid, name);
	*ret_where = "a memfd";
	return fd;
}

/* An unnamed file in the deleted file's directory, else in the image's. */
static int make_copy(struct rst *r, const struct ghost_file *f, const char **ret_where)
{
	const struct img_dir *img = &r->chain.p[0].dir;
	size_t len = strlen(f->path), suffix = strlen(" (deleted)");
	char dir[4096];
	const char *slash;
	int fd = -1;

	(void)snprintf(dir, sizeof(dir), "%.*s", (int)(len > suffix ? len - suffix : len), f->path);
	if (!strncmp(dir, "/memfd:", strlen("/memfd:")))
		return make_memfd(r, dir, ret_where);
	slash = strrchr(dir, '/');
	if (dir[0] == '/' && slash) {
		dir[slash == dir ? 1 : slash - dir] = '\0';
		fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		*ret_where = "its directory";
	}
	if (fd < 0) {
		fd = openat(img->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		*ret_where = "the image directory";
	}
	if (fd < 0)
		return sd_err(r->ctx, -errno,
			      "cannot restore pid %d: cannot make a copy of the deleted file '%s' in '%s' or in '%s'",
			      r->pid, f->path, dir, img->path);
	return fd;
}

static int prepare_one(struct rst *r, const struct ghost_file *f, int *ret_fd)
{
	char what[4200];
	const char *where = "";
	int fd, e;

	fd = make_copy(r, f, &where);
	if (fd < 0)
		return fd;
	(void)snprintf(what, sizeof(what), "the copy of the deleted file '%s'", f->path);
	e = sd_ghost_copy_to_fd(r->ctx, &r->ghosts, f, fd, what);
	/* the owner first: a chown clears set-id bits that the mode then puts back */
	if (e == 0 && fchown(fd, f->uid, f->gid) < 0)
		e = sd_err(r->ctx, -errno,
			   "cannot restore pid %d: %s cannot be given its owner (uid %u, gid %u); restore as root",
			   r->pid, what, f->uid, f->gid);
	if (e == 0 && fchmod(fd, f->mode & 07777) < 0)
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: %s cannot be given its mode %o",
			   r->pid, what, f->mode & 07777);
	if (e < 0) {
		close(fd);
		return e;
	}
	pr_debug(r->ctx, "%s made in %s (%" PRIu64 " bytes, %" PRIu64 " of data)", what, where,
		 f->size, f->data_bytes);
	*ret_fd = fd;
	return 0;
}

int sd_rst_prepare_ghosts(struct rst *r)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	int e;

	e = sd_ghost_set_read(r->ctx, &r->chain.p[0].dir, &r->ghosts);
	if (e < 0)
		return e;
	r->ghost_fds = malloc((r->ghosts.n ? r->ghosts.n : 1) * sizeof(*r->ghost_fds));
	if (!r->ghost_fds)
		return sd_err(r->ctx, -ENOMEM, "cannot restore pid %d", r->pid);
	for (size_t i = 0; i < r->ghosts.n; i++)
		r->ghost_fds[i] = -1;
	for (size_t i = 0; i < vl->n; i++) {
		const struct vma *v = &vl->v[i];
		const struct ghost_file *f;

		if (!v->deleted)
			continue;
		f = sd_ghost_set_find(&r->ghosts, v->ghost);
		if (!f)
			return sd_errx(r->ctx, -EBADMSG,
				       "image '%s' is corrupt: 0x%" PRIx64 "-0x%" PRIx64 " maps a deleted file whose contents it does not have",
				       r->chain.p[0].dir.path, v->start, v->end);
		if (r->ghost_fds[f->id - 1] >= 0)
			continue; /* one copy, however many times it is mapped */
		e = prepare_one(r, f, &r->ghost_fds[f->id - 1]);
		if (e < 0)
			return e;
	}
	return 0;
}

int sd_rst_ghost_path(struct rst *r, uint32_t id, char *buf, size_t size, struct stat *ret_st)
{
	int fd = id >= 1 && id <= r->ghosts.n ? r->ghost_fds[id - 1] : -1;

	if (fd < 0 || fstat(fd, ret_st) < 0)
		return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: no deleted file %u",
			       r->chain.p[0].dir.path, id);
	/* the new process opens our copy through our fd: /proc/self here, but its PID there */
	(void)snprintf(buf, size, "/proc/%d/fd/%d", (int)getpid(), fd);
	return 0;
}

void sd_rst_ghosts_release(struct rst *r)
{
	for (size_t i = 0; r->ghost_fds && i < r->ghosts.n; i++)
		zclose(&r->ghost_fds[i]);
	zfree(&r->ghost_fds);
	sd_ghost_set_release(&r->ghosts);
}
