/* SPDX-License-Identifier: MIT */
/* The files a process maps: their open mode, and the deleted ones saved (see sd_dump_mapped_files.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "compat.h"
#include "dump_mapped_files.h"
#include "dump_state.h"
#include "fault.h"
#include "ghost_img.h"
#include "procfs.h"
#include "util.h"

struct mapped {
	struct sdump_ctx *ctx;
	const struct sdump_dump_opts *o;
	pid_t pid;
	bool final;
	uint64_t limit;
	struct ghost_writer *w;		/* a final dump: made on the first deleted file */
	struct img_dir *dir;
	size_t saved;			/* deleted files saved, */
	uint64_t saved_bytes;		/* and their size */
	const struct tree_objs *tree;	/* a member of a tree: what the members before it have */
	const struct shmem_prewalk *pre;	/* the walk before the freeze, or NULL */
};

const struct tree_obj *sd_tree_obj_find(const struct tree_objs *t, bool file, uint32_t dev_major,
				     uint32_t dev_minor, uint64_t ino)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->o[i].file == file && t->o[i].ino == ino && t->o[i].dev_major == dev_major &&
		    t->o[i].dev_minor == dev_minor)
			return &t->o[i];
	return NULL;
}

static int find_holder(const struct holder_key *keys, size_t nkeys, pid_t self, const pid_t *skip,
		       size_t nskip, bool maps_only, pid_t *ret_pid, size_t *ret_key);

/*
 * A process outside the tree (or other than this one) that has one of
 * @keys open or mapped (@maps_only: mapped): 1, its pid and which key.
 */
static long maps_have(pid_t pid, const struct holder_key *keys, size_t n);

static int holder_of(struct mapped *m, const struct holder_key *keys, size_t nkeys, bool maps_only,
		     pid_t *ret_pid, size_t *ret_key)
{
	if (m->tree)
		return find_holder(keys, nkeys, getpid(), m->tree->pids, m->tree->npids, maps_only, ret_pid,
				   ret_key);
	return find_holder(keys, nkeys, getpid(), &m->pid, 1, maps_only, ret_pid, ret_key);
}

/*
 * The size and the access mode of the open file behind a file mapping: the
 * link in map_files has S_IRUSR for FMODE_READ and S_IWUSR for FMODE_WRITE
 * of the mapping's file (fs/proc/base.c, proc_map_files_instantiate), and
 * lstat needs no more than the right to trace the process (following the
 * link needs CAP_CHECKPOINT_RESTORE). Proven on 6.18: a file opened O_RDWR
 * and mapped shared read-only shows 0600, opened O_RDONLY 0400, private
 * mappings alike.
 */
static int read_open_mode(struct mapped *m, struct vma *v)
{
	char path[PROC_PATH_MAX];
	struct stat st;

	sd_proc_path(path, m->pid, "map_files/%" PRIx64 "-%" PRIx64, v->start, v->end);
	if (fault_fails(FAULT_PROCREAD) || lstat(path, &st) < 0)
		return sd_err(m->ctx, errno == ENOENT ? -ESRCH : -errno, "cannot read '%s'", path);
	v->has_file_flags = true;
	v->file_flags = (st.st_mode & S_IWUSR) ? O_RDWR : O_RDONLY;
	/* the file's size, so that a restore notices a changed file (with the capability only) */
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		v->has_file_size = true;
		v->file_size = (uint64_t)st.st_size;
	}
	return 0;
}

/* The path a deleted file had, without " (deleted)". */
static void name_of(const char *path, char *buf, size_t size)
{
	size_t len = strlen(path), suffix = strlen(" (deleted)");

	(void)snprintf(buf, size, "%.*s", (int)(len > suffix ? len - suffix : len), path);
}

/*
 * A file literally named "... (deleted)" is no deleted file: the name in
 * the maps line leads to the very file mapped.
 */
static bool still_named(const struct vma *v, const struct stat *st)
{
	struct stat here;

	return stat(v->path, &here) == 0 && here.st_dev == st->st_dev && here.st_ino == st->st_ino;
}

/*
 * A deleted file that another process holds too: a restored copy would no
 * longer share its writes with it. @where names the process's own use of
 * it ("mapped shared at 0x...", "open as fd 3").
 */
