/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdump.h"
#include "cmd.h"

struct cli_opts cli;

static FILE *log_file;

bool cli_common_option(int opt, const char *arg)
{
	switch (opt) {
	case 'v':
		if (cli.verbosity < 2)
			cli.verbosity++;
		return true;
	case 'q':
		cli.verbosity = -1;
		return true;
	case OPT_LOG_FILE:
	case 'o':
		cli.log_file = arg;
		return true;
	default:
		return false;
	}
}

int cli_bad_option(const char *cmd, int opt, char **argv)
{
	if (opt == ':')
		return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
	if (optopt)
		return cli_usage_error(cmd, "unknown option '-%c'", optopt);
	return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("sdump: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'sdump %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
	return 2;
}

static void log_line(void *userdata, enum sdump_log_level level, const char *msg)
{
	FILE *f = log_file ? log_file : stderr;

	(void)userdata;
	if (level == SDUMP_LOG_WARN)
		fprintf(f, "sdump: warning: %s\n", msg);
	else if (level == SDUMP_LOG_ERROR)
		fprintf(f, "sdump: %s\n", msg);
	else
		fprintf(f, "%s\n", msg);
	fflush(f);
}

static volatile int interrupted;

/* Only a flag: the library sees it and unwinds as on any error. */
static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void cli_catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

struct sdump_ctx *cli_ctx_new(void)
{
	struct sdump_ctx *ctx;
	enum sdump_log_level level = SDUMP_LOG_WARN;

	if (cli.log_file && !log_file) {
		log_file = fopen(cli.log_file, "ae");
		if (!log_file) {
			fprintf(stderr, "sdump: cannot open log file '%s': %s\n", cli.log_file,
				strerror(errno));
			return NULL;
		}
	}
	if (sdump_ctx_new(&ctx) < 0) {
		fprintf(stderr, "sdump: out of memory\n");
		return NULL;
	}
	if (cli.verbosity < 0)
		level = SDUMP_LOG_ERROR;
	else if (cli.verbosity == 1)
		level = SDUMP_LOG_INFO;
	else if (cli.verbosity >= 2)
		level = SDUMP_LOG_DEBUG;
	/* with a log file, the file gets everything at INFO at least */
	if (log_file && level < SDUMP_LOG_INFO)
		level = SDUMP_LOG_INFO;
	sdump_ctx_set_log(ctx, log_line, NULL);
	sdump_ctx_set_log_level(ctx, level);
	sdump_ctx_set_cancel(ctx, &interrupted);
	return ctx;
}

void cli_ctx_free(struct sdump_ctx *ctx)
{
	sdump_ctx_free(ctx);
	if (log_file) {
		(void)fclose(log_file);
		log_file = NULL;
	}
}

int cli_fail(struct sdump_ctx *ctx, int r)
{
	const char *msg = sdump_ctx_last_error(ctx);

	if (!msg)
		msg = strerror(-r);
	fprintf(stderr, "sdump: %s\n", msg);
	if (log_file)
		fprintf(log_file, "sdump: %s\n", msg);
	cli_ctx_free(ctx);
	return 1;
}

int cli_output_open(const char *path, char *tmp, size_t size)
{
	int fd;

	if (snprintf(tmp, size, "%s.XXXXXX", path) >= (int)size) {
		fprintf(stderr, "sdump: cannot create '%s': %s\n", path, strerror(ENAMETOOLONG));
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "sdump: cannot create '%s': %s\n", path, strerror(errno));
	return fd;
}

int cli_output_close(int fd, const char *path, const char *tmp, bool ok)
{
	if (!ok) {
		(void)close(fd);
		(void)unlink(tmp);
		return 1;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "sdump: cannot write '%s': %s\n", path, strerror(errno));
		(void)unlink(tmp);
		return 1;
	}
	return 0;
}

int cli_parse_u64(const char *s, bool size, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	/* decimal, or hex with 0x: a leading 0 is not octal */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		v = strtoull(s + 2, &end, 16);
	else
		v = strtoull(s, &end, 10);
	if (end == s + 2 && s[1] && (s[1] == 'x' || s[1] == 'X'))
		return -EINVAL;
	if (errno || end == s)
		return -EINVAL;
	if (size && *end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: return -EINVAL;
		}
		end++;
		if (v > (UINT64_MAX >> shift))
			return -ERANGE;
		v <<= shift;
	}
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}
