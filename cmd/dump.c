/* SPDX-License-Identifier: MIT */
/* sdump pre-dump and sdump dump: one pass each, the same options but -R. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdump.h"
#include "cmd.h"

/* The options pre-dump and dump share, last in both helps. */
#define PASS_OPTIONS_HELP \
	"      --track HOW         auto, soft-dirty, uffd-wp or none (default auto)\n" \
	"      --threads N         compression threads (default: one per CPU)\n" \
	"  -j, --shell-job         accepted as CRIU's: a dump always saves the\n" \
	"                          terminal's settings (restore -j puts them back)\n" \
	"      --compress-level N  zstd level, -131072 (fastest: -1000 stores pages\n" \
	"                          nearly raw) to 19 (smallest); default -1; auto:\n" \
	"                          the smallest image whose pass takes no longer\n" \
	"                          than writing it raw would (speeds measured)\n" \
	"      --ghost-limit SIZE  the most data a mapped deleted file may hold to be\n" \
	"                          saved in the image (K, M, G; default 64M)\n" \
	"      --progress WHEN     a progress line on stderr: auto (when it is a\n" \
	"                          terminal, the default), always or never\n" \
	"      --json              the pass's statistics as one JSON object on stdout\n" \
	"      --display-stats     the pass's statistics as text on stdout\n" \
	"  -v, -q, -o FILE         more (-v: each phase and its time), fewer messages;\n" \
	"                          messages to FILE\n" \
	"\n" \
	"Exit status: 0 done, 1 an error (one line 'sdump: ...'), 2 a usage error.\n"

static const char pre_dump_usage[] =
	"usage: sdump pre-dump -t <pid> -D <dir> [--parent <dir>] [--track <how>] [--threads <n>] [-j] [--compress-level <n>] [--ghost-limit <size>] [--progress <when>] [--json] [--display-stats] [-v|-q] [-o <file>]\n"
	"\n"
	"Save the memory of a running process into a new image directory. The\n"
	"process is frozen only while its memory map is read, and runs on. With\n"
	"--parent, only the pages written since that pass are saved.\n"
	"\n"
	"  -t, --tree PID          the process to dump\n"
	"  -D, --images-dir DIR    the new image (created, or an empty directory)\n"
	"      --parent DIR        the previous pass of this process\n"
	"      --prev-images-dir DIR  the same, relative to -D (as CRIU's)\n"
	PASS_OPTIONS_HELP;

static const char dump_usage[] =
	"usage: sdump dump -t <pid> -D <dir> [--parent <dir>] [-R [--live] [--memory-budget <size>]|-s] [--tcp-established] [--external unix:<inode>]... [--track <how>] [--threads <n>] [-j] [--compress-level <n>] [--ghost-limit <size>] [--progress <when>] [--json] [--display-stats] [-v|-q] [-o <file>]\n"
	"\n"
	"The final pass: the process stays frozen while the pages written since\n"
	"--parent (or all of them) are copied, and its whole state is saved\n"
	"(threads, registers, signals, mm fields, limits, fds). Then it is killed\n"
	"with SIGKILL, or with -R resumed (with -s left stopped), still tracked\n"
	"for the next pass.\n"
	"With -R --live the freeze ends once the pages are write-protected: they\n"
	"are copied while the process runs, each one before its first write, so\n"
	"the image is still the moment of the freeze.\n"
	"\n"
	"  -t, --tree PID          the process to dump, with its children\n"
	"  -D, --images-dir DIR    the new image (created, or an empty directory)\n"
	"      --parent DIR        the previous pass of this process\n"
	"      --prev-images-dir DIR  the same, relative to -D (as CRIU's)\n"
	"  -R, --leave-running     let the process run on instead of killing it\n"
	"  -s, --leave-stopped     leave it stopped (SIGSTOP, untraced) instead;\n"
	"                          SIGCONT resumes it\n"
	"      --live              with -R: copy the pages after the freeze, copying\n"
	"                          each before the process writes it (userfaultfd)\n"
	"      --memory-budget SIZE  with -R: memory for the pages copied frozen, so\n"
	"                          that it runs on while they are compressed (default:\n"
	"                          half the available memory; 0: none, streamed)\n"
	PASS_OPTIONS_HELP;