static int refuse_held(struct mapped *m, const char *name, const char *where, const struct stat *st)
{
	struct holder_key key = { st->st_dev, st->st_ino };
	pid_t other = 0;
	size_t k;
	int r;

	/* a member before it looked already */
	if (sd_tree_obj_find(m->tree, true, major(st->st_dev), minor(st->st_dev), st->st_ino))
		return 0;
	r = holder_of(m, &key, 1, false, &other, &k);
	if (r < 0)
		return sd_err(m->ctx, r, "cannot look for other users of the deleted file '%s'", name);
	if (r > 0)
		return sd_refuse(m->ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: the deleted file '%s' %s is open or mapped in pid %d too: a restored copy would no longer share its writes; dump it once pid %d has let go of it",
			       m->pid, name, where, other, other);
	return 0;
}

static int refuse_shared(struct mapped *m, const struct vma *v, const struct stat *st, const char *where)
{
	char name[4096];

	name_of(v->path, name, sizeof(name));
	if (st->st_nlink > 0)
		return sd_refuse(m->ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: 0x%" PRIx64 "-0x%" PRIx64 " is a shared mapping of '%s', deleted there but linked elsewhere (%ju links): a restored copy would no longer share its writes; map it from one of its other names",
			       m->pid, v->start, v->end, name, (uintmax_t)st->st_nlink);
	return refuse_held(m, name, where, st);
}

/* The data of the file open at @fd must fit in the limit: else refused, its size named. */
static int check_limit(struct mapped *m, const char *name, const char *where, int fd, uint64_t size)
{
	struct ghost_extent *ext = NULL;
	char have[32], lim[32];
	uint64_t data = 0;
	size_t n;
	int r;

	r = sd_ghost_extents(fd, size, m->limit, &ext, &n, &data);
	free(ext);
	ext = NULL;
	if (r == -EFBIG)
		(void)sd_ghost_extents(fd, size, UINT64_MAX, &ext, &n, &data);
	free(ext);
	if (r < 0 && r != -EFBIG)
		return sd_err(m->ctx, r, "cannot find the data of the deleted file '%s'", name);
	if (r == 0)
		return 0;
	sd_fmt_size(have, sizeof(have), data);
	sd_fmt_size(lim, sizeof(lim), m->limit);
	return sd_refuse(m->ctx, -EFBIG,
		       "cannot dump pid %d: the deleted file '%s' %s holds %s of data, more than --ghost-limit lets an image keep (%s); raise --ghost-limit to save it",
		       m->pid, name, where, have, lim);
}

/*
 * A memfd: not one of hugetlbfs (its pages are huge pages, which a restore
 * would have to find), and its seals.
 */
static int memfd_of(struct mapped *m, int fd, const char *name, const char *where,
		    struct ghost_file *meta)
{
	struct statfs sf;
	int seals;

	if (fstatfs(fd, &sf) == 0 && sf.f_type == HUGETLBFS_MAGIC)
		return sd_refuse(m->ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: the memfd '%s' %s is a hugetlb one (MFD_HUGETLB), not supported yet",
			       m->pid, name + strlen("/memfd:"), where);
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return sd_err(m->ctx, -errno, "cannot read the seals of the memfd '%s'", name);
	meta->has_seals = true;
	meta->seals = (uint32_t)seals;
	return 0;
}

/*
 * The deleted file open at @fd (our own open of it, @st its stat, @path as
 * /proc shows it): checked against the limit, and at a final dump saved
 * (once, whoever else maps or holds it); its id in *@ret_id (0: a pre-dump).
 */
