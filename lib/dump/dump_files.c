/* SPDX-License-Identifier: MIT */
/* The fd table at the final dump, and what the dump cannot take yet. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "compat.h"
#include "dump_state.h"
#include "util.h"

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Terminals: the pty slaves (136-143), the virtual consoles and /dev/tty (4, 5). */
static bool is_tty(dev_t rdev)
{
	unsigned int maj = major(rdev);

	return (maj >= 136 && maj <= 143) || maj == 4 || (maj == 5 && minor(rdev) <= 1);
}

int state_check_supported(struct sdump_ctx *ctx, pid_t pid, const struct seized *s)
{
	for (size_t i = 0; i < s->n; i++) {
		_cleanup_free_ char *kids = NULL;
		char path[64];

		(void)snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, s->t[i].tid);
		if (read_file(AT_FDCWD, path, &kids, NULL) == 0 && kids[0] && kids[0] != '\n')
			return sd_errx(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: it has child processes (%.*s); process trees are not supported yet",
				       pid, (int)strcspn(kids, " \n"), kids);
	}
	return attrs_check_supported(ctx, pid, s);
}

/* Key=value lines of /proc/PID/fdinfo/N. */
static int parse_fdinfo(const char *buf, uint64_t *ret_pos, uint32_t *ret_flags)
{
	const char *p = strstr(buf, "pos:"), *f = strstr(buf, "flags:");

	if (!p || !f)
		return -EBADMSG;
	*ret_pos = strtoull(p + 4, NULL, 10);
	*ret_flags = (uint32_t)strtoul(f + 6, NULL, 8);
	return 0;
}

/*
 * The bytes buffered in a pipe, copied without consuming them: tee() from
 * our copy of its read end into a pipe of ours as large.
 */
