/* SPDX-License-Identifier: MIT */
/*
 * The names of the unix sockets a restore makes (rst_sock.c): a relative
 * path is bound from the directory it was found in at the dump (the new
 * process enters it for the bind, then goes back where it was), reached
 * from anywhere else (connect(), sendto() from here) by that directory and
 * the name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#include "pstate_sock.h"
#include "restore.h"
#include "rst_sock.h"
#include "rst_sock_priv.h"
#include "util.h"

bool sd_sock_name_relative(const struct sock_name *n)
{
	return n->len && n->path[0] && n->path[0] != '/';
}

int sd_sock_host_path(const struct sock_state *s, char *buf, size_t size)
{
	int n = (int)strnlen(s->name.path, s->name.len);
	int len = sd_sock_name_relative(&s->name) && s->name_dir ?
			  snprintf(buf, size, "%s/%.*s", s->name_dir, n, s->name.path) :
			  snprintf(buf, size, "%.*s", n, s->name.path);

	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

int sd_sock_reach_name(const struct sock_state *s, struct sock_name *ret)
{
	char p[PATH_MAX];
	size_t len;

	if (!sd_sock_name_relative(&s->name)) {
		*ret = s->name;
		return 0;
	}
	if (sd_sock_host_path(s, p, sizeof(p)) < 0 || (len = strlen(p)) > SOCK_NAME_MAX)
		return -ENAMETOOLONG;
	memset(ret, 0, sizeof(*ret));
	ret->len = (uint8_t)len;
	memcpy(ret->path, p, len);
	return 0;
}

int sd_rst_sock_enter(struct rst *o, const struct sock_state *s, long *ret_back)
{
	uint64_t a;
	long ign;
	int e;

	*ret_back = -1;
	if (!sd_sock_name_relative(&s->name))
		return 0;
	sd_rst_data_reset(o);
	e = sd_rst_data_str(o, ".", &a);
	if (e == 0)
		e = sd_rst_try(o, SYS_openat, AT_FDCWD, (long)a, O_PATH | O_DIRECTORY | O_CLOEXEC, ret_back);
	if (e < 0) {
		*ret_back = -1;
		return e;
	}
	sd_rst_data_reset(o);
	e = sd_rst_data_str(o, s->name_dir, &a);
	if (e == 0)
		e = sd_rst_try(o, SYS_chdir, (long)a, 0, 0, &ign);
	if (e < 0)
		sd_rst_sock_leave(o, ret_back);
	return e;
}

void sd_rst_sock_leave(struct rst *o, long *back)
{
	long ign;

	if (*back < 0)
		return;
	(void)sd_rst_try(o, SYS_fchdir, *back, 0, 0, &ign);
	(void)sd_rst_try(o, SYS_close, *back, 0, 0, &ign);
	*back = -1;
}

int sd_rst_sock_dirs_make(struct rsk *k, size_t i, const char *path)
{
	const struct sock_state *s = k->fs->fds[i].sk;
	char p[PATH_MAX];
	struct stat st;
	char *end, **m;

	if (!s->vfs_gone || path[0] != '/' || snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return 0;
	end = strrchr(p, '/');
	*end = '\0';
	/* each directory of the path from the top: the missing ones made */
	for (char *c = p + 1; c <= end; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		*c = '\0';
		if (lstat(p, &st) < 0) {
			if (errno != ENOENT || mkdir(p, 0700) < 0)
				return sd_err(k->r->ctx, -errno,
					      "cannot restore pid %d: cannot make '%s' again, a directory removed since a unix socket of it bound to '%s'",
					      k->r->pid, p, path);
			m = realloc(k->made, (k->nmade + 1) * sizeof(*m));
			if (!m || !(m[k->nmade] = strdup(p))) {
				if (m)
					k->made = m;
				(void)rmdir(p);
				return sd_err(k->r->ctx, -ENOMEM, "cannot restore pid %d", k->r->pid);
			}
			k->made = m;
			k->nmade++;
		}
		if (c != end)
			*c = '/';
	}
	return 0;
}

void sd_rst_sock_dirs_remove(struct rsk *k)
{
	while (k->nmade) {
		k->nmade--;
		(void)rmdir(k->made[k->nmade]);
		free(k->made[k->nmade]);
	}
	free(k->made);
	k->made = NULL;
}
