/* SPDX-License-Identifier: MIT */
/*
 * What the kernel's sock_diag says of one packet socket (packet_diag, a
 * dump of every packet socket of our network namespace, matched by
 * inode): its protocol, its settings, its rings, its fanout group and its
 * memberships, which no getsockopt() reads back.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/packet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pstate_sock.h"
#include "util.h"

struct find_packet {
	uint64_t ino;
	struct packet_diag_state *ret;
	int err;
};

static int mclist(const void *d, size_t n, struct packet_diag_state *ret)
{
	size_t k = n / sizeof(struct packet_diag_mclist);

	if (k > SOCK_PK_MC_MAX)
		return -E2BIG;
	for (size_t i = 0; i < k; i++) {
		struct packet_diag_mclist m;

		memcpy(&m, (const uint8_t *)d + i * sizeof(m), sizeof(m));
		if (m.pdmc_count > SOCK_PK_COUNT_MAX)
			return -E2BIG;
	}
	free(ret->mc);
	ret->mc = calloc(k ? k : 1, sizeof(*ret->mc));
	if (!ret->mc)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		struct packet_diag_mclist m;

		memcpy(&m, (const uint8_t *)d + i * sizeof(m), sizeof(m));
		ret->mc[i] = (struct sock_pk_mc){ .ifindex = (int32_t)m.pdmc_index, .count = m.pdmc_count,
						  .type = m.pdmc_type, .alen = MIN(m.pdmc_alen, SOCK_PK_ADDR_MAX) };
		memcpy(ret->mc[i].addr, m.pdmc_addr, ret->mc[i].alen);
	}
	ret->nmc = k;
	return 0;
}

static int match(const struct nlmsghdr *h, void *arg)
{
	const struct packet_diag_msg *m = NLMSG_DATA(h);
	struct find_packet *f = arg;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));

	if (m->pdiag_ino != f->ino)
		return 0;
	f->ret->num = m->pdiag_num;
	for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const void *d = RTA_DATA(a);
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type == PACKET_DIAG_INFO && n >= sizeof(struct packet_diag_info)) {
			const struct packet_diag_info *i = d;

			f->ret->ifindex = i->pdi_index;
			f->ret->version = i->pdi_version;
			f->ret->reserve = i->pdi_reserve;
			f->ret->copy_thresh = i->pdi_copy_thresh;
			f->ret->tstamp = i->pdi_tstamp;
			f->ret->flags = i->pdi_flags;
		} else if (a->rta_type == PACKET_DIAG_MCLIST) {
			f->err = mclist(d, n, f->ret);
		} else if (a->rta_type == PACKET_DIAG_RX_RING) {
			f->ret->rx_ring = true;
		} else if (a->rta_type == PACKET_DIAG_TX_RING) {
			f->ret->tx_ring = true;
		} else if (a->rta_type == PACKET_DIAG_FANOUT && n >= sizeof(uint32_t)) {
			f->ret->has_fanout = true;
			memcpy(&f->ret->fanout, d, sizeof(uint32_t));
		}
	}
	return 1;
}

int sd_sockdiag_packet(uint64_t ino, struct packet_diag_state *ret)
{
	struct {
		struct nlmsghdr h;
		struct packet_diag_req r;
	} q = { 0 };
	struct find_packet f = { .ino = ino, .ret = ret };
	int nl, r;

	if (ino > UINT32_MAX)
		return -ENOENT;
	q.h.nlmsg_len = sizeof(q);
	q.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.r.sdiag_family = AF_PACKET;
	q.r.pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MCLIST | PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT;
	nl = sd_sockdiag_start(&q, sizeof(q));
	if (nl < 0)
		return nl;
	memset(ret, 0, sizeof(*ret));
	r = sd_sockdiag_each(nl, sizeof(struct packet_diag_msg), match, &f);
	(void)close(nl);
	if (r == 0)
		return -ENOENT;
	return r < 0 ? r : f.err;
}
