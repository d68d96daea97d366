/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump check [-v|-q] [-o <file>]\n"
	"\n"
	"Probe every kernel feature sdump can use, by trying it, and print one\n"
	"line per feature. Exits 0 when a plain full pre-dump is possible.\n";

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_feature f[32];
	struct sdump_ctx *ctx;
	int opt, n, status = 0;

	while ((opt = getopt_long(argc, argv, ":vqo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		if (opt == 'h') {
			fputs(usage, stdout);
			return 0;
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
		printf("%-18s %-8s %s\n", f[i].name, f[i].present ? "found" : "missing", f[i].detail);
		if (f[i].required && !f[i].present)
			status = 1;
	}
	cli_ctx_free(ctx);
	return status;
}
