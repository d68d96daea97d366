/* SPDX-License-Identifier: MIT */
/* A migration's statistics, for a person and as JSON. */
#include <inttypes.h>
#include <stdio.h>

#include "sdump.h"
#include "util.h"

SDUMP_API void sdump_migrate_stats_write_text(const struct sdump_migrate_stats *st, FILE *out)
{
	char b[32], d[32];

	fprintf(out, "round  pages      sent        made      sent in    frozen     level\n");
	for (unsigned int i = 0; i < st->rounds && i < SDUMP_MIGRATE_MAX_ROUNDS; i++) {
		const struct sdump_migrate_round *r = &st->round[i];
		char mk[32], fr[32], lv[32];

		sd_fmt_size(b, sizeof(b), r->bytes);
		sd_fmt_duration(mk, sizeof(mk), r->dump_us);
		sd_fmt_duration(d, sizeof(d), r->send_us);
		sd_fmt_duration(fr, sizeof(fr), r->freeze_us);
		if (r->compress_level_min != r->compress_level_max)
			(void)snprintf(lv, sizeof(lv), "%" PRId32 " (%" PRId32 " to %" PRId32 ")",
				       r->compress_level, r->compress_level_min, r->compress_level_max);
		else
			(void)snprintf(lv, sizeof(lv), "%" PRId32, r->compress_level);
		fprintf(out, "%5u  %-9" PRIu64 "  %-10s  %-8s  %-9s  %-9s  %s%s\n", i + 1, r->pages, b, mk,
			d, fr, lv, i + 1 == st->rounds ? "  (final)" : "");
	}
	sd_fmt_size(b, sizeof(b), st->bytes_sent);
	fprintf(out, "sent: %s in %.2f s, %.1f MiB/s; the process wrote %.1f MiB/s\n", b,
		st->total_us / 1e6, st->bandwidth / (1 << 20), st->dirty_rate / (1 << 20));
	fprintf(out, "last round: %s (%s)\n", st->why_last[0] ? st->why_last : "-",
		st->converged ? "converged" : "did not converge");
	if (st->throttle_pct)
		fprintf(out, "auto-converge: slowed down to %u %% of its CPU (%s)\n", st->throttle_pct,
			st->throttle_how);
	fprintf(out, "downtime: %.1f ms\n", st->downtime_us / 1000.0);
}

SDUMP_API void sdump_migrate_stats_write_json(const struct sdump_migrate_stats *st, FILE *out)
{
	fprintf(out, "{\"rounds\":%u,\"round\":[", st->rounds);
	for (unsigned int i = 0; i < st->rounds && i < SDUMP_MIGRATE_MAX_ROUNDS; i++) {
		const struct sdump_migrate_round *r = &st->round[i];

		fprintf(out,
			"%s{\"pages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"dump_us\":%" PRIu64
			",\"send_us\":%" PRIu64 ",\"freeze_us\":%" PRIu64 ",\"compress_level\":%" PRId32
			",\"compress_level_min\":%" PRId32 ",\"compress_level_max\":%" PRId32
			",\"compress_cpu_us\":%" PRIu64 "}",
			i ? "," : "", r->pages, r->bytes, r->dump_us, r->send_us, r->freeze_us,
			r->compress_level, r->compress_level_min, r->compress_level_max,
			r->compress_cpu_us);
	}
	fprintf(out,
		"],\"converged\":%s,\"why_last\":\"%s\",\"dirty_rate\":%.0f,\"bandwidth\":%.0f,\"bytes_sent\":%" PRIu64
		",\"downtime_us\":%" PRIu64 ",\"total_us\":%" PRIu64 ",\"dest_pid\":%d"
		",\"throttle_pct\":%u,\"throttle_how\":\"%s\"}\n",
		st->converged ? "true" : "false", st->why_last, st->dirty_rate, st->bandwidth,
		st->bytes_sent, st->downtime_us, st->total_us, (int)st->dest_pid, st->throttle_pct,
		st->throttle_how);
}
