/* SPDX-License-Identifier: MIT */
/*
 * The kinds of fd the final dump knows, one row each: how to recognise the
 * kind, what files.img calls it and what the dump collects for it beyond
 * the generic fields, or why it refuses it: dump_fd_kinds[] in
 * dump_fd_kinds.c. dump_files.c looks up the row of each fd once it has
 * its generic fields. The steps to add a kind are listed at enum fd_kind
 * (proc/pstate.h).
 */
#ifndef SDUMP_DUMP_FD_KINDS_H
#define SDUMP_DUMP_FD_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "sdump.h"
#include "proc.h"
#include "pstate.h"

/* What is known of one fd when its row is looked for. */
struct tree_pipe_ends;

struct fd_probe {
	pid_t pid;
	int pidfd;		/* of the target: pidfd_getfd() takes a copy of the fd */
	int fd;
	const struct stat *st;	/* of what the fd refers to (stat of /proc/PID/fd/N) */
	const char *path;	/* the /proc/PID/fd/N link */
	/*
	 * An anonymous inode: its name, without the brackets ("eventfd" for
	 * "anon_inode:[eventfd]", "inotify" for "anon_inode:inotify"); NULL
	 * for any other fd.
	 */
	const char *anon;
	const char *info;	/* its /proc/PID/fdinfo/N text; NULL where not read */
	uint32_t flags;		/* its open flags, from that text */
	const struct tree_pipe_ends *tree;	/* a tree's member: the others (dump_state.h), else NULL */
};

/*
 * A copy of the probed fd in this process (pidfd_getfd), to read what only
 * an fd shows; the caller closes it. A negative errno, its message
 * recorded, if the fd cannot be taken.
 */
int sd_fd_probe_take(struct sdump_ctx *ctx, const struct fd_probe *p);
/*
 * The bytes of events an inotify or fanotify @p queues unread (FIONREAD on
 * a copy), in *@ret; @what names it in the message ("an inotify").
 */
int sd_fd_probe_queued(struct sdump_ctx *ctx, const struct fd_probe *p, const char *what, int *ret);
/* Whether @pid is a member of @p's tree (never for a process dumped alone). */
bool sd_fd_probe_tree_has(const struct fd_probe *p, pid_t pid);

struct dump_fd_kind {
	/* Which fds the row takes: all three must agree. */
	mode_t type;		/* S_IFREG, S_IFCHR, ...: only that file type; 0 any */
	/*
	 * An anon-inode name (as fd_probe.anon): only anonymous inodes of that
	 * name; "" any anonymous inode; NULL no anonymous inode.
	 */
	const char *anon;
	bool (*match)(const struct fd_probe *p); /* NULL: every fd the above let through */

	/* A kind the dump takes: its kind and, if any, its collector. */
	enum fd_kind kind;	/* 0 for a kind refused */
	/*
	 * Fill the kind's own fields of @d, whose generic fields and kind are
	 * set; @done holds the fds taken before it (lower numbers). Returns 0
	 * or a negative errno, its message recorded.
	 */
	int (*collect)(struct sdump_ctx *ctx, const struct fd_probe *p,
		       const struct files_state *done, struct fd_state *d);

	/*
	 * A kind refused: what the message calls it ("a socket", in "cannot
	 * dump pid 4242: fd 3 is a socket (socket:[1234]), not supported yet").
	 * NULL for the row of the anonymous inodes that have none of their
	 * own: the message names them by their name ("a perf_event fd").
	 */
	const char *refuse;
};

/*
 * The row of the fd @p: the first in dump_fd_kinds[] (dump_fd_kinds.c)
 * that takes it, NULL if none does. Pure: it looks at @p only.
 */
const struct dump_fd_kind *sd_dump_fd_kind_find(const struct fd_probe *p);

/*
 * What the message refusing an fd of the refused row @k calls it: its
 * refuse text, or for an anonymous inode without a row of its own "a" or
 * "an", its name and "fd" ("a perf_event fd").
 */
#define DUMP_FD_KIND_WHAT_MAX (PROC_ANON_NAME_MAX + 32)
void sd_dump_fd_kind_what(const struct dump_fd_kind *k, const struct fd_probe *p,
		       char ret_what[DUMP_FD_KIND_WHAT_MAX]);

/*
 * ptys (dump_fd_pty.c). sd_dump_ptmx: the collector of a pty master's row
 * (its number, packet mode, lock, settings; refused if a process outside
 * the dump holds its slave: another, or one outside its tree, p->tree).
 * sd_dump_pty_pairs: once the table is read, the terminals that are slaves
 * of a master of the table become FDK_PTS; sd_dump_pty_pairs_with: those
 * of @fs that are slaves of a master of @masters (another member's).
 */
int sd_dump_ptmx(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		 struct fd_state *d);
int sd_dump_pty_pairs(struct files_state *fs);
void sd_dump_pty_pairs_with(struct files_state *fs, const struct files_state *masters);

/*
 * Files by path (dump_fd_path.c), the collectors of their rows.
 * sd_dump_node: a deleted FIFO, device node or symlink: its owner, a
 * symlink's target (refused: a FIFO another process holds too).
 * sd_dump_linked_deleted: a deleted file with links left: its other name
 * in its directory (refused if none is there). sd_dump_ns: a namespace fd
 * of one of the process's namespaces, its name (refused: another).
 * sd_dump_proc_other: a file of another process's /proc, that process's
 * start time (refused: one that has exited).
 */
int sd_dump_node(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		 struct fd_state *d);
int sd_dump_linked_deleted(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
			   struct fd_state *d);
int sd_dump_ns(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
	       struct fd_state *d);
int sd_dump_proc_other(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		       struct fd_state *d);

/* A terminal's settings from what tcgetattr() and TIOCGWINSZ give. */
struct termios;
struct winsize;
void sd_tty_state_from(const struct termios *t, const struct winsize *ws, struct tty_state *ret);

#endif /* SDUMP_DUMP_FD_KINDS_H */
