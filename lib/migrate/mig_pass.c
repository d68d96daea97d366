/* SPDX-License-Identifier: MIT */
/* A pass on the wire: its files as they are on disk, sent and received. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "ctx.h"
#include "fault.h"
#include "img_files.h"
#include "util.h"
#include "mig_net.h"
#include "mig_pass.h"
#include "mig_lazy.h"
#include "ptree.h"

#define CHUNK (1u << 20)
/* the progress line counts pages: the bytes sent, in pages */
#define PAGE_UNIT 4096u
/* A file larger than this is no file of a pass (pages.img of 16 TiB of memory) */
#define FILE_MAX (16ull << 40)

static int cmp_names(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	/* inventory.img last: it is what makes a directory an image */
	if (!strcmp(x, "inventory.img") || !strcmp(y, "inventory.img"))
		return !strcmp(x, "inventory.img") - !strcmp(y, "inventory.img");
	return strcmp(x, y);
}

static int send_file(struct mig_conn *c, int dirfd, const char *dir, const char *name, uint8_t *buf,
		     uint64_t *done)
{
	struct stat st;
	uint8_t msg[8 + IMG_NAME_MAX];
	size_t nl = strlen(name);
	uint64_t left;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = sd_err(c->ctx, -errno, "cannot read '%s/%s'", dir, name);
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (c->pages_later && !strcmp(name, "pages.img")) {
		r = sd_mig_lazy_send_head(c, fd, dir, name, (uint64_t)st.st_size);
		close(fd);
		return r;
	}
	put_le64(msg, (uint64_t)st.st_size);
	memcpy(msg + 8, name, nl);
	r = sd_mig_send_msg(c, MIG_FILE, msg, 8 + nl);
	for (left = (uint64_t)st.st_size; r == 0 && left > 0;) {
		ssize_t n = read(fd, buf, MIN(left, CHUNK));

		if (n <= 0) {
			r = n < 0 ? sd_err(c->ctx, -errno, "cannot read '%s/%s'", dir, name)
				  : sd_errx(c->ctx, -EIO, "'%s/%s' shrank while it was sent", dir, name);
			break;
		}
		r = sd_mig_send(c, buf, (size_t)n);
		left -= (uint64_t)n;
		*done += (uint64_t)n;
		sd_progress_update(c->ctx, *done / PAGE_UNIT);
	}
	close(fd);
	return r;
}

/* "pid-N", N a pid as sd_tree_dir_name() writes it: a tree member's pass directory. */
static bool member_name(const char *name)
{
	char buf[TREE_DIR_NAME_MAX];
	size_t n = strncmp(name, "pid-", 4) ? 0 : strspn(name + 4, "0123456789");
	long pid = n > 0 && n < 8 && !name[4 + n] ? strtol(name + 4, NULL, 10) : 0;

	return pid > 0 && !strcmp(sd_tree_dir_name((pid_t)pid, buf), name);
}

struct names {
	char **v;
	size_t n;
};

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	*nm = (struct names){ 0 };
}

/*
 * The regular files of directory @dfd (or, @dirs, its tree members' pass
 * directories), sorted, inventory.img last; the files' size added to *total.
 * The parent link is no file: the receiver makes its own.
 */
static int list_dir(struct mig_conn *c, int dfd, const char *path, bool dirs, struct names *nm,
		    uint64_t *total)
{
	struct dirent *de;
	DIR *d;
	int fd = dup(dfd), r = 0;

	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		r = sd_err(c->ctx, -errno, "cannot open '%s'", path);
		if (fd >= 0)
			close(fd);
		return r;
	}
	/* a dup shares its offset with @dfd, which another listing may have read to its end */
	rewinddir(d);
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		char **nn;

		if (dirs ? de->d_type != DT_DIR || !member_name(de->d_name) : de->d_type != DT_REG)
			continue;
		if (!dirs && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			*total += (uint64_t)st.st_size;
		nn = realloc(nm->v, (nm->n + 1) * sizeof(*nm->v));
		if (nn)
			nm->v = nn;
		if (!nn || !(nm->v[nm->n] = strdup(de->d_name)))
			r = -ENOMEM;
		else
			nm->n++;
	}
	closedir(d);
	if (r == 0)
		qsort(nm->v, nm->n, sizeof(*nm->v), cmp_names);
	return r;
}

/* A tree member's directory: MIG_DIR (whether it has a parent pass, its name), then its files. */
static int send_member(struct mig_conn *c, int dirfd, const char *dir, const char *name,
		       const struct names *files, uint8_t *buf, uint64_t *done)
{
	uint8_t msg[8 + TREE_DIR_NAME_MAX];
	char path[PATH_MAX];
	struct stat st;
	size_t nl;
	int fd, r = 0;

	/* never NULL: said for the compiler, whose sanitizer build warns of a NULL %s */
	if (!dir || !name)
		return -EINVAL;
	nl = strlen(name);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sd_err(c->ctx, -errno, "cannot open '%s'", path);
	put_le32(msg, fstatat(fd, "parent", &st, AT_SYMLINK_NOFOLLOW) == 0 ? MIG_DIR_PARENT : 0);
	memcpy(msg + 4, name, nl);
	r = sd_mig_send_msg(c, MIG_DIR, msg, 4 + nl);
	for (size_t i = 0; r == 0 && i < files->n; i++)
		r = send_file(c, fd, path, files->v[i], buf, done);
	close(fd);
	return r;
}

