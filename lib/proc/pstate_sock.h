/* SPDX-License-Identifier: MIT */
/*
 * The data model of the socket fds a dump saves (FDK_UNIX): what the
 * kernel's sock_diag (unix_diag) and getsockopt() show of a socket, its
 * receive queue read without consuming it, held in struct fd_state
 * (pstate.h) as its member sk; and the sock_diag query of one socket by
 * inode (proc_sockdiag.c).
 *
 * Peers are named by socket inode, never by fd: the same matching joins
 * the sockets of one process now and those of every process of a tree
 * (a peer is "in the dump" when some fd of the dump is on its inode).
 */
#ifndef SDUMP_PSTATE_SOCK_H
#define SDUMP_PSTATE_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* sun_path's size: a name is at most this long (abstract ones start with a NUL) */
#define SOCK_NAME_MAX 108
/* The most connections waiting in a listener's backlog an image keeps. */
#define SOCK_ICONS_MAX 4096
/* The most messages (datagrams, or runs of a stream) queued on one socket an image keeps. */
#define SOCK_PKTS_MAX 65536
/* The most bytes queued on one socket an image keeps. */
#define SOCK_QUEUE_MAX (64u << 20)

/* A socket's name: sun_path's bytes (len 0: unbound; an abstract one starts with a NUL). */
struct sock_name {
	uint8_t len;
	char path[SOCK_NAME_MAX];
};

/* The credentials a unix message carries (SCM_CREDENTIALS), in our pid namespace. */
struct sock_creds {
	int32_t pid;
	uint32_t uid, gid;
};

/*
 * A file in flight (SCM_RIGHTS) of a queued message, of the kinds a
 * restore opens again itself: a regular file by its path (its open flags
 * and offset as the open file description has them), or an end of a pipe
 * both of whose ends are in flight (named by the pipe's inode; the bytes
 * it holds with the first read end).
 */
enum sock_file_kind { SKF_FILE = 1, SKF_PIPE_READ = 2, SKF_PIPE_WRITE = 3 };
struct sock_file {
	int kind;
	char *path;		/* SKF_FILE */
	uint32_t flags;		/* O_* as F_GETFL gives them */
	uint64_t pos;
	uint64_t ino;		/* the file's (SKF_FILE: checked at restore) or the pipe's inode */
	uint8_t *data;		/* a pipe's bytes, on one of its read ends */
	size_t data_len;
	bool peer_open;		/* at the dump, not saved: the pipe's other end is open (in flight too, or refused) */
};
/* The most files in flight one message carries (the kernel's SCM_MAX_FD). */
#define SOCK_RIGHTS_MAX 253

/* One message of a receive queue: a datagram, or a run of a stream from one writer. */
struct sock_pkt {
	uint8_t *data;
	size_t len;
	struct sock_creds creds;	/* who sent it */
	struct sock_name from;		/* the sender's name (datagrams; len 0: unbound) */
	size_t nrights;			/* the files in flight with it, in order */
	struct sock_file *rights;
};

/* The socket states sdump knows (the kernel's TCP_* numbers, as unix_diag gives them). */
enum sock_st {
	SKS_ESTABLISHED = 1,	/* connected */
	SKS_FIN_WAIT1 = 4,	/* TCP, half closed: our FIN sent (or queued), not acked yet */
	SKS_FIN_WAIT2 = 5,	/*   our FIN acked, the peer may still send */
	SKS_CLOSE = 7,		/* not connected (a datagram socket may still have a peer) */
	SKS_CLOSE_WAIT = 8,	/*   the peer's FIN received, we may still send */
	SKS_LAST_ACK = 9,	/*   the peer's FIN, then ours, not acked yet */
	SKS_CLOSING = 11,	/*   ours, then the peer's FIN before it acked ours */
	SKS_LISTEN = 10,
};

/*
 * The TCP states of a connection (a peer, sequence numbers) a dump saves
 * with --tcp-established: established or half closed; what the FINs of
 * each state are (sd_sock_tcp_fins()).
 */
