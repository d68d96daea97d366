/* SPDX-License-Identifier: MIT */
/*
 * The parser of a file lock as /proc/locks and the "lock:" lines of
 * /proc/PID/fdinfo/N show it. Pure, like the parsers of proc.h.
 */
#ifndef SDUMP_PROC_LOCKS_H
#define SDUMP_PROC_LOCKS_H

#include <stdbool.h>
#include <sys/types.h>

#include "pstate.h"

struct proc_lock {
	struct lock_state l;
	pid_t pid;	/* who took it: the thread group; -1 for an OFD lock */
	bool breaking;	/* a lease being broken (l.write then what it breaks to) */
};

/*
 * One line, "1: POSIX  ADVISORY  WRITE 1234 fe:00:5678 0 EOF" (the id,
 * kind, ADVISORY or a lease's ACTIVE/BREAKING, type, pid, major:minor:inode
 * with the numbers of the device in hex, first and last byte or EOF), as
 * /proc/locks has it and fdinfo after "lock:\t". 0 and the lock in @ret;
 * -ENOENT for a line of a waiter ("1: -> POSIX ..."); -EOPNOTSUPP for a
 * kind no process holds through an fd of its own (an NFS delegation, a
 * lease's breaker, "ACCESS", "UNKNOWN"); -EBADMSG for anything else.
 */
int sd_proc_parse_lock(const char *line, struct proc_lock *ret);

#endif /* SDUMP_PROC_LOCKS_H */
