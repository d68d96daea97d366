/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump show -D <dir> [--json] [-v|-q] [-o <file>]\n"
	"\n"
	"Describe an image: the pass, its process, its statistics and its VMAs.\n"
	"Every record file is verified first.\n"
	"\n"
	"  -D, --images-dir DIR    the image\n"
	"      --json              one JSON object instead of text\n";

static void human(char *buf, size_t size, uint64_t bytes)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		(void)snprintf(buf, size, "%" PRIu64 " B", bytes);
	else
		(void)snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void stats_json(const struct sdump_stats *s)
{
	printf("{\"freeze_us\":%" PRIu64 ",\"seize_us\":%" PRIu64 ",\"collect_us\":%" PRIu64
	       ",\"copy_us\":%" PRIu64 ",\"write_us\":%" PRIu64 ",\"total_us\":%" PRIu64
	       ",\"vmas\":%" PRIu64 ",\"pages_scanned\":%" PRIu64 ",\"pages_written\":%" PRIu64
	       ",\"pages_in_parent\":%" PRIu64 ",\"pages_zero\":%" PRIu64 ",\"pages_lost\":%" PRIu64
	       ",\"bytes_written\":%" PRIu64 "}",
	       s->freeze_us, s->seize_us, s->collect_us, s->copy_us, s->write_us, s->total_us,
	       s->vmas, s->pages_scanned, s->pages_written, s->pages_in_parent, s->pages_zero,
	       s->pages_lost, s->bytes_written);
}

static void show_json(const struct sdump_image_info *in)
{
	printf("{\"format_version\":%u,\"kind\":", in->format_version);
	json_str(stdout, in->kind);
	printf(",\"pass_id\":");
	json_str(stdout, in->pass_id);
	printf(",\"parent\":");
	json_str(stdout, in->parent_path);
	printf(",\"parent_pass_id\":");
	json_str(stdout, in->parent_pass_id);
	printf(",\"pid\":%d,\"comm\":", (int)in->pid);
	json_str(stdout, in->comm);
	printf(",\"start_time\":%" PRIu64 ",\"tracker\":", in->start_time);
	json_str(stdout, in->tracker);
	printf(",\"page_size\":%u,\"kernel\":", in->page_size);
	json_str(stdout, in->kernel);
	printf(",\"time_start_ns\":%" PRIu64 ",\"time_end_ns\":%" PRIu64 ",\"stats\":",
	       in->time_start_ns, in->time_end_ns);
	stats_json(&in->stats);
	printf(",\"vmas\":[");
	for (size_t i = 0; i < in->nr_vmas; i++) {
		const struct sdump_vma_info *v = &in->vmas[i];

		printf("%s{\"start\":%" PRIu64 ",\"end\":%" PRIu64 ",\"pgoff\":%" PRIu64 ",\"prot\":",
		       i ? "," : "", v->start, v->end, v->pgoff);
		json_str(stdout, v->prot);
		printf(",\"path\":");
		json_str(stdout, v->path);
		printf(",\"pages_data\":%" PRIu64 ",\"pages_parent\":%" PRIu64 "}", v->pages_data,
		       v->pages_parent);
	}
	printf("],\"chain\":[");
	for (size_t i = 0; i < in->chain_len; i++) {
		const struct sdump_pass_summary *c = &in->chain[i];

		printf("%s{\"dir\":", i ? "," : "");
		json_str(stdout, c->dir);
		printf(",\"pass_id\":");
		json_str(stdout, c->pass_id);
		printf(",\"kind\":");
		json_str(stdout, c->kind);
		printf(",\"tracker\":");
		json_str(stdout, c->tracker);
		printf(",\"time_start_ns\":%" PRIu64 ",\"stats\":", c->time_start_ns);
		stats_json(&c->stats);
		printf("}");
	}
	printf("]}\n");
}

static void show_text(const struct sdump_image_info *in)
{
	const struct sdump_stats *s = &in->stats;
	char when[64] = "?", size[32], scanned[32];
	time_t t = (time_t)(in->time_start_ns / 1000000000);
	struct tm tm;

	if (gmtime_r(&t, &tm))
		(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	human(size, sizeof(size), s->bytes_written);
	human(scanned, sizeof(scanned), s->pages_scanned * in->page_size);
	printf("image     %s\n", in->dir);
	printf("kind      %s (format %u)\n", in->kind, in->format_version);
	printf("pass      %s\n", in->pass_id);
	if (in->parent_pass_id)
		printf("parent    %s (pass %s)\n", in->parent_path ? in->parent_path : "?",
		       in->parent_pass_id);
	else
		printf("parent    none\n");
	printf("process   %d (%s)\n", (int)in->pid, in->comm);
	printf("tracker   %s\n", in->tracker);
	printf("kernel    %s\n", in->kernel);
	printf("taken     %s, %.2f s\n", when, s->total_us / 1e6);
	printf("frozen    %.1f ms (seize %.1f ms, collect %.1f ms)\n", s->freeze_us / 1e3,
	       s->seize_us / 1e3, s->collect_us / 1e3);
	printf("pages     %s scanned; %" PRIu64 " written (%" PRIu64 " zero), %" PRIu64
	       " in parent, %" PRIu64 " lost\n",
	       scanned, s->pages_written, s->pages_zero, s->pages_in_parent, s->pages_lost);
	printf("on disk   %s (copy %.2f s, compress and write %.2f s)\n", size, s->copy_us / 1e6,
	       s->write_us / 1e6);
	printf("chain     %zu pass%s, newest first\n", in->chain_len, in->chain_len == 1 ? "" : "es");
	for (size_t i = 0; i < in->chain_len; i++) {
		const struct sdump_pass_summary *c = &in->chain[i];
		char on_disk[32];

		human(on_disk, sizeof(on_disk), c->stats.bytes_written);
		printf("  %-8s %-10s %8" PRIu64 " written %8" PRIu64 " in parent %10s  frozen %6.1f ms  %s\n",
		       c->kind, c->tracker, c->stats.pages_written, c->stats.pages_in_parent, on_disk,
		       c->stats.freeze_us / 1e3, c->dir);
	}
	printf("vmas      %zu\n", in->nr_vmas);
	printf("  %-33s %-4s %10s %8s %8s  %s\n", "address", "prot", "size", "saved", "parent",
	       "path");
	for (size_t i = 0; i < in->nr_vmas; i++) {
		const struct sdump_vma_info *v = &in->vmas[i];
		char range[40], vsize[32];

		(void)snprintf(range, sizeof(range), "%012" PRIx64 "-%012" PRIx64, v->start, v->end);
		human(vsize, sizeof(vsize), v->end - v->start);
		printf("  %-33s %-4s %10s %8" PRIu64 " %8" PRIu64 "  %s\n", range, v->prot, vsize,
		       v->pages_data, v->pages_parent, v->path ? v->path : "");
	}
}

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_image_info *info;
	const char *dir = NULL;
	bool json = false;
	struct sdump_ctx *ctx;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":D:vqo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'D':
			dir = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_option("show", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("show", "unexpected argument '%s'", argv[optind]);
	if (!dir)
		return cli_usage_error("show", "no image directory given: -D <dir>");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	r = sdump_image_info_load(ctx, dir, &info);
	if (r < 0)
		return cli_fail(ctx, r);
	if (json)
		show_json(info);
	else
		show_text(info);
	sdump_image_info_free(info);
	cli_ctx_free(ctx);
	return 0;
}
