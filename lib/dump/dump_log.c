/* SPDX-License-Identifier: MIT */
/* What a pass says at -v of its copy and at its end (sdump(1) gives their format). */
#include <inttypes.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "ctx.h"
#include "copier.h"
#include "dump_pass.h"
#include "pages_img.h"
#include "util.h"

/* -v: what the copy did, at what rate. */
void sd_pass_log_copy(const struct pass *p, const struct copy_counts *counts)
{
	uint64_t bytes = (counts->data + counts->zero) * p->meta.page_size;
	char d[32], b[32];

	sd_fmt_duration(d, sizeof(d), p->st.copy_us);
	sd_fmt_size(b, sizeof(b), bytes);
	pr_info(p->ctx, "%s %d: copy %s (%s, %.1f MiB/s, %s)", p->kind, p->opts->pid, d, b,
		p->st.copy_us ? bytes / (p->st.copy_us / 1e6) / (1 << 20) : 0.0,
		p->final && !p->opts->live ? "frozen" : "the process running");
}

void sd_pass_note_levels(struct pass *p, struct pagestore_writer *w)
{
	struct pagestore_levels lv;
	char sink[48] = "", per[48] = "";

	sd_pagestore_writer_levels(w, &lv);
	p->st.compress_level = lv.level;
	p->st.compress_level_min = lv.lmin;
	p->st.compress_level_max = lv.lmax;
	p->st.compress_cpu_us = lv.cpu_us;
	p->st.sink_rate = lv.sink_rate;
	if (!lv.automatic)
		return;
	if (lv.sink_rate)
		(void)snprintf(sink, sizeof(sink), ", the sink %.1f MiB/s",
			       lv.sink_rate / 1048576.0);
	if (lv.bytes)
		(void)snprintf(per, sizeof(per), ", %.2f s per GiB",
			       lv.cpu_us / 1e6 / ((double)lv.bytes / (1 << 30)));
	pr_info(p->ctx, "%s %d: compress level auto: %d (%d to %d)%s; compressing %.2f s of CPU%s",
		p->kind, p->opts->pid, lv.level, lv.lmin, lv.lmax, sink, lv.cpu_us / 1e6, per);
}

/* The last line of a pass: sdump(1) gives its format. */
void sd_pass_log_done(const struct pass *p)
{
	char scanned[32], written[32];

	sd_fmt_size(scanned, sizeof(scanned), p->st.pages_scanned * p->meta.page_size);
	sd_fmt_size(written, sizeof(written), p->st.bytes_written);
	if (p->st.pages_written)
		pr_info(p->ctx, "%s %d: cpu %.2f s, %.2f s per GiB of pages written", p->kind,
			p->opts->pid, p->st.cpu_us / 1e6,
			p->st.cpu_us / 1e6 /
				((double)p->st.pages_written * p->meta.page_size / (1 << 30)));
	pr_info(p->ctx, "%s %d: %s scanned, %s written (%" PRIu64 " pages), frozen %.1f ms, %.2f s",
		p->kind, p->opts->pid, scanned, written, p->st.pages_written, p->st.freeze_us / 1000.0,
		p->st.total_us / 1e6);
}
