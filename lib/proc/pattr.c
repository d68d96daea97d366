/* SPDX-License-Identifier: MIT */
/* Pure helpers of the process and thread attributes (pattr.h). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattr.h"

int sd_pattr_parse_autogroup(const char *buf, int *ret_nice)
{
	const char *p = strstr(buf, " nice ");
	char *end;
	long v;

	/* a task of the root task group (init's session, or autogroups off at boot) */
	if (buf[strspn(buf, " \n")] == '\0')
		return -ENODATA;
	if (strncmp(buf, "/autogroup-", 11) != 0 || !p)
		return -EBADMSG;
	errno = 0;
	v = strtol(p + 6, &end, 10);
	if (errno || end == p + 6 || (*end && *end != '\n') || v < -20 || v > 19)
		return -EBADMSG;
	*ret_nice = (int)v;
	return 0;
}

int sd_pattr_status_value(const char *buf, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key), n;
	const char *p = buf;

	for (;;) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			break;
		p = strchr(p, '\n');
		if (!p)
			return -ENOENT;
		p++;
	}
	p += klen + 1;
	p += strspn(p, " \t");
	n = strcspn(p, "\n");
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (size) {
		n = n < size - 1 ? n : size - 1;
		memcpy(out, p, n);
		out[n] = '\0';
	}
	return 0;
}

static uint8_t byte_at(const uint8_t *m, size_t len, size_t i)
{
	return i < len ? m[i] : 0;
}

bool sd_pattr_cpus_subset(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	for (size_t i = 0; i < alen; i++)
		if (a[i] & ~byte_at(b, blen, i))
			return false;
	return true;
}

void sd_pattr_cpus_minus(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *ret)
{
	for (size_t i = 0; i < alen; i++)
		ret[i] = a[i] & (uint8_t)~byte_at(b, blen, i);
}

void sd_pattr_fmt_cpus(const uint8_t *mask, size_t len, char *buf, size_t size)
{
	size_t used = 0, ncpu = len * 8;
	bool any = false;

	if (!size)
		return;
	buf[0] = '\0';
	for (size_t c = 0; c < ncpu; c++) {
		size_t last = c;
		int n;

		if (!(mask[c / 8] & (1u << (c % 8))))
			continue;
		while (last + 1 < ncpu && (mask[(last + 1) / 8] & (1u << ((last + 1) % 8))))
			last++;
		if (last == c)
			n = snprintf(buf + used, size - used, "%s%zu", any ? "," : "", c);
		else
			n = snprintf(buf + used, size - used, "%s%zu-%zu", any ? "," : "", c, last);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
		any = true;
		c = last;
	}
	if (!any)
		(void)snprintf(buf, size, "none");
}

const char *sd_sched_policy_name(int policy)
{
	static const char *const names[] = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
					     "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE", "SCHED_EXT" };
	unsigned int p = (unsigned int)policy & ~(unsigned int)SCHED_RESET_ON_FORK;

	return p < sizeof(names) / sizeof(names[0]) ? names[p] : "an unknown policy";
}

const char *sd_rlimit_name(int res)
{
	static const char *const names[] = { "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK",
					     "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE",
					     "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
					     "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME" };

	return res >= 0 && (size_t)res < sizeof(names) / sizeof(names[0]) ? names[res] : "an unknown limit";
}
