/* SPDX-License-Identifier: MIT */
/* The library context: log callback and level, the first error of an operation. */
#ifndef SDUMP_CTX_H
#define SDUMP_CTX_H

#include <errno.h>
#include <stdarg.h>

#include "sdump.h"

struct sdump_ctx {
	sdump_log_fn log_fn;
	void *log_data;
	enum sdump_log_level level;
	char *last_error;
	const volatile int *cancel;
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

/* Whether the caller asked to stop (sdump_ctx_set_cancel()); records the error once. */
static inline int sd_check_cancel(struct sdump_ctx *ctx)
{
	if (!ctx->cancel || !*ctx->cancel)
		return 0;
	return sd_errx(ctx, -ECANCELED, "interrupted");
}

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