bool sd_sock_tcp_conn_state(int state);
#define SK_FIN_OUT 1		/* our FIN is in the stream */
#define SK_FIN_OUT_ACKED 2	/*   and the peer acked it */
#define SK_FIN_IN 4		/* the peer's FIN is in the stream */
#define SK_FIN_IN_FIRST 8	/*   and it came before ours (or ours is not there) */
unsigned sd_sock_tcp_fins(int state);
/* "FIN_WAIT2", "CLOSE_WAIT", ...: a TCP state as messages say it */
const char *sd_sock_tcp_state_name(int state);

/* TCP_CONGESTION's and SO_BINDTODEVICE's most bytes (and an interface name's) */
#define SOCK_TEXT_MAX 16

/* A packet socket's membership (packet_diag's mclist): PACKET_MR_* @type on interface @ifindex, added @count times. */
#define SOCK_PK_ADDR_MAX 32
#define SOCK_PK_MC_MAX 256
/* ... and the most times one is added */
#define SOCK_PK_COUNT_MAX 65536
struct sock_pk_mc {
	int32_t ifindex;
	uint32_t count;
	uint16_t type, alen;
	uint8_t addr[SOCK_PK_ADDR_MAX];
	char ifname[SOCK_TEXT_MAX + 1];	/* the interface's name at the dump */
};

/* A socket option as getsockopt() gives it, an int: one of sd_sock_inet_opts[]. */
struct sock_opt {
	int32_t level, name, value;
};

/* The room for an inet address: a sockaddr_in6. */
#define SOCK_ADDR_MAX 28
#define SOCK_OPTS_MAX 128
/* A classic socket filter's most instructions (BPF_MAXINSNS) */
#define SOCK_FILTER_MAX 4096

struct sock_state {
	int family;		/* AF_UNIX, AF_INET, AF_INET6 */
	int type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	int state;		/* enum sock_st */
	uint64_t ino;		/* the socket's inode (its fd's st_ino) */
	pid_t pid;		/* at the dump, the process holding it (a tree's table joins several) */
	struct sock_name name;
	/* a bound path: the file's inode then (unix_diag's VFS), its mode and owner */
	uint64_t vfs_dev, vfs_ino;
	uint32_t vfs_mode, vfs_uid, vfs_gid;
	bool vfs_gone;		/* the file at the path was removed (or replaced) after the bind */
	/*
	 * A relative path: the directory it was found in (the process's cwd or
	 * a directory it holds open, as the process sees it), malloc'ed; the
	 * restore binds the same relative name from there.
	 */
	char *name_dir;
	uint64_t peer_ino;	/* connected: the peer's inode (0: none) */
	struct sock_name peer_name;
	/*
	 * Connected, its peer closed since (the messages it sent still
	 * queued): made again as a pair, the other end closed once they are.
	 */
	bool peer_gone;
	/*
	 * At the dump, not saved: getpeername() works. A datagram socket
	 * another has connected to is "connected" too (its state), with no
	 * peer of its own: only one whose peer has closed still has one.
	 */
	bool has_peer;
	/* and its peer closed with bytes unread: an error (ECONNRESET) not read yet */
	bool peer_reset;
	uint32_t shutdown;	/* RCV_SHUTDOWN 1, SEND_SHUTDOWN 2 */
	uint32_t backlog;	/* a listener's listen() backlog */
	/* a connected stream or seqpacket socket accept() gave: the listener's inode (0: none) */
	uint64_t listener_ino;
	/* accepted from a listener no socket of the dump is now: one is made for it at restore */
	bool listener_gone;
	/* a listener: the inodes of the clients of the connections it has not accepted, in order */
	size_t nicons;
	uint64_t *icons;
	/* the options a program can read back */
	int32_t rcvbuf, sndbuf, peek_off, rcvlowat, priority, mark;
	bool passcred, passsec, passpidfd;
	uint64_t rcvtimeo_us, sndtimeo_us;
	struct sock_creds peercred;	/* SO_PEERCRED */
	/*
	 * The SOL_SOCKET options not ints (or not of every socket), each
	 * only where it is not a new socket's: SO_LINGER (on: its seconds),
	 * SO_BINDTODEVICE (empty: none), SO_DONTROUTE, SO_BUF_LOCK (the
	 * buffer sizes a program set, which autotuning leaves alone),
	 * SO_MAX_PACING_RATE (pacing: not ~0), SO_TXTIME (on: its
	 * clock and flags), a classic filter (SO_ATTACH_FILTER: its
	 * instructions, 8 bytes each, as SO_GET_FILTER gives them, locked
	 * or not: SO_LOCK_FILTER).
	 */
	bool linger_on;
	int32_t linger;
	char bindtodevice[SOCK_TEXT_MAX + 1];
	bool dontroute;
	int32_t buf_lock;
	bool pacing;
	uint64_t max_pacing_rate;
	bool txtime;
	int32_t txtime_clockid;
	uint32_t txtime_flags;
	size_t filter_len;
	uint8_t *filter;
	bool lock_filter;
	/* a raw ICMPv6 socket: ICMP6_FILTER where it is not a new socket's (every type passes) */
	bool has_icmp6_filter;
	uint8_t icmp6_filter[32];
	/* TCP: TCP_CONGESTION (empty: the system's default, as a new socket has it) */
	char congestion[SOCK_TEXT_MAX + 1];
	/*
	 * The peer is outside the dump and the user said so (--external
	 * unix:INODE): the restore connects to peer_name again.
	 */
	bool external;
	/* the receive queue, oldest first */
	size_t npkts;
	struct sock_pkt *pkts;

