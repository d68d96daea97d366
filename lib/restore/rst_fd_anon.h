/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: the openers of the fds on anonymous inodes (eventfd,
 * ...), rows of rst_fd_openers[] (rst_files.c), in rst_fd_anon.c. Each
 * makes fd @i of r->fs in the new process with the state the dump saw, at
 * a number of its own returned in @ret_tmp (rst_files.c moves it).
 */
#ifndef SDUMP_RST_FD_ANON_H
#define SDUMP_RST_FD_ANON_H

#include <stddef.h>

#include "restore.h"

int sd_rst_eventfd_open(struct rst *r, size_t i, long *ret_tmp);
int sd_rst_signalfd_open(struct rst *r, size_t i, long *ret_tmp);
int sd_rst_timerfd_open(struct rst *r, size_t i, long *ret_tmp);
int sd_rst_pidfd_open(struct rst *r, size_t i, long *ret_tmp);
/*
 * An epoll (rst_epoll.c): made empty by its opener; its watches added by
 * sd_rst_restore_epolls() once every fd is at its number, and checked
 * against its fdinfo.
 */
int sd_rst_epoll_open(struct rst *r, size_t i, long *ret_tmp);
/* An inotify with its watches, their watch descriptors as they were (rst_inotify.c). */
int sd_rst_inotify_open(struct rst *r, size_t i, long *ret_tmp);
/* A fanotify group with its marks (rst_fanotify.c). */
int sd_rst_fanotify_open(struct rst *r, size_t i, long *ret_tmp);
int sd_rst_restore_epolls(struct rst *r);

#endif /* SDUMP_RST_FD_ANON_H */
