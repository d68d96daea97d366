/* SPDX-License-Identifier: MIT */
/*
 * The network lock (netlock.c): while a process with established TCP
 * connections is between its dump and its restore, the packets of those
 * connections are dropped by the kernel's firewall, not answered with a
 * reset. One nftables table per dumped process, "inet sdump_lock_PID",
 * made and removed through the nft(8) command, atomically (nft -f). Its
 * chain "info" holds one rule whose comment says who made it: "sdump
 * SDUMP_PID image DIR".
 *
 * A lock is stale when the image it was made for holds no committed dump
 * (no DIR/inventory.img) and the sdump that made it is gone (a dump that
 * died half way), or its image directory is gone; sd_netlock_sweep()
 * removes those.
 */
#ifndef SDUMP_NETLOCK_H
#define SDUMP_NETLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sdump.h"

/*
 * The mark (SO_MARK) of the packets the lock lets through: the segments a
 * restore sends to a half-closed connection for its peer (rst_sock_tcp.c).
 */
#define SD_NETLOCK_MARK 0x5d0c4b00

/* One connection: its family (AF_INET, AF_INET6), its local and peer address (network order) and port. */
struct netlock_conn {
	int family;
	uint8_t local[16], peer[16];
	uint16_t lport, pport;
};

/* Drop every packet of @c (@n of them) both ways, for the dump of @pid into @image_dir. */
int sd_netlock_add(struct sdump_ctx *ctx, pid_t pid, const char *image_dir, const struct netlock_conn *c,
		   size_t n);
/* The lock of @pid gone (none: 0). */
int sd_netlock_remove(struct sdump_ctx *ctx, pid_t pid);

struct netlock_info {
	pid_t pid;		/* of the dumped process */
	pid_t sdump_pid;	/* of the sdump that made it */
	char image[4096];
	bool stale;
};
/*
 * The locks there are, in a new array (NULL for none); -errno (-ENOENT:
 * no nft, then none).
 */
int sd_netlock_list(struct netlock_info **ret, size_t *ret_n);
/* Every stale lock removed, each said in a warning. */
void sd_netlock_sweep(struct sdump_ctx *ctx);

#endif /* SDUMP_NETLOCK_H */