static int peek_pipe(int rfd, uint8_t **ret, size_t *ret_len)
{
	int p[2], size = fcntl(rfd, F_GETPIPE_SZ), r = 0;
	uint8_t *buf;
	ssize_t n, got = 0;

	if (size < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	if (fcntl(p[1], F_SETPIPE_SZ, size) < 0) {
		r = -errno;
		goto out;
	}
	buf = malloc((size_t)size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	n = tee(rfd, p[1], (size_t)size, SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN) {
		r = -errno;
		free(buf);
		goto out;
	}
	while (n > 0 && got < n) {
		ssize_t k = read(p[0], buf + got, (size_t)(n - got));

		if (k <= 0)
			break;
		got += k;
	}
	*ret = buf;
	*ret_len = (size_t)got;
out:
	(void)close(p[0]);
	(void)close(p[1]);
	return r;
}

static int add_fd_one(struct sdump_ctx *ctx, pid_t pid, int pidfd, int fd, struct files_state *fs)
{
	struct fd_state *d;
	_cleanup_free_ char *info = NULL;
	char path[64], link[PATH_MAX];
	struct stat st;
	ssize_t n;
	int r;

	d = &fs->fds[fs->n];
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	(void)snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : sd_err(ctx, -errno, "cannot read '%s'", path);
	link[n] = '\0';
	d->path = strdup(link);
	if (!d->path)
		return -ENOMEM;
	if (stat(path, &st) < 0)
		return sd_err(ctx, -errno, "cannot stat fd %d of pid %d", fd, pid);
	(void)snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	r = read_file(AT_FDCWD, path, &info, NULL);
	if (r < 0 || parse_fdinfo(info, &d->pos, &d->flags) < 0)
		return sd_err(ctx, r < 0 ? r : -EBADMSG, "cannot read '%s'", path);
	/* devices as mm.img has them: major << 32 | minor */
	d->dev = (uint64_t)major(st.st_dev) << 32 | minor(st.st_dev);
	d->ino = st.st_ino;
	d->size = (uint64_t)st.st_size;
	d->mode = st.st_mode;
	d->rdev = (uint64_t)major(st.st_rdev) << 32 | minor(st.st_rdev);

	if (S_ISSOCK(st.st_mode))
		return sd_errx(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is a socket (%s), not supported yet",
			       pid, fd, d->path);
	if (has_prefix(d->path, "anon_inode:")) {
		char kind[64];
		const char *k = d->path + strlen("anon_inode:");

		/* "[eventpoll]" is what people call an epoll fd */
		(void)snprintf(kind, sizeof(kind), "%.*s", (int)strcspn(k + (k[0] == '['), "]"),
			       k + (k[0] == '['));
		if (!strcmp(kind, "eventpoll"))
			(void)snprintf(kind, sizeof(kind), "epoll");
		return sd_errx(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is %s %s fd (%s), not supported yet",
			       pid, fd, strchr("aeiou", kind[0]) ? "an" : "a", kind, d->path);
	}
	/* nsfs, pidfs and the like look like files but have no path to reopen */
	if ((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) && d->path[0] != '/')
		return sd_errx(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is a special file (%s), not supported yet",
			       pid, fd, d->path);
	if (S_ISCHR(st.st_mode) && ((major(st.st_rdev) == 5 && minor(st.st_rdev) == 2) ||
				    (major(st.st_rdev) >= 128 && major(st.st_rdev) <= 135)))
		return sd_errx(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d is a pty master (%s), not supported yet",
			       pid, fd, d->path);
	/* reopened by path at restore: a path that is gone cannot be */
	if (d->path[0] == '/') {
		size_t len = strlen(d->path);

		if (st.st_nlink == 0 || (len > 10 && !strcmp(d->path + len - 10, " (deleted)")))
			return sd_errx(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: fd %d is a deleted file (%s), not supported yet",
				       pid, fd, d->path);
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		d->kind = S_ISREG(st.st_mode) ? FDK_FILE : FDK_DIR;
	} else if (S_ISCHR(st.st_mode)) {
		d->kind = is_tty(st.st_rdev) ? FDK_TTY : FDK_CHR;
	} else if (S_ISFIFO(st.st_mode)) {
		d->kind = has_prefix(d->path, "pipe:") ? FDK_PIPE : FDK_FIFO;
	} else {
		return sd_errx(ctx, -EOPNOTSUPP, "cannot dump pid %d: fd %d (%s) is of a kind not supported yet",
			       pid, fd, d->path);
	}

	/* the buffered bytes of a pipe, once, from a read end */
	if ((d->kind == FDK_PIPE || d->kind == FDK_FIFO) && (d->flags & O_ACCMODE) != O_WRONLY) {
		bool seen = false;

		for (size_t i = 0; i < fs->n; i++)
			if (fs->fds[i].has_pipe_data && fs->fds[i].ino == d->ino)
				seen = true;
		if (!seen) {
			int copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);

			if (copy < 0)
				return sd_err(ctx, -errno, "cannot take fd %d of pid %d", fd, pid);
			r = peek_pipe(copy, &d->pipe_data, &d->pipe_data_len);
			(void)close(copy);
			if (r < 0)
				return sd_err(ctx, r, "cannot read the pipe of fd %d of pid %d", fd, pid);
			d->has_pipe_data = true;
		}
	}
	fs->n++;
	return 0;
}

/* One fd into fs->fds[fs->n]; what a failure or a vanished fd leaves there is freed. */
static int add_fd(struct sdump_ctx *ctx, pid_t pid, int pidfd, int fd, struct files_state *fs)
{
	size_t n = fs->n;
	int r = add_fd_one(ctx, pid, pidfd, fd, fs);

	if (fs->n == n) {
		zfree(&fs->fds[n].path);
		zfree(&fs->fds[n].pipe_data);
	}
	return r;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int files_collect(struct sdump_ctx *ctx, pid_t pid, int pidfd, int skip_fd,
		  struct files_state *ret_fs)
{
	struct files_state fs = { 0 };
	int *fds = NULL, r = 0;
	size_t nfds = 0, cap = 0;
	struct dirent *de;
	char path[64];
	DIR *d;

	(void)snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return sd_err(ctx, -errno, "cannot list '%s'", path);
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (de->d_name[0] == '.' || *end || fd == skip_fd)
			continue;
		if (nfds == cap) {
			int *nf = realloc(fds, (cap = cap ? cap * 2 : 64) * sizeof(*nf));

			if (!nf) {
				r = -ENOMEM;
				break;
			}
			fds = nf;
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
		r = add_fd(ctx, pid, pidfd, fds[i], &fs);
	free(fds);
	if (r < 0) {
		files_state_release(&fs);
		return r == -ENOMEM ? sd_err(ctx, r, "cannot list the fds of pid %d", pid) : r;
	}
	*ret_fs = fs;
	return 0;
}