static int save_file(struct mapped *m, int fd, const struct stat *st, const char *path,
		     const char *where, uint32_t *ret_id)
{
	struct ghost_file meta = {
		.path = (char *)path,
		.size = S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size,
		.mode = st->st_mode,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.dev_major = major(st->st_dev),
		.dev_minor = minor(st->st_dev),
		.ino = st->st_ino,
	};
	char name[4096];
	int r = 0;

	const struct tree_obj *first;

	name_of(path, name, sizeof(name));
	if (m->w) {
		*ret_id = sd_ghost_writer_find(m->w, meta.dev_major, meta.dev_minor, meta.ino);
		if (*ret_id)
			return 0;
	}
	first = sd_tree_obj_find(m->tree, true, meta.dev_major, meta.dev_minor, meta.ino);
	if (first)
		meta.shared_pid = first->pid; /* its data: the first member's */
	if (S_ISREG(st->st_mode) && !strncmp(name, "/memfd:", strlen("/memfd:")))
		r = memfd_of(m, fd, name, where, &meta);
	if (r == 0 && S_ISREG(st->st_mode) && !first)
		r = check_limit(m, name, where, fd, meta.size);
	if (r < 0 || !m->final)
		return r; /* a pre-dump saves no contents, but refuses what the dump would */
	if (!m->w) {
		unsigned int nthreads = m->o->threads;
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		if (!nthreads)
			nthreads = ncpu > 0 ? (unsigned int)ncpu : 1;
		r = sd_ghost_writer_new(m->ctx, m->dir, nthreads,
				     m->o->compress_level ? m->o->compress_level : -1, &m->w);
		if (r < 0)
			return r;
	}
	/* the limit again: had the file grown since, it is not read past it */
	r = sd_ghost_writer_add(m->w, fd, &meta, m->limit, ret_id);
	if (r == -EFBIG)
		r = check_limit(m, name, where, fd, meta.size);
	if (r == 0 && !*ret_id)
		r = sd_errx(m->ctx, -EIO, "cannot save the deleted file '%s': it changed while being saved",
			    name);
	if (r < 0)
		return r;
	if (first) {
		pr_debug(m->ctx, "the deleted file '%s' %s is ghost %u, saved by pid %d", name, where, *ret_id,
			 first->pid);
		return 0;
	}
	m->saved++;
	m->saved_bytes += meta.size;
	pr_debug(m->ctx, "the deleted file '%s' %s saved as ghost %u", name, where, *ret_id);
	return 0;
}

/*
 * An aio ring (io_setup): the kernel's, shown as "/[aio] (deleted)" of its
 * internal mount, whose context (the ring's address), requests and events
 * a restore cannot make again as they were.
 */
/* A file mapped again by its path at the restore: as check_reachable() of dump_files.c. */
static int check_reachable(struct mapped *m, const struct vma *v)
{
	int h = sd_fs_path_hidden(v->path, v->dev_major, v->dev_minor, v->ino);

	if (h == 0)
		return 0;
	return sd_refuse(m->ctx, -EOPNOTSUPP,
			 "cannot dump pid %d: its mapping at 0x%" PRIx64 "-0x%" PRIx64 " is of '%s', whose path leads %s now (a mount over it or a directory of its path hides it): a restore could not map it; unmount what hides it before the dump",
			 m->pid, v->start, v->end, v->path, h == 1 ? "nowhere" : "to another file");
}

static bool is_aio_ring(const struct vma *v)
{
	return v->kind == VK_FILE_SHARED && v->dev_major == 0 && v->path &&
	       !strcmp(v->path, "/[aio] (deleted)");
}

static int refuse_aio(struct mapped *m, const struct vma *v)
{
	return sd_refuse(m->ctx, -EOPNOTSUPP,
			 "cannot dump pid %d: 0x%" PRIx64 "-0x%" PRIx64 " is the ring of an aio context (io_setup), not supported yet; destroy it (io_destroy) before the dump",
			 m->pid, v->start, v->end);
}

/*
 * A memfd sealed against writes that a member before this one has too:
 * that member makes the copy and seals it, before this one maps it again,
 * and a shared mapping that may be made writable cannot be made on a
 * sealed memfd.
 */
