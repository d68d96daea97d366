/* SPDX-License-Identifier: MIT */
/*
 * Restore step 3, before the child exists: the deleted files a final dump
 * saved (ghosts.img), each brought back as a deleted file of its own,
 * which the new process maps and holds open instead of the file that is
 * gone, one copy per file however many mappings and fds share it. Made in
 * the directory the file was deleted from, under its name and unlinked at
 * once, so that it lies on the same file system and /proc names it as it
 * did; where the name is taken, unnamed there (O_TMPFILE); where the
 * directory is gone or cannot have one, in the image's directory. A
 * memfd's as a memfd of its name, sealed once the process has it
 * (sd_rst_seal_ghosts); a deleted directory as one made and removed.
 * Unnamed, such a file needs no cleaning up: it goes with its last
 * mapping or fd, or with sdump if the restore fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "ghost_img.h"
#include "procfs.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

/*
 * A memfd's copy is a memfd of the same name, so that it shows as the
 * process knew it ("/memfd:NAME (deleted)"); sealable, whatever its seals
 * were (sd_rst_seal_ghosts adds them), and executable or not by its mode
 * (MFD_EXEC: the mode is set afterwards, an older kernel has no flag).
 */
static int make_memfd(struct rst *r, const char *path, const char **ret_where)
{
	const char *name = path + strlen("/memfd:");
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot make a copy of the memfd '%s'",
			      r->pid, name);
	*ret_where = "a memfd";
	return fd;
}

/*
 * Shared anonymous memory ("/dev/zero (deleted)") that an fd or a private
 * mapping reached (through /proc/PID/map_files): made so again, here, a
 * page of it mapped only long enough to open it; the copy grows to its
 * size, and the shared mappings of it map it (rst_shmem.c).
 */
static int make_shmem(struct rst *r, const char **ret_where)
{
	long psz = sysconf(_SC_PAGESIZE);
	char path[PROC_PATH_MAX];
	void *p = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd;

	if (p == MAP_FAILED)
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot make its shared memory again",
			      r->pid);
	(void)snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		       (unsigned long)p + (unsigned long)psz);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = sd_err(r->ctx, -errno, "cannot restore pid %d: cannot open its shared memory again (%s)",
			    r->pid, path);
	(void)munmap(p, (size_t)psz);
	*ret_where = "shared anonymous memory";
	return fd;
}

/*
 * A file in @dir of the name @base, open and at once unlinked, so that
 * the process's /proc links read "DIR/NAME (deleted)" as they did; -1
 * where the name is taken (by a new file of that name) or cannot be made.
 * A directory is made, opened and removed alike.
 */
