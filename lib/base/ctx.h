/* SPDX-License-Identifier: MIT */
/* The library context: log callback and level, the first error of an operation. */
#ifndef SDUMP_CTX_H
#define SDUMP_CTX_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>

#include "sdump.h"

/*
 * The refusals of a preflight (sd_refusals_begin()): what a dump would
 * refuse, one line each, kept instead of failing.
 */
struct sd_refusals {
	bool collect;		/* on: sd_refuse() records and carries on */
	bool unsafe;		/* a refusal after which the process must not be touched more */
	char **line;
	size_t n, cap;
};

struct sdump_ctx {
	pthread_mutex_t lock;	/* the log and the error, for a pass's threads (a tree's members written at once) */
	sdump_log_fn log_fn;
	void *log_data;
	enum sdump_log_level level;
	char *last_error;
	const volatile int *cancel;
	sdump_progress_fn progress_fn;
	void *progress_data;
	struct sdump_progress progress;	/* the phase under way, if progress_active */
	bool progress_active;
	uint64_t progress_t0, progress_last; /* now_us() at the start, at the last call */
	struct sd_refusals refusals;
};


void sd_log(struct sdump_ctx *ctx, enum sdump_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Record "<message>: <strerror(-r)>" as the context's error unless one is
 * already recorded, and return @r (a negative errno) for `return sd_err(...)`.
 */
int sd_err(struct sdump_ctx *ctx, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same, without the strerror suffix: for errors that are not an errno's. */
int sd_errx(struct sdump_ctx *ctx, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * A refusal: state a dump cannot take, "cannot dump pid N: what; what the
 * user can do". Normally the operation's error, as sd_errx(), returning
 * @r. While a preflight collects them (sd_refusals_begin()) the line is
 * recorded instead and 0 returned: the collector carries on, and the
 * preflight lists every refusal, not the first. sd_refuse_unsafe() is for
 * state that makes what follows unsafe for the process (the injected
 * system calls): a preflight records it and touches the process no more.
 */
int sd_refuse(struct sdump_ctx *ctx, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sd_refuse_unsafe(struct sdump_ctx *ctx, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Start collecting refusals (none yet); stop, the lines collected handed to the caller. */
void sd_refusals_begin(struct sdump_ctx *ctx);
void sd_refusals_end(struct sdump_ctx *ctx, char ***ret_lines, size_t *ret_n);

/* Whether the caller asked to stop (sdump_ctx_set_cancel()); records the error once. */
static inline int sd_check_cancel(struct sdump_ctx *ctx)
{
	if (!ctx->cancel || !*ctx->cancel)
		return 0;
	return sd_errx(ctx, -ECANCELED, "interrupted");
}

/*
 * Progress of a phase, for the callback of sdump_ctx_set_progress(): begin
 * it (a first call, done 0), update it as often as convenient (the callback
 * is called at most every SD_PROGRESS_INTERVAL_US), end it (a last call;
 * also on failure paths). Each is a no-op without a callback.
 */
#define SD_PROGRESS_INTERVAL_US 100000
void sd_progress_begin(struct sdump_ctx *ctx, const char *op, const char *phase, pid_t pid,
		       uint64_t total, uint32_t page_size);
void sd_progress_update(struct sdump_ctx *ctx, uint64_t done);
void sd_progress_end(struct sdump_ctx *ctx);

#ifndef LOG_PREFIX
#define LOG_PREFIX ""
#endif
#define pr_warn(ctx, fmt, ...) sd_log(ctx, SDUMP_LOG_WARN, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_info(ctx, fmt, ...) sd_log(ctx, SDUMP_LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_debug(ctx, fmt, ...)                                                   \
	do {                                                                      \
		if ((ctx)->level >= SDUMP_LOG_DEBUG)                              \
			sd_log(ctx, SDUMP_LOG_DEBUG, LOG_PREFIX fmt, ##__VA_ARGS__); \
	} while (0)

#endif /* SDUMP_CTX_H */
