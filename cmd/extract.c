/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump extract -D <dir> [--pid <pid>] --addr <addr> --len <len> [-o <file>] [-v|-q] [--log-file <file>]\n"
	"\n"
	"Write the dumped memory of [addr, addr+len) as the image and its parents\n"
	"record it: anonymous pages never written read as zeros, unwritten pages\n"
	"of file mappings as their file. To stdout without -o.\n"
	"\n"
	"  -D, --images-dir DIR    the image\n"
	"  -a, --addr ADDR         start address (0x... for hex)\n"
	"  -l, --len LEN           length in bytes (suffixes K, M, G, T)\n"
	"      --pid PID           of a process tree's image, member PID's pass\n"
	"  -o, --output FILE       write here instead of stdout\n"
	"      --log-file FILE     messages to FILE\n"
	"\n"
	"Exit status: 0 done, 1 an error (one line 'sdump: ...'), 2 a usage error.\n";

int cmd_extract(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "addr", required_argument, NULL, 'a' },
		{ "len", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'O' },
		{ "pid", required_argument, NULL, 'P' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	const char *dir = NULL, *out = NULL;
	char tmp[4096], member[4096];
	uint64_t pid = 0;
	uint64_t addr = 0, len = 0;
	bool have_addr = false;
	struct sdump_ctx *ctx;
	int opt, fd = STDOUT_FILENO, r;

	while ((opt = getopt_long(argc, argv, ":D:a:l:o:v::qh", longopts, NULL)) != -1) {
		/* -o is the output here, as in 'sdump coredump'; the log file is --log-file */
		if (opt != 'o' && cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'D':
			dir = optarg;
			break;
		case 'a':
			if (cli_parse_u64(optarg, false, 0, UINT64_MAX, &addr) < 0)
				return cli_usage_error("extract", "bad address '%s'", optarg);
			have_addr = true;
			break;
		case 'l':
			if (cli_parse_u64(optarg, true, 1, UINT64_MAX, &len) < 0)
				return cli_usage_error("extract", "bad length '%s'", optarg);
			break;
		case 'P':
			if (cli_parse_u64(optarg, false, 1, 4194304, &pid) < 0)
				return cli_usage_error("extract", "bad pid '%s'", optarg);
			break;
		case 'o':
		case 'O':
			out = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_option("extract", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("extract", "unexpected argument '%s'", argv[optind]);
	if (!dir || !have_addr || !len)
		return cli_usage_error("extract", "-D, --addr and --len are required");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	if (pid) {
		r = sdump_tree_member_dir(ctx, dir, (pid_t)pid, member, sizeof(member));
		if (r < 0)
			return cli_fail(ctx, r);
		dir = member;
	}
	if (out) {
		fd = cli_output_open(out, tmp, sizeof(tmp));
		if (fd < 0) {
			cli_ctx_free(ctx);
			return 1;
		}
	}
	r = sdump_extract(ctx, dir, addr, len, fd);
	return cli_output_finish(ctx, fd, out, tmp, r);
}