	/* inet (FDK_INET): its protocol, bound and peer addresses (sockaddr_in or _in6; len 0: none) */
	int protocol;
	uint8_t addr[SOCK_ADDR_MAX], addr_len;
	uint8_t peer[SOCK_ADDR_MAX], peer_len;
	/* the options of sd_sock_inet_opts[] that apply to it, in that order (netlink: of sd_sock_netlink_opts[]) */
	size_t nopts;
	struct sock_opt opts[SOCK_OPTS_MAX];

	/*
	 * netlink (FDK_NETLINK, protocol: NETLINK_ROUTE, ...): its port id (0:
	 * unbound; an autobound one as the kernel chose it), the multicast
	 * groups it is in (NETLINK_LIST_MEMBERSHIPS: bit g - 1 of word (g - 1)
	 * / 32 for group g; malloc'ed, nl_nwords of them), where it is
	 * connected to (dst_portid, dst_group; both 0: not connected).
	 */
	uint32_t nl_portid, nl_dst_portid, nl_dst_group;
	size_t nl_nwords;
	uint32_t *nl_groups;

	/*
	 * packet (FDK_PACKET, protocol: the ethertype it is bound to, host
	 * order; 0 none): the interface it is bound to (0: every one) and its
	 * name then (SOCK_PACKET: bound by name), its memberships
	 * (PACKET_ADD_MEMBERSHIP, each as many times as count), the fanout
	 * group it is in (PACKET_FANOUT's value; 0: none).
	 */
	int32_t pk_ifindex;
	char pk_ifname[SOCK_TEXT_MAX + 1];
	size_t pk_nmc;
	struct sock_pk_mc *pk_mc;
	uint32_t pk_fanout;

	/*
	 * An established TCP connection saved with --tcp-established, read in
	 * repair mode (TCP_REPAIR): its sequence numbers (write_seq, rcv_nxt),
	 * the options the handshake agreed (TCP_INFO's tcpi_options, window
	 * scales, the MSS clamp), its timestamp clock (TCP_TIMESTAMP), its
	 * windows (TCP_REPAIR_WINDOW), the send queue (sent but not acked,
	 * then the last sndq_unsent bytes not sent) and the receive queue.
	 */
	bool repaired;
	uint32_t snd_seq, rcv_seq, mss, snd_wscale, rcv_wscale, tcpi_options, timestamp;
	uint32_t win[5];	/* snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup */
	uint8_t *sndq, *rcvq;
	size_t sndq_len, sndq_unsent, rcvq_len;
	/*
	 * Half closed (state, sd_sock_tcp_fins()): the FINs count in the
	 * sequence numbers, never in the queues; our FIN not sent yet (after
	 * the sndq_unsent bytes), as the kernel holds it in a closed window.
	 */
	bool fin_unsent;
};

