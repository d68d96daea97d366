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

int sd_mig_send_dir(struct mig_conn *c, const char *dir, pid_t pid)
{
	_cleanup_free_ uint8_t *buf = malloc(CHUNK);
	char **names = NULL;
	size_t n = 0;
	uint64_t total = 0, done = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return sd_err(c->ctx, -errno, "cannot open '%s'", dir);
	while ((de = readdir(d))) {
		char **nn;

		struct stat st;

		if (de->d_type != DT_REG)
			continue; /* ".", "..", and the parent link: the receiver makes its own */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			total += (uint64_t)st.st_size;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			r = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	if (r == 0)
		qsort(names, n, sizeof(*names), cmp_names);
	sd_progress_begin(c->ctx, "migrate", "send", pid, total / PAGE_UNIT, PAGE_UNIT);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = send_file(c, dirfd(d), dir, names[i], buf, &done);
	sd_progress_end(c->ctx);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

static int recv_file(struct mig_conn *c, int dirfd, const char *path, const uint8_t *msg, size_t len,
		     uint8_t *buf, uint64_t *bytes)
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
		left -= n;
	}
	if (r == 0 && (fault_fails(FAULT_WRITE) || fsync(fd) < 0))
		r = sd_err(c->ctx, -errno, "cannot write '%s/%s'", path, name);
	close(fd);
	*bytes += size;
	return r;
}

int sd_mig_recv_files(struct mig_conn *c, int dirfd, const char *path, uint64_t *ret_bytes)
{
	_cleanup_free_ uint8_t *buf = malloc(CHUNK);
	uint8_t msg[MIG_MSG_MAX];
	enum mig_msg type;
	uint64_t bytes = 0;
	size_t len;
	int r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		r = sd_mig_recv_msg(c, &type, msg, &len);
		if (r < 0)
			return r;
		if (type == MIG_PASS_END)
			break;
		if (type == MIG_FILE_HEAD && c->pages_later)
			r = sd_mig_lazy_recv_head(c, dirfd, path, msg, len, &bytes);
		else if (type != MIG_FILE)
			return sd_errx(c->ctx, -EPROTO, "%s sent message %d inside a pass", c->peer, type);
		else
			r = recv_file(c, dirfd, path, msg, len, buf, &bytes);
		if (r < 0)
			return r;
	}
	*ret_bytes = bytes;
	return 0;
}

void sd_mig_remove_pass(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	(void)rmdir(dir);
}
