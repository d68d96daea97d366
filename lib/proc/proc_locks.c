/* SPDX-License-Identifier: MIT */
/* The parser of /proc/locks lines (fs/locks.c lock_get_status()). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proc_locks.h"
#include "util.h"

/* a line has 8 words, a waiter's 9 ("->" after the id) */
#define LOCK_WORDS 9

/* The words of @line (to its newline) into @w, NUL-terminated in @buf: how many, at most LOCK_WORDS. */
static int split_words(const char *line, char *buf, size_t len, char *w[LOCK_WORDS])
{
	size_t n = strcspn(line, "\n");
	int k = 0;
	char *p;

	if (n >= len)
		return -EBADMSG;
	memcpy(buf, line, n);
	buf[n] = '\0';
	for (p = buf; k < LOCK_WORDS;) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		w[k++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	p += strspn(p, " \t");
	return *p ? -EBADMSG : k;
}

static int parse_u64(const char *s, int base, uint64_t *ret)
{
	char *end;

	if (!*s || *s == '-')
		return -EBADMSG;
	errno = 0;
	*ret = strtoull(s, &end, base);
	return *end || errno ? -EBADMSG : 0;
}

/* "fe:00:5678": the device's numbers in hex, the inode in decimal */
static int parse_inode(char *s, uint64_t *ret_dev, uint64_t *ret_ino)
{
	char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	uint64_t maj, min;

	if (!c2)
		return -EBADMSG;
	*c1 = *c2 = '\0';
	if (parse_u64(s, 16, &maj) < 0 || parse_u64(c1 + 1, 16, &min) < 0 ||
	    parse_u64(c2 + 1, 10, ret_ino) < 0 || maj > UINT32_MAX || min > UINT32_MAX)
		return -EBADMSG;
	*ret_dev = maj << 32 | min;
	return 0;
}

int sd_proc_parse_lock(const char *line, struct proc_lock *ret)
{
	char buf[256], *w[LOCK_WORDS], *end;
	struct proc_lock pl = { 0 };
	size_t idlen;
	long pid;
	int n;

	n = split_words(line, buf, sizeof(buf), w);
	if (n < 0)
		return n;
	/* "12:" */
	idlen = n > 0 ? strlen(w[0]) : 0;
	if (idlen < 2 || w[0][idlen - 1] != ':' || strspn(w[0], "0123456789") != idlen - 1)
		return -EBADMSG;
	if (n > 1 && !strcmp(w[1], "->"))
		return -ENOENT;
	if (n != 8)
		return -EBADMSG;
	if (!strcmp(w[1], "POSIX"))
		pl.l.kind = FLK_POSIX;
	else if (!strcmp(w[1], "OFDLCK"))
		pl.l.kind = FLK_OFD;
	else if (!strcmp(w[1], "FLOCK"))
		pl.l.kind = FLK_FLOCK;
	else if (!strcmp(w[1], "LEASE"))
		pl.l.kind = FLK_LEASE;
	else if (!strcmp(w[1], "DELEG") || !strcmp(w[1], "ACCESS") || !strcmp(w[1], "UNKNOWN"))
		return -EOPNOTSUPP;
	else
		return -EBADMSG;
	if (pl.l.kind == FLK_LEASE) {
		if (!strcmp(w[2], "BREAKER"))
			return -EOPNOTSUPP;
		if (strcmp(w[2], "ACTIVE") && strcmp(w[2], "BREAKING"))
			return -EBADMSG;
		pl.breaking = !strcmp(w[2], "BREAKING");
	}
	if (!strcmp(w[3], "WRITE"))
		pl.l.write = true;
	else if (strcmp(w[3], "READ") && !(pl.breaking && !strcmp(w[3], "UNLCK")))
		return -EBADMSG;
	errno = 0;
	pid = strtol(w[4], &end, 10);
	if (end == w[4] || *end || errno || pid < -1 || pid > INT32_MAX)
		return -EBADMSG;
	pl.pid = (pid_t)pid;
	if (parse_inode(w[5], &pl.l.dev, &pl.l.ino) < 0 || parse_u64(w[6], 10, &pl.l.start) < 0)
		return -EBADMSG;
	if (!strcmp(w[7], "EOF"))
		pl.l.end = LOCK_EOF;
	else if (parse_u64(w[7], 10, &pl.l.end) < 0 || pl.l.end < pl.l.start ||
		 pl.l.end > INT64_MAX)
		return -EBADMSG;
	if (pl.l.start > INT64_MAX)
		return -EBADMSG;
	*ret = pl;
	return 0;
}
