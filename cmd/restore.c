/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump restore -D <dir> [-d] [--shell-job] [--progress <when>] [-v|-q] [-o <file>]\n"
	"\n"
	"Bring back the process of a final dump, with its PID. Without -d, stay\n"
	"its parent and exit with its exit status (128+N if signal N killed it).\n"
	"\n"
	"  -D, --images-dir DIR      the image of a final dump (sdump dump)\n"
	"  -d, --restore-detached    return once the process runs\n"
	"      --shell-job           join this shell's session and group; its\n"
	"                            terminal stands in for the dumped one\n"
	"      --progress WHEN       a progress line on stderr: auto (when it is a\n"
	"                            terminal, the default), always or never\n"
	"  -v, -q, -o FILE           more (-v: each step and its time), fewer\n"
	"                            messages; messages to FILE\n"
	"\n"
	"Exit status: the process's without -d, 0 with -d; 1 an error (one line\n"
	"'sdump: ...'), 2 a usage error.\n";

int cmd_restore(int argc, char **argv)
{
	enum { OPT_SHELL_JOB = 0x2000 };
	static const struct option longopts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "restore-detached", no_argument, NULL, 'd' },
		{ "shell-job", no_argument, NULL, OPT_SHELL_JOB },
		CLI_PROGRESS_LONGOPT,
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_restore_opts o = { 0 };
	struct sdump_ctx *ctx;
	int opt, r, status = 0;

	while ((opt = getopt_long(argc, argv, ":D:dv::qo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'D':
			o.dir = optarg;
			break;
		case 'd':
			o.detach = true;
			break;
		case OPT_SHELL_JOB:
			o.shell_job = true;
			break;
		case OPT_PROGRESS:
			if (cli_progress_option(optarg) < 0)
				return cli_usage_error("restore", "bad --progress '%s': auto, always or never",
						       optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_option("restore", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("restore", "unexpected argument '%s'", argv[optind]);
	if (!o.dir)
		return cli_usage_error("restore", "no image directory given: -D <dir>");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	cli_progress_setup(ctx);
	r = sdump_restore(ctx, &o, &status);
	if (r < 0)
		return cli_fail(ctx, r);
	cli_ctx_free(ctx);
	return status;
}
