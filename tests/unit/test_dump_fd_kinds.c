/* SPDX-License-Identifier: MIT */
/* The dump's table of fd kinds: which row an fd gets, and how a refusal names it. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dump_fd_kinds.h"
#include "unit.h"

struct fd_case {
	const char *link;	/* the /proc/PID/fd link */
	mode_t mode;
	unsigned int maj, min;	/* st_rdev */
	nlink_t nlink;
	enum fd_kind kind;	/* the kind taken, 0 if refused */
	const char *what;	/* refused: what the message calls it; NULL: no row at all */
	uint32_t flags;		/* its open flags (O_PATH) */
};

static const struct fd_case cases[] = {
	{ "/home/u/data", S_IFREG | 0644, 0, 0, 1, FDK_FILE, NULL, 0 },
	{ "/home/u", S_IFDIR | 0755, 0, 0, 2, FDK_DIR, NULL, 0 },
	{ "/dev/null", S_IFCHR | 0666, 1, 3, 1, FDK_CHR, NULL, 0 },
	{ "/dev/pts/3", S_IFCHR | 0620, 136, 3, 1, FDK_TTY, NULL, 0 },
	{ "/dev/pts/300", S_IFCHR | 0620, 143, 44, 1, FDK_TTY, NULL, 0 },
	{ "/dev/tty1", S_IFCHR | 0620, 4, 1, 1, FDK_TTY, NULL, 0 },
	{ "/dev/tty", S_IFCHR | 0666, 5, 0, 1, FDK_TTY, NULL, 0 },
	{ "/dev/console", S_IFCHR | 0600, 5, 1, 1, FDK_TTY, NULL, 0 },
	{ "pipe:[4242]", S_IFIFO | 0600, 0, 0, 1, FDK_PIPE, NULL, 0 },
	{ "/tmp/fifo", S_IFIFO | 0600, 0, 0, 1, FDK_FIFO, NULL, 0 },

	{ "socket:[77]", S_IFSOCK | 0777, 0, 0, 1, FDK_UNIX, NULL, 0 },
	{ "anon_inode:[eventpoll]", 0600, 0, 0, 1, FDK_EPOLL, NULL, 0 },
	{ "anon_inode:[eventfd]", 0600, 0, 0, 1, FDK_EVENTFD, NULL, 0 },
	{ "anon_inode:[signalfd]", 0600, 0, 0, 1, FDK_SIGNALFD, NULL, 0 },
	{ "anon_inode:[timerfd]", 0600, 0, 0, 1, FDK_TIMERFD, NULL, 0 },
	{ "anon_inode:inotify", 0600, 0, 0, 1, FDK_INOTIFY, NULL, 0 },
	{ "anon_inode:[io_uring]", 0600, 0, 0, 1, 0, "an io_uring instance, whose rings and requests in flight sdump cannot save", 0 },
	{ "anon_inode:[pidfd]", 0600, 0, 0, 1, FDK_PIDFD, NULL, 0 },
	{ "anon_inode:[userfaultfd]", 0600, 0, 0, 1, 0, "a userfaultfd of the process's own", 0 },
	{ "anon_inode:[perf_event]", 0600, 0, 0, 1, 0, "a perf event", 0 },
	{ "anon_inode:[fanotify]", 0600, 0, 0, 1, FDK_FANOTIFY, NULL, 0 },
	{ "anon_inode:bpf-map", 0600, 0, 0, 1, 0, "a BPF map", 0 },
	{ "anon_inode:bpf-prog", 0600, 0, 0, 1, 0, "a BPF program", 0 },
	{ "anon_inode:bpf_link", 0600, 0, 0, 1, 0, "a BPF link", 0 },
	{ "anon_inode:[seccomp notify]", 0600, 0, 0, 1, 0, "a seccomp user-notification fd", 0 },
	{ "anon_inode:kvm-vcpu:0", 0600, 0, 0, 1, 0, "a kvm-vcpu:0 fd", 0 },
	{ "anon_inode:[vfio-device]", 0600, 0, 0, 1, 0, "a vfio-device fd", 0 },
	{ "anon_inode:[]", 0600, 0, 0, 1, 0, "an  fd", 0 },
	/* kernels that give anonymous inodes a file type: still anonymous inodes */
	{ "anon_inode:[eventfd]", S_IFREG | 0600, 0, 0, 1, FDK_EVENTFD, NULL, 0 },
	{ "anon_inode:[io_uring]", S_IFREG | 0600, 0, 0, 0, 0, "an io_uring instance, whose rings and requests in flight sdump cannot save", 0 },
	/* a namespace: its collector finds whether it is the process's own */
	{ "net:[4026531840]", S_IFREG | 0444, 0, 0, 1, FDK_NS, NULL, 0 },
	{ "pid:[4026531836]", S_IFREG | 0444, 0, 0, 1, FDK_NS, NULL, 0 },
	{ "pidfd:[1234]", S_IFREG | 0600, 0, 0, 1, 0, "a special file", 0 },
	{ "netx:[4026531840]", S_IFREG | 0444, 0, 0, 1, 0, "a special file", 0 },
	/* pty masters: saved (their slaves are terminals until paired) */
	{ "/dev/ptmx", S_IFCHR | 0666, 5, 2, 1, FDK_PTMX, NULL, 0 },
	{ "/dev/pts/ptmx", S_IFCHR | 0666, 5, 2, 1, FDK_PTMX, NULL, 0 },
	{ "/dev/ptyp0", S_IFCHR | 0666, 128, 0, 1, FDK_PTMX, NULL, 0 },
	{ "/dev/ptyXY", S_IFCHR | 0666, 135, 7, 1, FDK_PTMX, NULL, 0 },
	{ "/dev/pts/3", S_IFCHR | 0620, 136, 3, 1, FDK_TTY, NULL, 0 },
	/* no link left: its contents saved */
	{ "/tmp/gone (deleted)", S_IFREG | 0644, 0, 0, 0, FDK_GHOST, NULL, 0 },
	{ "/tmp/unlinked", S_IFREG | 0644, 0, 0, 0, FDK_GHOST, NULL, 0 },
	{ "/tmp/#1234 (deleted)", S_IFREG | 0600, 0, 0, 0, FDK_GHOST, NULL, 0 },
	{ "/tmp/olddir (deleted)", S_IFDIR | 0755, 0, 0, 0, FDK_GHOST, NULL, 0 },
	{ "/memfd:buf (deleted)", S_IFREG | 0777, 0, 0, 0, FDK_MEMFD, NULL, 0 },
	{ "/memfd:with space (deleted)", S_IFREG | 0666, 0, 0, 0, FDK_MEMFD, NULL, 0 },
	/* deleted there, linked elsewhere: its collector looks for its other name */
	{ "/tmp/x (deleted)", S_IFREG | 0644, 0, 0, 1, FDK_FILE, NULL, 0 },
	{ "/memfd:buf (deleted)", S_IFREG | 0600, 0, 0, 1, FDK_FILE, NULL, 0 },
	/* deleted nodes: made again at their path, not seen as a FIFO or a device */
	{ "/tmp/fifo (deleted)", S_IFIFO | 0600, 0, 0, 0, FDK_NODE, NULL, 0 },
	{ "/tmp/null (deleted)", S_IFCHR | 0600, 1, 3, 0, FDK_NODE, NULL, 0 },
	{ "/tmp/sda (deleted)", S_IFBLK | 0600, 8, 0, 0, FDK_NODE, NULL, 0 },
	{ "/tmp/sym (deleted)", S_IFLNK | 0777, 0, 0, 0, FDK_NODE, NULL, O_PATH | O_NOFOLLOW },
	/* a deleted FIFO still linked: no copy stands in for it */
	{ "/tmp/fifo (deleted)", S_IFIFO | 0600, 0, 0, 1, 0, "a deleted file", 0 },
	{ "/tmp/sock (deleted)", S_IFSOCK | 0755, 0, 0, 0, 0, "a deleted file", O_PATH },
	/* O_PATH fds of a symlink and of a socket file; of the others, their kind's */
	{ "/tmp/sym", S_IFLNK | 0777, 0, 0, 1, FDK_PATH, NULL, O_PATH | O_NOFOLLOW },
	{ "/tmp/sock", S_IFSOCK | 0755, 0, 0, 1, FDK_PATH, NULL, O_PATH },
	{ "/home/u/data", S_IFREG | 0644, 0, 0, 1, FDK_FILE, NULL, O_PATH },
	{ "/dev/null", S_IFCHR | 0666, 1, 3, 1, FDK_CHR, NULL, O_PATH },
	/* another process's /proc: its collector keeps the process's start time */
	{ "/proc/1/status", S_IFREG | 0444, 0, 0, 1, FDK_FILE, NULL, 0 },
	{ "/proc/1", S_IFDIR | 0555, 0, 0, 1, FDK_DIR, NULL, 0 },
	/* "(deleted)" without the space is a name like any other */
	{ "/tmp/(deleted)", S_IFREG | 0644, 0, 0, 1, FDK_FILE, NULL, 0 },

	{ "/dev/sda", S_IFBLK | 0660, 8, 0, 1, FDK_BLK, NULL, 0 },
	{ "/dev/loop0", S_IFBLK | 0660, 7, 0, 1, FDK_BLK, NULL, O_PATH },

	/* no row: a symlink not open O_PATH cannot be, nor can a socket file be otherwise */
	{ "/tmp/sym", S_IFLNK | 0777, 0, 0, 1, 0, NULL, 0 },
};

