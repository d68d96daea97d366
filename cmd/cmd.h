/* SPDX-License-Identifier: MIT */
/* The sdump command line: shared option handling and the subcommands. */
#ifndef SDUMP_CMD_H
#define SDUMP_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sdump.h"

/* When to show the progress line of a long phase (--progress). */
enum cli_progress {
	CLI_PROGRESS_AUTO = 0,	/* when stderr is a terminal, and not with -q */
	CLI_PROGRESS_ALWAYS,
	CLI_PROGRESS_NEVER,
};

/* Options every subcommand shares, parsed once; read-only after that. */
struct cli_opts {
	int verbosity;		/* -1 quiet, 0 warnings (default), 1 info, 2 debug */
	const char *log_file;	/* -o/--log-file */
	enum cli_progress progress; /* --progress (pre-dump, dump, restore) */
};

extern struct cli_opts cli;

/* Long options every subcommand accepts; add them to its table with CLI_COMMON_LONGOPTS. */
enum { OPT_LOG_FILE = 0x1000, OPT_HELP, OPT_VERSION, OPT_PROGRESS };
#define CLI_COMMON_LONGOPTS                                      \
	{ "verbose", no_argument, NULL, 'v' },                   \
	{ "verbosity", optional_argument, NULL, 'v' },           \
	{ "quiet", no_argument, NULL, 'q' },                     \
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },   \
	{ "help", no_argument, NULL, 'h' }
/* --progress WHEN, for the commands with a long phase (pre-dump, dump, restore). */
#define CLI_PROGRESS_LONGOPT { "progress", required_argument, NULL, OPT_PROGRESS }

/* --tls-cert, --tls-key, --tls-ca: a migration's two ends (migrate, receive). */
enum { OPT_TLS_CERT = 0x1100, OPT_TLS_KEY, OPT_TLS_CA };
#define CLI_TLS_LONGOPTS                                         \
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },   \
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },     \
	{ "tls-ca", required_argument, NULL, OPT_TLS_CA }
/* Take a TLS option into @tls; true if it was one. */
bool cli_tls_option(int opt, const char *arg, struct sdump_tls_opts *tls);
/* All three TLS files or none: 0, or the usage error of @name said and its exit status, 2. */
int cli_tls_check(const char *name, const struct sdump_tls_opts *tls);

/*
 * Handle an option shared by every subcommand (-v, -q, --log-file); true if
 * it was one.
 */
bool cli_common_option(int opt, const char *arg);
/* Parse the value of --progress (auto, always, never) into cli.progress; -EINVAL if bad. */
int cli_progress_option(const char *arg);
/*
 * Draw the progress of @ctx's long phases on stderr when cli.progress says
 * so: one line, redrawn with \r, shown once the command has run for a
 * second, cleared when the phase ends and before any message.
 */
void cli_progress_setup(struct sdump_ctx *ctx);
/* An option getopt_long refused (opt is '?' or ':'): a usage error. */
int cli_bad_option(const char *cmd, int opt, char **argv);
/* A usage error: "sdump: <msg>" + a hint at --help, returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* SIGINT, SIGTERM, SIGHUP, SIGQUIT only set a flag the library polls (-ECANCELED). */
void cli_catch_signals(void);
/* The context of a subcommand, logging as the options say. NULL on failure (message printed). */
struct sdump_ctx *cli_ctx_new(void);
/* Print "sdump: <last error>" (r is the library's return), free the context, return 1. */
int cli_fail(struct sdump_ctx *ctx, int r);
void cli_ctx_free(struct sdump_ctx *ctx);

/*
 * Output files written through a temporary "<path>.XXXXXX" renamed over
 * @path only once complete: a failure never clobbers an existing file.
 */
int cli_output_open(const char *path, char *tmp, size_t size);
/*
 * The end of a command that wrote an output (@path, or NULL for stdout),
 * @r the library's return: commit the output (fsync, rename) when @r is a
 * success, else drop the temporary; print the error if any, free @ctx.
 * Returns the exit status, 0 or 1.
 */
int cli_output_finish(struct sdump_ctx *ctx, int fd, const char *path, const char *tmp, int r);

/*
 * @path taken relative to the directory @dir (as CRIU's --prev-images-dir
 * is to -D): "../2" of "img/3" is "img/2", resolved by name (@dir need not
 * exist yet); an absolute @path as it is. Allocated; NULL for an empty one.
 */
char *cli_path_relative_to(const char *dir, const char *path);

/* Whole-string number parsing: decimal or 0x hex; with a K/M/G/T suffix (x1024) when @size. */
int cli_parse_u64(const char *s, bool size, uint64_t min, uint64_t max, uint64_t *ret);
/* --compress-level: "auto" or a zstd level of the range, not 0; else @cmd's usage error (2). */
int cli_parse_level(const char *cmd, const char *s, int *ret);

int cmd_pre_dump(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_coredump(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_squash(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_receive(int argc, char **argv);

#endif /* SDUMP_CMD_H */
