/* SPDX-License-Identifier: MIT */
/* The table of fd kinds of the final dump, the lookup in it, and the collectors of the kinds' own data. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "compat.h"
#include "dump_fd_anon.h"
#include "dump_fd_kinds.h"
#include "dump_fd_sock.h"
#include "dump_state.h"
#include "util.h"

/* nsfs, pidfs and the like look like files but have no path to reopen */
int sd_fd_probe_take(struct sdump_ctx *ctx, const struct fd_probe *p)
{
	int copy = (int)syscall(SYS_pidfd_getfd, p->pidfd, p->fd, 0);

	if (copy < 0)
		return sd_err(ctx, -errno, "cannot take fd %d of pid %d", p->fd, p->pid);
	return copy;
}

int sd_fd_probe_queued(struct sdump_ctx *ctx, const struct fd_probe *p, const char *what, int *ret)
{
	int copy = sd_fd_probe_take(ctx, p), r;

	if (copy < 0)
		return copy;
	*ret = 0;
	r = ioctl(copy, FIONREAD, ret) < 0 ? -errno : 0;
	(void)close(copy);
	if (r < 0)
		return sd_err(ctx, r, "cannot read the queue of %s %d of pid %d", what, p->fd, p->pid);
	return 0;
}

static bool is_special_file(const struct fd_probe *p)
{
	return (S_ISREG(p->st->st_mode) || S_ISDIR(p->st->st_mode)) && p->path[0] != '/';
}

/* /dev/ptmx (5:2) and the BSD-style pty masters (majors 128-135) */
static bool is_pty_master(const struct fd_probe *p)
{
	unsigned int maj = major(p->st->st_rdev);

	return (maj == 5 && minor(p->st->st_rdev) == 2) || (maj >= 128 && maj <= 135);
}

/* reopened by path at restore: a path that is gone cannot be */
static bool is_deleted(const struct fd_probe *p)
{
	size_t len = strlen(p->path);

	if (p->path[0] != '/')
		return false;
	return p->st->st_nlink == 0 || (len > 10 && !strcmp(p->path + len - 10, " (deleted)"));
}

/*
 * A file whose last name went (the dump saves its contents): a regular file
 * or a directory with no link left. One still linked elsewhere is refused
 * as a deleted file (a copy would no longer be that file).
 */
static bool is_ghost(const struct fd_probe *p)
{
	return is_deleted(p) && p->st->st_nlink == 0;
}

/* A memfd: "/memfd:NAME (deleted)", never linked. */
static bool is_memfd(const struct fd_probe *p)
{
	return is_ghost(p) && !strncmp(p->path, "/memfd:", strlen("/memfd:"));
}

/* Terminals: the pty slaves (136-143), the virtual consoles and /dev/tty (4, 5). */
static bool is_tty(const struct fd_probe *p)
{
	unsigned int maj = major(p->st->st_rdev);

	return (maj >= 136 && maj <= 143) || maj == 4 || (maj == 5 && minor(p->st->st_rdev) <= 1);
}

/* A pty slave whose master was closed: hung up, its /dev/pts node gone with the pty's number. */
static bool is_hungup_pts(const struct fd_probe *p)
{
	unsigned int maj = major(p->st->st_rdev);

	return is_deleted(p) && maj >= 136 && maj <= 143;
}

/*
 * A file of /proc/PID of a process the dump does not take: a restore could
 * not open it again (that process is not restored). The process's own, and
 * a tree member's, are opened again once the process exists.
 */
static bool is_proc_of_other(const struct fd_probe *p)
{
	char *end;
	long pid;

	if (strncmp(p->path, "/proc/", 6) != 0)
		return false;
	pid = strtol(p->path + 6, &end, 10);
	if (end == p->path + 6 || (*end != '/' && *end) || pid == p->pid)
		return false;
	return !sd_fd_probe_tree_has(p, (pid_t)pid);
}

bool sd_fd_probe_tree_has(const struct fd_probe *p, pid_t pid)
{
	for (size_t i = 0; p->tree && i < p->tree->nmembers; i++)
		if (p->tree->members[i] == pid)
			return true;
	return false;
}

static int collect_pipe_data(struct sdump_ctx *ctx, const struct fd_probe *p,
			     const struct files_state *done, struct fd_state *d);

/* A namespace fd: "net:[4026531840]", a file of nsfs (a regular file), by the kinds nsfs names. */
static bool is_ns(const struct fd_probe *p)
{
	static const char *const types[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };
	size_t name = strcspn(p->path, ":");

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strlen(types[i]) == name && !strncmp(p->path, types[i], name) && p->path[name + 1] == '[' &&
		    strspn(p->path + name + 2, "0123456789") + name + 3 == strlen(p->path) &&
		    p->path[strlen(p->path) - 1] == ']')
			return true;
	return false;
}

/* An O_PATH fd of a file with a path (a symlink opened O_NOFOLLOW, a socket file). */
static bool is_opath(const struct fd_probe *p)
{
	return p->path[0] == '/' && (p->flags & O_PATH) && !is_deleted(p);
}