static int check_sealed_shared(struct mapped *m, const struct vma *v, int fd, const struct stat *st,
			       const char *name)
{
	const struct tree_obj *first;
	int seals;

	if (!v->shared || !v->may_write || !v->has_vmflags)
		return 0;
	first = sd_tree_obj_find(m->tree, true, major(st->st_dev), minor(st->st_dev), st->st_ino);
	seals = first ? fcntl(fd, F_GET_SEALS) : -1;
	if (seals < 0 || !(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		return 0;
	return sd_refuse(m->ctx, -EOPNOTSUPP,
			 "cannot dump pid %d: 0x%" PRIx64 "-0x%" PRIx64 " maps the memfd '%s' shared and writable, which is sealed against writes and which pid %d of its tree has too: not supported yet",
			 m->pid, v->start, v->end, name + strlen("/memfd:"), first->pid);
}

/* The shared anonymous objects of @vmas to look for: keys[], and the VMA of each in at[]; how many. */
static size_t shmem_keys(const struct mapped *m, const struct vma_list *vmas, struct holder_key *keys,
			 size_t *at)
{
	size_t n = 0;

	for (size_t i = 0; i < vmas->n; i++) {
		const struct vma *v = &vmas->v[i];
		bool seen = false;

		if (v->kind != VK_SHMEM || !v->path || !strncmp(v->path, "/SYSV", strlen("/SYSV")) ||
		    sd_tree_obj_find(m->tree, false, v->dev_major, v->dev_minor, v->ino))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = sd_vma_same_shmem(&vmas->v[j], v);
		if (seen)
			continue;
		keys[n] = (struct holder_key){ makedev(v->dev_major, v->dev_minor), v->ino };
		at[n++] = i;
	}
	return n;
}

/* ns_last_pid: the pid given last in our pid namespace, or -1. */
static pid_t last_pid(void)
{
	_cleanup_free_ char *buf = NULL;
	char *end;
	long v;

	if (sd_read_file(AT_FDCWD, "/proc/sys/kernel/ns_last_pid", &buf, NULL) < 0)
		return -1;
	v = strtol(buf, &end, 10);
	return end == buf || v < 0 || v > INT32_MAX ? -1 : (pid_t)v;
}

/* The thread group of task @tid, or -1 (gone). */
static pid_t tgid_of(pid_t tid)
{
	_cleanup_free_ char *buf = NULL;
	char path[PROC_PATH_MAX];
	pid_t tgid;

	if (sd_read_file(AT_FDCWD, sd_proc_path(path, tid, "status"), &buf, NULL) < 0 ||
	    sd_proc_parse_status_tgid(buf, &tgid) < 0)
		return -1;
	return tgid;
}

/* Processes made after the walk before the freeze are this many at most, else walked all again. */
#define PREWALK_NEW_PIDS_MAX 4096

/*
 * Users of @keys that may have come since the walk before the freeze
 * (struct shmem_prewalk): every process for an object it did not look
 * for, the processes made since for the others. As holder_of().
 */
static int holder_since(struct mapped *m, const struct holder_key *keys, size_t n, pid_t *ret_pid,
			size_t *ret_key)
{
	const struct shmem_prewalk *pre = m->pre;
	_cleanup_free_ struct holder_key *fresh = NULL;
	_cleanup_free_ size_t *fat = NULL;
	size_t nf = 0, k;
	pid_t now = last_pid(), self = getpid();
	int r;

	fresh = calloc(n, sizeof(*fresh));
	fat = calloc(n, sizeof(*fat));
	if (!fresh || !fat)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < pre->nkeys && !seen; j++)
			seen = pre->keys[j].dev == keys[i].dev && pre->keys[j].ino == keys[i].ino;
		if (!seen) {
			fresh[nf] = keys[i];
			fat[nf++] = i;
		}
	}
	if (nf) {
		r = holder_of(m, fresh, nf, true, ret_pid, &k);
		if (r != 0) {
			*ret_key = fat[r > 0 ? k : 0];
			return r;
		}
	}
	if (now < 0 || now < pre->last_pid || now - pre->last_pid > PREWALK_NEW_PIDS_MAX)
		return holder_of(m, keys, n, true, ret_pid, ret_key);
	for (pid_t pid = pre->last_pid + 1; pid <= now && pid > 0; pid++) {
		pid_t tgid;
		long found;

		if (pid == m->pid || pid == self)
			continue;
		tgid = tgid_of(pid);
		if (tgid <= 0 || tgid == m->pid || tgid == self)
			continue;
		found = maps_have(pid, keys, n);
		if (found >= 0) {
			*ret_pid = tgid;
			*ret_key = (size_t)found;
			return 1;
		}
	}
	return 0;
}