/*
 * The int options of an inet socket a dump saves and a restore sets
 * (before bind(): SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY come first), for
 * a socket of @family and @type: whether option (@level, @name) is one.
 */
struct sock_opt_def {
	int level, name;
	int family;		/* 0 any, else only that family */
	int type;		/* 0 any, else only that type */
	const char *what;	/* "SO_REUSEADDR" */
	unsigned flags;		/* SOCK_OPT_* */
	int dflt;		/* SOCK_OPT_NEWER: a new socket's value */
};
/* not of a connection (TCP_MAXSEG: the MSS clamp of one is its repair's) */
#define SOCK_OPT_UNCONNECTED 1
/* may be missing (an older kernel): not saved then */
#define SOCK_OPT_NEWER 2
/* of a UDP or UDP-Lite socket only (an ICMP one of SOCK_DGRAM has none) */
#define SOCK_OPT_UDP 4
/* of a UDP-Lite socket only */
#define SOCK_OPT_UDPLITE 8
/* of a raw IPPROTO_ICMP socket only */
#define SOCK_OPT_RAWICMP 16
/* of a datagram or raw socket (UDP, UDP-Lite, ICMP, raw), not of a TCP one */
#define SOCK_OPT_NOTCP 32
extern const struct sock_opt_def sd_sock_inet_opts[];
extern const size_t sd_sock_inet_nopts;
/* ... of a socket of @family, @type and @protocol (IPPROTO_UDP, ...) */
bool sd_sock_opt_applies(const struct sock_opt_def *o, int family, int type, int protocol);
/*
 * Whether @value of option (@level, @name) is the default of one that an
 * older kernel may not have (SOCK_OPT_NEWER): one without it behaves so.
 */
bool sd_sock_opt_default(int level, int name, int value);
/* Whether (@level, @name) is one of them, for such a socket. */
bool sd_sock_opt_known(int level, int name, int family, int type, int protocol);
/*
 * What messages call an inet socket: "an IPv4 TCP socket", "an IPv6 UDP
 * socket", "an IPv4 UDP-Lite socket", "an IPv6 ICMP socket" (ping).
 */
const char *sd_sock_inet_what(const struct sock_state *s);
/*
 * An inet address for a message: "127.0.0.1:8000", "[::1]:8000", "none"
 * (at most SOCK_ADDR_TEXT_MAX bytes).
 */
#define SOCK_ADDR_TEXT_MAX 64
void sd_sock_addr_text(const uint8_t *addr, size_t len, char ret[SOCK_ADDR_TEXT_MAX]);

struct files_state;
/*
 * The inet socket of @fs of type @type and @protocol that sent a datagram
 * from @from (a sockaddr in from->path): the one bound to that port and
 * address, or to that port and the wildcard address. Its index, -1 if
 * none.
 */
ssize_t sd_sock_inet_sender(const struct files_state *fs, const struct sock_name *from, int type, int protocol);

/*
 * The SOL_NETLINK int options a dump saves and a restore sets (NETLINK_PKTINFO,
 * NETLINK_NO_ENOBUFS, ...): flags, each saved where a kernel reads it.
 */
extern const struct sock_opt_def sd_sock_netlink_opts[];
extern const size_t sd_sock_netlink_nopts;
/* The SOL_PACKET int options (PACKET_VERSION, PACKET_AUXDATA, ...), of a SOCK_RAW or SOCK_DGRAM one. */
extern const struct sock_opt_def sd_sock_packet_opts[];
extern const size_t sd_sock_packet_nopts;
/* The most group words an image keeps (32 groups each) */
#define SOCK_NL_WORDS_MAX 1024

/* Free @n files in flight @f and the array; what one of them owns. */
void sd_sock_files_free(struct sock_file *f, size_t n);
void sd_sock_files_free_one(struct sock_file *f);
/*
 * inet_diag (proc_sockdiag_inet.c): the shutdown state (RCV_SHUTDOWN 1,
 * SEND_SHUTDOWN 2) of the socket of inode @ino among those of @family and
 * @protocol: -ENOENT if none is (an unbound UDP socket is in no table).
 */
