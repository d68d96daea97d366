/* SPDX-License-Identifier: MIT */
/*
 * The netlink, packet and raw sockets' fields of files.img (sock_img.c):
 * through a packed Fd and back unchanged, and values no dump writes (a
 * netlink protocol above 31, a connected netlink socket without a port
 * id, a packet membership added no time or too many times, a packet
 * interface without its name, an option of another family, an ICMPv6
 * filter on a UDP socket, a family the kind does not have) refused.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sdump.h"
#include "files.pb-c.h"
#include "pstate_sock.h"
#include "sock_img.h"
#include "unit.h"

static uint32_t groups[2] = { 0x401, 0x8 };
static struct sock_pk_mc mc[1] = { { .ifindex = 1, .count = 2, .type = PACKET_MR_MULTICAST, .alen = 6,
				     .addr = { 1, 0, 0x5e, 1, 2, 3 }, .ifname = "lo" } };

static void base(struct sock_state *s, int family, int type, int kind_proto)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->type = type;
	s->state = SKS_CLOSE;
	s->ino = 4242;
	s->rcvbuf = 212992;
	s->sndbuf = 212992;
	s->peek_off = -1;
	s->buf_lock = -1;
	s->protocol = kind_proto;
}

/* @s as files.img has it, packed and unpacked (*@ret_pb), read back into *@ret, its result in *@ret_r. */
static void round_trip(enum fd_kind kind, struct sock_state *s, Fd **ret_pb, struct fd_state *ret, int *ret_r)
{
	struct fd_state d = { .fd = 3, .kind = kind, .sk = s };
	Fd pb = FD__INIT;
	uint8_t *buf;
	size_t len;

	pb.kind = (FdKind)kind;
	pb.path = "socket:[4242]";
	ASSERT_OK(sd_sockimg_to_pb(&d, &pb));
	len = fd__get_packed_size(&pb);
	buf = malloc(len);
	ASSERT_TRUE(buf != NULL);
	fd__pack(&pb, buf);
	sd_sockimg_free(&pb);
	*ret_pb = fd__unpack(NULL, len, buf);
	free(buf);
	ASSERT_TRUE(*ret_pb != NULL);
	memset(ret, 0, sizeof(*ret));
	*ret_r = sd_sockimg_from_pb(*ret_pb, ret);
}

/* What @pb reads as, the state read freed. */
static int reads(const Fd *pb)
{
	struct fd_state b = { 0 };
	int r = sd_sockimg_from_pb(pb, &b);

	sd_sock_state_free(b.sk);
	return r;
}

static void test_netlink(void)
{
	struct sock_state s;
	struct fd_state back;
	Fd *pb;
	int r;

	base(&s, AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT);
	s.state = SKS_ESTABLISHED;
	s.nl_portid = 0x7e001234;
	s.nl_dst_portid = 77;
	s.nl_dst_group = 1;
	s.nl_groups = groups;
	s.nl_nwords = 2;
	s.opts[s.nopts++] = (struct sock_opt){ SOL_NETLINK, NETLINK_PKTINFO, 1 };
	s.opts[s.nopts++] = (struct sock_opt){ SOL_NETLINK, NETLINK_EXT_ACK, 1 };
	round_trip(FDK_NETLINK, &s, &pb, &back, &r);
	ASSERT_OK(r);
	ASSERT_EQ(back.sk->protocol, NETLINK_KOBJECT_UEVENT);
	ASSERT_EQ(back.sk->nl_portid, 0x7e001234u);
	ASSERT_EQ(back.sk->nl_dst_portid, 77u);
	ASSERT_EQ(back.sk->nl_dst_group, 1u);
	ASSERT_EQ(back.sk->nl_nwords, 2);
	ASSERT_MEMEQ(back.sk->nl_groups, groups, sizeof(groups));
	ASSERT_EQ(back.sk->nopts, 2);
	ASSERT_EQ(back.sk->opts[1].name, NETLINK_EXT_ACK);
	sd_sock_state_free(back.sk);
	/* hostile: a protocol no kernel has, connected without a port id, an inet option, as an inet fd */
	pb->sk->protocol = 32;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->sk->protocol = NETLINK_ROUTE;
	pb->sk->has_nl_portid = false;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->sk->has_nl_portid = true;
	pb->sk->opts[0]->level = IPPROTO_IP;
	pb->sk->opts[0]->name = IP_TOS;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->sk->opts[0]->level = SOL_NETLINK;
	pb->sk->opts[0]->name = NETLINK_PKTINFO;
	pb->kind = FD_KIND__FD_INET;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->kind = FD_KIND__FD_NETLINK;
	ASSERT_OK(reads(pb));
	fd__free_unpacked(pb, NULL);
}

