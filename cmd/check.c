/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdio.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump check [-t <pid>] [--json] [-v|-q] [-o <file>]\n"
	"\n"
	"Probe every kernel feature sdump can use, by trying it, and print one\n"
	"line per feature. With -t, look at a process as a final dump would\n"
	"instead (it is seized for a moment, and left running and untraced):\n"
	"list every obstacle the dump would meet, not only the first, each with\n"
	"what to do about it, and the tracker its pre-dumps would use.\n"
	"\n"
	"  -t, --tree PID          the process to check\n"
	"      --json              one JSON object instead (keys in sdump(1))\n"
	"\n"
	"Exit status: 0 when a plain full pre-dump is possible (with -t: when a\n"
	"dump of the process would go through), 1 when a required feature is\n"
	"missing (with -t: an obstacle), or on an error, 2 a usage error.\n";

static int check_process(pid_t pid, bool json)
{
	struct sdump_preflight *pf;
	struct sdump_ctx *ctx = cli_ctx_new();
	int r, status;

	if (!ctx)
		return 1;
	r = sdump_preflight(ctx, pid, &pf);
	if (r < 0)
		return cli_fail(ctx, r);
	if (json)
		sdump_preflight_write_json(pf, stdout);
	else
		sdump_preflight_write_text(pf, stdout);
	status = pf->nobstacles ? 1 : 0;
	sdump_preflight_free(pf);
	cli_ctx_free(ctx);
	return status;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "tree", required_argument, NULL, 't' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_feature f[32];
	struct sdump_ctx *ctx;
	bool json = false;
	pid_t pid = 0;
	uint64_t v;
	int opt, n, status = 0;

	while ((opt = getopt_long(argc, argv, ":t:v::qo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		if (opt == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		if (opt == 'J') {
			json = true;
			continue;
		}
		if (opt == 't') {
			if (cli_parse_u64(optarg, false, 1, INT_MAX, &v) < 0)
				return cli_usage_error("check", "bad pid '%s'", optarg);
			pid = (pid_t)v;
			continue;
		}
		return cli_bad_option("check", opt, argv);
	}
	if (optind < argc)
		return cli_usage_error("check", "unexpected argument '%s'", argv[optind]);
	if (pid)
		return check_process(pid, json);
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	n = sdump_check(ctx, f, sizeof(f) / sizeof(f[0]));
	if (n < 0)
		return cli_fail(ctx, n);
	for (int i = 0; i < n; i++) {
		if (!json)
			printf("%-18s %-8s %s\n", f[i].name, f[i].present ? "found" : "missing",
			       f[i].detail);
		if (f[i].required && !f[i].present)
			status = 1;
	}
	if (json)
		sdump_features_write_json(f, (size_t)n, stdout);
	cli_ctx_free(ctx);
	return status;
}
