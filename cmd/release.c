/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdio.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump release -t <pid> [-v|-q] [-o <file>]\n"
	"\n"
	"End the tracking of written pages that pre-dumps keep in a process: the\n"
	"userfaultfd of the uffd-wp tracker is closed in the process (its pages\n"
	"are no longer write-protected) and sdump's state for it is removed. The\n"
	"process runs on; a later pre-dump saves everything again.\n"
	"\n"
	"  -t, --tree PID          the process\n"
	"\n"
	"Exit status: 0 done (also when there was nothing to release), 1 an error\n"
	"(one line 'sdump: ...'), 2 a usage error.\n";

int cmd_release(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_release_info info;
	struct sdump_ctx *ctx;
	pid_t pid = 0;
	uint64_t v;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":t:v::qo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 't':
			if (cli_parse_u64(optarg, false, 1, INT_MAX, &v) < 0)
				return cli_usage_error("release", "bad pid '%s'", optarg);
			pid = (pid_t)v;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_option("release", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("release", "unexpected argument '%s'", argv[optind]);
	if (!pid)
		return cli_usage_error("release", "no process given: -t <pid>");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	r = sdump_release(ctx, pid, &info);
	if (r < 0)
		return cli_fail(ctx, r);
	if (cli.verbosity >= 0) {
		if (info.fd >= 0)
			printf("pid %d: tracking ended: its userfaultfd (fd %d) closed%s\n", (int)pid, info.fd,
			       info.had_state ? ", sdump's state removed" : "");
		else if (info.had_state)
			printf("pid %d: tracking ended: sdump's state (%s) removed\n", (int)pid,
			       info.tracker[0] ? info.tracker : "?");
		else
			printf("pid %d: no tracking of sdump's to end\n", (int)pid);
	}
	cli_ctx_free(ctx);
	return 0;
}
