/* SPDX-License-Identifier: MIT */
/* sdump show --json: POSIX timers and each thread's security state (proc/psec.h). */
#include <inttypes.h>
#include <stdio.h>

#include "sdump.h"
#include "infofmt.h"
#include "psec.h"

void sd_sec_thread_json(FILE *out, const struct sec_thread *s)
{
	fprintf(out, ",\"sec\":");
	if (!s->valid) {
		fprintf(out, "null");
		return;
	}
	fprintf(out, "{\"cap_eff\":%" PRIu64 ",\"cap_prm\":%" PRIu64 ",\"cap_inh\":%" PRIu64
		",\"cap_bnd\":%" PRIu64 ",\"cap_amb\":%" PRIu64 ",\"securebits\":%u"
		",\"no_new_privs\":%s,\"seccomp_mode\":%d,\"seccomp_filters\":[",
		s->cap_eff, s->cap_prm, s->cap_inh, s->cap_bnd, s->cap_amb, s->securebits,
		s->no_new_privs ? "true" : "false", s->seccomp_mode);
	for (size_t i = 0; i < s->nfilters; i++)
		fprintf(out, "%s{\"flags\":%u,\"insns\":%zu}", i ? "," : "", s->filters[i].flags,
			s->filters[i].len);
	fprintf(out, "]}");
}

void sd_sec_timers_json(FILE *out, const struct posix_timer *t, size_t n)
{
	fprintf(out, ",\"posix_timers\":[");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s{\"id\":%d,\"clock\":%d,\"notify\":%d,\"signo\":%d,\"value\":%" PRIu64
			",\"target\":%d,\"value_ns\":%" PRIu64 ",\"interval_ns\":%" PRIu64 ",\"overrun\":%d}",
			i ? "," : "", t[i].id, t[i].clock, t[i].notify, t[i].signo, t[i].value, t[i].target,
			t[i].value_ns, t[i].interval_ns, t[i].overrun);
	fputc(']', out);
}
