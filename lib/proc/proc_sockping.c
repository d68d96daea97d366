/* SPDX-License-Identifier: MIT */
/*
 * What /proc/PID/net/icmp, icmp6, raw and raw6 say of an ICMP "ping"
 * socket or a raw one, which no sock_diag table holds for us: its state
 * and the address it is connected to (getpeername() says ENOTCONN for a
 * connected one, its port being 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "procfs.h"
#include "pstate_sock.h"
#include "util.h"

/* @n words of 8 hex digits from @t into @out, each the bytes of one 32-bit word as the kernel printed it (%08X). */
static int hex_words(const char *t, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		char w[9];
		char *end;
		uint32_t v;

		memcpy(w, t + 8 * i, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, &end, 16);
		if (*end)
			return -EBADMSG;
		memcpy(out + 4 * i, &v, 4);
	}
	return 0;
}

/* One line "sl: LOCAL:PORT REMOTE:PORT ST ... INODE ...": its state, remote address and inode. */
static int parse_line(const char *l, int family, int *ret_state, uint8_t *ret_addr, uint64_t *ret_ino)
{
	char local[40], remote[40];
	unsigned st, uid, port;
	unsigned long long ino;
	size_t words = family == AF_INET ? 1 : 4;

	if (sscanf(l, " %*d: %39s %39s %x %*s %*s %*s %u %*u %llu", local, remote, &st, &uid, &ino) != 5 ||
	    strlen(remote) != words * 8 + 5 || remote[words * 8] != ':' || sscanf(remote + words * 8 + 1, "%x", &port) != 1)
		return -EBADMSG;
	*ret_state = (int)st;
	*ret_ino = ino;
	return hex_words(remote, words, ret_addr);
}

int sd_proc_dgram_peer(pid_t pid, int family, const char *table, uint64_t ino, uint8_t *peer, uint8_t *peer_len)
{
	char path[PROC_PATH_MAX], *buf = NULL, *l, *save = NULL;
	size_t len = 0;
	int r = sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "net/%s%s", table, family == AF_INET ? "" : "6"), &buf, &len);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (l = strtok_r(buf, "\n", &save); l && r == -ENOENT; l = strtok_r(NULL, "\n", &save)) {
		uint8_t a[16];
		uint64_t i;
		int st;

		if (parse_line(l, family, &st, a, &i) < 0 || i != ino)
			continue;
		r = 0;
		*peer_len = 0;
		if (st != SKS_ESTABLISHED)
			break;
		if (family == AF_INET) {
			struct sockaddr_in s4 = { .sin_family = AF_INET };

			memcpy(&s4.sin_addr, a, 4);
			memcpy(peer, &s4, sizeof(s4));
			*peer_len = sizeof(s4);
		} else {
			struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };

			memcpy(&s6.sin6_addr, a, 16);
			memcpy(peer, &s6, sizeof(s6));
			*peer_len = sizeof(s6);
		}
	}
	free(buf);
	return r;
}
