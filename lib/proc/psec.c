/* SPDX-License-Identifier: MIT */
/* POSIX timers and thread security state of the data model: the pure parts (psec.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "psec.h"

static int parse_one(const char *line, const char *key, struct posix_timer *t, int *have)
{
	char kind[16], who[8];
	long long a;
	unsigned long long v;
	int n = 0;

	if (!strcmp(key, "ID")) {
		if (sscanf(line, " %lld%n", &a, &n) != 1 || a < 0 || a > INT32_MAX)
			return -EBADMSG;
		t->id = (int32_t)a;
		*have |= 1;
	} else if (!strcmp(key, "signal")) {
		if (sscanf(line, " %lld/%llx%n", &a, &v, &n) != 2 || a < 0 || a > 64)
			return -EBADMSG;
		t->signo = (int32_t)a;
		t->value = v;
		*have |= 2;
	} else if (!strcmp(key, "notify")) {
		if (sscanf(line, " %15[a-z]/%7[a-z].%lld%n", kind, who, &a, &n) != 3 || a < 0 ||
		    a > INT32_MAX)
			return -EBADMSG;
		if (!strcmp(kind, "signal"))
			t->notify = PTIMER_SIGEV_SIGNAL;
		else if (!strcmp(kind, "none"))
			t->notify = PTIMER_SIGEV_NONE;
		else
			return -EBADMSG;
		if (!strcmp(who, "tid"))
			t->notify |= PTIMER_SIGEV_THREAD_ID;
		else if (strcmp(who, "pid"))
			return -EBADMSG;
		t->target = (int32_t)a;
		*have |= 4;
	} else if (!strcmp(key, "ClockID")) {
		if (sscanf(line, " %lld%n", &a, &n) != 1 || a < INT32_MIN || a > INT32_MAX)
			return -EBADMSG;
		t->clock = (int32_t)a;
		*have |= 8;
	} else {
		return -EBADMSG;
	}
	return line[n] == '\0' ? 0 : -EBADMSG;
}

int sd_psec_parse_timers(const char *buf, struct posix_timer **ret, size_t *ret_n)
{
	struct posix_timer *all = NULL, cur = { 0 };
	size_t n = 0;
	int have = 0, r = 0;
	const char *p = buf;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[128], *colon;

		if (len >= sizeof(line)) {
			r = -EBADMSG;
			break;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (eol ? 1 : 0);
		if (!len)
			continue;
		colon = strchr(line, ':');
		if (!colon) {
			r = -EBADMSG;
			break;
		}
		*colon = '\0';
		/* each timer starts with its ID line */
		if (!strcmp(line, "ID") && have) {
			r = -EBADMSG;
			break;
		}
		r = parse_one(colon + 1, line, &cur, &have);
		if (r < 0)
			break;
		if (have == 15) {
			struct posix_timer *m;

			if (n >= PTIMERS_MAX) {
				r = -E2BIG;
				break;
			}
			m = realloc(all, (n + 1) * sizeof(*all));
			if (!m) {
				r = -ENOMEM;
				break;
			}
			all = m;
			all[n++] = cur;
			cur = (struct posix_timer){ 0 };
			have = 0;
		}
	}
	if (r == 0 && have)
		r = -EBADMSG;
	if (r < 0) {
		free(all);
		return r;
	}
	*ret = all;
	*ret_n = n;
	return 0;
}

bool sd_psec_cpu_clock(int32_t clock, int32_t *ret_pid, bool *ret_thread)
{
	/* the kernel's encoding: ~pid << 3, bit 2 per thread, bits 0-1 which clock (3 is none) */
	if (clock >= 0 || (clock & 3) == 3)
		return false;
	*ret_pid = ~(clock >> 3);
	*ret_thread = clock & 4;
	return true;
}

bool sd_psec_filter_equal(const struct sec_filter *a, const struct sec_filter *b)
{
	return a->flags == b->flags && a->len == b->len &&
	       !memcmp(a->insns, b->insns, a->len * sizeof(*a->insns));
}

void sd_sec_thread_release(struct sec_thread *s)
{
	for (size_t i = 0; i < s->nfilters; i++)
		free(s->filters[i].insns);
	free(s->filters);
	s->filters = NULL;
	s->nfilters = 0;
}