static int cmd_pass(int argc, char **argv, bool final)
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "track", required_argument, NULL, 'T' },
		{ "parent", required_argument, NULL, 'P' },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "live", no_argument, NULL, 'I' },
		{ "threads", required_argument, NULL, 'N' },
		{ "shell-job", no_argument, NULL, 'j' },
		{ "leave-stopped", no_argument, NULL, 's' },
		{ "compress-level", required_argument, NULL, 'L' },
		{ "ghost-limit", required_argument, NULL, 'G' },
		{ "json", no_argument, NULL, 'J' },
		{ "display-stats", no_argument, NULL, 'S' },
		{ "prev-images-dir", required_argument, NULL, 'p' },
		{ "external", required_argument, NULL, 'E' },
		{ "tcp-established", no_argument, NULL, 'C' },
		{ "memory-budget", required_argument, NULL, 'M' },
		CLI_PROGRESS_LONGOPT,
		CLI_COMMON_LONGOPTS,
		{},
	};
	const char *name = final ? "dump" : "pre-dump";
	struct sdump_dump_opts o = { 0 };
	struct sdump_stats st;
	struct sdump_ctx *ctx;
	bool json = false, display = false;
	const char *prev = NULL;
	char *parent_buf = NULL;
	uint64_t *ext = NULL, v;
	int opt, r;

	while ((opt = getopt_long(argc, argv, final ? ":t:D:jRsv::qo:h" : ":t:D:jv::qo:h", longopts,
				  NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 't':
			if (cli_parse_u64(optarg, false, 1, INT_MAX, &v) < 0)
				return cli_usage_error(name, "bad pid '%s'", optarg);
			o.pid = (pid_t)v;
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'R':
			if (!final)
				return cli_usage_error(name, "--leave-running is for the final dump");
			o.leave_running = true;
			break;
		case 's':
			if (!final)
				return cli_usage_error(name, "--leave-stopped is for the final dump");
			o.leave_stopped = true;
			break;
		case 'j':
			/* CRIU's: a dump takes the terminal as it is either way */
			break;
		case 'I':
			if (!final)
				return cli_usage_error(name, "--live is for the final dump (dump -R --live)");
			o.live = true;
			break;
		case 'P':
			o.parent = optarg;
			break;
		case 'C':
			if (!final)
				return cli_usage_error(name, "--tcp-established is for the final dump");
			o.tcp_established = true;
			break;
		case 'E': {
			uint64_t *n;

			if (!final)
				return cli_usage_error(name, "--external is for the final dump");
			if (strncmp(optarg, "unix:", 5) || cli_parse_u64(optarg + 5, false, 1, UINT32_MAX, &v) < 0)
				return cli_usage_error(name, "bad --external '%s': unix:INODE, a socket's inode", optarg);
			n = realloc(ext, (o.next_unix + 1) * sizeof(*ext));
			if (!n)
				return cli_usage_error(name, "out of memory");
			ext = n;
			ext[o.next_unix++] = v;
			o.ext_unix = ext;
			break;
		}
		case 'J':
			json = true;
			break;
		case 'S':
			display = true;
			break;
		case 'p':
			prev = optarg;
			break;
		case 'T':
			if (sdump_track_parse(optarg, &o.track) < 0)
				return cli_usage_error(name, "unknown tracker '%s'", optarg);
			break;
		case 'L':
			if (cli_parse_level(name, optarg, &o.compress_level))
				return 2;
			break;
		case 'M':
			if (!final)
				return cli_usage_error(name, "--memory-budget is for the final dump (dump -R)");
			if (cli_parse_u64(optarg, true, 0, INT64_MAX, &v) < 0)
				return cli_usage_error(name, "bad --memory-budget '%s' (a size: 512M, 4G; 0: none)",
						       optarg);
			o.memory_budget = v ? (int64_t)v : -1;
			break;
		case 'G':
			if (cli_parse_u64(optarg, true, 1, INT64_MAX, &v) < 0)
				return cli_usage_error(name, "bad --ghost-limit '%s' (a size: 64M, 1G)", optarg);
			o.ghost_limit = v;
			break;
		case 'N':
			if (cli_parse_u64(optarg, false, 1, 256, &v) < 0)
				return cli_usage_error(name, "bad thread count '%s'", optarg);
			o.threads = (unsigned int)v;
			break;
		case OPT_PROGRESS:
			if (cli_progress_option(optarg) < 0)
				return cli_usage_error(name, "bad --progress '%s': auto, always or never",
						       optarg);
			break;
		case 'h':
			fputs(final ? dump_usage : pre_dump_usage, stdout);
			return 0;
		default:
			return cli_bad_option(name, opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(name, "unexpected argument '%s'", argv[optind]);
	if (!o.pid)
		return cli_usage_error(name, "no process given: -t <pid>");
	if (!o.dir)
		return cli_usage_error(name, "no image directory given: -D <dir>");
	if (prev && o.parent)
		return cli_usage_error(name, "--parent and --prev-images-dir name the same thing: give one");
	if (prev) {
		parent_buf = cli_path_relative_to(o.dir, prev);
		if (!parent_buf)
			return cli_usage_error(name, "bad --prev-images-dir '%s'", prev);
		o.parent = parent_buf;
	}
	if (o.leave_stopped && o.leave_running)
		return cli_usage_error(name, "-R and -s: the process either runs on or stays stopped");
	if (o.live && !o.leave_running)
		return cli_usage_error(name, "--live needs -R (--leave-running): a live dump lets the process run on");
	if (o.memory_budget && (!o.leave_running || o.live))
		return cli_usage_error(name, "--memory-budget is for dump -R without --live: only a process that runs on can resume before its pages are written");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	cli_progress_setup(ctx);
	r = final ? sdump_dump(ctx, &o, &st) : sdump_pre_dump(ctx, &o, &st);
	free(parent_buf);
	free(ext);
	if (r < 0)
		return cli_fail(ctx, r);
	if (display)
		sdump_stats_write_text(&st, (uint32_t)sysconf(_SC_PAGESIZE), stdout);
	if (json) {
		printf("{\"pass\":\"%s\",\"pid\":%d,\"stats\":", name, (int)o.pid);
		sdump_stats_write_json(&st, stdout);
		fputs("}\n", stdout);
	}
	cli_ctx_free(ctx);
	return 0;
}

int cmd_pre_dump(int argc, char **argv)
{
	return cmd_pass(argc, argv, false);
}

int cmd_dump(int argc, char **argv)
{
	return cmd_pass(argc, argv, true);
}