int sd_sockdiag_inet_shutdown(int family, int protocol, uint64_t ino, uint32_t *ret);
/*
 * sock_diag dumps (proc_sockdiag_inet.c): sd_sockdiag_start sends request
 * @req of @len bytes on a new NETLINK_SOCK_DIAG socket (the socket, or
 * -errno); sd_sockdiag_each gives each answer on it (at least @min bytes
 * of payload, else -EBADMSG) to @fn(@arg) until the dump ends (0) or @fn
 * gives non-zero, which it returns; -errno.
 */
struct nlmsghdr;
int sd_sockdiag_start(const void *req, size_t len);
int sd_sockdiag_each(int nl, size_t min, int (*fn)(const struct nlmsghdr *h, void *arg), void *arg);

/* What packet_diag says of one packet socket (proc_sockdiag_packet.c). */
struct packet_diag_state {
	uint32_t num;			/* its protocol (an ethertype, host order) */
	uint32_t ifindex;		/* the interface it is bound to (0: none) */
	uint32_t version, reserve, copy_thresh, tstamp, flags;	/* PACKET_DIAG_INFO */
	bool rx_ring, tx_ring;		/* a ring set up */
	bool has_fanout;
	uint32_t fanout;		/* id | type << 16 (PACKET_FANOUT also gives flags << 24) */
	size_t nmc;
	struct sock_pk_mc *mc;		/* PACKET_DIAG_MCLIST, malloc'ed */
};
/* The packet socket of inode @ino in our network namespace: -ENOENT if none, -errno. */
int sd_sockdiag_packet(uint64_t ino, struct packet_diag_state *ret);

/*
 * /proc/@pid/net/@table ("icmp", "raw"; "icmp6", "raw6" for AF_INET6)
 * (proc_sockping.c): the address the ICMP "ping" or raw socket of inode
 * @ino is connected to, a sockaddr_in or _in6 with port 0, in @peer
 * (*@peer_len 0: not connected); -ENOENT if it is not there, -errno.
 */
int sd_proc_dgram_peer(pid_t pid, int family, const char *table, uint64_t ino, uint8_t *peer, uint8_t *peer_len);
/*
 * The TIME_WAIT TCP sockets of @family on the port and address of @addr
 * (a sockaddr_in or _in6; any address for a wildcard one) ended
 * (SOCK_DESTROY): how many, or -errno.
 */
int sd_sockdiag_tcp_tw_end(int family, const uint8_t *addr);

/* Free what @s owns, and @s; takes NULL or a half-filled one. */
void sd_sock_state_free(struct sock_state *s);

/*
 * "a unix stream socket", "a unix datagram socket", "a unix seqpacket
 * socket": what messages call a socket of @type.
 */
const char *sd_sock_unix_what(int type);
/*
 * @n for a message: "unbound", "'/run/x.sock'", "abstract '@name'" (its
 * NULs as '@'), at most SOCK_NAME_TEXT_MAX bytes.
 */
#define SOCK_NAME_TEXT_MAX (SOCK_NAME_MAX * 4 + 16)
void sd_sock_name_text(const struct sock_name *n, char ret[SOCK_NAME_TEXT_MAX]);

/* What unix_diag says of one socket. */
struct unix_diag_info {
	int type, state;
	uint64_t ino;
	struct sock_name name;
	bool has_vfs;
	uint64_t vfs_dev, vfs_ino;	/* dev as the kernel's: major << 20 | minor */
	uint64_t peer_ino;
	uint32_t rqlen, wqlen;		/* listener: backlog length and max; else queued bytes, memory sent */
	uint32_t shutdown;
	size_t nicons;
	uint64_t *icons;		/* malloc'ed, NULL for none */
};

/*
 * unix_diag of the socket of inode @ino (in our network namespace):
 * -ENOENT if there is none, -errno. Frees nothing of @ret on failure.
 */
int sd_sockdiag_unix(uint64_t ino, struct unix_diag_info *ret);

#endif /* SDUMP_PSTATE_SOCK_H */