void sd_dump_shmem_prewalk(pid_t pid, struct shmem_prewalk *pw)
{
	_cleanup_free_ char *maps = NULL;
	char path[PROC_PATH_MAX];
	struct vma_list l = { 0 };
	struct mapped m = { .pid = pid };
	size_t *at = NULL, k;
	pid_t other;

	sd_dump_shmem_prewalk_release(pw);
	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "maps"), &maps, NULL) < 0 ||
	    sd_proc_parse_maps(maps, &l) < 0)
		goto out;
	pw->keys = calloc(l.n ? l.n : 1, sizeof(*pw->keys));
	at = calloc(l.n ? l.n : 1, sizeof(*at));
	pw->last_pid = last_pid();
	if (!pw->keys || !at || pw->last_pid < 0)
		goto out;
	pw->nkeys = shmem_keys(&m, &l, pw->keys, at);
	pw->valid = pw->nkeys == 0 || holder_of(&m, pw->keys, pw->nkeys, true, &other, &k) == 0;
out:
	free(at);
	sd_vma_list_release(&l);
}

void sd_dump_shmem_prewalk_release(struct shmem_prewalk *pw)
{
	free(pw->keys);
	*pw = (struct shmem_prewalk){ .valid = false };
}

/*
 * Shared anonymous memory another process maps too, one that is not
 * dumped with it: a restored copy would no longer share its writes. Every
 * object looked for in one walk of /proc, once (not one a member before it
 * in the tree looked for already); after a walk before the freeze, only
 * what may have changed since (struct shmem_prewalk).
 */
static int check_shmem_users(struct mapped *m, const struct vma_list *vmas)
{
	_cleanup_free_ struct holder_key *keys = NULL;
	_cleanup_free_ size_t *at = NULL;
	size_t n, k = 0;
	pid_t other = 0;
	int r;

	keys = calloc(vmas->n ? vmas->n : 1, sizeof(*keys));
	at = calloc(vmas->n ? vmas->n : 1, sizeof(*at));
	if (!keys || !at)
		return sd_err(m->ctx, -ENOMEM, "cannot dump pid %d", m->pid);
	n = shmem_keys(m, vmas, keys, at);
	if (n == 0)
		return 0;
	if (m->pre && m->pre->valid)
		r = holder_since(m, keys, n, &other, &k);
	else
		r = holder_of(m, keys, n, true, &other, &k);
	if (r < 0)
		return sd_err(m->ctx, r, "cannot look for other users of the shared memory of pid %d", m->pid);
	if (r > 0)
		return sd_refuse(m->ctx, -EOPNOTSUPP,
				 "cannot dump pid %d: its shared memory at 0x%" PRIx64 "-0x%" PRIx64 " (%s) is mapped by pid %d too, which is not dumped with it: a restored copy would no longer share its writes; dump a tree that holds both (their common parent)",
				 m->pid, vmas->v[at[k]].start, vmas->v[at[k]].end, vmas->v[at[k]].path, other);
	return 0;
}

/* One VMA of a deleted file: checked, and at a final dump its file saved (once). */
static int deleted_vma(struct mapped *m, struct vma *v)
{
	char path[PROC_PATH_MAX], name[4096], where[96];
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	sd_proc_path(path, m->pid, "map_files/%" PRIx64 "-%" PRIx64, v->start, v->end);
	name_of(v->path, name, sizeof(name));
	(void)snprintf(where, sizeof(where), "mapped%s at 0x%" PRIx64 "-0x%" PRIx64,
		       v->shared ? " shared" : "", v->start, v->end);
	/* the link opens the file itself, deleted or not */
	fd = fault_fails(FAULT_PROCREAD) ? -1 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && (errno == EPERM || errno == EACCES))
		return sd_refuse(m->ctx, -EPERM,
			       "cannot dump pid %d: 0x%" PRIx64 "-0x%" PRIx64 " maps the deleted file '%s', and reading it through /proc/%d/map_files needs CAP_CHECKPOINT_RESTORE; %s",
			       m->pid, v->start, v->end, name, m->pid, sd_root_advice("sdump"));
	if (fd < 0)
		return sd_err(m->ctx, errno == ENOENT ? -ESRCH : -errno, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0)
		return sd_err(m->ctx, -errno, "cannot stat '%s'", path);
	if (still_named(v, &st)) {
		v->deleted = false;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return sd_refuse(m->ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: 0x%" PRIx64 "-0x%" PRIx64 " maps '%s', deleted and not a regular file: not supported",
			       m->pid, v->start, v->end, name);
	v->has_file_size = true;
	v->file_size = (uint64_t)st.st_size;
	r = check_sealed_shared(m, v, fd, &st, name);
	if (r < 0)
		return r;
	if (v->shared && !(m->w && sd_ghost_writer_find(m->w, major(st.st_dev), minor(st.st_dev), st.st_ino))) {
		r = refuse_shared(m, v, &st, where);
		if (r < 0)
			return r;
	}
	return save_file(m, fd, &st, v->path, where, &v->ghost);
}

