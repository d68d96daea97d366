/* SPDX-License-Identifier: MIT */
/* sdump migrate: move a running process to a receiver, rounds while it runs. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump migrate -t <pid> --to <addr:port> [--downtime <ms>] [--max-rounds <n>]\n"
	"                     [--auto-converge] [--bandwidth <rate>] [--tcp-established]\n"
	"                     [--tls-cert <file> --tls-key <file> --tls-ca <file>]\n"
	"                     [--track <how>] [--threads <n>] [--compress-level <n>] [--work-dir <dir>]\n"
	"                     [--progress <when>] [--json] [--display-stats] [-v|-q] [-o <file>]\n"
	"\n"
	"Move a running process to 'sdump receive' on another host: its memory\n"
	"sent while it runs, then what it wrote since, round after round, until\n"
	"the last round should fit the downtime (or rounds stop shrinking, or\n"
	"--max-rounds); then it is frozen, the rest sent, and killed here only\n"
	"once the receiver says its copy runs. On any failure before that it\n"
	"runs on here, untraced.\n"
	"\n"
	"  -t, --tree PID          the process to move\n"
	"      --to ADDR:PORT      the receiver (sdump receive --listen)\n"
	"      --downtime MS       the downtime to aim at (default 300)\n"
	"      --max-rounds N      rounds at most, the last one included (default 30)\n"
	"      --auto-converge     a process that does not converge is slowed down while\n"
	"                          rounds are sent (its cgroup's cpu.max, else short\n"
	"                          freezes), down to 3 % of its CPU; else it is switched\n"
	"                          over as it is, with a warning\n"
	"      --bandwidth RATE    bytes per second at most (K, M, G; default no limit)\n"
	"      --tcp-established   move its established TCP connections (TCP repair): their\n"
	"                          packets dropped here from the freeze on, and after;\n"
	"                          their addresses must be the destination's by then\n"
	"      --tls-cert FILE     our certificate (PEM), signed by the receiver's CA\n"
	"      --tls-key FILE      its private key\n"
	"      --tls-ca FILE       the CA that signed the receiver's certificate\n"
	"      --track HOW         auto, soft-dirty, uffd-wp or none (default auto)\n"
	"      --threads N         compression threads (default: one per CPU)\n"
	"      --compress-level N  zstd level, -131072 (fastest) to 19; default -1;\n"
	"                          auto: the smallest rounds that take no longer\n"
	"                          to make and send than sending them raw would\n"
	"      --work-dir DIR      where each round's pass is made before it is sent\n"
	"                          (default $TMPDIR or /tmp)\n"
	"      --progress WHEN     a progress line on stderr (each round's copy and\n"
	"                          send): auto (when it is a terminal), always, never\n"
	"      --json              the statistics as one JSON object on stdout\n"
	"      --display-stats     the statistics as text on stdout\n"
	"  -v, -q, -o FILE         more (-v: each round), fewer messages; messages to FILE\n"
	"\n"
	"Exit status: 0 moved, 1 an error (one line 'sdump: ...'; the process runs\n"
	"on here), 2 a usage error.\n";

int cmd_migrate(int argc, char **argv)
{
	enum { OPT_TO = 0x2000, OPT_DOWNTIME, OPT_MAX_ROUNDS, OPT_BANDWIDTH,
	       OPT_TRACK, OPT_LEVEL, OPT_WORK, OPT_JSON, OPT_STATS, OPT_THREADS, OPT_AUTOCONV, OPT_TCP };
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "to", required_argument, NULL, OPT_TO },
		{ "downtime", required_argument, NULL, OPT_DOWNTIME },
		{ "max-rounds", required_argument, NULL, OPT_MAX_ROUNDS },
		{ "auto-converge", no_argument, NULL, OPT_AUTOCONV },
		{ "bandwidth", required_argument, NULL, OPT_BANDWIDTH },
		{ "tcp-established", no_argument, NULL, OPT_TCP },
		CLI_TLS_LONGOPTS,
		{ "track", required_argument, NULL, OPT_TRACK },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "compress-level", required_argument, NULL, OPT_LEVEL },
		{ "work-dir", required_argument, NULL, OPT_WORK },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "display-stats", no_argument, NULL, OPT_STATS },
		CLI_PROGRESS_LONGOPT,
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_migrate_opts o = { 0 };
	struct sdump_migrate_stats *st;
	struct sdump_ctx *ctx;
	bool json = false, display = false;
	uint64_t v;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":t:v::qo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg) || cli_tls_option(opt, optarg, &o.tls))
			continue;
		switch (opt) {
		case 't':
			if (cli_parse_u64(optarg, false, 1, INT_MAX, &v) < 0)
				return cli_usage_error("migrate", "bad pid '%s'", optarg);
			o.pid = (pid_t)v;
			break;
		case OPT_TO:
			o.to = optarg;
			break;
		case OPT_DOWNTIME:
			if (cli_parse_u64(optarg, false, 1, 3600000, &o.downtime_ms) < 0)
				return cli_usage_error("migrate", "bad --downtime '%s': milliseconds", optarg);
			break;
		case OPT_MAX_ROUNDS:
			if (cli_parse_u64(optarg, false, 1, SDUMP_MIGRATE_MAX_ROUNDS, &v) < 0)
				return cli_usage_error("migrate", "bad --max-rounds '%s': 1 to %d", optarg,
						       SDUMP_MIGRATE_MAX_ROUNDS);
			o.max_rounds = (unsigned int)v;
			break;
		case OPT_AUTOCONV:
			o.auto_converge = true;
			break;
		case OPT_TCP:
			o.tcp_established = true;
			break;
		case OPT_BANDWIDTH:
			if (cli_parse_u64(optarg, true, 1, UINT64_MAX, &o.bandwidth) < 0)
				return cli_usage_error("migrate", "bad --bandwidth '%s': bytes per second (K, M, G)",
						       optarg);
			break;
		case OPT_TRACK:
			if (sdump_track_parse(optarg, &o.track) < 0)
				return cli_usage_error("migrate", "bad --track '%s': auto, soft-dirty, uffd-wp or none",
						       optarg);
			break;
		case OPT_THREADS:
			if (cli_parse_u64(optarg, false, 1, 1024, &v) < 0)
				return cli_usage_error("migrate", "bad --threads '%s'", optarg);
			o.threads = (unsigned int)v;
			break;
		case OPT_LEVEL:
			if (cli_parse_level("migrate", optarg, &o.compress_level))
				return 2;
			break;
		case OPT_WORK:
			o.work_dir = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_STATS:
			display = true;
			break;
		case OPT_PROGRESS:
			if (cli_progress_option(optarg) < 0)
				return cli_usage_error("migrate", "bad --progress '%s': auto, always or never",
						       optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_option("migrate", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("migrate", "unexpected argument '%s'", argv[optind]);
	if (!o.pid)
		return cli_usage_error("migrate", "no process given: -t <pid>");
	if (!o.to)
		return cli_usage_error("migrate", "no destination given: --to <addr:port>");
	if (cli_tls_check("migrate", &o.tls))
		return 2;
	st = calloc(1, sizeof(*st));
	if (!st)
		return cli_usage_error("migrate", "out of memory");
	ctx = cli_ctx_new();
	if (!ctx) {
		free(st);
		return 1;
	}
	cli_progress_setup(ctx);
	r = sdump_migrate(ctx, &o, st);
	if (r < 0) {
		free(st);
		return cli_fail(ctx, r);
	}
	if (json)
		sdump_migrate_stats_write_json(st, stdout);
	if (display)
		sdump_migrate_stats_write_text(st, stdout);
	free(st);
	cli_ctx_free(ctx);
	return 0;
}