static int make_named(const char *dir, const char *base, bool is_dir)
{
	char path[4400];
	int fd;

	if (!base[0] || strlen(dir) + strlen(base) + 2 > sizeof(path))
		return -1;
	(void)snprintf(path, sizeof(path), "%.4096s/%.255s", strcmp(dir, "/") ? dir : "", base);
	if (is_dir) {
		if (mkdir(path, 0700) < 0)
			return -1;
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || rmdir(path) < 0) {
			(void)rmdir(path);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		return fd;
	}
	fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && unlink(path) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An O_TMPFILE's name: "#" and its inode number, which a new file cannot take. */
static bool tmpfile_name(const char *base)
{
	return base[0] == '#' && base[1] && strspn(base + 1, "0123456789") == strlen(base + 1);
}

/*
 * A copy in the deleted file's directory, under its name where that is
 * free, else unnamed there, else in the image's directory. @tmp_flags: an
 * O_TMPFILE of those open flags (the process's fd that was one gets the
 * copy itself), else 0.
 */
static int make_copy(struct rst *r, const struct ghost_file *f, int tmp_flags, const char **ret_where)
{
	const struct img_dir *img = &r->chain.p[0].dir;
	size_t len = strlen(f->path), suffix = strlen(" (deleted)");
	bool is_dir = S_ISDIR(f->mode);
	char dir[4096], base[256] = "";
	const char *slash;
	int fd = -1;

	(void)snprintf(dir, sizeof(dir), "%.*s", (int)(len > suffix ? len - suffix : len), f->path);
	if (!strncmp(dir, "/memfd:", strlen("/memfd:")))
		return make_memfd(r, dir, ret_where);
	if (!strcmp(dir, "/dev/zero") && S_ISREG(f->mode))
		return make_shmem(r, ret_where);
	slash = strrchr(dir, '/');
	if (dir[0] == '/' && slash) {
		(void)snprintf(base, sizeof(base), "%s", slash + 1);
		dir[slash == dir ? 1 : slash - dir] = '\0';
		if (!tmp_flags && !tmpfile_name(base))
			fd = make_named(dir, base, is_dir);
		*ret_where = "its directory, under its name";
		if (fd < 0 && !is_dir) {
			fd = open(dir, O_TMPFILE | O_CLOEXEC | (tmp_flags ? tmp_flags : O_RDWR), 0600);
			*ret_where = "its directory";
		}
		if (fd < 0 && is_dir) {
			char tmpl[64];

			(void)snprintf(tmpl, sizeof(tmpl), ".sdump-%d-%.20s", (int)getpid(), base);
			fd = make_named(dir, tmpl, true);
			*ret_where = "its directory, under another name";
		}
	}
	if (fd < 0 && !is_dir) {
		fd = openat(img->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		*ret_where = "the image directory";
	}
	if (fd < 0)
		return sd_err(r->ctx, -errno,
			      "cannot restore pid %d: cannot make a copy of the deleted %s '%s' in '%s'%s%s",
			      r->pid, is_dir ? "directory" : "file", f->path, dir, is_dir ? "" : " or in ",
			      is_dir ? "" : img->path);
	return fd;
}

static int prepare_one(struct rst *r, const struct ghost_file *f, int tmp_flags, int *ret_fd)
{
	char what[4200];
	const char *where = "";
	int fd, e = 0;

	fd = make_copy(r, f, tmp_flags, &where);
	if (fd < 0)
		return fd;
	(void)snprintf(what, sizeof(what), "the copy of the deleted %s '%s'",
		       S_ISDIR(f->mode) ? "directory" : "file", f->path);
	if (!S_ISDIR(f->mode))
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

/* The copy of @f: made, or the one of the member of the tree that saved it (which seals it). */
static int copy_of(struct rst *r, const struct ghost_file *f, int *ret_fd)
{
	if (f->shared_pid)
		return sd_rst_tree_ghost(r, f, ret_fd);
	return prepare_one(r, f, 0, ret_fd);
}

/* The saved file @id, which a VMA or an fd names: -EBADMSG if the image has none. */
static const struct ghost_file *ghost_of(struct rst *r, uint32_t id, const char *what)
{
	const struct ghost_file *f = sd_ghost_set_find(&r->ghosts, id);

	if (!f)
		(void)sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: %s a deleted file whose contents it does not have",
			      r->chain.p[0].dir.path, what);
	return f;
}

/*
 * An fd that was an O_TMPFILE (open(2) keeps __O_TMPFILE in its flags,
 * which only such an open gives): its copy made so, with its flags, at its
 * offset, and handed to the process as the fd itself (r->src).
 */
static int prepare_tmpfile_fd(struct rst *r, size_t i, const struct ghost_file *f)
{
	const struct fd_state *d = &r->fs.fds[i];
	int *fd = &r->ghost_fds[f->id - 1];
	/* O_APPEND would make the copy's pwrite()s appends: F_SETFL sets it afterwards */
	int e, flags = (int)(d->flags & ~(uint32_t)(O_CLOEXEC | O_APPEND | O_ASYNC | O_TMPFILE | O_LARGEFILE));

	e = prepare_one(r, f, flags, fd);
	if (e == 0 && lseek(*fd, (off_t)d->pos, SEEK_SET) < 0)
		e = sd_err(r->ctx, -errno, "cannot restore pid %d: fd %d (%s)", r->pid, d->fd, d->path);
	if (e == 0)
		r->src[i] = *fd;
	return e;
}

int sd_rst_prepare_ghosts(struct rst *r)
{
	const struct vma_list *vl = &r->chain.p[0].vmas;
	const struct ghost_file *f;
	char what[64];
	int e;

	e = sd_ghost_set_read(r->ctx, &r->chain.p[0].dir, &r->ghosts);
	if (e < 0)
		return e;
	r->ghost_fds = malloc((r->ghosts.n ? r->ghosts.n : 1) * sizeof(*r->ghost_fds));
	if (!r->ghost_fds)
		return sd_err(r->ctx, -ENOMEM, "cannot restore pid %d", r->pid);
	for (size_t i = 0; i < r->ghosts.n; i++)
		r->ghost_fds[i] = -1;
	/* the removed directories, the cwd's and root's with those fds hold */
	e = sd_rst_prepare_removed(r);
	if (e < 0)
		return e;
	/* the fds first: an O_TMPFILE fd's copy is made for it */
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if (d->kind != FDK_GHOST && d->kind != FDK_MEMFD)
			continue;
		(void)snprintf(what, sizeof(what), "fd %d has", d->fd);
		f = ghost_of(r, d->ghost, what);
		if (!f)
			return -EBADMSG;
		if ((d->kind == FDK_MEMFD) != !strncmp(f->path, "/memfd:", strlen("/memfd:")) ||
		    (S_ISDIR(f->mode) && d->kind != FDK_GHOST))
			return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: fd %d is of another kind than its file",
				       r->chain.p[0].dir.path, d->fd);
		if ((d->flags & O_TMPFILE) == O_TMPFILE && !d->has_dup_of && r->src[i] < 0 &&
		    S_ISREG(f->mode) && r->ghost_fds[f->id - 1] < 0 && !f->shared_pid) {
			e = prepare_tmpfile_fd(r, i, f);
			if (e < 0)
				return e;
		}
	}
	for (size_t i = 0; i < vl->n; i++) {
		const struct vma *v = &vl->v[i];

		if (!v->deleted)
			continue;
		(void)snprintf(what, sizeof(what), "0x%" PRIx64 "-0x%" PRIx64 " maps", v->start, v->end);
		f = ghost_of(r, v->ghost, what);
		if (!f)
			return -EBADMSG;
		if (S_ISDIR(f->mode))
			return sd_errx(r->ctx, -EBADMSG, "image '%s' is corrupt: %s a directory",
				       r->chain.p[0].dir.path, what);
		if (r->ghost_fds[f->id - 1] >= 0)
			continue; /* one copy, however many times it is mapped */
		e = copy_of(r, f, &r->ghost_fds[f->id - 1]);
		if (e < 0)
			return e;
	}
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];

		if ((d->kind != FDK_GHOST && d->kind != FDK_MEMFD) || r->ghost_fds[d->ghost - 1] >= 0)
			continue;
		e = copy_of(r, sd_ghost_set_find(&r->ghosts, d->ghost), &r->ghost_fds[d->ghost - 1]);
		if (e < 0)
			return e;
	}
	return 0;
}

