/* SPDX-License-Identifier: MIT */
/* The process tree's small helpers (ptree.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "array.h"
#include "proc.h"
#include "procfs.h"
#include "ptree.h"
#include "util.h"

long sd_tree_find(const struct proc_tree *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->m[i].pid == pid)
			return (long)i;
	return -1;
}

const char *sd_tree_dir_name(pid_t pid, char buf[TREE_DIR_NAME_MAX])
{
	(void)snprintf(buf, TREE_DIR_NAME_MAX, "pid-%d", (int)pid);
	return buf;
}

/* The first 8 fields of /proc/@pid/stat into @f (pid, comm, state, ppid, pgrp, session, ...); false if gone. */
static bool stat_of(pid_t pid, uint64_t f[8])
{
	_cleanup_free_ char *buf = NULL;
	char path[PROC_PATH_MAX];

	return sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "stat"), &buf, NULL) >= 0 &&
	       sd_proc_stat_fields(buf, f, 8) >= 7;
}

bool sd_pgrp_orphaned(pid_t pgid, pid_t sid)
{
	bool orphaned = true;
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d)
		return false;
	while (orphaned && (e = readdir(d))) {
		uint64_t f[8] = { 0 }, pf[8] = { 0 };
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (pid <= 0 || *end || !stat_of((pid_t)pid, f) || (pid_t)f[5] != pgid)
			continue;
		/* a member whose parent is in another group of the session keeps the group from being orphaned */
		if (stat_of((pid_t)f[4], pf) && (pid_t)pf[5] != pgid && (pid_t)pf[6] == sid)
			orphaned = false;
	}
	closedir(d);
	return orphaned;
}

int sd_proc_children(pid_t pid, pid_t **kids, size_t *n, size_t *cap)
{
	char path[PROC_PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(sd_proc_path(path, pid, "task"));
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d))) {
		_cleanup_free_ char *buf = NULL;
		char *s, *end;

		if (de->d_name[0] == '.')
			continue;
		(void)sd_proc_path(path, pid, "task/%s/children", de->d_name);
		if (sd_read_file(AT_FDCWD, path, &buf, NULL) < 0)
			continue;
		for (s = buf; r == 0;) {
			long c = strtol(s, &end, 10);

			if (end == s)
				break;
			s = end;
			if (ARRAY_RESERVE(*kids, *cap, *n + 1, 16) < 0)
				r = -ENOMEM;
			else
				(*kids)[(*n)++] = (pid_t)c;
		}
	}
	(void)closedir(d);
	return r;
}
