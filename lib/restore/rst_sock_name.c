/* SPDX-License-Identifier: MIT */
/*
 * The names of the unix sockets a restore makes (rst_sock.c): a relative
 * path is bound from the directory it was found in at the dump (the new
 * process enters it for the bind, then goes back where it was), reached
 * from anywhere else (connect(), sendto() from here) by that directory and
 * the name; and a datagram whose sender has gone is sent again from a
 * socket bound to the sender's name in a mount namespace of its own, over
 * whose directory an empty tmpfs is mounted, so that nothing is made, nor
 * removed, where the sender's file was.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
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

/* The deepest existing directory above path @p (in @p, cut there), "/" at least. */
static void existing_dir(char *p)
{
	struct stat st;
	char *slash;

	while ((slash = strrchr(p, '/'))) {
		if (slash == p) {
			p[1] = '\0';
			return;
		}
		*slash = '\0';
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return;
	}
	(void)strcpy(p, ".");
}

/*
 * In the child: a namespace of its own where @from's path is free (an
 * absolute one's deepest directory there, a relative one's /tmp, entered,
 * under an empty tmpfs, the directories below made again), @fd bound to it.
 */
static int bind_hidden(int fd, const struct sock_name *from)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[SOCK_NAME_MAX + 8] = "/tmp", sub[SOCK_NAME_MAX + 1] = { 0 };
	bool abs = from->path[0] == '/';
	char *s;

	memcpy(a.sun_path, from->path, from->len);
	memcpy(sub, from->path, from->len);
	if (from->path[0]) {
		if (abs) {
			memcpy(dir, sub, sizeof(sub));
			existing_dir(dir);
		}
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("sdump", dir, "tmpfs", 0, "mode=0755") < 0 || chdir(dir) < 0)
			return -errno;
		for (s = sub + (abs ? strlen(dir) + 1 : 0); (s = strchr(s, '/')); s++) {
			*s = '\0';
			if (s > sub && mkdir(sub, 0755) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	}
	return bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + from->len)) < 0 ?
		       -errno :
		       0;
}

int sd_rst_sock_send_hidden(int fd, const struct sock_name *from, int (*send)(int fd, void *arg), void *arg)
{
	int st = 0, e;
	pid_t c = fork();

	if (c < 0)
		return -errno;
	if (c == 0) {
		e = bind_hidden(fd, from);
		if (e == 0)
			e = send(fd, arg);
		_exit(e < 0 ? -e : 0);
	}
	while (waitpid(c, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? -WEXITSTATUS(st) : -EINTR;
}