/*
 * An fd of a deleted file, a deleted directory or a memfd (a final dump's
 * fd table): saved, or found saved with the mappings of its file.
 */
static int deleted_fd(struct mapped *m, struct fd_state *d)
{
	char path[PROC_PATH_MAX], name[4096], where[32];
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	sd_proc_path(path, m->pid, "fd/%d", d->fd);
	name_of(d->path, name, sizeof(name));
	(void)snprintf(where, sizeof(where), "open as fd %d", d->fd);
	/* an open of our own: SEEK_DATA on a copy of the fd would move the process's offset */
	fd = fault_fails(FAULT_PROCREAD) ? -1 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return sd_err(m->ctx, errno == ENOENT ? -ESRCH : -errno, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0)
		return sd_err(m->ctx, -errno, "cannot stat '%s'", path);
	if (((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) != d->dev || st.st_ino != d->ino)
		return sd_errx(m->ctx, -ESRCH, "cannot dump pid %d: fd %d changed while it was frozen",
			       m->pid, d->fd);
	if (!(m->w && sd_ghost_writer_find(m->w, major(st.st_dev), minor(st.st_dev), st.st_ino))) {
		r = refuse_held(m, name, where, &st);
		if (r < 0)
			return r;
	}
	return save_file(m, fd, &st, d->path, where, &d->ghost);
}

/*
 * Shared anonymous memory that an fd or a private mapping reaches too
 * (opened through /proc/PID/map_files): one object, whose contents were
 * saved as the deleted file "/dev/zero (deleted)" for them. The VMA names
 * that file, which the restore makes as shared anonymous memory again and
 * maps it from (rst_shmem.c), so that the fd, the private mapping's pages
 * it never copied and the shared mappings still see each other's writes.
 */
static void shmem_saved(struct mapped *m, struct vma_list *vmas)
{
	for (size_t i = 0; m->w && i < vmas->n; i++) {
		struct vma *v = &vmas->v[i];

		if (v->kind == VK_SHMEM && v->path && !strncmp(v->path, "/dev/zero", strlen("/dev/zero")))
			v->ghost = sd_ghost_writer_find(m->w, v->dev_major, v->dev_minor, v->ino);
	}
}

int sd_dump_mapped_files(struct sdump_ctx *ctx, const struct sdump_dump_opts *o, bool final,
		      struct img_dir *dir, struct vma_list *vmas, struct files_state *fs,
		      const struct tree_objs *tree, const struct shmem_prewalk *pre,
		      uint64_t *bytes_written)
{
	struct mapped m = {
		.ctx = ctx,
		.o = o,
		.pid = o->pid,
		.final = final,
		.limit = o->ghost_limit ? o->ghost_limit : SDUMP_GHOST_LIMIT_DEFAULT,
		.dir = dir,
		.tree = tree,
		.pre = tree ? NULL : pre,
	};
	uint64_t size = 0;
	/* a pre-dump's once its target runs on (sd_dump_shmem_users) */
	int r = final ? check_shmem_users(&m, vmas) : 0;

	if (r == 0)
		r = sd_dump_sysv(ctx, m.pid, vmas, tree ? tree->pids : NULL, tree ? tree->npids : 0);

	for (size_t i = 0; i < vmas->n && r == 0; i++) {
		struct vma *v = &vmas->v[i];

		if (v->kind != VK_FILE && v->kind != VK_FILE_SHARED)
			continue;
		if (is_aio_ring(v)) {
			r = refuse_aio(&m, v);
			continue;
		}
		r = read_open_mode(&m, v);
		if (r == 0 && !v->deleted)
			r = check_reachable(&m, v);
		if (r == 0 && v->deleted)
			r = deleted_vma(&m, v);
	}
	for (size_t i = 0; fs && i < fs->n && r == 0; i++)
		if (fs->fds[i].kind == FDK_GHOST || fs->fds[i].kind == FDK_MEMFD)
			r = deleted_fd(&m, &fs->fds[i]);
	if (r == 0)
		shmem_saved(&m, vmas);
	if (r == 0 && m.w) {
		r = sd_ghost_writer_finish(m.w, &size);
		*bytes_written += size;
	}
	if (r == 0 && m.saved) {
		char b[32], d[32];

		sd_fmt_size(b, sizeof(b), m.saved_bytes);
		sd_fmt_size(d, sizeof(d), size);
		/* sd_log: the line starts with "dump PID", as the pass's own lines */
		sd_log(ctx, SDUMP_LOG_INFO, "dump %d: %zu deleted file%s saved (%s, %s on disk)", o->pid,
		       m.saved, m.saved == 1 ? "" : "s", b, d);
	}
	sd_ghost_writer_free(m.w);
	return r;
}

int sd_dump_shmem_users(struct sdump_ctx *ctx, pid_t pid, const struct vma_list *vmas,
		     const struct tree_objs *tree)
{
	struct mapped m = { .ctx = ctx, .pid = pid, .tree = tree };

	return check_shmem_users(&m, vmas);
}

/* Which of @keys a line of a maps file names (its "maj:min ino" fields), or -1. */
static long maps_line_has(const char *line, const struct holder_key *keys, size_t n)
{
	unsigned int maj, min;
	unsigned long long ino;

	if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &maj, &min, &ino) != 3)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (ino == (unsigned long long)keys[i].ino && maj == major(keys[i].dev) && min == minor(keys[i].dev))
			return (long)i;
	return -1;
}

