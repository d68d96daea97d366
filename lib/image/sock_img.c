/* SPDX-License-Identifier: MIT */
/* The socket fds' own record of files.img (Fd.sk), to and from struct sock_state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "sock_img.h"

static ProtobufCBinaryData name_bin(const struct sock_name *n)
{
	return (ProtobufCBinaryData){ n->len, (uint8_t *)n->path };
}

/* @n from @b: -EBADMSG if longer than sun_path. */
static int name_from(const ProtobufCBinaryData *b, bool has, struct sock_name *n)
{
	memset(n, 0, sizeof(*n));
	if (!has)
		return 0;
	if (b->len > SOCK_NAME_MAX)
		return -EBADMSG;
	n->len = (uint8_t)b->len;
	if (b->len)
		memcpy(n->path, b->data, b->len);
	return 0;
}

/* The files in flight of @p into @q (freed with it by sd_sockimg_free). */
static int rights_to_pb(const struct sock_pkt *p, SockPacket *q)
{
	SockFile *f;

	if (!p->nrights)
		return 0;
	f = calloc(p->nrights, sizeof(*f));
	q->rights = calloc(p->nrights, sizeof(*q->rights));
	if (!f || !q->rights) {
		free(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nrights; i++) {
		const struct sock_file *r = &p->rights[i];

		sock_file__init(&f[i]);
		f[i].kind = r->kind;
		f[i].path = r->path;
		f[i].flags = r->flags;
		f[i].has_pos = r->kind == SKF_FILE;
		f[i].pos = r->pos;
		f[i].ino = r->ino;
		f[i].has_data = r->data_len != 0;
		f[i].data = (ProtobufCBinaryData){ r->data_len, r->data };
		q->rights[i] = &f[i];
	}
	q->n_rights = p->nrights;
	return 0;
}

/* And back: -EBADMSG for a kind sdump does not know, a file without its path. */
static int rights_from_pb(const SockPacket *q, struct sock_pkt *p)
{
	if (q->n_rights > SOCK_RIGHTS_MAX)
		return -EBADMSG;
	if (!q->n_rights)
		return 0;
	p->rights = calloc(q->n_rights, sizeof(*p->rights));
	if (!p->rights)
		return -ENOMEM;
	for (size_t i = 0; i < q->n_rights; i++) {
		const SockFile *f = q->rights[i];
		struct sock_file *r = &p->rights[i];

		if ((f->kind != SKF_FILE && f->kind != SKF_PIPE_READ && f->kind != SKF_PIPE_WRITE) ||
		    (f->kind == SKF_FILE) != (f->path != NULL) || (f->kind == SKF_FILE && f->has_data) ||
		    f->data.len > SOCK_QUEUE_MAX)
			return -EBADMSG;
		p->nrights++;
		r->kind = f->kind;
		r->flags = f->flags;
		r->pos = f->pos;
		r->ino = f->ino;
		if (f->path && !(r->path = strdup(f->path)))
			return -ENOMEM;
		if (f->data.len && !(r->data = malloc(f->data.len)))
			return -ENOMEM;
		if (f->data.len)
			memcpy(r->data, f->data.data, f->data.len);
		r->data_len = f->data.len;
	}
	return 0;
}

/* The options of every family that are no ints: each only where not a new socket's. */
static void extra_to_pb(const struct sock_state *s, Socket *k)
{
	k->has_linger = s->linger_on;
	k->linger = s->linger;
	k->bindtodevice = s->bindtodevice[0] ? (char *)s->bindtodevice : NULL;
	k->has_dontroute = k->dontroute = s->dontroute;
	k->has_buf_lock = s->buf_lock >= 0;
	k->buf_lock = s->buf_lock;
	k->has_max_pacing_rate = s->pacing;
	k->max_pacing_rate = s->max_pacing_rate;
	k->has_txtime_clockid = k->has_txtime_flags = s->txtime;
	k->txtime_clockid = s->txtime_clockid;
	k->txtime_flags = s->txtime_flags;
	k->has_filter = s->filter_len != 0;
	k->filter = (ProtobufCBinaryData){ s->filter_len, s->filter };
	k->has_lock_filter = k->lock_filter = s->lock_filter;
	k->congestion = s->congestion[0] ? (char *)s->congestion : NULL;
}

/* A name of at most SOCK_TEXT_MAX bytes into @ret: -EBADMSG if longer. */
static int text_from(const char *t, char ret[SOCK_TEXT_MAX + 1])
{
	size_t n = t ? strlen(t) : 0;

	if (n > SOCK_TEXT_MAX)
		return -EBADMSG;
	memset(ret, 0, SOCK_TEXT_MAX + 1);
	if (n)
		memcpy(ret, t, n);
	return 0;
}

static int extra_from_pb(const Socket *k, struct sock_state *s)
{
	if (text_from(k->bindtodevice, s->bindtodevice) < 0 || text_from(k->congestion, s->congestion) < 0 ||
	    (k->congestion && (k->family == AF_UNIX || k->type != SOCK_STREAM)) ||
	    (k->has_filter && (!k->filter.len || k->filter.len % 8 || k->filter.len > SOCK_FILTER_MAX * 8)) ||
	    (k->has_buf_lock && (k->buf_lock < 0 || k->buf_lock > 3)) || k->has_txtime_clockid != k->has_txtime_flags)
		return -EBADMSG;
	s->linger_on = k->has_linger;
	s->linger = k->linger;
	s->dontroute = k->has_dontroute && k->dontroute;
	s->buf_lock = k->has_buf_lock ? k->buf_lock : -1;
	s->pacing = k->has_max_pacing_rate;
	s->max_pacing_rate = k->has_max_pacing_rate ? k->max_pacing_rate : ~0ull;
	s->txtime = k->has_txtime_clockid;
	s->txtime_clockid = k->txtime_clockid;
	s->txtime_flags = k->txtime_flags;
	s->lock_filter = k->has_lock_filter && k->lock_filter;
	if (k->has_filter) {
		s->filter = malloc(k->filter.len);
		if (!s->filter)
			return -ENOMEM;
		memcpy(s->filter, k->filter.data, k->filter.len);
		s->filter_len = k->filter.len;
	}
	return 0;
}

/* The int options of an inet or netlink socket (freed by sd_sockimg_free). */
static int opts_to_pb(const struct sock_state *s, Socket *k)
{
	SockOpt *o = calloc(s->nopts, sizeof(*o));

	k->opts = calloc(s->nopts, sizeof(*k->opts));
	if (!o || !k->opts) {
		free(o);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->nopts; i++) {
		sock_opt__init(&o[i]);
		o[i].level = s->opts[i].level;
		o[i].name = s->opts[i].name;
		o[i].value = s->opts[i].value;
		k->opts[i] = &o[i];
	}
	k->n_opts = s->nopts;
	return 0;
}

static int opts_from_pb(const Socket *k, struct sock_state *s)
{
	if (k->n_opts > SOCK_OPTS_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < k->n_opts; i++) {
		const SockOpt *o = k->opts[i];

		if (!sd_sock_opt_known(o->level, o->name, k->family, k->type, k->protocol))
			return -EBADMSG;
		s->opts[s->nopts++] = (struct sock_opt){ .level = o->level, .name = o->name, .value = o->value };
	}
	return 0;
}

/*
 * The netlink fields: no queue, no unix or inet field; connected (state
 * 1) with a destination, bound then (connect() autobinds).
 */
static int netlink_from_pb(const Socket *k, struct sock_state *s)
{
	bool conn = k->state == SKS_ESTABLISHED;

	if (!k->has_protocol || k->protocol < 0 || k->protocol >= 32 || (k->type != SOCK_RAW && k->type != SOCK_DGRAM) ||
	    (k->state != SKS_CLOSE && !conn) || conn != k->has_nl_dst_portid || conn != k->has_nl_dst_group ||
	    (conn && !k->has_nl_portid) || (k->has_nl_portid && !k->nl_portid) || k->n_nl_groups > SOCK_NL_WORDS_MAX ||
	    k->n_queue || k->has_name || k->has_peer_name || k->n_icons || k->has_peer_ino || k->peer_gone ||
	    k->external || k->has_listener_ino || k->has_addr || k->has_peer || k->has_repaired || k->shutdown ||
	    k->has_backlog || k->congestion)
		return -EBADMSG;
	s->protocol = k->protocol;
	s->nl_portid = k->nl_portid;
	s->nl_dst_portid = k->nl_dst_portid;
	s->nl_dst_group = k->nl_dst_group;
	if (k->n_nl_groups) {
		s->nl_groups = calloc(k->n_nl_groups, sizeof(*s->nl_groups));
		if (!s->nl_groups)
			return -ENOMEM;
		memcpy(s->nl_groups, k->nl_groups, k->n_nl_groups * sizeof(*s->nl_groups));
		s->nl_nwords = k->n_nl_groups;
	}
	return opts_from_pb(k, s);
}

/* A packet socket's fields (its members freed by sd_sockimg_free). */
static int packet_to_pb(const struct sock_state *s, Socket *k)
{
	SockPacketMember *m = s->pk_nmc ? calloc(s->pk_nmc, sizeof(*m)) : NULL;

	k->has_protocol = true;
	k->protocol = s->protocol;
	k->has_pk_ifindex = s->pk_ifindex != 0;
	k->pk_ifindex = s->pk_ifindex;
	k->pk_ifname = s->pk_ifindex || s->pk_ifname[0] ? (char *)s->pk_ifname : NULL;
	k->has_pk_fanout = s->pk_fanout != 0;
	k->pk_fanout = s->pk_fanout;
	if (!s->pk_nmc)
		return 0;
	k->pk_members = calloc(s->pk_nmc, sizeof(*k->pk_members));
	if (!m || !k->pk_members) {
		free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->pk_nmc; i++) {
		const struct sock_pk_mc *c = &s->pk_mc[i];

		sock_packet_member__init(&m[i]);
		m[i].ifindex = c->ifindex;
		m[i].ifname = (char *)c->ifname;
		m[i].count = c->count;
		m[i].type = c->type;
		m[i].has_addr = c->alen != 0;
		m[i].addr = (ProtobufCBinaryData){ c->alen, (uint8_t *)c->addr };
		k->pk_members[i] = &m[i];
	}
	k->n_pk_members = s->pk_nmc;
	return 0;
}

/*
 * The packet fields: no queue, no unix, inet or netlink field; an
 * interface name with an index (SOCK_PACKET: a name alone), at most
 * SOCK_PK_MC_MAX members, no SOL_PACKET option on SOCK_PACKET.
 */
static int packet_from_pb(const Socket *k, struct sock_state *s)
{
	bool spkt = k->type == SOCK_PACKET;

	if (!k->has_protocol || k->protocol < 0 || k->protocol > 0xffff ||
	    (k->type != SOCK_RAW && k->type != SOCK_DGRAM && !spkt) || k->state != SKS_CLOSE ||
	    (k->has_pk_ifindex && (k->pk_ifindex <= 0 || !k->pk_ifname)) || (!spkt && !k->has_pk_ifindex && k->pk_ifname) ||
	    (spkt && (k->n_opts || k->n_pk_members || k->has_pk_fanout)) || k->n_pk_members > SOCK_PK_MC_MAX ||
	    k->n_queue || k->has_name || k->has_peer_name || k->n_icons || k->has_peer_ino || k->peer_gone ||
	    k->external || k->has_listener_ino || k->has_addr || k->has_peer || k->has_repaired || k->shutdown ||
	    k->has_backlog || k->congestion || text_from(k->pk_ifname, s->pk_ifname) < 0)
		return -EBADMSG;
	s->protocol = k->protocol;
	s->pk_ifindex = k->pk_ifindex;
	s->pk_fanout = k->pk_fanout;
	if (k->n_pk_members) {
		s->pk_mc = calloc(k->n_pk_members, sizeof(*s->pk_mc));
		if (!s->pk_mc)
			return -ENOMEM;
	}
	for (size_t i = 0; i < k->n_pk_members; i++) {
		const SockPacketMember *m = k->pk_members[i];
		struct sock_pk_mc *c = &s->pk_mc[i];

		if (m->ifindex <= 0 || !m->count || m->count > SOCK_PK_COUNT_MAX || (m->has_addr && m->addr.len > SOCK_PK_ADDR_MAX) ||
		    text_from(m->ifname, c->ifname) < 0)
			return -EBADMSG;
		c->ifindex = m->ifindex;
		c->count = m->count;
		c->type = (uint16_t)m->type;
		c->alen = m->has_addr ? (uint16_t)m->addr.len : 0;
		if (c->alen)
			memcpy(c->addr, m->addr.data, c->alen);
		s->pk_nmc++;
	}
	return opts_from_pb(k, s);
}

int sd_sockimg_to_pb(const struct fd_state *d, Fd *out)
{
	const struct sock_state *s = d->sk;
	Socket *k;
	SockPacket *q = NULL;

	if (!s)
		return 0;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	socket__init(k);
	out->sk = k;
	k->family = s->family;
	k->type = s->type;
	k->state = s->state;
	k->ino = s->ino;
	k->has_name = s->name.len != 0;
	k->name = name_bin(&s->name);
	k->has_vfs_ino = k->has_vfs_dev = s->vfs_ino != 0;
	k->vfs_ino = s->vfs_ino;
	k->vfs_dev = s->vfs_dev;
	k->has_vfs_mode = k->has_vfs_uid = k->has_vfs_gid = s->vfs_ino && !s->vfs_gone;
	k->vfs_mode = s->vfs_mode;
	k->vfs_uid = s->vfs_uid;
	k->vfs_gid = s->vfs_gid;
	k->has_vfs_gone = k->vfs_gone = s->vfs_gone;
	k->name_dir = s->name_dir;
	k->has_peer_ino = s->peer_ino != 0;
	k->peer_ino = s->peer_ino;
	k->has_peer_name = s->peer_name.len != 0;
	k->peer_name = name_bin(&s->peer_name);
	k->has_peer_gone = k->peer_gone = s->peer_gone;
	k->has_peer_reset = k->peer_reset = s->peer_reset;
	k->has_shutdown = s->shutdown != 0;
	k->shutdown = s->shutdown;
	k->has_backlog = s->state == SKS_LISTEN;
	k->backlog = s->backlog;
	k->n_icons = s->nicons;
	k->icons = s->icons;
	k->has_listener_ino = s->listener_ino != 0;
	k->has_listener_gone = k->listener_gone = s->listener_gone;
	k->listener_ino = s->listener_ino;
	k->has_external = k->external = s->external;
	k->rcvbuf = s->rcvbuf;
	k->sndbuf = s->sndbuf;
	k->peek_off = s->peek_off;
	k->rcvlowat = s->rcvlowat;
	k->priority = s->priority;
	k->mark = s->mark;
	k->passcred = s->passcred;
	k->passsec = s->passsec;
	k->has_passpidfd = k->passpidfd = s->passpidfd;
	k->rcvtimeo_us = s->rcvtimeo_us;
	k->sndtimeo_us = s->sndtimeo_us;
	k->peer_pid = s->peercred.pid;
	k->peer_uid = s->peercred.uid;
	k->peer_gid = s->peercred.gid;
	extra_to_pb(s, k);
	if (d->kind == FDK_INET) {
		k->has_protocol = true;
		k->protocol = s->protocol;
		k->has_addr = s->addr_len != 0;
		k->addr = (ProtobufCBinaryData){ s->addr_len, (uint8_t *)s->addr };
		k->has_peer = s->peer_len != 0;
		k->peer = (ProtobufCBinaryData){ s->peer_len, (uint8_t *)s->peer };
		k->has_icmp6_filter = s->has_icmp6_filter;
		k->icmp6_filter = (ProtobufCBinaryData){ sizeof(s->icmp6_filter), (uint8_t *)s->icmp6_filter };
		if (s->repaired) {
			k->has_repaired = k->repaired = true;
			k->has_snd_seq = k->has_rcv_seq = k->has_mss = k->has_snd_wscale = true;
			k->has_rcv_wscale = k->has_tcpi_options = k->has_timestamp = true;
			k->snd_seq = s->snd_seq;
			k->rcv_seq = s->rcv_seq;
			k->mss = s->mss;
			k->snd_wscale = s->snd_wscale;
			k->rcv_wscale = s->rcv_wscale;
			k->tcpi_options = s->tcpi_options;
			k->timestamp = s->timestamp;
			k->n_window = 5;
			k->window = (uint32_t *)s->win;
			k->has_sndq = k->has_rcvq = k->has_sndq_unsent = true;
			k->sndq = (ProtobufCBinaryData){ s->sndq_len, s->sndq };
			k->rcvq = (ProtobufCBinaryData){ s->rcvq_len, s->rcvq };
			k->sndq_unsent = s->sndq_unsent;
			k->has_fin_unsent = k->fin_unsent = s->fin_unsent;
		}
	}
	if (d->kind == FDK_NETLINK) {
		k->has_protocol = true;
		k->protocol = s->protocol;
		k->has_nl_portid = s->nl_portid != 0;
		k->nl_portid = s->nl_portid;
		k->n_nl_groups = s->nl_nwords;
		k->nl_groups = s->nl_groups;
		k->has_nl_dst_portid = k->has_nl_dst_group = s->state == SKS_ESTABLISHED;
		k->nl_dst_portid = s->nl_dst_portid;
		k->nl_dst_group = s->nl_dst_group;
	}
	if (d->kind == FDK_PACKET && packet_to_pb(s, k) < 0)
		return -ENOMEM;
	if (s->nopts && opts_to_pb(s, k) < 0)
		return -ENOMEM;
	if (!s->npkts)
		return 0;
	q = calloc(s->npkts, sizeof(*q));
	k->queue = calloc(s->npkts, sizeof(*k->queue));
	if (!q || !k->queue) {
		free(q);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->npkts; i++) {
		const struct sock_pkt *p = &s->pkts[i];

		sock_packet__init(&q[i]);
		q[i].data = (ProtobufCBinaryData){ p->len, p->data };
		q[i].pid = p->creds.pid;
		q[i].uid = p->creds.uid;
		q[i].gid = p->creds.gid;
		q[i].has_from = p->from.len != 0;
		q[i].from = name_bin(&p->from);
		k->queue[i] = &q[i];
		if (rights_to_pb(p, &q[i]) < 0) {
			k->n_queue = i + 1;
			return -ENOMEM;
		}
	}
	k->n_queue = s->npkts;
	return 0;
}

void sd_sockimg_free(Fd *out)
{
	if (!out->sk)
		return;
	for (size_t i = 0; out->sk->queue && i < out->sk->n_queue; i++) {
		if (out->sk->queue[i]->rights)
			free(out->sk->queue[i]->rights[0]);
		free(out->sk->queue[i]->rights);
	}
	if (out->sk->queue)
		free(out->sk->queue[0]);
	free(out->sk->queue);
	if (out->sk->opts)
		free(out->sk->opts[0]);
	free(out->sk->opts);
	if (out->sk->pk_members)
		free(out->sk->pk_members[0]);
	free(out->sk->pk_members);
	free(out->sk);
	out->sk = NULL;
}

static int read_queue(const Socket *k, struct sock_state *s)
{
	size_t total = 0;
	int r;

	if (k->n_queue > SOCK_PKTS_MAX)
		return -EBADMSG;
	if (!k->n_queue)
		return 0;
	s->pkts = calloc(k->n_queue, sizeof(*s->pkts));
	if (!s->pkts)
		return -ENOMEM;
	for (size_t i = 0; i < k->n_queue; i++) {
		const SockPacket *q = k->queue[i];
		struct sock_pkt *p = &s->pkts[i];

		total += q->data.len;
		if (total > SOCK_QUEUE_MAX || name_from(&q->from, q->has_from, &p->from) < 0 ||
		    (q->has_from && k->type == SOCK_STREAM) ||
		    (k->family != AF_UNIX && (!q->has_from || q->from.len > SOCK_ADDR_MAX)))
			return -EBADMSG;
		p->data = malloc(q->data.len ? q->data.len : 1);
		if (!p->data)
			return -ENOMEM;
		s->npkts++;
		if (q->data.len)
			memcpy(p->data, q->data.data, q->data.len);
		p->len = q->data.len;
		p->creds = (struct sock_creds){ .pid = q->pid, .uid = q->uid, .gid = q->gid };
		r = rights_from_pb(q, p);
		if (r < 0)
			return r;
	}
	return 0;
}

/* An inet address of family @family: a whole sockaddr_in or sockaddr_in6 of it. */
static int addr_from(const ProtobufCBinaryData *b, bool has, int family, uint8_t *out, uint8_t *ret_len)
{
	sa_family_t f;

	*ret_len = 0;
	if (!has)
		return 0;
	if (b->len != (family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)))
		return -EBADMSG;
	memcpy(&f, b->data, sizeof(f));
	if (f != family)
		return -EBADMSG;
	memcpy(out, b->data, b->len);
	*ret_len = (uint8_t)b->len;
	return 0;
}

