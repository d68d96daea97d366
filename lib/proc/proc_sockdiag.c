/* SPDX-License-Identifier: MIT */
/*
 * What the kernel's sock_diag says of one unix socket (NETLINK_SOCK_DIAG,
 * unix_diag: its name, the inode of its bound file, its peer, its queue,
 * the clients waiting in a listener's backlog), and the sockets' names
 * and kinds as messages say them.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pstate_sock.h"
#include "util.h"

void sd_sock_files_free_one(struct sock_file *f)
{
	zfree(&f->path);
	zfree(&f->data);
}

void sd_sock_files_free(struct sock_file *f, size_t n)
{
	for (size_t k = 0; k < n; k++)
		sd_sock_files_free_one(&f[k]);
	free(f);
}

void sd_sock_state_free(struct sock_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npkts; i++) {
		free(s->pkts[i].data);
		sd_sock_files_free(s->pkts[i].rights, s->pkts[i].nrights);
	}
	free(s->pkts);
	free(s->icons);
	free(s->sndq);
	free(s->rcvq);
	free(s->name_dir);
	free(s->filter);
	free(s->nl_groups);
	free(s->pk_mc);
	free(s);
}

const char *sd_sock_unix_what(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return "a unix stream socket";
	case SOCK_DGRAM:
		return "a unix datagram socket";
	case SOCK_SEQPACKET:
		return "a unix seqpacket socket";
	default:
		return "a unix socket";
	}
}

void sd_sock_name_text(const struct sock_name *n, char ret[SOCK_NAME_TEXT_MAX])
{
	size_t k = 0;
	bool abstract = n->len && n->path[0] == '\0';

	if (!n->len) {
		(void)snprintf(ret, SOCK_NAME_TEXT_MAX, "unbound");
		return;
	}
	k += (size_t)snprintf(ret, SOCK_NAME_TEXT_MAX, "%s'", abstract ? "abstract " : "");
	for (size_t i = 0; i < n->len && i < SOCK_NAME_MAX; i++) {
		unsigned char c = (unsigned char)n->path[i];

		/* a path's closing NUL is no part of its name */
		if (!abstract && !c)
			break;
		if (!c)
			ret[k++] = '@';
		else if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')
			k += (size_t)snprintf(ret + k, SOCK_NAME_TEXT_MAX - k, "\\x%02x", c);
		else
			ret[k++] = (char)c;
	}
	(void)snprintf(ret + k, SOCK_NAME_TEXT_MAX - k, "'");
}

/* The attributes of one unix_diag answer into @ret. */
static int parse_answer(const struct nlmsghdr *h, struct unix_diag_info *ret)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	ret->type = m->udiag_type;
	ret->state = m->udiag_state;
	ret->ino = m->udiag_ino;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (a = (const struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const void *d = RTA_DATA(a);
		size_t n = RTA_PAYLOAD(a);

		switch (a->rta_type) {
		case UNIX_DIAG_NAME:
			ret->name.len = (uint8_t)MIN(n, (size_t)SOCK_NAME_MAX);
			memcpy(ret->name.path, d, ret->name.len);
			break;
		case UNIX_DIAG_VFS:
			if (n >= sizeof(struct unix_diag_vfs)) {
				const struct unix_diag_vfs *v = d;

				ret->has_vfs = true;
				/* the kernel's dev_t: 12 bits of major above 20 of minor */
				ret->vfs_dev = (uint64_t)(v->udiag_vfs_dev >> 20) << 32 |
					       (v->udiag_vfs_dev & 0xfffff);
				ret->vfs_ino = v->udiag_vfs_ino;
			}
			break;
		case UNIX_DIAG_PEER:
			if (n >= sizeof(uint32_t))
				ret->peer_ino = *(const uint32_t *)d;
			break;
		case UNIX_DIAG_ICONS:
			free(ret->icons);
			ret->nicons = n / sizeof(uint32_t);
			ret->icons = calloc(ret->nicons ? ret->nicons : 1, sizeof(*ret->icons));
			if (!ret->icons)
				return -ENOMEM;
			for (size_t i = 0; i < ret->nicons; i++)
				ret->icons[i] = ((const uint32_t *)d)[i];
			break;
		case UNIX_DIAG_RQLEN:
			if (n >= sizeof(struct unix_diag_rqlen)) {
				ret->rqlen = ((const struct unix_diag_rqlen *)d)->udiag_rqueue;
				ret->wqlen = ((const struct unix_diag_rqlen *)d)->udiag_wqueue;
			}
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (n >= 1)
				ret->shutdown = *(const uint8_t *)d;
			break;
		default:
			break;
		}
	}
	return 0;
}

int sd_sockdiag_unix(uint64_t ino, struct unix_diag_info *ret)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} q = { 0 };
	union {
		struct nlmsghdr h;
		char buf[65536];
	} a;
	ssize_t n;
	int nl, r = -EBADMSG;

	if (ino > UINT32_MAX)
		return -ENOENT;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	q.h.nlmsg_len = sizeof(q);
	q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.h.nlmsg_flags = NLM_F_REQUEST;
	q.r.sdiag_family = AF_UNIX;
	q.r.udiag_ino = (uint32_t)ino;
	q.r.udiag_states = ~0u;
	q.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
			 UDIAG_SHOW_RQLEN;
	/* no cookie: the inode alone */
	q.r.udiag_cookie[0] = q.r.udiag_cookie[1] = ~0u;
	if (send(nl, &q, sizeof(q), 0) != (ssize_t)sizeof(q)) {
		r = -errno;
		goto out;
	}
	n = recv(nl, a.buf, sizeof(a.buf), 0);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	if (!NLMSG_OK(&a.h, (size_t)n))
		goto out;
	if (a.h.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&a.h);

		r = e->error ? e->error : -EBADMSG;
		goto out;
	}
	if (a.h.nlmsg_type == SOCK_DIAG_BY_FAMILY)
		r = parse_answer(&a.h, ret);
out:
	(void)close(nl);
	return r;
}