/* Which of @keys the maps of @pid name, or -1. */
static long maps_have(pid_t pid, const struct holder_key *keys, size_t n)
{
	char path[PROC_PATH_MAX];
	_cleanup_free_ char *buf = NULL;
	long found = -1;

	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "maps"), &buf, NULL) < 0)
		return -1;
	for (char *line = buf; line && *line && found < 0;) {
		char *eol = strchr(line, '\n');

		if (eol)
			*eol = '\0';
		found = maps_line_has(line, keys, n);
		line = eol ? eol + 1 : NULL;
	}
	return found;
}

bool sd_proc_fds_have(pid_t pid, dev_t dev, ino_t ino)
{
	char path[PROC_PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;
	int dfd;

	d = opendir(sd_proc_path(path, pid, "fd"));
	if (!d)
		return false;
	dfd = dirfd(d);
	while (!found && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		found = fstatat(dfd, de->d_name, &st, 0) == 0 && st.st_dev == dev && st.st_ino == ino;
	}
	closedir(d);
	return found;
}

static bool skipped(pid_t pid, const pid_t *skip, size_t nskip)
{
	for (size_t i = 0; i < nskip; i++)
		if (skip[i] == pid)
			return true;
	return false;
}

static int find_holder(const struct holder_key *keys, size_t nkeys, pid_t self, const pid_t *skip,
		       size_t nskip, bool maps_only, pid_t *ret_pid, size_t *ret_key)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10), k;

		if (*end || pid <= 0 || pid == self || skipped((pid_t)pid, skip, nskip))
			continue;
		k = maps_have((pid_t)pid, keys, nkeys);
		for (size_t i = 0; k < 0 && !maps_only && i < nkeys; i++)
			if (sd_proc_fds_have((pid_t)pid, keys[i].dev, keys[i].ino))
				k = (long)i;
		if (k >= 0) {
			*ret_pid = (pid_t)pid;
			*ret_key = (size_t)k;
			r = 1;
		}
	}
	closedir(d);
	return r;
}

int sd_proc_find_holder(dev_t dev, ino_t ino, pid_t self, pid_t skip, pid_t *ret_pid)
{
	struct holder_key key = { dev, ino };
	size_t k;

	return find_holder(&key, 1, self, &skip, 1, false, ret_pid, &k);
}

int sd_proc_find_holder_outside(dev_t dev, ino_t ino, const pid_t *skip, size_t nskip, pid_t *ret_pid)
{
	struct holder_key key = { dev, ino };
	size_t k;

	return find_holder(&key, 1, getpid(), skip, nskip, false, ret_pid, &k);
}