/* The inet fields: a TCP socket listening or not connected, a UDP one not listening. */
static int inet_from_pb(const Socket *k, struct sock_state *s)
{
	bool tcp = k->type == SOCK_STREAM && k->protocol == IPPROTO_TCP;
	bool ping = k->type == SOCK_DGRAM && ((k->family == AF_INET && k->protocol == IPPROTO_ICMP) ||
					      (k->family == AF_INET6 && k->protocol == IPPROTO_ICMPV6));
	bool raw = k->type == SOCK_RAW && k->protocol >= 0 && k->protocol < IPPROTO_MAX;
	bool udp = (k->type == SOCK_DGRAM && (k->protocol == IPPROTO_UDP || k->protocol == IPPROTO_UDPLITE)) || ping || raw;

	bool rep = k->has_repaired && k->repaired;

	if ((k->family != AF_INET && k->family != AF_INET6) || (!tcp && !udp) ||
	    (k->state != SKS_CLOSE && k->state != (tcp ? SKS_LISTEN : SKS_ESTABLISHED) &&
	     !(rep && sd_sock_tcp_conn_state(k->state))) ||
	    (k->state == SKS_LISTEN && !k->has_addr) || (udp && (k->state == SKS_ESTABLISHED) != k->has_peer) ||
	    (tcp && (k->has_peer != rep || k->n_queue)) || ((ping || raw) && k->n_queue) ||
	    (k->has_icmp6_filter && (!raw || k->family != AF_INET6 || k->icmp6_filter.len != sizeof(s->icmp6_filter))) ||
	    (k->fin_unsent && (!rep || !(sd_sock_tcp_fins(k->state) & SK_FIN_OUT) ||
			       (sd_sock_tcp_fins(k->state) & SK_FIN_OUT_ACKED))) ||
	    (rep && (!tcp || !sd_sock_tcp_conn_state(k->state) || !k->has_addr || k->n_window != 5 ||
		     k->sndq.len > SOCK_QUEUE_MAX || k->rcvq.len > SOCK_QUEUE_MAX || k->sndq_unsent > k->sndq.len)) ||
	    (!rep && (k->has_sndq || k->has_rcvq || k->n_window)) || k->has_name || k->has_peer_name || k->n_icons ||
	    k->has_peer_ino || k->peer_gone || k->external || k->has_listener_ino || k->n_opts > SOCK_OPTS_MAX ||
	    addr_from(&k->addr, k->has_addr, k->family, s->addr, &s->addr_len) < 0 ||
	    addr_from(&k->peer, k->has_peer, k->family, s->peer, &s->peer_len) < 0)
		return -EBADMSG;
	s->protocol = k->protocol;
	s->has_icmp6_filter = k->has_icmp6_filter;
	if (k->has_icmp6_filter)
		memcpy(s->icmp6_filter, k->icmp6_filter.data, sizeof(s->icmp6_filter));
	if (rep) {
		s->repaired = true;
		s->snd_seq = k->snd_seq;
		s->rcv_seq = k->rcv_seq;
		s->mss = k->mss;
		s->snd_wscale = k->snd_wscale;
		s->rcv_wscale = k->rcv_wscale;
		s->tcpi_options = k->tcpi_options;
		s->timestamp = k->timestamp;
		memcpy(s->win, k->window, sizeof(s->win));
		s->sndq = malloc(k->sndq.len + 1);
		s->rcvq = malloc(k->rcvq.len + 1);
		if (!s->sndq || !s->rcvq)
			return -ENOMEM;
		if (k->sndq.len)
			memcpy(s->sndq, k->sndq.data, k->sndq.len);
		if (k->rcvq.len)
			memcpy(s->rcvq, k->rcvq.data, k->rcvq.len);
		s->sndq_len = k->sndq.len;
		s->rcvq_len = k->rcvq.len;
		s->sndq_unsent = k->sndq_unsent;
		s->fin_unsent = k->has_fin_unsent && k->fin_unsent;
	}
	return opts_from_pb(k, s);
}

