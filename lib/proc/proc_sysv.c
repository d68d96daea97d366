/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proc_sysv.h"

int sd_proc_parse_sysv_shm(const char *text, int32_t shmid, struct proc_sysv_shm *ret)
{
	/* the header: "       key      shmid perms                  size  cpid  lpid nattch   uid   gid ..." */
	const char *l = strchr(text, '\n');

	for (; l && l[1]; l = strchr(l + 1, '\n')) {
		struct proc_sysv_shm s;
		unsigned long long size, nattch;
		int key, id, cpid, lpid;
		unsigned int mode, uid, gid;

		if (sscanf(l + 1, "%d %d %o %llu %d %d %llu %u %u", &key, &id, &mode, &size, &cpid, &lpid,
			   &nattch, &uid, &gid) != 9)
			return -EBADMSG;
		if (id != shmid)
			continue;
		s = (struct proc_sysv_shm){ .key = key, .shmid = id, .mode = mode, .size = size,
					    .cpid = cpid, .lpid = lpid, .nattch = nattch, .uid = uid, .gid = gid };
		*ret = s;
		return 0;
	}
	return -ENOENT;
}