/* Its copy opened again in the new process, with its flags, at its offset. */
/*
 * The first read-write fd of a memfd (of its own description): the memfd
 * as memfd_create() made it, not one opened again through /proc/PID/fd. An
 * fd opened again for writing counts as a writer of the file, and the
 * kernel refuses to execveat() a memfd someone may write that way
 * (ETXTBSY), while it runs one its own memfd_create() fd holds open.
 */
static bool memfd_own_open(const struct rst *r, size_t i)
{
	const struct fd_state *d = &r->fs.fds[i];

	if (d->kind != FDK_MEMFD || (d->flags & O_ACCMODE) != O_RDWR || (d->flags & O_PATH) ||
	    d->has_dup_of || d->has_shared || !r->ghost_fds || r->ghost_fds[d->ghost - 1] < 0)
		return false;
	for (size_t k = 0; k < i; k++) {
		const struct fd_state *o = &r->fs.fds[k];

		if (o->kind == FDK_MEMFD && o->ghost == d->ghost && (o->flags & O_ACCMODE) == O_RDWR &&
		    !(o->flags & O_PATH) && !o->has_dup_of && !o->has_shared)
			return false;
	}
	return true;
}

/* Our memfd given to the new process (pidfd_getfd), with the fd's status flags and FD_CLOEXEC. */
static int give_memfd(struct rst *r, const struct fd_state *d, long *ret_tmp)
{
	long tmp;
	int e = sd_rst_tree_give(r, r->ghost_fds[d->ghost - 1], &tmp);

	if (e == 0)
		e = sd_rst_call(r, SYS_fcntl, tmp, F_SETFL, (long)(d->flags & (O_APPEND | O_NONBLOCK | O_NOATIME)),
				0, 0, 0, NULL);
	if (e == 0)
		e = sd_rst_call(r, SYS_fcntl, tmp, F_SETFD, (d->flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0, 0, 0,
				NULL);
	if (e == 0)
		*ret_tmp = tmp;
	return e;
}

int sd_rst_ghost_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	uint32_t drop = O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY;
	char path[64];
	struct stat st;
	long tmp, ign;
	int e;

	e = sd_rst_ghost_path(r, d->ghost, path, sizeof(path), &st);
	if (e < 0)
		return e;
	/* an O_TMPFILE that is a dup of none: only its own open could give that flag */
	if ((d->flags & O_TMPFILE) == O_TMPFILE)
		drop |= O_TMPFILE;
	if (memfd_own_open(r, i))
		e = give_memfd(r, d, &tmp);
	else
		e = sd_rst_open_in_child(r, path, (int)(d->flags & ~drop), &tmp);
	if (e == 0 && !(d->flags & O_PATH))
		e = sd_rst_call(r, SYS_lseek, tmp, (long)d->pos, SEEK_SET, 0, 0, 0, &ign);
	if (e == 0)
		*ret_tmp = tmp;
	return e;
}