static int from_pb(const Socket *k, struct sock_state *s)
{
	bool unix_ = k->family == AF_UNIX, listen = unix_ && k->state == SKS_LISTEN, rel;
	bool nl = k->family == AF_NETLINK, pk = k->family == AF_PACKET;

	int r = unix_ ? 0 : nl ? netlink_from_pb(k, s) : pk ? packet_from_pb(k, s) : inet_from_pb(k, s);

	if (r < 0)
		return r;
	if ((unix_ && (k->has_protocol || k->has_addr || k->has_peer || k->n_opts)) ||
	    (!nl && (k->n_nl_groups || k->has_nl_portid || k->has_nl_dst_portid || k->has_nl_dst_group)) ||
	    (!pk && (k->has_pk_ifindex || k->pk_ifname || k->n_pk_members || k->has_pk_fanout)) ||
	    (k->type != SOCK_STREAM && k->type != SOCK_DGRAM && k->type != SOCK_SEQPACKET && !nl && !pk &&
	     !(k->type == SOCK_RAW && !unix_)) ||
	    (unix_ && k->state != SKS_ESTABLISHED && k->state != SKS_CLOSE && !listen) ||
	    (listen && (k->type == SOCK_DGRAM || !k->has_name || k->n_queue || k->has_peer_ino)) ||
	    (!listen && k->n_icons) || (k->has_backlog && k->state != SKS_LISTEN) || k->n_icons > SOCK_ICONS_MAX ||
	    k->ino == 0 || k->ino > UINT32_MAX || k->shutdown > 3 ||
	    (k->external && (!k->has_peer_name || k->n_queue)) ||
	    (k->peer_gone && (k->has_peer_ino || k->external)) ||
	    (k->has_listener_ino && (k->type == SOCK_DGRAM || !k->has_name)) ||
	    (k->listener_gone && (k->type == SOCK_DGRAM || !k->has_name || k->has_listener_ino)) ||
	    name_from(&k->name, k->has_name, &s->name) < 0 ||
	    name_from(&k->peer_name, k->has_peer_name, &s->peer_name) < 0)
		return -EBADMSG;
	rel = s->name.len && s->name.path[0] && s->name.path[0] != '/';
	s->family = k->family;
	s->type = k->type;
	s->state = k->state;
	s->ino = k->ino;
	s->vfs_ino = k->vfs_ino;
	s->vfs_dev = k->vfs_dev;
	s->vfs_mode = k->vfs_mode & 07777;
	s->vfs_uid = k->vfs_uid;
	s->vfs_gid = k->vfs_gid;
	s->vfs_gone = k->vfs_gone;
	/* a relative path, and only it, comes with the absolute directory it is relative to */
	if (rel != (k->name_dir != NULL) || (rel && k->name_dir[0] != '/'))
		return -EBADMSG;
	if (rel && !(s->name_dir = strdup(k->name_dir)))
		return -ENOMEM;
	s->peer_ino = k->peer_ino;
	s->peer_gone = k->peer_gone;
	s->peer_reset = k->has_peer_reset && k->peer_reset;
	if (s->peer_reset && (!s->peer_gone || k->type != SOCK_STREAM))
		return -EBADMSG;
	s->shutdown = k->shutdown;
	s->backlog = k->backlog;
	s->listener_ino = k->listener_ino;
	s->listener_gone = k->listener_gone;
	s->external = k->external;
	s->rcvbuf = k->rcvbuf;
	s->sndbuf = k->sndbuf;
	s->peek_off = k->peek_off;
	s->rcvlowat = k->rcvlowat;
	s->priority = k->priority;
	s->mark = k->mark;
	s->passcred = k->passcred;
	s->passsec = k->passsec;
	s->passpidfd = k->has_passpidfd && k->passpidfd;
	s->rcvtimeo_us = k->rcvtimeo_us;
	s->sndtimeo_us = k->sndtimeo_us;
	s->peercred = (struct sock_creds){ .pid = k->peer_pid, .uid = k->peer_uid, .gid = k->peer_gid };
	if (k->n_icons) {
		s->icons = calloc(k->n_icons, sizeof(*s->icons));
		if (!s->icons)
			return -ENOMEM;
		memcpy(s->icons, k->icons, k->n_icons * sizeof(*s->icons));
		s->nicons = k->n_icons;
	}
	r = extra_from_pb(k, s);
	return r < 0 ? r : read_queue(k, s);
}

int sd_sockimg_from_pb(const Fd *in, struct fd_state *d)
{
	int r;

	bool sock = (int)in->kind == (int)FDK_UNIX || (int)in->kind == (int)FDK_INET ||
		    (int)in->kind == (int)FDK_NETLINK || (int)in->kind == (int)FDK_PACKET;

	if (!in->sk != !sock || (in->sk && (in->sk->family == AF_UNIX) != ((int)in->kind == (int)FDK_UNIX)) ||
	    (in->sk && (in->sk->family == AF_NETLINK) != ((int)in->kind == (int)FDK_NETLINK)) ||
	    (in->sk && (in->sk->family == AF_PACKET) != ((int)in->kind == (int)FDK_PACKET)))
		return -EBADMSG;
	if (!in->sk)
		return 0;
	d->sk = calloc(1, sizeof(*d->sk));
	if (!d->sk)
		return -ENOMEM;
	r = from_pb(in->sk, d->sk);
	return r;
}
