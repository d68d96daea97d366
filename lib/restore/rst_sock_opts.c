/* SPDX-License-Identifier: MIT */
/*
 * The SOL_SOCKET options of any socket a restore makes (unix, TCP, UDP,
 * netlink), set on our copy of it: those before its queue is filled, and
 * those that change how sending works or how it is read, last. And the
 * making of an inet or netlink socket in the new process, set up on our
 * copy of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "pstate_sock.h"
#include "restore.h"
#include "rst_sock.h"

static int set_int(int fd, int name, int v)
{
	return setsockopt(fd, SOL_SOCKET, name, &v, sizeof(v)) < 0 ? -errno : 0;
}

static int set_timeo(int fd, int name, uint64_t us)
{
	struct timeval tv = { .tv_sec = (time_t)(us / 1000000u), .tv_usec = (suseconds_t)(us % 1000000u) };

	return setsockopt(fd, SOL_SOCKET, name, &tv, sizeof(tv)) < 0 ? -errno : 0;
}

/*
 * A buffer size, only where it is not the one a new socket has: setting it
 * also locks it (no autotuning), which a size the program never set must
 * not be. The kernel doubles what it is given; FORCE passes by rmem_max.
 */
static int set_buf(int fd, int name, int force, int32_t want)
{
	int have = 0;
	socklen_t len = sizeof(have);

	if (getsockopt(fd, SOL_SOCKET, name, &have, &len) < 0)
		return -errno;
	return have == want ? 0 : set_int(fd, force, want / 2);
}

int sd_rst_sock_options_first(int fd, const struct sock_state *s)
{
	int e = set_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, s->rcvbuf);

	if (e == 0)
		e = set_buf(fd, SO_SNDBUF, SO_SNDBUFFORCE, s->sndbuf);
	if (e == 0)
		e = set_int(fd, SO_RCVLOWAT, s->rcvlowat);
	if (e == 0)
		e = set_int(fd, SO_PRIORITY, s->priority);
	if (e == 0 && s->mark)
		e = set_int(fd, SO_MARK, s->mark);
	if (e == 0)
		e = set_timeo(fd, SO_RCVTIMEO_OLD, s->rcvtimeo_us);
	if (e == 0)
		e = set_timeo(fd, SO_SNDTIMEO_OLD, s->sndtimeo_us);
	return e ? e : sd_rst_sock_extra_first(fd, s);
}

int sd_rst_sock_options_last(int fd, const struct sock_state *s)
{
	bool unix_ = s->family == AF_UNIX;
	int e = unix_ || s->passcred ? set_int(fd, SO_PASSCRED, s->passcred) : 0;

	if (e == 0 && (unix_ || s->passsec))
		e = set_int(fd, SO_PASSSEC, s->passsec);
	if (e == 0 && s->passpidfd)
		e = set_int(fd, SO_PASSPIDFD, 1);
	/* -1 is what a socket without SO_PEEK_OFF (TCP before 6.10) reads */
	if (e == 0 && (s->peek_off >= 0 || s->family == AF_UNIX))
		e = set_int(fd, SO_PEEK_OFF, s->peek_off);
	return e ? e : sd_rst_sock_extra_last(fd, s);
}

int sd_rst_sock_open(struct rst *r, size_t i, const char *what,
		     int (*set_up)(struct rst *r, const struct fd_state *d, int fd), long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	const struct sock_state *s = d->sk;
	long tmp;
	int copy, e;

	/* at its number already, it keeps the close-on-exec flag it is made with */
	/* a packet socket's protocol, an ethertype, in network order */
	e = sd_rst_call(r, SYS_socket, s->family, s->type | ((d->flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0),
			s->family == AF_PACKET ? htons((uint16_t)s->protocol) : s->protocol, 0, 0, 0, &tmp);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot restore pid %d: cannot make the %s of fd %d", r->pid, what, d->fd);
	copy = sd_rst_take_fd(r, tmp);
	if (copy < 0) {
		(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
		return sd_err(r->ctx, copy, "cannot take fd %ld of the restored pid %d", tmp, r->pid);
	}
	e = set_up(r, d, copy);
	(void)close(copy);
	if (e < 0) {
		(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
		return e;
	}
	*ret_tmp = tmp;
	return 0;
}
