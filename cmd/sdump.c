/* SPDX-License-Identifier: MIT */
/* sdump: global options, then dispatch to a subcommand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump [-v|-q] [-o <file>] <command> [<args>]\n"
	"\n"
	"Incremental checkpoints of running Linux processes.\n"
	"\n"
	"commands:\n"
	"  check      what this kernel supports, one line per feature\n"
	"  pre-dump   save the memory of a running process; it runs on\n"
	"  dump       the final pass: memory and the whole process state\n"
	"  show       describe an image\n"
	"  verify     check every byte of an image and of its whole chain\n"
	"  extract    the dumped memory of an address range\n"
	"  restore    bring back the process of a final dump\n"
	"  release    end the tracking pre-dumps keep in a process\n"
	"  squash     one self-contained image equal to a chain's newest pass\n"
	"  prune      keep the newest passes of chains, remove the older ones\n"
	"  coredump   an ELF core file of a final dump, for gdb\n"
	"  migrate    move a running process to another host (sdump receive there)\n"
	"  receive    accept a migration, and bring the process up\n"
	"\n"
	"options:\n"
	"  -v, --verbose        more messages (-vv: debug)\n"
	"  -q, --quiet          errors only\n"
	"  -o, --log-file FILE  write messages to FILE\n"
	"  -h, --help           this help; 'sdump <command> --help' for a command\n"
	"  -V, --version        print the version\n"
	"\n"
	"exit status:\n"
	"  0  success\n"
	"  1  an error: one line 'sdump: <what failed>' on stderr; for check, a\n"
	"     required feature is missing\n"
	"  2  a usage error: the line names it and points at --help\n"
	"restore without -d (and receive --restore without -d) exits with the status\nof the process it restored.\n";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "check", cmd_check },
	{ "pre-dump", cmd_pre_dump },
	{ "dump", cmd_dump },
	{ "show", cmd_show },
	{ "verify", cmd_verify },
	{ "extract", cmd_extract },
	{ "coredump", cmd_coredump },
	{ "restore", cmd_restore },
	{ "release", cmd_release },
	{ "squash", cmd_squash },
	{ "prune", cmd_prune },
	{ "migrate", cmd_migrate },
	{ "receive", cmd_receive },
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	const char *fault = getenv("SDUMP_FAULT"), *count = getenv("SDUMP_FAULT_COUNT");
	int opt, st;

	cli_catch_signals();
	if (fault && sdump_fault_set(fault) < 0) {
		fprintf(stderr, "sdump: bad SDUMP_FAULT '%s': <kind>:<n>[:<errno>], kind write, procread, ptrace, inject, open or net (see sdump(1))\n",
			fault);
		return 2;
	}
	opterr = 0; /* our own messages: one line, with a hint */
	/* '+': stop at the subcommand, whose options are its own */
	while ((opt = getopt_long(argc, argv, "+:v::qo:hV", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg))
			continue;
		switch (opt) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("sdump %s (image format %d)\n", SDUMP_VERSION, SDUMP_IMAGE_VERSION);
			return 0;
		default:
			return cli_bad_option(NULL, opt, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error(NULL, "no command given");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			argv += optind;
			argc -= optind;
			optind = 1;
			st = commands[i].fn(argc, argv);
			/* for the tests: how many calls of each kind there were to fail */
			if (count && !strcmp(count, "1")) {
				char buf[256];

				sdump_fault_format_counts(buf, sizeof(buf));
				fprintf(stderr, "sdump: fault counts: %s\n", buf);
			}
			return st;
		}
	}
	return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
}
