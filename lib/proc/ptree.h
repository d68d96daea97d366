/* SPDX-License-Identifier: MIT */
/*
 * The data model of a process tree (tree.img): its members in the order a
 * restore makes them, a parent before its children, the root first. The
 * dump fills it (dump/dump_tree.c), image/tree_img.c writes and reads it,
 * restore/rst_tree.c builds the tree again.
 */
#ifndef SDUMP_PTREE_H
#define SDUMP_PTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tree_member {
	pid_t pid, ppid, pgid, sid;
	int exit_signal;	/* what its parent gets at its end (SIGCHLD) */
	bool zombie;		/* ended, not reaped: no pass directory */
	int exit_status;	/* a zombie's wait status */
	bool stopped;		/* in a job-control stop */
	int stop_sig;		/*   by that signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU), 0: not known */
	char comm[16];		/* a zombie's name */
	bool files_of_parent;	/* shares its parent's fd table (CLONE_FILES) */
};

/*
 * Whether process group @pgid of session @sid is orphaned now (no member
 * has its parent in another group of the session): the kernel discards
 * SIGTSTP, SIGTTIN and SIGTTOU sent to its members.
 */
bool sd_pgrp_orphaned(pid_t pgid, pid_t sid);

/* The most members a tree image may hold. */
#define TREE_MAX_MEMBERS 4096

struct proc_tree {
	size_t n;
	struct tree_member *m;
};

/* The index of member @pid in @t, or -1. */
long sd_tree_find(const struct proc_tree *t, pid_t pid);

/* The name of member @pid's pass directory in a tree image: "pid-4242". */
#define TREE_DIR_NAME_MAX 24
const char *sd_tree_dir_name(pid_t pid, char buf[TREE_DIR_NAME_MAX]);

/* Appends the children of every thread of @pid to *@kids (*@n of them, room for *@cap); -errno. */
int sd_proc_children(pid_t pid, pid_t **kids, size_t *n, size_t *cap);

#endif /* SDUMP_PTREE_H */