static void check_case(const struct fd_case *c)
{
	struct stat st = { .st_mode = c->mode, .st_rdev = makedev(c->maj, c->min),
			   .st_nlink = c->nlink };
	char anon[PROC_ANON_NAME_MAX], what[DUMP_FD_KIND_WHAT_MAX];
	struct fd_probe p = { .pid = 4242, .pidfd = -1, .fd = 3, .st = &st, .path = c->link, .flags = c->flags };
	const struct dump_fd_kind *k;

	if (sd_proc_parse_anon_link(c->link, anon))
		p.anon = anon;
	k = sd_dump_fd_kind_find(&p);
	if (!c->kind && !c->what) {
		ASSERT_TRUE(k == NULL);
		return;
	}
	ASSERT_TRUE(k != NULL);
	ASSERT_EQ(k->kind, c->kind);
	if (c->kind) {
		/*
		 * the pipes collect their buffered bytes, terminals their settings, anonymous
		 * inodes and sockets their state, pty masters theirs; deleted files are
		 * saved with the mapped ones, later
		 */
		ASSERT_EQ(k->collect != NULL, c->kind == FDK_PIPE || c->kind == FDK_FIFO ||
					      c->kind == FDK_TTY || c->kind == FDK_PTMX ||
					      c->kind == FDK_UNIX || c->kind == FDK_INET ||
					      (c->kind >= 10 && c->kind < FDK_GHOST) ||
					      c->kind == FDK_NODE || c->kind == FDK_NS ||
					      (c->kind == FDK_FILE && strstr(c->link, " (deleted)")) ||
					      !strncmp(c->link, "/proc/", 6));
		return;
	}
	ASSERT_TRUE(k->collect == NULL);
	sd_dump_fd_kind_what(k, &p, what);
	ASSERT_STREQ(what, c->what);
}

static void test_kinds(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_case(&cases[i]);
		if (unit_cur_failed) {
			fprintf(stderr, "  in the case of '%s'\n", cases[i].link);
			break;
		}
	}
}

int main(void)
{
	RUN(test_kinds);
	return unit_summary();
}
