/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump restore -D <dir> [-d] [--lazy] [-j|--shell-job] [--inherit-fd fd[<n>]:<file>]...\n"
	"                     [--file-changed refuse|allow] [--pidfile <file>] [--progress <when>]\n"
	"                     [--tcp-established|--tcp-close] [--cgroup same|here|<path>]\n"
	"                     [--display-stats] [--json] [-v|-q] [-o <file>]\n"
	"\n"
	"Bring back the process of a final dump, with its PID. Without -d, stay\n"
	"its parent and exit with its exit status (128+N if signal N killed it).\n"
	"\n"
	"  -D, --images-dir DIR      the image of a final dump (sdump dump)\n"
	"  -d, --restore-detached    return once the process runs\n"
	"      --lazy                run the process at once, its memory following:\n"
	"                            its page faults served from the image, the rest\n"
	"                            pushed in the background (return, or wait for\n"
	"                            it, once every page is in)\n"
	"  -j, --shell-job           join this shell's session; its terminal stands\n"
	"                            in for the dumped one, with its settings, and\n"
	"                            its foreground group if it had it\n"
	"      --inherit-fd fd[N]:FILE  our fd N stands in for FILE, outside the\n"
	"                            process: 'pipe:[INODE]' (a pipe whose other\n"
	"                            end was elsewhere) or a path, as show prints\n"
	"      --file-changed HOW    a file an fd has open changed since the dump:\n"
	"                            refuse (the default), or allow (opened as it\n"
	"                            is now, at its offset; a warning says what changed)\n"
	"      --pidfile FILE        write the restored pid there once it runs\n"
	"      --tcp-established     accepted as CRIU's: the established TCP\n"
	"                            connections of the image (dump --tcp-established)\n"
	"                            come back established, the default\n"
	"      --tcp-close           the established TCP connections of the image\n"
	"                            (dump --tcp-established) come back closed\n"
	"      --cgroup WHERE        the cgroups it goes into: same (those it was in,\n"
	"                            the default; refused where one is missing), here\n"
	"                            (left in ours) or PATH (that cgroup in each of its\n"
	"                            hierarchies, /batch/job1)\n"
	"      --progress WHEN       a progress line on stderr: auto (when it is a\n"
	"                            terminal, the default), always or never\n"
	"      --display-stats       the restore's counters as text on stdout\n"
	"      --json                the same as one JSON object on stdout (with -d\n"
	"                            once the process runs, else once it has ended)\n"
	"  -v, -q, -o FILE           more (-v: each step and its time), fewer\n"
	"                            messages; messages to FILE\n"
	"\n"
	"Exit status: the process's without -d, 0 with -d; 1 an error (one line\n"
	"'sdump: ...'), 2 a usage error.\n";

/* "fd[N]:FILE" (CRIU's form): our fd N, the file it stands in for; the string stays @arg's. */
static int parse_inherit(const char *arg, struct sdump_inherit_fd *ret)
{
	const char *close = strstr(arg, "]:");
	char num[16];
	uint64_t n;

	if (strncmp(arg, "fd[", 3) || !close || close - arg - 3 <= 0 ||
	    (size_t)(close - arg - 3) >= sizeof(num) || !close[2])
		return -1;
	memcpy(num, arg + 3, (size_t)(close - arg - 3));
	num[close - arg - 3] = '\0';
	if (cli_parse_u64(num, false, 0, INT_MAX, &n) < 0)
		return -1;
	ret->fd = (int)n;
	ret->key = close + 2;
	return 0;
}

