/* SPDX-License-Identifier: MIT */
/* The process tree's small helpers (ptree.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "array.h"
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
