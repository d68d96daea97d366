/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <time.h>

#include "sdump.h"
#include "cmd.h"

struct cli_opts cli;

static FILE *log_file;

bool cli_common_option(int opt, const char *arg)
{
	switch (opt) {
	case 'v':
		/* -v, -vv (getopt hands "v" as the value), or CRIU's -v0 .. -v4, --verbosity=N */
		if (arg && arg[0] >= '0' && arg[0] <= '4' && !arg[1]) {
			static const int level[] = { -1, -1, 0, 1, 2 };

			cli.verbosity = level[arg[0] - '0'];
			return true;
		}
		if (arg && strspn(arg, "v") != strlen(arg))
			return false;
		cli.verbosity += 1 + (arg ? (int)strlen(arg) : 0);
		if (cli.verbosity > 2)
			cli.verbosity = 2;
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

/* The progress line on stderr: what is on screen now, and since when the command runs. */
static struct {
	uint64_t t_start_us;
	int width;		/* columns of the line shown; 0: none shown */
} progress;

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Blank the progress line, if one is shown, and put the cursor back at its start. */
static void progress_clear(void)
{
	if (!progress.width)
		return;
	fprintf(stderr, "\r%*s\r", progress.width, "");
	fflush(stderr);
	progress.width = 0;
}

/* "0:07", "12:05", "1:02:09": the time left, or "?" while it cannot be told. */
static void fmt_left(char *buf, size_t size, double secs)
{
	uint64_t s;

	if (!(secs >= 0) || secs > 360000) {
		(void)snprintf(buf, size, "?");
		return;
	}
	s = (uint64_t)(secs + 0.5);
	if (s >= 3600)
		(void)snprintf(buf, size, "%" PRIu64 ":%02u:%02u", s / 3600, (unsigned)(s / 60 % 60),
			       (unsigned)(s % 60));
	else
		(void)snprintf(buf, size, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

static void progress_draw(void *userdata, const struct sdump_progress *p)
{
	double secs = p->elapsed_us / 1e6, mib = (double)p->done * p->page_size / (1 << 20);
	double rate = secs > 0 ? mib / secs : 0;
	char line[256], left[32];
	struct winsize ws;
	int n, cols = 0;

	(void)userdata;
	if (p->end) {
		progress_clear();
		return;
	}
	/* a short command shows nothing: the line appears once it has run a second */
	if (mono_us() - progress.t_start_us < 1000000)
		return;
	if (rate > 0 && p->done > 0)
		fmt_left(left, sizeof(left),
			 (double)(p->total - p->done) * p->page_size / (1 << 20) / rate);
	else
		fmt_left(left, sizeof(left), -1);
	n = snprintf(line, sizeof(line),
		     "%s %d: %s %" PRIu64 "/%" PRIu64 " pages %3u%%, %.1f MiB/s, %s left", p->op,
		     (int)p->pid, p->phase, p->done, p->total,
		     p->total ? (unsigned)(p->done * 100 / p->total) : 100u, rate, left);
	if (n < 0)
		return;
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	/* never wider than the terminal: a wrapped line could not be redrawn in place */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		cols = ws.ws_col - 1;
	if (cols && n > cols)
		n = cols;
	fprintf(stderr, "\r%.*s%*s", n, line, progress.width > n ? progress.width - n : 0, "");
	fflush(stderr);
	progress.width = n > progress.width ? n : progress.width;
}

int cli_progress_option(const char *arg)
{
	if (!strcmp(arg, "auto"))
		cli.progress = CLI_PROGRESS_AUTO;
	else if (!strcmp(arg, "always"))
		cli.progress = CLI_PROGRESS_ALWAYS;
	else if (!strcmp(arg, "never"))
		cli.progress = CLI_PROGRESS_NEVER;
	else
		return -EINVAL;
	return 0;
}

void cli_progress_setup(struct sdump_ctx *ctx)
{
	bool on;

	switch (cli.progress) {
	case CLI_PROGRESS_ALWAYS:
		on = true;
		break;
	case CLI_PROGRESS_NEVER:
		on = false;
		break;
	default:
		/* never into a pipe or a file, and -q asks for silence */
		on = isatty(STDERR_FILENO) && cli.verbosity >= 0;
		break;
	}
	if (!on)
		return;
	progress.t_start_us = mono_us();
	sdump_ctx_set_progress(ctx, progress_draw, NULL);
}

/*
 * One message line: control characters in it (from a forged image's paths
 * and names) are written as '?', so that none reaches the terminal.
 */
static void put_line(FILE *f, const char *prefix, const char *msg)
{
	/* one write a line, not one a character (stderr is unbuffered) */
	char buf[1024];
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)prefix; *p; p++)
		buf[n++] = (char)*p;
	for (const unsigned char *p = (const unsigned char *)msg;; p++) {
		if (n >= sizeof(buf) - 1 || !*p) {
			if (!*p)
				buf[n++] = '\n';
			(void)fwrite(buf, 1, n, f);
			n = 0;
			if (!*p)
				break;
		}
		buf[n++] = (char)(*p < 0x20 || *p == 0x7f ? '?' : *p);
	}
}

static void log_line(void *userdata, enum sdump_log_level level, const char *msg)
{
	FILE *f = log_file ? log_file : stderr;

	(void)userdata;
	/* a message on stderr takes the progress line's place; the next update draws it again */
	if (f == stderr)
		progress_clear();
	if (level == SDUMP_LOG_WARN)
		put_line(f, "sdump: warning: ", msg);
	else if (level == SDUMP_LOG_ERROR)
		put_line(f, "sdump: ", msg);
	else
		put_line(f, "", msg);
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
	/* a file over RLIMIT_FSIZE: a write fails with EFBIG and the pass unwinds, no death */
	(void)signal(SIGXFSZ, SIG_IGN);
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
	progress_clear();
	put_line(stderr, "sdump: ", msg);
	if (log_file)
		put_line(log_file, "sdump: ", msg);
	cli_ctx_free(ctx);
	return 1;
}

int cli_output_open(const char *path, char *tmp, size_t size)
{
	struct stat st;
	int fd;

	/*
	 * A device, FIFO or socket (/dev/null, /dev/stdout, a pipe) is written
	 * in place: renaming a temporary file over it would replace it.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		tmp[0] = '\0';
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			fprintf(stderr, "sdump: cannot open '%s': %s\n", path, strerror(errno));
		return fd;
	}
	if (snprintf(tmp, size, "%s.XXXXXX", path) >= (int)size) {
		fprintf(stderr, "sdump: cannot create '%s': %s\n", path, strerror(ENAMETOOLONG));
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "sdump: cannot create '%s': %s\n", path, strerror(errno));
	return fd;
}

/* @ok: commit (fsync, rename); else drop the temporary. Returns 0 or 1 (message printed). */
static int cli_output_close(int fd, const char *path, const char *tmp, bool ok)
{
	if (!tmp[0]) {
		if (close(fd) < 0 && ok) {
			fprintf(stderr, "sdump: cannot write '%s': %s\n", path, strerror(errno));
			return 1;
		}
		return ok ? 0 : 1;
	}
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

int cli_output_finish(struct sdump_ctx *ctx, int fd, const char *path, const char *tmp, int r)
{
	if (path && cli_output_close(fd, path, tmp, r >= 0) && r >= 0) {
		cli_ctx_free(ctx);
		return 1;
	}
	if (r < 0)
		return cli_fail(ctx, r);
	cli_ctx_free(ctx);
	return 0;
}

int cli_parse_level(const char *cmd, const char *s, int *ret)
{
	char *end;
	long l;

	if (!strcmp(s, "auto")) {
		*ret = SDUMP_COMPRESS_LEVEL_AUTO;
		return 0;
	}
	errno = 0;
	l = strtol(s, &end, 10);
	if (errno || end == s || *end || l < SDUMP_COMPRESS_LEVEL_MIN ||
	    l > SDUMP_COMPRESS_LEVEL_MAX || l == 0)
		return cli_usage_error(cmd, "bad compression level '%s' (auto, or %d to %d, not 0)",
				       s, SDUMP_COMPRESS_LEVEL_MIN, SDUMP_COMPRESS_LEVEL_MAX);
	*ret = (int)l;
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

char *cli_path_relative_to(const char *dir, const char *path)
{
	size_t dl = strlen(dir), pl = strlen(path);
	char *out, *rest, *tok, *save = NULL;
	size_t len;

	if (!pl)
		return NULL;
	if (path[0] == '/')
		return strdup(path);
	out = malloc(dl + pl + 3);
	rest = strdup(path);
	if (!out || !rest) {
		free(out);
		free(rest);
		return NULL;
	}
	memcpy(out, dir, dl + 1);
	len = dl;
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	for (tok = strtok_r(rest, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		char *slash = strrchr(out, '/');
		const char *last = slash ? slash + 1 : out;

		if (!strcmp(tok, "."))
			continue;
		/* ".." drops the last name, unless there is none to drop (or it is ".." itself) */
		if (!strcmp(tok, "..") && len && strcmp(last, "..") && strcmp(last, ".") &&
		    !(slash == out && !last[0])) {
			if (slash == out)
				len = 1;
			else if (slash)
				len = (size_t)(slash - out);
			else
				len = 0;
			out[len] = '\0';
			continue;
		}
		if (len && out[len - 1] != '/')
			out[len++] = '/';
		memcpy(out + len, tok, strlen(tok) + 1);
		len += strlen(tok);
	}
	free(rest);
	if (!len)
		memcpy(out, ".", 2);
	return out;
}

bool cli_tls_option(int opt, const char *arg, struct sdump_tls_opts *tls)
{
	switch (opt) {
	case OPT_TLS_CERT:
		tls->cert = arg;
		return true;
	case OPT_TLS_KEY:
		tls->key = arg;
		return true;
	case OPT_TLS_CA:
		tls->ca = arg;
		return true;
	default:
		return false;
	}
}

int cli_tls_check(const char *name, const struct sdump_tls_opts *tls)
{
	if ((tls->cert || tls->key || tls->ca) && !(tls->cert && tls->key && tls->ca))
		return cli_usage_error(name, "TLS needs --tls-cert, --tls-key and --tls-ca together");
	return 0;
}
