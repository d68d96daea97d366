/* SPDX-License-Identifier: MIT */
/*
 * The collectors of the fds on anonymous inodes the dump takes (eventfd,
 * ...), rows of dump_fd_kinds[]: each reads its kind's state from the fd's
 * fdinfo (and, where fdinfo is not enough, from a copy of the fd taken
 * with pidfd_getfd()) into d->anon, or refuses what a restore could not
 * give back, with one line (dump_fd_anon.c).
 */
#ifndef SDUMP_DUMP_FD_ANON_H
#define SDUMP_DUMP_FD_ANON_H

#include "sdump.h"
#include "dump_fd_kinds.h"
#include "pstate.h"

int sd_dump_eventfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		    struct fd_state *d);

int sd_dump_signalfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		     struct fd_state *d);

int sd_dump_timerfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		    struct fd_state *d);

/*
 * An inotify (dump_fd_inotify.c), and what a fanotify group needs of it:
 * sd_dump_mount_of(), an fd of a mount of ours of file system @dev
 * (major << 32 | minor), or with @mnt_id >= 0 of that mount, its path in
 * *@ret_path (when not NULL), -ENOENT if none; sd_dump_notify_path(), the
 * path of the inode watched by @w (through its file handle) into w->path,
 * or the refusal of fd @p, which is @what ("an inotify"), with one line.
 */
int sd_dump_mount_of(uint64_t dev, int mnt_id, char **ret_path);
int sd_dump_notify_path(struct sdump_ctx *ctx, const struct fd_probe *p, const char *what,
			struct inotify_watch *w);
/* A fanotify group (dump_fd_fanotify.c). */
int sd_dump_fanotify(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		     struct fd_state *d);
int sd_dump_inotify(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		    struct fd_state *d);
int sd_dump_epoll(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		  struct fd_state *d);
/*
 * Once the whole table @fs of pid @pid is in: which fd holds the file of
 * each epoll watch now (kcmp KCMP_EPOLL_TFD), or the refusal, with one
 * line, of a watch whose file no fd holds.
 */
int sd_dump_epoll_table(struct sdump_ctx *ctx, pid_t pid, struct files_state *fs);

int sd_dump_pidfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		  struct fd_state *d);

#endif /* SDUMP_DUMP_FD_ANON_H */