int cmd_restore(int argc, char **argv)
{
	enum { OPT_SHELL_JOB = 0x2000, OPT_INHERIT_FD, OPT_FILE_CHANGED, OPT_PIDFILE, OPT_STATS, OPT_JSON,
	       OPT_TCP_CLOSE, OPT_TCP_ESTABLISHED, OPT_LAZY, OPT_CGROUP };
	static const struct option longopts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "restore-detached", no_argument, NULL, 'd' },
		{ "shell-job", no_argument, NULL, OPT_SHELL_JOB },
		{ "inherit-fd", required_argument, NULL, OPT_INHERIT_FD },
		{ "file-changed", required_argument, NULL, OPT_FILE_CHANGED },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "lazy", no_argument, NULL, OPT_LAZY },
		{ "display-stats", no_argument, NULL, OPT_STATS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "tcp-close", no_argument, NULL, OPT_TCP_CLOSE },
		{ "tcp-established", no_argument, NULL, OPT_TCP_ESTABLISHED },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		CLI_PROGRESS_LONGOPT,
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_restore_opts o = { 0 };
	struct sdump_restore_stats st = { 0 };
	bool display = false, json = false, established = false;
	struct sdump_inherit_fd *inh = NULL;
	struct sdump_ctx *ctx;
	int opt, r, status = 0;

	while ((opt = getopt_long(argc, argv, ":D:djv::qo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'D':
			o.dir = optarg;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'j':
		case OPT_SHELL_JOB:
			o.shell_job = true;
			break;
		case OPT_FILE_CHANGED:
			if (!strcmp(optarg, "allow") || !strcmp(optarg, "refuse")) {
				o.file_changed_allow = !strcmp(optarg, "allow");
				break;
			}
			free(inh);
			return cli_usage_error("restore", "bad --file-changed '%s': refuse or allow", optarg);
		case OPT_TCP_CLOSE:
			o.tcp_close = true;
			break;
		case OPT_TCP_ESTABLISHED:
			established = true;
			break;
		case OPT_CGROUP:
			if (strcmp(optarg, "same") && strcmp(optarg, "here") && optarg[0] != '/') {
				free(inh);
				return cli_usage_error("restore", "bad --cgroup '%s': same, here or an absolute cgroup path",
						       optarg);
			}
			o.cgroup = optarg;
			break;
		case OPT_PIDFILE:
			o.pidfile = optarg;
			break;
		case OPT_LAZY:
			o.lazy = true;
			break;
		case OPT_STATS:
			display = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_INHERIT_FD: {
			struct sdump_inherit_fd *n;

			n = realloc(inh, (o.ninherit + 1) * sizeof(*inh));
			if (!n) {
				free(inh);
				return cli_usage_error("restore", "out of memory");
			}
			inh = n;
			if (parse_inherit(optarg, &inh[o.ninherit]) < 0) {
				free(inh);
				return cli_usage_error("restore", "bad --inherit-fd '%s': fd[N]:FILE, N an fd of ours",
						       optarg);
			}
			o.ninherit++;
			o.inherit = inh;
			break;
		}
		case OPT_PROGRESS:
			if (cli_progress_option(optarg) < 0)
				return cli_usage_error("restore", "bad --progress '%s': auto, always or never",
						       optarg);
			break;
		case 'h':
			free(inh);
			fputs(usage, stdout);
			return 0;
		default:
			free(inh);
			return cli_bad_option("restore", opt, argv);
		}
	}
	if (optind < argc || !o.dir) {
		free(inh);
		if (optind < argc)
			return cli_usage_error("restore", "unexpected argument '%s'", argv[optind]);
		return cli_usage_error("restore", "no image directory given: -D <dir>");
	}
	if (established && o.tcp_close) {
		free(inh);
		return cli_usage_error("restore", "--tcp-established and --tcp-close contradict each other");
	}
	ctx = cli_ctx_new();
	if (!ctx) {
		free(inh);
		return 1;
	}
	cli_progress_setup(ctx);
	if (display || json)
		o.ret_stats = &st;
	r = sdump_restore(ctx, &o, &status);
	free(inh);
	if (r < 0)
		return cli_fail(ctx, r);
	if (display)
		sdump_restore_stats_write_text(&st, stdout);
	if (json) {
		printf("{\"op\":\"restore\",\"pid\":%d,\"stats\":", (int)st.pid);
		sdump_restore_stats_write_json(&st, stdout);
		fputs("}\n", stdout);
	}
	fflush(stdout);
	cli_ctx_free(ctx);
	return status;
}
