/* SPDX-License-Identifier: MIT */
/* The dump's table of fd kinds: which row an fd gets, and how a refusal names it. */
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
};

static const struct fd_case cases[] = {
	{ "/home/u/data", S_IFREG | 0644, 0, 0, 1, FDK_FILE, NULL },
	{ "/home/u", S_IFDIR | 0755, 0, 0, 2, FDK_DIR, NULL },
	{ "/dev/null", S_IFCHR | 0666, 1, 3, 1, FDK_CHR, NULL },
	{ "/dev/pts/3", S_IFCHR | 0620, 136, 3, 1, FDK_TTY, NULL },
	{ "/dev/pts/300", S_IFCHR | 0620, 143, 44, 1, FDK_TTY, NULL },
	{ "/dev/tty1", S_IFCHR | 0620, 4, 1, 1, FDK_TTY, NULL },
	{ "/dev/tty", S_IFCHR | 0666, 5, 0, 1, FDK_TTY, NULL },
	{ "/dev/console", S_IFCHR | 0600, 5, 1, 1, FDK_TTY, NULL },
	{ "pipe:[4242]", S_IFIFO | 0600, 0, 0, 1, FDK_PIPE, NULL },
	{ "/tmp/fifo", S_IFIFO | 0600, 0, 0, 1, FDK_FIFO, NULL },

	{ "socket:[77]", S_IFSOCK | 0777, 0, 0, 1, FDK_UNIX, NULL },
	{ "anon_inode:[eventpoll]", 0600, 0, 0, 1, FDK_EPOLL, NULL },
	{ "anon_inode:[eventfd]", 0600, 0, 0, 1, FDK_EVENTFD, NULL },
	{ "anon_inode:[signalfd]", 0600, 0, 0, 1, FDK_SIGNALFD, NULL },
	{ "anon_inode:[timerfd]", 0600, 0, 0, 1, FDK_TIMERFD, NULL },
	{ "anon_inode:inotify", 0600, 0, 0, 1, FDK_INOTIFY, NULL },
	{ "anon_inode:[io_uring]", 0600, 0, 0, 1, 0, "an io_uring instance, whose rings and requests in flight sdump cannot save" },
	{ "anon_inode:[pidfd]", 0600, 0, 0, 1, FDK_PIDFD, NULL },
	{ "anon_inode:[userfaultfd]", 0600, 0, 0, 1, 0, "a userfaultfd of the process's own" },
	{ "anon_inode:[perf_event]", 0600, 0, 0, 1, 0, "a perf event" },
	{ "anon_inode:[fanotify]", 0600, 0, 0, 1, FDK_FANOTIFY, NULL },
	{ "anon_inode:bpf-map", 0600, 0, 0, 1, 0, "a BPF map" },
	{ "anon_inode:bpf-prog", 0600, 0, 0, 1, 0, "a BPF program" },
	{ "anon_inode:bpf_link", 0600, 0, 0, 1, 0, "a BPF link" },
	{ "anon_inode:[seccomp notify]", 0600, 0, 0, 1, 0, "a seccomp user-notification fd" },
	{ "anon_inode:kvm-vcpu:0", 0600, 0, 0, 1, 0, "a kvm-vcpu:0 fd" },
	{ "anon_inode:[vfio-device]", 0600, 0, 0, 1, 0, "a vfio-device fd" },
	{ "anon_inode:[]", 0600, 0, 0, 1, 0, "an  fd" },
	/* kernels that give anonymous inodes a file type: still anonymous inodes */
	{ "anon_inode:[eventfd]", S_IFREG | 0600, 0, 0, 1, FDK_EVENTFD, NULL },
	{ "anon_inode:[io_uring]", S_IFREG | 0600, 0, 0, 0, 0, "an io_uring instance, whose rings and requests in flight sdump cannot save" },
	{ "net:[4026531840]", S_IFREG | 0444, 0, 0, 1, 0, "a special file" },
	{ "pidfd:[1234]", S_IFREG | 0600, 0, 0, 1, 0, "a special file" },
	{ "/dev/ptmx", S_IFCHR | 0666, 5, 2, 1, 0, "a pty master" },
	{ "/dev/ptyp0", S_IFCHR | 0666, 128, 0, 1, 0, "a pty master" },
	{ "/dev/ptyXY", S_IFCHR | 0666, 135, 7, 1, 0, "a pty master" },
	/* no link left: its contents saved */
	{ "/tmp/gone (deleted)", S_IFREG | 0644, 0, 0, 0, FDK_GHOST, NULL },
	{ "/tmp/unlinked", S_IFREG | 0644, 0, 0, 0, FDK_GHOST, NULL },
	{ "/tmp/#1234 (deleted)", S_IFREG | 0600, 0, 0, 0, FDK_GHOST, NULL },
	{ "/tmp/olddir (deleted)", S_IFDIR | 0755, 0, 0, 0, FDK_GHOST, NULL },
	{ "/memfd:buf (deleted)", S_IFREG | 0777, 0, 0, 0, FDK_MEMFD, NULL },
	{ "/memfd:with space (deleted)", S_IFREG | 0666, 0, 0, 0, FDK_MEMFD, NULL },
	/* deleted there, linked elsewhere: a copy would no longer be that file */
	{ "/tmp/x (deleted)", S_IFREG | 0644, 0, 0, 1, 0, "a deleted file" },
	{ "/memfd:buf (deleted)", S_IFREG | 0600, 0, 0, 1, 0, "a deleted file" },
	/* refused as deleted before it is seen as a FIFO */
	{ "/tmp/fifo (deleted)", S_IFIFO | 0600, 0, 0, 0, 0, "a deleted file" },
	/* "(deleted)" without the space is a name like any other */
	{ "/tmp/(deleted)", S_IFREG | 0644, 0, 0, 1, FDK_FILE, NULL },

	/* no row */
	{ "/dev/sda", S_IFBLK | 0660, 8, 0, 1, 0, NULL },
	{ "/dev/loop0", S_IFBLK | 0660, 7, 0, 1, 0, NULL },
};

static void check_case(const struct fd_case *c)
{
	struct stat st = { .st_mode = c->mode, .st_rdev = makedev(c->maj, c->min),
			   .st_nlink = c->nlink };
	char anon[PROC_ANON_NAME_MAX], what[DUMP_FD_KIND_WHAT_MAX];
	struct fd_probe p = { .pid = 4242, .pidfd = -1, .fd = 3, .st = &st, .path = c->link };
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
		 * inodes and sockets their state; deleted files are saved with the mapped
		 * ones, later
		 */
		ASSERT_EQ(k->collect != NULL, c->kind == FDK_PIPE || c->kind == FDK_FIFO ||
					      c->kind == FDK_TTY || c->kind >= FDK_UNIX ||
					      (c->kind >= 10 && c->kind < FDK_GHOST));
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