int sd_rst_ghost_times(struct rst *r)
{
	for (size_t i = 0; r->ghost_fds && i < r->fs.n; i++) {
		const struct fd_state *d = &r->fs.fds[i];
		const struct ghost_file *f = d->kind == FDK_GHOST ? sd_ghost_set_find(&r->ghosts, d->ghost) : NULL;
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };

		if (!f || f->shared_pid || r->ghost_fds[f->id - 1] < 0 || !d->mtime_ns)
			continue;
		if (d->atime_ns)
			ts[0] = (struct timespec){ (time_t)(d->atime_ns / 1000000000u), (long)(d->atime_ns % 1000000000u) };
		ts[1] = (struct timespec){ (time_t)(d->mtime_ns / 1000000000u), (long)(d->mtime_ns % 1000000000u) };
		if (futimens(r->ghost_fds[f->id - 1], ts) < 0)
			return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot give the copy of the deleted %s '%s' its times",
				      r->pid, S_ISDIR(f->mode) ? "directory" : "file", f->path);
	}
	return 0;
}

bool sd_rst_ghost_write_sealed(struct rst *r, uint32_t id)
{
	const struct ghost_file *f = sd_ghost_set_find(&r->ghosts, id);

	return f && f->has_seals && (f->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
}

/*
 * A memfd's seals, once the mappings made before them are: F_SEAL_WRITE
 * and F_SEAL_FUTURE_WRITE forbid the shared writable mappings after them,
 * F_SEAL_SEAL any seal after. Opening a sealed memfd again (the fds) is
 * allowed.
 */
int sd_rst_seal_ghosts(struct rst *r)
{
	for (size_t i = 0; r->ghost_fds && i < r->ghosts.n; i++) {
		const struct ghost_file *f = &r->ghosts.f[i];

		if (r->ghost_fds[i] < 0 || !f->has_seals || !f->seals || f->shared_pid)
			continue;
		if (fcntl(r->ghost_fds[i], F_ADD_SEALS, (int)f->seals) < 0)
			return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot seal the copy of the memfd '%s' (seals 0x%x)",
				      r->pid, f->path, f->seals);
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
	sd_rst_removed_release(r);
	sd_ghost_set_release(&r->ghosts);
}
