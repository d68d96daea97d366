/* SPDX-License-Identifier: MIT */
/*
 * The parser of /proc/sysvipc/shm: the System V shared memory segments of
 * the reader's IPC namespace. Pure, like the parsers of proc.h.
 */
#ifndef SDUMP_PROC_SYSV_H
#define SDUMP_PROC_SYSV_H

#include <stdint.h>
#include <sys/types.h>

struct proc_sysv_shm {
	int32_t key, shmid;
	uint32_t mode;		/* perms, with SHM_DEST and SHM_LOCKED */
	uint64_t size;
	pid_t cpid, lpid;
	uint64_t nattch;
	uint32_t uid, gid;
};

/*
 * The segment @shmid of @text (the whole file, its header first): 0 and
 * it in @ret; -ENOENT where there is none; -EBADMSG for a line that does
 * not parse.
 */
int sd_proc_parse_sysv_shm(const char *text, int32_t shmid, struct proc_sysv_shm *ret);

#endif /* SDUMP_PROC_SYSV_H */
