/* SPDX-License-Identifier: MIT */
/* sdump show of a process tree's image: its members, for a person or as JSON. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "sdump.h"
#include "info_tree.h"
#include "infofmt.h"
#include "util.h"

/* "running", "stopped", "zombie (exit 7)", "zombie (signal 15)" */
static const char *member_state(const struct sdump_tree_member_info *m, char *buf, size_t size)
{
	if (!m->zombie)
		return m->stopped ? "stopped" : "running";
	if (WIFSIGNALED(m->exit_status))
		(void)snprintf(buf, size, "zombie (signal %d%s)", WTERMSIG(m->exit_status),
			       WCOREDUMP(m->exit_status) ? ", core" : "");
	else
		(void)snprintf(buf, size, "zombie (exit %d)", WEXITSTATUS(m->exit_status));
	return buf;
}

void sd_tree_text(FILE *out, const struct sdump_image_info *in)
{
	size_t zombies = 0, stopped = 0;
	char v1[VIS_MAX];

	if (!in->tree_len)
		return;
	for (size_t i = 0; i < in->tree_len; i++) {
		zombies += in->tree[i].zombie;
		stopped += in->tree[i].stopped;
	}
	fprintf(out, "tree      %zu process%s (%zu zombie%s, %zu stopped); below, the root's pass\n",
		in->tree_len, in->tree_len == 1 ? "" : "es", zombies, zombies == 1 ? "" : "s", stopped);
	fprintf(out, "  %-7s %-7s %-7s %-7s %-22s %9s %10s  %s\n", "pid", "ppid", "pgid", "sid", "state",
		"pages", "on disk", "comm");
	for (size_t i = 0; i < in->tree_len; i++) {
		const struct sdump_tree_member_info *m = &in->tree[i];
		char st[40], pages[24] = "-", disk[32] = "-";

		if (!m->zombie) {
			(void)snprintf(pages, sizeof(pages), "%" PRIu64, m->stats.pages_written);
			sd_fmt_size(disk, sizeof(disk), m->stats.bytes_written);
		}
		fprintf(out, "  %-7d %-7d %-7d %-7d %-22s %9s %10s  %s\n", (int)m->pid, (int)m->ppid,
			(int)m->pgid, (int)m->sid, member_state(m, st, sizeof(st)), pages, disk,
			sd_vis(v1, sizeof(v1), m->comm));
	}
}

void sd_tree_json(FILE *out, const struct sdump_image_info *in)
{
	fputs(",\"tree\":", out);
	if (!in->tree_len) {
		fputs("null", out);
		return;
	}
	fputc('[', out);
	for (size_t i = 0; i < in->tree_len; i++) {
		const struct sdump_tree_member_info *m = &in->tree[i];
		char st[40];

		fprintf(out, "%s{\"pid\":%d,\"ppid\":%d,\"pgid\":%d,\"sid\":%d,\"state\":", i ? "," : "",
			(int)m->pid, (int)m->ppid, (int)m->pgid, (int)m->sid);
		sd_json_str(out, m->zombie ? "zombie" : member_state(m, st, sizeof(st)));
		fputs(",\"exit\":", out);
		if (!m->zombie)
			fputs("null", out);
		else if (WIFSIGNALED(m->exit_status))
			fprintf(out, "{\"signal\":%d,\"core\":%s}", WTERMSIG(m->exit_status),
				WCOREDUMP(m->exit_status) ? "true" : "false");
		else
			fprintf(out, "{\"code\":%d}", WEXITSTATUS(m->exit_status));
		fputs(",\"comm\":", out);
		sd_json_str(out, m->comm);
		fputs(",\"dir\":", out);
		sd_json_str(out, m->dir);
		fputs(",\"stats\":", out);
		if (m->zombie)
			fputs("null", out);
		else
			sdump_stats_write_json(&m->stats, out);
		fputc('}', out);
	}
	fputc(']', out);
}
