/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump check [--json] [-v|-q] [-o <file>]\n"
	"\n"
	"Probe every kernel feature sdump can use, by trying it, and print one\n"
	"line per feature.\n"
	"\n"
	"      --json              one JSON object instead (keys in sdump(1))\n"
	"\n"
	"Exit status: 0 when a plain full pre-dump is possible, 1 when a required\n"
	"feature is missing (or on an error), 2 a usage error.\n";

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_feature f[32];
	struct sdump_ctx *ctx;
	bool json = false;
	int opt, n, status = 0;

	while ((opt = getopt_long(argc, argv, ":v::qo:h", longopts, NULL)) != -1) {
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
		return cli_bad_option("check", opt, argv);
	}
	if (optind < argc)
		return cli_usage_error("check", "unexpected argument '%s'", argv[optind]);
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