static void test_packet(void)
{
	char *name;
	struct sock_state s;
	struct fd_state back;
	Fd *pb;
	int r;

	base(&s, AF_PACKET, SOCK_DGRAM, 0x0800);
	s.pk_ifindex = 1;
	strcpy(s.pk_ifname, "lo");
	s.pk_mc = mc;
	s.pk_nmc = 1;
	s.pk_fanout = 0x10004dea;
	s.opts[s.nopts++] = (struct sock_opt){ SOL_PACKET, PACKET_VERSION, TPACKET_V2 };
	round_trip(FDK_PACKET, &s, &pb, &back, &r);
	ASSERT_OK(r);
	ASSERT_EQ(back.sk->protocol, 0x0800);
	ASSERT_EQ(back.sk->pk_ifindex, 1);
	ASSERT_STREQ(back.sk->pk_ifname, "lo");
	ASSERT_EQ(back.sk->pk_fanout, 0x10004deau);
	ASSERT_EQ(back.sk->pk_nmc, 1);
	ASSERT_EQ(back.sk->pk_mc[0].count, 2u);
	ASSERT_EQ(back.sk->pk_mc[0].alen, 6);
	ASSERT_MEMEQ(back.sk->pk_mc[0].addr, mc[0].addr, 6);
	ASSERT_STREQ(back.sk->pk_mc[0].ifname, "lo");
	sd_sock_state_free(back.sk);
	/* hostile: a membership added no time, too many times; an interface without its name; a queue */
	pb->sk->pk_members[0]->count = 0;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->sk->pk_members[0]->count = SOCK_PK_COUNT_MAX + 1;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->sk->pk_members[0]->count = 1;
	name = pb->sk->pk_ifname;
	pb->sk->pk_ifname = NULL;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->sk->pk_ifname = name;
	pb->sk->protocol = 0x10000;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->sk->protocol = 0x0800;
	ASSERT_OK(reads(pb));
	fd__free_unpacked(pb, NULL);
}

static void test_raw(void)
{
	size_t nopts;
	struct sock_state s;
	struct fd_state back;
	Fd *pb;
	int r;

	base(&s, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	s.has_icmp6_filter = true;
	memset(s.icmp6_filter, 0xff, sizeof(s.icmp6_filter));
	s.opts[s.nopts++] = (struct sock_opt){ IPPROTO_IPV6, IPV6_CHECKSUM, 2 };
	round_trip(FDK_INET, &s, &pb, &back, &r);
	ASSERT_OK(r);
	ASSERT_EQ(back.sk->type, SOCK_RAW);
	ASSERT_TRUE(back.sk->has_icmp6_filter);
	ASSERT_MEMEQ(back.sk->icmp6_filter, s.icmp6_filter, sizeof(s.icmp6_filter));
	sd_sock_state_free(back.sk);
	/* hostile: a filter of another size, a queue on a raw socket, a filter on a UDP socket */
	pb->sk->icmp6_filter.len = 16;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->sk->icmp6_filter.len = 32;
	pb->sk->type = SOCK_DGRAM;
	pb->sk->protocol = IPPROTO_UDP;
	nopts = pb->sk->n_opts;
	pb->sk->n_opts = 0;
	ASSERT_EQ(reads(pb), -EBADMSG);
	pb->sk->n_opts = nopts;
	fd__free_unpacked(pb, NULL);
}

int main(void)
{
	RUN(test_netlink);
	RUN(test_packet);
	RUN(test_raw);
	return 0;
}