int sd_mig_send_dir(struct mig_conn *c, const char *dir, pid_t pid)
{
	_cleanup_free_ uint8_t *buf = malloc(CHUNK);
	struct names top = { 0 }, members = { 0 }, *mfiles = NULL;
	uint64_t total = 0, done = 0;
	uint8_t msg[4] = { 0 };
	int dfd, r;

	if (!buf)
		return -ENOMEM;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sd_err(c->ctx, -errno, "cannot open '%s'", dir);
	r = list_dir(c, dfd, dir, false, &top, &total);
	if (r == 0)
		r = list_dir(c, dfd, dir, true, &members, &total);
	if (r == 0 && members.n && !(mfiles = calloc(members.n, sizeof(*mfiles))))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < members.n; i++) {
		char path[PATH_MAX];
		int fd = openat(dfd, members.v[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		(void)snprintf(path, sizeof(path), "%s/%s", dir, members.v[i]);
		r = fd < 0 ? sd_err(c->ctx, -errno, "cannot open '%s'", path)
			   : list_dir(c, fd, path, false, &mfiles[i], &total);
		if (fd >= 0)
			close(fd);
	}
	/* a tree's members first, each in its directory, then its top (tree.img, its commit) */
	sd_progress_begin(c->ctx, "migrate", "send", pid, total / PAGE_UNIT, PAGE_UNIT);
	for (size_t i = 0; r == 0 && i < members.n; i++)
		r = send_member(c, dfd, dir, members.v[i], &mfiles[i], buf, &done);
	if (r == 0 && members.n)
		r = sd_mig_send_msg(c, MIG_DIR, msg, 4);
	for (size_t i = 0; r == 0 && i < top.n; i++)
		r = send_file(c, dfd, dir, top.v[i], buf, &done);
	sd_progress_end(c->ctx);
	for (size_t i = 0; mfiles && i < members.n; i++)
		names_free(&mfiles[i]);
	free(mfiles);
	names_free(&members);
	names_free(&top);
	close(dfd);
	return r;
}

int sd_mig_sync_now(struct mig_conn *c, struct mig_unsynced *u)
{
	int r = 0;

	for (size_t i = 0; i < u->n; i++) {
		if (r == 0 && (fault_fails(FAULT_WRITE) || fsync(u->fd[i]) < 0))
			r = sd_err(c->ctx, -errno, "cannot write a file of '%s'", u->path);
		close(u->fd[i]);
	}
	u->n = 0;
	return r;
}

void sd_mig_sync_drop(struct mig_unsynced *u)
{
	for (size_t i = 0; i < u->n; i++)
		close(u->fd[i]);
	u->n = 0;
}

int sd_mig_sync_later(struct mig_conn *c, struct mig_unsynced *u, int fd, const char *path)
{
	int r = 0;

	if (u->n == MIG_UNSYNCED_MAX)
		r = sd_mig_sync_now(c, u);
	if (!u->n)
		(void)snprintf(u->path, sizeof(u->path), "%s", path);
	u->fd[u->n++] = fd;
	return r;
}

static int recv_file(struct mig_conn *c, int dirfd, const char *path, const uint8_t *msg, size_t len,
		     uint8_t *buf, uint64_t *bytes, struct mig_unsynced *u)
{
	char name[IMG_NAME_MAX];
	enum img_file f;
	uint64_t size, left;
	int fd, r = 0;

	if (len < 9 || len - 8 >= sizeof(name))
		return sd_errx(c->ctx, -EPROTO, "%s sent a file with a bad name", c->peer);
	size = get_le64(msg);
	memcpy(name, msg + 8, len - 8);
	name[len - 8] = '\0';
	/* only the files an image has: no path, no link, nothing else */
	if (strlen(name) != len - 8 || sd_imgfile_lookup(name, &f) < 0)
		return sd_errx(c->ctx, -EPROTO, "%s sent a file '%.*s' that no image has", c->peer,
			       (int)strcspn(name, "\n"), name);
	if (size > FILE_MAX)
		return sd_errx(c->ctx, -EPROTO, "%s sent '%s' of %" PRIu64 " bytes: too large", c->peer,
			       name, size);
	fd = fault_fails(FAULT_OPEN) ? -1 :
		openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sd_err(c->ctx, errno == EEXIST ? -EPROTO : -errno, "cannot create '%s/%s'%s", path,
			      name, errno == EEXIST ? " (sent twice)" : "");
	for (left = size; left > 0;) {
		size_t n = (size_t)MIN(left, CHUNK);

		r = sd_mig_recv(c, buf, n);
		if (r < 0)
			break;
		if (fault_fails(FAULT_WRITE) || sd_write_all(fd, buf, n) < 0) {
			r = sd_err(c->ctx, -errno, "cannot write '%s/%s'", path, name);
			break;
		}
		/* a hint: the fsync at the pass's end reports what fails */
		(void)sync_file_range(fd, (off_t)(size - left), (off_t)n, SYNC_FILE_RANGE_WRITE);
		left -= n;
	}
	*bytes += size;
	if (r < 0) {
		close(fd);
		return r;
	}
	return sd_mig_sync_later(c, u, fd, path);
}

/*
 * MIG_DIR: the files after it go into the tree member's directory it
 * names, made here (new), or, its name empty, into the pass's top again.
 * A member whose pass has a parent gets its link, made here: the same
 * member's pass in the pass before (../../PREV/pid-N), or the pass before
 * itself when that was of this one process alone (../../PREV).
 */
static int recv_dir(struct mig_conn *c, int dirfd, const char *path, const char *prev,
		    const uint8_t *msg, size_t len, int *curfd, char *cur, size_t cursize,
		    struct mig_unsynced *u)
{
	char name[TREE_DIR_NAME_MAX], link[PATH_MAX];
	struct stat st;
	int fd;

	if (*curfd != dirfd) {
		/* the member before: its directory's entries made durable with its files */
		int e = sd_mig_sync_later(c, u, *curfd, cur);

		*curfd = dirfd;
		if (e < 0)
			return e;
	}
	(void)snprintf(cur, cursize, "%s", path);
	if (len < 4 || len - 4 >= sizeof(name))
		return sd_errx(c->ctx, -EPROTO, "%s sent a directory with a bad name", c->peer);
	memcpy(name, msg + 4, len - 4);
	name[len - 4] = '\0';
	if (len == 4)
		return 0;
	if (strlen(name) != len - 4 || !member_name(name))
		return sd_errx(c->ctx, -EPROTO, "%s sent a directory '%.*s' that no image has", c->peer,
			       (int)strcspn(name, "\n"), name);
	if (mkdirat(dirfd, name, 0700) < 0)
		return sd_err(c->ctx, errno == EEXIST ? -EPROTO : -errno, "cannot make '%s/%s'%s", path,
			      name, errno == EEXIST ? " (sent twice)" : "");
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sd_err(c->ctx, -errno, "cannot open '%s/%s'", path, name);
	*curfd = fd;
	(void)snprintf(cur, cursize, "%s/%s", path, name);
	if (!(get_le32(msg) & MIG_DIR_PARENT))
		return 0;
	if (!prev)
		return sd_errx(c->ctx, -EPROTO, "%s sent '%s' with a parent in the first pass", c->peer, name);
	(void)snprintf(link, sizeof(link), "../%s/%s", prev, name);
	if (fstatat(dirfd, link, &st, AT_SYMLINK_NOFOLLOW) == 0)
		(void)snprintf(link, sizeof(link), "../../%s/%s", prev, name);
	else
		(void)snprintf(link, sizeof(link), "../../%s", prev);
	if (symlinkat(link, fd, "parent") < 0)
		return sd_err(c->ctx, -errno, "cannot link '%s/parent'", cur);
	return 0;
}

int sd_mig_recv_files(struct mig_conn *c, int dirfd, const char *path, const char *prev,
		      struct mig_unsynced *u, uint64_t *ret_bytes)
{
	_cleanup_free_ uint8_t *buf = malloc(CHUNK);
	uint8_t msg[MIG_MSG_MAX];
	char cur[PATH_MAX];
	enum mig_msg type;
	uint64_t bytes = 0;
	size_t len;
	int curfd = dirfd, r = 0;

	if (!buf)
		return -ENOMEM;
	(void)snprintf(cur, sizeof(cur), "%s", path);
	while (r == 0) {
		r = sd_mig_recv_msg(c, &type, msg, &len);
		if (r < 0 || type == MIG_PASS_END)
			break;
		if (type == MIG_DIR)
			r = recv_dir(c, dirfd, path, prev, msg, len, &curfd, cur, sizeof(cur), u);
		else if (type == MIG_FILE_HEAD && c->pages_later)
			r = sd_mig_lazy_recv_head(c, curfd, cur, msg, len, &bytes);
		else if (type != MIG_FILE)
			r = sd_errx(c->ctx, -EPROTO, "%s sent message %d inside a pass", c->peer, type);
		else
			r = recv_file(c, curfd, cur, msg, len, buf, &bytes, u);
	}
	if (curfd != dirfd) {
		int e = sd_mig_sync_later(c, u, curfd, cur);

		r = r < 0 ? r : e;
	}
	if (r == 0)
		*ret_bytes = bytes;
	return r;
}

void sd_mig_remove_pass(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* a tree member's pass, one level down (never a link followed: the parent link is unlinked) */
		if (de->d_type == DT_DIR && member_name(de->d_name) &&
		    snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) < (int)sizeof(sub))
			sd_mig_remove_pass(sub);
		else
			(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	(void)rmdir(dir);
}
