/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: the unix sockets (rst_sock.c), a row of
 * rst_fd_openers[] (rst_files.c) that places its fds: with the first
 * socket fd of the table, every socket of it is made, bound, connected,
 * given its queue, shutdowns and options, and checked.
 */
#ifndef SDUMP_RST_SOCK_H
#define SDUMP_RST_SOCK_H

#include <stddef.h>

#include "restore.h"

int sd_rst_unix_open(struct rst *r, size_t i, long *ret_tmp);

#endif /* SDUMP_RST_SOCK_H */