/*
 * A FIFO, a device node or a symlink, open after its last name went: made
 * again at its path by the restore, opened and removed; a FIFO's bytes are
 * kept as a pipe's.
 */
static int collect_node(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
			struct fd_state *d)
{
	int r = S_ISFIFO(p->st->st_mode) ? collect_pipe_data(ctx, p, done, d) : 0;

	return r < 0 ? r : sd_dump_node(ctx, p, done, d);
}

/* A pipe links to "pipe:[INODE]"; a FIFO to its path. */
static bool is_pipe(const struct fd_probe *p)
{
	return strncmp(p->path, "pipe:", strlen("pipe:")) == 0;
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

/* Pipes and FIFOs: the buffered bytes, once per pipe, from its first read end. */
static int collect_pipe_data(struct sdump_ctx *ctx, const struct fd_probe *p,
			     const struct files_state *done, struct fd_state *d)
{
	int copy, size, r = 0;

	/* an O_PATH fd of a FIFO holds none of its bytes, and does not open it */
	if (d->flags & O_PATH)
		return 0;
	copy = sd_fd_probe_take(ctx, p);
	if (copy < 0)
		return copy;
	size = fcntl(copy, F_GETPIPE_SZ);
	if (size < 0)
		r = -errno;
	d->pipe_size = size > 0 ? (uint32_t)size : 0;
	for (size_t i = 0; r == 0 && i < done->n; i++)
		if (done->fds[i].has_pipe_data && done->fds[i].ino == d->ino)
			goto out;
	if (r == 0 && (d->flags & O_ACCMODE) == O_WRONLY)
		goto out;
	if (r == 0)
		r = peek_pipe(copy, &d->pipe_data, &d->pipe_data_len);
	if (r == 0)
		d->has_pipe_data = true;
out:
	(void)close(copy);
	if (r < 0)
		return sd_err(ctx, r, "cannot read the pipe of fd %d of pid %d", p->fd, p->pid);
	return 0;
}

/*
 * A terminal's settings, read through our copy of the fd: termios and the
 * window size belong to the terminal, and reading them is no job-control
 * operation, so the process's session does not matter.
 */
static int collect_tty(struct sdump_ctx *ctx, const struct fd_probe *p,
		       const struct files_state *done, struct fd_state *d)
{
	struct termios t;
	struct winsize ws;
	int copy, r = 0;

	(void)done;
	/* an O_PATH fd is no open terminal */
	if (d->flags & O_PATH)
		return 0;
	copy = sd_fd_probe_take(ctx, p);
	if (copy < 0)
		return copy;
	if (tcgetattr(copy, &t) < 0 || ioctl(copy, TIOCGWINSZ, &ws) < 0)
		r = sd_err(ctx, -errno, "cannot read the settings of the terminal of fd %d of pid %d (%s)",
			   p->fd, p->pid, p->path);
	(void)close(copy);
	if (r < 0)
		return r;
	sd_tty_state_from(&t, &ws, &d->tty);
	d->has_tty = true;
	return 0;
}

void sd_tty_state_from(const struct termios *t, const struct winsize *ws, struct tty_state *ret)
{
	*ret = (struct tty_state){
		.iflag = t->c_iflag, .oflag = t->c_oflag, .cflag = t->c_cflag, .lflag = t->c_lflag,
		.line = t->c_line, .ncc = MIN(sizeof(t->c_cc), (size_t)TTY_NCC_MAX),
		.ispeed = (uint32_t)cfgetispeed(t), .ospeed = (uint32_t)cfgetospeed(t),
		.rows = ws->ws_row, .cols = ws->ws_col, .xpixel = ws->ws_xpixel, .ypixel = ws->ws_ypixel,
	};
	memcpy(ret->cc, t->c_cc, ret->ncc);
}

/*
 * The order matters where rows overlap: the refusals come first (a deleted
 * FIFO is refused as a deleted file, a pty master as such and not as a
 * chr), and of two rows of one file type the narrower one (tty before chr,
 * pipe before FIFO, memfd before ghost, a deleted file before a file).
 */
static const struct dump_fd_kind dump_fd_kinds[] = {
	/* sockets of other families are refused by the collector, by what they are */
	/* an O_PATH fd of a socket file is no socket */
	{ .type = S_IFSOCK, .match = is_opath, .kind = FDK_PATH },
	{ .type = S_IFSOCK, .match = is_deleted, .refuse = "a deleted file" },
	{ .type = S_IFSOCK, .kind = FDK_UNIX, .collect = sd_dump_unix_sock },

	/* anonymous inodes, by the name in their link: "anon_inode:[eventfd]" */
	{ .anon = "eventpoll", .kind = FDK_EPOLL, .collect = sd_dump_epoll },
	{ .anon = "eventfd", .kind = FDK_EVENTFD, .collect = sd_dump_eventfd },
	{ .anon = "signalfd", .kind = FDK_SIGNALFD, .collect = sd_dump_signalfd },
	{ .anon = "timerfd", .kind = FDK_TIMERFD, .collect = sd_dump_timerfd },
	{ .anon = "inotify", .kind = FDK_INOTIFY, .collect = sd_dump_inotify },
	/* the kinds sdump does not take, each by what it is (the names of their anon_inode_getfd() calls) */
	{ .anon = "io_uring", .refuse = "an io_uring instance, whose rings and requests in flight sdump cannot save" },
	{ .anon = "pidfd", .kind = FDK_PIDFD, .collect = sd_dump_pidfd },
	/* sdump's own tracking userfaultfd is left out before the table is walked */
	{ .anon = "userfaultfd", .refuse = "a userfaultfd of the process's own" },
	{ .anon = "fanotify", .kind = FDK_FANOTIFY, .collect = sd_dump_fanotify },
	{ .anon = "perf_event", .refuse = "a perf event" },
	{ .anon = "bpf-map", .refuse = "a BPF map" },
	{ .anon = "bpf-prog", .refuse = "a BPF program" },
	{ .anon = "bpf_link", .refuse = "a BPF link" },
	{ .anon = "btf", .refuse = "a BPF type format (BTF) object" },
	{ .anon = "bpf_iter", .refuse = "a BPF iterator" },
	{ .anon = "seccomp notify", .refuse = "a seccomp user-notification fd" },
	{ .anon = "landlock-ruleset", .refuse = "a Landlock ruleset" },
	{ .anon = "kvm-vm", .refuse = "a KVM virtual machine" },
	{ .anon = "" }, /* any other, named by its name */

	{ .type = S_IFREG, .match = is_ns, .kind = FDK_NS, .collect = sd_dump_ns },
	{ .match = is_special_file, .refuse = "a special file" },
	/* its slaves are terminals (FDK_TTY) until sd_dump_pty_pairs() finds them */
	{ .type = S_IFCHR, .match = is_pty_master, .kind = FDK_PTMX, .collect = sd_dump_ptmx },
	/* saved in ghosts.img with the deleted files mapped (dump_mapped_files.c) */
	{ .type = S_IFREG, .match = is_memfd, .kind = FDK_MEMFD },
	{ .type = S_IFREG, .match = is_ghost, .kind = FDK_GHOST },
	{ .type = S_IFDIR, .match = is_ghost, .kind = FDK_GHOST },
	{ .type = S_IFIFO, .match = is_ghost, .kind = FDK_NODE, .collect = collect_node },
	{ .type = S_IFCHR, .match = is_hungup_pts,
	  .refuse = "a terminal whose pty master was closed (hung up, its /dev/pts node gone)" },
	{ .type = S_IFCHR, .match = is_ghost, .kind = FDK_NODE, .collect = collect_node },
	{ .type = S_IFBLK, .match = is_ghost, .kind = FDK_NODE, .collect = collect_node },
	{ .type = S_IFLNK, .match = is_ghost, .kind = FDK_NODE, .collect = collect_node },
	/* one that keeps another name: opened through its old name linked again */
	{ .type = S_IFREG, .match = is_deleted, .kind = FDK_FILE, .collect = sd_dump_linked_deleted },
	{ .match = is_deleted, .refuse = "a deleted file" },

	/* checked at the restore to be the same process still */
	{ .type = S_IFREG, .match = is_proc_of_other, .kind = FDK_FILE, .collect = sd_dump_proc_other },
	{ .type = S_IFDIR, .match = is_proc_of_other, .kind = FDK_DIR, .collect = sd_dump_proc_other },
	{ .type = S_IFREG, .kind = FDK_FILE },
	{ .type = S_IFDIR, .kind = FDK_DIR },
	{ .type = S_IFCHR, .match = is_tty, .kind = FDK_TTY, .collect = collect_tty },
	{ .type = S_IFCHR, .kind = FDK_CHR },
	{ .type = S_IFIFO, .match = is_pipe, .kind = FDK_PIPE, .collect = collect_pipe_data },
	{ .type = S_IFIFO, .kind = FDK_FIFO, .collect = collect_pipe_data },
	{ .type = S_IFLNK, .match = is_opath, .kind = FDK_PATH },
	{ .type = S_IFBLK, .kind = FDK_BLK },
	/* no row: "of a kind not supported yet" */
};

static bool row_takes(const struct dump_fd_kind *k, const struct fd_probe *p)
{
	if (k->type && (p->st->st_mode & S_IFMT) != k->type)
		return false;
	if (!k->anon != !p->anon || (k->anon && k->anon[0] && strcmp(k->anon, p->anon)))
		return false;
	return !k->match || k->match(p);
}

void sd_dump_fd_kind_what(const struct dump_fd_kind *k, const struct fd_probe *p,
		       char ret_what[DUMP_FD_KIND_WHAT_MAX])
{
	if (k->refuse)
		(void)snprintf(ret_what, DUMP_FD_KIND_WHAT_MAX, "%s", k->refuse);
	else
		(void)snprintf(ret_what, DUMP_FD_KIND_WHAT_MAX, "%s %s fd",
			       strchr("aeiou", p->anon[0]) ? "an" : "a", p->anon);
}

const struct dump_fd_kind *sd_dump_fd_kind_find(const struct fd_probe *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(dump_fd_kinds); i++)
		if (row_takes(&dump_fd_kinds[i], p))
			return &dump_fd_kinds[i];
	return NULL;
}
