/* SPDX-License-Identifier: MIT */
/* sdump restore --display-stats and --json: the counters of a restore. */
#include <inttypes.h>
#include <stdio.h>

#include "sdump.h"
#include "util.h"

SDUMP_API void sdump_restore_stats_write_json(const struct sdump_restore_stats *s, FILE *out)
{
	fprintf(out, "{\"pid\":%d,\"passes\":%" PRIu64 ",\"threads\":%" PRIu64 ",\"fds\":%" PRIu64
		",\"vmas\":%" PRIu64 ",\"pages_restored\":%" PRIu64 ",\"bytes_restored\":%" PRIu64
		",\"frames\":%" PRIu64 ",\"read_us\":%" PRIu64 ",\"memory_us\":%" PRIu64
		",\"total_us\":%" PRIu64,
		s->pid, s->passes, s->threads, s->fds, s->vmas, s->pages_restored, s->bytes_restored,
		s->frames, s->read_us, s->memory_us, s->total_us);
	if (s->lazy)
		fprintf(out, ",\"lazy\":{\"complete_us\":%" PRIu64 ",\"faults\":%" PRIu64 ",\"fault_pages\":%" PRIu64
			",\"pushed\":%" PRIu64 ",\"events\":%" PRIu64 "}",
			s->lazy_complete_us, s->lazy_faults, s->lazy_fault_pages, s->lazy_pushed, s->lazy_events);
	fputc('}', out);
}

SDUMP_API void sdump_restore_stats_write_text(const struct sdump_restore_stats *s, FILE *out)
{
	char total[32], read[32], mem[32], bytes[32];

	sd_fmt_duration(total, sizeof(total), s->total_us);
	sd_fmt_duration(read, sizeof(read), s->read_us);
	sd_fmt_duration(mem, sizeof(mem), s->memory_us);
	sd_fmt_size(bytes, sizeof(bytes), s->bytes_restored);
	fprintf(out, "restored  pid %d, %" PRIu64 " thread%s, %" PRIu64 " fd%s, %" PRIu64 " VMAs, from %" PRIu64
		" pass%s\n", s->pid, s->threads, s->threads == 1 ? "" : "s", s->fds, s->fds == 1 ? "" : "s",
		s->vmas, s->passes, s->passes == 1 ? "" : "es");
	fprintf(out, "memory    %" PRIu64 " pages (%s) from %" PRIu64 " frames in %s\n", s->pages_restored,
		bytes, s->frames, mem);
	fprintf(out, "time      %s (reading and checking the image %s)\n", total, read);
	if (s->lazy) {
		sd_fmt_duration(total, sizeof(total), s->lazy_complete_us);
		fprintf(out, "lazy      memory complete after %s: %" PRIu64 " faults served (%" PRIu64
			" pages), %" PRIu64 " pages pushed, %" PRIu64 " events\n", total, s->lazy_faults,
			s->lazy_fault_pages, s->lazy_pushed, s->lazy_events);
	}
}
