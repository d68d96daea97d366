/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump verify -D <dir> [--json] [-v|-q] [-o <file>]\n"
	"\n"
	"Read and check every byte of the image and of every pass of its chain:\n"
	"each record file and parent link, each frame of pages.img and\n"
	"ghost-data.img (checksum, decompression, size), a final dump's state\n"
	"files, and that every page a pass leaves to its parent is there. The\n"
	"first bad file is named and the exit status is 1.\n"
	"\n"
	"  -D, --images-dir DIR    the image (the newest pass of the chain)\n"
	"      --json              one JSON object instead of text\n"
	"\n"
	"Exit status: 0 the whole chain is sound, 1 it is not (one line\n"
	"'sdump: ...' naming the file), 2 a usage error.\n";

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_verify_report *rep;
	const char *dir = NULL;
	bool json = false;
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
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_option("verify", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("verify", "unexpected argument '%s'", argv[optind]);
	if (!dir)
		return cli_usage_error("verify", "no image directory given: -D <dir>");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	r = sdump_chain_verify(ctx, dir, &rep);
	if (r < 0)
		return cli_fail(ctx, r);
	if (json)
		sdump_verify_report_write_json(rep, stdout);
	else
		sdump_verify_report_write_text(rep, stdout);
	sdump_verify_report_free(rep);
	cli_ctx_free(ctx);
	return 0;
}
