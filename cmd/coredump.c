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
	"usage: sdump coredump -D <dir> [--pid <pid>] -o <file> [-v|-q] [--log-file <file>]\n"
	"\n"
	"Write an ELF core file of the moment of a final dump (its memory read\n"
	"through the chain of parents), for gdb: gdb -c FILE [executable].\n"
	"\n"
	"  -D, --images-dir DIR    the image of a final dump (sdump dump)\n"
	"      --pid PID           of a process tree's image, member PID's pass\n"
	"  -o, --output FILE       the core file to write\n"
	"      --log-file FILE     messages to FILE\n"
	"\n"
	"Exit status: 0 done, 1 an error (one line 'sdump: ...'), 2 a usage error.\n";

int cmd_coredump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "output", required_argument, NULL, 'O' },
		{ "pid", required_argument, NULL, 'P' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	const char *dir = NULL, *out = NULL;
	char tmp[4096], member[4096];
	uint64_t pid = 0;
	struct sdump_ctx *ctx;
	int opt, fd, r;

	while ((opt = getopt_long(argc, argv, ":D:o:v::qh", longopts, NULL)) != -1) {
		/* -o is the output here, as in 'sdump extract'; the log file is --log-file */
		if (opt != 'o' && cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'D':
			dir = optarg;
			break;
		case 'P':
			if (cli_parse_u64(optarg, false, 1, 4194304, &pid) < 0)
				return cli_usage_error("coredump", "bad pid '%s'", optarg);
			break;
		case 'o':
		case 'O':
			out = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_option("coredump", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("coredump", "unexpected argument '%s'", argv[optind]);
	if (!dir || !out)
		return cli_usage_error("coredump", "-D and -o are required");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	if (pid) {
		r = sdump_tree_member_dir(ctx, dir, (pid_t)pid, member, sizeof(member));
		if (r < 0)
			return cli_fail(ctx, r);
		dir = member;
	}
	fd = cli_output_open(out, tmp, sizeof(tmp));
	if (fd < 0) {
		cli_ctx_free(ctx);
		return 1;
	}
	r = sdump_coredump(ctx, dir, fd);
	return cli_output_finish(ctx, fd, out, tmp, r);
}
