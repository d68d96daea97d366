/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump show -D <dir> [--json|--chain] [-v|-q] [-o <file>]\n"
	"\n"
	"Describe an image: the pass, its process, its statistics and its VMAs.\n"
	"Every record file is verified first.\n"
	"\n"
	"  -D, --images-dir DIR    the image\n"
	"      --json              one JSON object instead of text\n"
	"      --chain             only the chain: one line per pass, newest first\n"
	"\n"
	"Exit status: 0 done, 1 an error (one line 'sdump: ...'), 2 a usage error.\n";

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		{ "chain", no_argument, NULL, 'C' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_image_info *info;
	const char *dir = NULL;
	bool json = false, chain = false;
	struct sdump_ctx *ctx;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":D:v::qo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'D':
			dir = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'C':
			chain = true;
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
	if (json && chain)
		return cli_usage_error("show", "--chain is a table; with --json the chain is the \"chain\" key");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	r = sdump_image_info_load(ctx, dir, &info);
	if (r < 0)
		return cli_fail(ctx, r);
	if (json)
		sdump_image_info_write_json(info, stdout);
	else if (chain)
		sdump_image_info_write_chain(info, stdout);
	else
		sdump_image_info_write_text(info, stdout);
	sdump_image_info_free(info);
	cli_ctx_free(ctx);
	return 0;
}
