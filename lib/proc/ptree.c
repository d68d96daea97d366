/* SPDX-License-Identifier: MIT */
/* The process tree's small helpers (ptree.h). */
#include <stdio.h>

#include "ptree.h"

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
