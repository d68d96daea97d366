/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump dump -t <pid> -D <dir> [--parent <dir>] [-R] [--track <how>] [-j <n>] [-v|-q] [-o <file>]\n"
	"\n"
	"The final pass: the process stays frozen while the pages written since\n"
	"--parent (or all of them) are copied, and its whole state is saved\n"
	"(threads, registers, signals, mm fields, limits, fds). Then it is killed\n"
	"with SIGKILL, or with -R resumed, still tracked for the next pass.\n"
	"\n"
	"  -t, --tree PID          the process to dump (it may not have children)\n"
	"  -D, --images-dir DIR    the new image (created, or an empty directory)\n"
	"      --parent DIR        the previous pass of this process\n"
	"  -R, --leave-running     let the process run on instead of killing it\n"
	"      --track HOW         auto, soft-dirty, uffd-wp or none (default auto)\n"
	"  -j, --threads N         compression threads (default: one per CPU)\n"
	"  -v, -q, -o FILE         more, fewer messages; messages to FILE\n";

int cmd_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "track", required_argument, NULL, 'T' },
		{ "parent", required_argument, NULL, 'P' },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "threads", required_argument, NULL, 'j' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_dump_opts o = { 0 };
	struct sdump_stats st;
	struct sdump_ctx *ctx;
	uint64_t v;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":t:D:j:Rvqo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 't':
			if (cli_parse_u64(optarg, false, 1, INT_MAX, &v) < 0)
				return cli_usage_error("dump", "bad pid '%s'", optarg);
			o.pid = (pid_t)v;
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'R':
			o.leave_running = true;
			break;
		case 'P':
			o.parent = optarg;
			break;
		case 'T':
			if (sdump_track_parse(optarg, &o.track) < 0)
				return cli_usage_error("dump", "unknown tracker '%s'", optarg);
			break;
		case 'j':
			if (cli_parse_u64(optarg, false, 1, 256, &v) < 0)
				return cli_usage_error("dump", "bad thread count '%s'", optarg);
			o.threads = (unsigned int)v;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_option("dump", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("dump", "unexpected argument '%s'", argv[optind]);
	if (!o.pid)
		return cli_usage_error("dump", "no process given: -t <pid>");
	if (!o.dir)
		return cli_usage_error("dump", "no image directory given: -D <dir>");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	r = sdump_dump(ctx, &o, &st);
	if (r < 0)
		return cli_fail(ctx, r);
	cli_ctx_free(ctx);
	return 0;
}
