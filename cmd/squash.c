/* SPDX-License-Identifier: MIT */
/* sdump squash and sdump prune: chains that do not grow forever. */
#include <limits.h>
#include <stdio.h>

#include "sdump.h"
#include "cmd.h"

static const char squash_usage[] =
	"usage: sdump squash -D <new> --from <dir> [-v|-q] [-o <file>]\n"
	"\n"
	"Write one self-contained image equal to the newest pass of the chain\n"
	"ending at <dir>: every page it and its parents hold for it, its state\n"
	"and pass id, no parent. A restore of <new> gives the process a restore\n"
	"of <dir> gives; a next pass may take <new> as its parent. It is made\n"
	"beside <new> and renamed to it once complete; the chain is only read.\n"
	"\n"
	"  -D, --images-dir NEW    the new image (must not exist, or be empty)\n"
	"      --from DIR          the newest pass of the chain to squash\n"
	"\n"
	"Exit status: 0 done, 1 an error (one line 'sdump: ...'), 2 a usage error.\n";

static const char prune_usage[] =
	"usage: sdump prune --keep <n> <dir>... [-v|-q] [-o <file>]\n"
	"\n"
	"For the chain ending at each <dir> (its newest pass), keep the newest\n"
	"<n> passes restorable and remove the older ones: the oldest kept pass\n"
	"is first made self-contained in place (squashed beside itself and\n"
	"swapped with it in one rename), then the passes no kept one needs are\n"
	"removed. An interruption leaves every chain restorable.\n"
	"\n"
	"  -k, --keep N            passes to keep in each chain, at least 1\n"
	"\n"
	"Exit status: 0 done, 1 an error (one line 'sdump: ...'), 2 a usage error.\n";

int cmd_squash(int argc, char **argv)
{
	enum { OPT_FROM = 0x2000 };
	static const struct option longopts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "from", required_argument, NULL, OPT_FROM },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_squash_info info;
	const char *dir = NULL, *from = NULL;
	struct sdump_ctx *ctx;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":D:v::qo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'D':
			dir = optarg;
			break;
		case OPT_FROM:
			from = optarg;
			break;
		case 'h':
			fputs(squash_usage, stdout);
			return 0;
		default:
			return cli_bad_option("squash", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("squash", "unexpected argument '%s'", argv[optind]);
	if (!dir)
		return cli_usage_error("squash", "no new image directory given: -D <new>");
	if (!from)
		return cli_usage_error("squash", "no chain given: --from <dir>");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	cli_catch_signals();
	r = sdump_squash(ctx, from, dir, &info);
	if (r < 0)
		return cli_fail(ctx, r);
	if (cli.verbosity >= 0)
		printf("%s: %llu pass%s squashed into one (%llu pages)\n", dir,
		       (unsigned long long)info.passes, info.passes == 1 ? "" : "es",
		       (unsigned long long)(info.pages_data + info.pages_zero));
	cli_ctx_free(ctx);
	return 0;
}

int cmd_prune(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keep", required_argument, NULL, 'k' },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_prune_info info;
	struct sdump_ctx *ctx;
	uint64_t keep = 0;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":k:v::qo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'k':
			if (cli_parse_u64(optarg, false, 1, UINT_MAX, &keep) < 0)
				return cli_usage_error("prune", "bad --keep '%s' (1 or more)", optarg);
			break;
		case 'h':
			fputs(prune_usage, stdout);
			return 0;
		default:
			return cli_bad_option("prune", opt, argv);
		}
	}
	if (!keep)
		return cli_usage_error("prune", "how many passes to keep: --keep <n>");
	if (optind == argc)
		return cli_usage_error("prune", "no chain given: the newest pass of each, <dir>...");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	cli_catch_signals();
	r = sdump_prune(ctx, (const char *const *)(argv + optind), (size_t)(argc - optind),
			(unsigned int)keep, &info);
	if (r < 0)
		return cli_fail(ctx, r);
	if (cli.verbosity >= 0)
		printf("%llu chain%s: %llu pass%s removed, %llu made self-contained\n",
		       (unsigned long long)info.chains, info.chains == 1 ? "" : "s",
		       (unsigned long long)info.deleted, info.deleted == 1 ? "" : "es",
		       (unsigned long long)info.squashed);
	cli_ctx_free(ctx);
	return 0;
}
