/* SPDX-License-Identifier: MIT */
/*
 * A frozen dump that lets its target run on (dump -R) copies the pages
 * into memory at memory speed, resumes the target, and only then
 * compresses and writes them: the image is still the moment of the
 * freeze, and the freeze no longer lasts as long as the compression.
 * Here: whether a pass does so, and the memory it may take for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "ctx.h"
#include "dump_pass.h"
#include "live.h"
#include "pages_img.h"
#include "procfs.h"
#include "util.h"

/* Without --memory-budget: this share of the memory the kernel says is available. */
#define BUDGET_SHARE_DEFAULT 2 /* one half */
/* What an incremental pass holds beyond twice what its parent copied. */
#define HOLD_INCREMENTAL_SLACK (16ull << 20)

/* "MemAvailable:  N kB" of /proc/meminfo, in bytes; 0 if unknown. */
static uint64_t mem_available(void)
{
	_cleanup_free_ char *buf = NULL;
	const char *s;

	if (sd_read_file(AT_FDCWD, "/proc/meminfo", &buf, NULL) < 0)
		return 0;
	s = strstr(buf, "MemAvailable:");
	return s ? strtoull(s + strlen("MemAvailable:"), NULL, 10) << 10 : 0;
}

/* What the target has in memory (resident pages, file-backed ones too), in bytes; 0 if unknown. */
static uint64_t resident(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[PROC_PATH_MAX];
	unsigned long long size, rss;

	if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "statm"), &buf, NULL) < 0 ||
	    sscanf(buf, "%llu %llu", &size, &rss) != 2)
		return 0;
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

unsigned int sd_pass_threads(const struct pass *p)
{
	long n;

	if (p->opts->threads)
		return p->opts->threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned int)n : 1;
}

int sd_pass_writer_new(struct pass *p, struct pagestore_writer **ret_w)
{
	int r = sd_pagestore_writer_new(p->ctx, &p->dir, sd_pass_threads(p),
				     p->opts->compress_level ? p->opts->compress_level : -1, ret_w);

	/* a scratch pass is sent once made: the rate it goes at is its sink, after it */
	if (r == 0 && p->opts->scratch && p->opts->sink_rate)
		sd_pagestore_writer_sink(*ret_w, p->opts->sink_rate, true);
	return r;
}

bool sd_pass_resumes_early(const struct pass *p)
{
	const struct sdump_dump_opts *o = p->opts;

	return p->final && o->leave_running && !o->live && !o->handover;
}

/*
 * A live dump after a parent that copies its few pages while frozen
 * (sd_live_copy_frozen()) saves them into memory faulted in now: about
 * what the parent copied, twice that and some (as below).
 */
static void hold_live(struct pass *p)
{
	const struct sdump_dump_opts *o = p->opts;
	uint64_t want;

	if (!p->final || !o->live || !o->parent || !p->state_valid || !p->parent.n ||
	    o->memory_budget < 0)
		return;
	want = 2 * p->parent.p[0].stats.pages_written * p->meta.page_size + HOLD_INCREMENTAL_SLACK;
	want = MIN(want, resident(o->pid));
	if (o->memory_budget)
		want = MIN(want, (uint64_t)o->memory_budget);
	sd_live_prepare(&p->live, MIN(want, sd_live_frozen_max()));
}

int sd_pass_hold(struct pass *p)
{
	const struct sdump_dump_opts *o = p->opts;
	uint64_t budget, want;
	int r;

	hold_live(p);
	if (!sd_pass_resumes_early(p) || o->memory_budget < 0)
		return 0;
	budget = o->memory_budget ? (uint64_t)o->memory_budget
				  : mem_available() / BUDGET_SHARE_DEFAULT;
	/* it cannot hold more than it has (some zero pages less): a little over, for what it maps anew */
	want = resident(o->pid);
	want += want / 64;
	/*
	 * An incremental pass copies what was written since its parent: about
	 * what the parent itself copied, if the process writes at the same
	 * rate; twice that, and some, is held (more streams).
	 */
	if (o->parent && p->state_valid && p->parent.n)
		want = MIN(want, 2 * p->parent.p[0].stats.pages_written * p->meta.page_size +
					 HOLD_INCREMENTAL_SLACK);
	want = MIN(want, budget);
	if (want < PAGESTORE_FRAME_SIZE)
		return 0;
	r = sd_pass_writer_new(p, &p->writer);
	if (r == 0)
		r = sd_pagestore_writer_hold(p->writer, want);
	if (r < 0)
		return r;
	p->st.held_bytes = 0;
	pr_debug(p->ctx, "%s %d: %" PRIu64 " MiB of memory ready for the pages (budget %" PRIu64 " MiB)",
		 p->kind, o->pid, want >> 20, budget >> 20);
	return 0;
}
