/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#include "ctx.h"
#include "util.h"

SDUMP_API int sdump_ctx_new(struct sdump_ctx **ret_ctx)
{
	struct sdump_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->level = SDUMP_LOG_WARN;
	pthread_mutex_init(&ctx->lock, NULL);
	*ret_ctx = ctx;
	return 0;
}

SDUMP_API void sdump_ctx_free(struct sdump_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->last_error);
	for (size_t i = 0; i < ctx->refusals.n; i++)
		free(ctx->refusals.line[i]);
	free(ctx->refusals.line);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

SDUMP_API void sdump_ctx_set_log(struct sdump_ctx *ctx, sdump_log_fn fn, void *userdata)
{
	ctx->log_fn = fn;
	ctx->log_data = userdata;
}

SDUMP_API void sdump_ctx_set_log_level(struct sdump_ctx *ctx, enum sdump_log_level level)
{
	ctx->level = level;
}

SDUMP_API const char *sdump_ctx_last_error(const struct sdump_ctx *ctx)
{
	return ctx->last_error;
}

SDUMP_API void sdump_ctx_set_cancel(struct sdump_ctx *ctx, const volatile int *flag)
{
	ctx->cancel = flag;
}

SDUMP_API void sdump_ctx_set_progress(struct sdump_ctx *ctx, sdump_progress_fn fn, void *userdata)
{
	ctx->progress_fn = fn;
	ctx->progress_data = userdata;
}

static void progress_call(struct sdump_ctx *ctx, uint64_t now)
{
	ctx->progress.elapsed_us = now - ctx->progress_t0;
	ctx->progress_last = now;
	ctx->progress_fn(ctx->progress_data, &ctx->progress);
}

void sd_progress_begin(struct sdump_ctx *ctx, const char *op, const char *phase, pid_t pid,
		       uint64_t total, uint32_t page_size)
{
	if (!ctx->progress_fn)
		return;
	ctx->progress = (struct sdump_progress){
		.op = op,
		.phase = phase,
		.pid = pid,
		.total = total,
		.page_size = page_size,
	};
	ctx->progress_active = true;
	ctx->progress_t0 = now_us();
	progress_call(ctx, ctx->progress_t0);
}

void sd_progress_update(struct sdump_ctx *ctx, uint64_t done)
{
	uint64_t now;

	if (!ctx->progress_fn || !ctx->progress_active)
		return;
	ctx->progress.done = MIN(done, ctx->progress.total);
	now = now_us();
	if (now - ctx->progress_last >= SD_PROGRESS_INTERVAL_US)
		progress_call(ctx, now);
}

void sd_progress_end(struct sdump_ctx *ctx)
{
	if (!ctx->progress_fn || !ctx->progress_active)
		return;
	ctx->progress.end = true;
	progress_call(ctx, now_us());
	ctx->progress_active = false;
}

SDUMP_API void sdump_ctx_clear_error(struct sdump_ctx *ctx)
{
	free(ctx->last_error);
	ctx->last_error = NULL;
}

__attribute__((format(printf, 3, 0)))
static void vlog(struct sdump_ctx *ctx, enum sdump_log_level level, const char *fmt, va_list ap)
{
	char buf[1024];

	if (!ctx->log_fn || level > ctx->level)
		return;
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	pthread_mutex_lock(&ctx->lock);
	ctx->log_fn(ctx->log_data, level, buf);
	pthread_mutex_unlock(&ctx->lock);
}

void sd_log(struct sdump_ctx *ctx, enum sdump_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(ctx, level, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 0)))
static int verr(struct sdump_ctx *ctx, int r, bool with_errno, const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	pthread_mutex_lock(&ctx->lock);
	if (ctx->last_error) {
		pthread_mutex_unlock(&ctx->lock);
		return r;
	}
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(buf))
		(void)snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(-r));
	ctx->last_error = strdup(buf);
	if (ctx->log_fn && ctx->level >= SDUMP_LOG_DEBUG)
		ctx->log_fn(ctx->log_data, SDUMP_LOG_DEBUG, buf);
	pthread_mutex_unlock(&ctx->lock);
	return r;
}

int sd_err(struct sdump_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = verr(ctx, r, true, fmt, ap);
	va_end(ap);
	return r;
}

int sd_errx(struct sdump_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = verr(ctx, r, false, fmt, ap);
	va_end(ap);
	return r;
}

__attribute__((format(printf, 4, 0)))
static int vrefuse(struct sdump_ctx *ctx, int r, bool unsafe, const char *fmt, va_list ap)
{
	struct sd_refusals *rf = &ctx->refusals;
	char buf[1024], *line;

	if (!rf->collect)
		return verr(ctx, r, false, fmt, ap);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	rf->unsafe |= unsafe;
	/* the same line twice (a loop that carries on over it) is one obstacle */
	for (size_t i = 0; i < rf->n; i++)
		if (!strcmp(rf->line[i], buf))
			return 0;
	if (rf->n == rf->cap) {
		size_t cap = rf->cap ? 2 * rf->cap : 16;
		char **l = realloc(rf->line, cap * sizeof(*l));

		if (!l)
			return sd_errx(ctx, -ENOMEM, "%s", buf);
		rf->line = l;
		rf->cap = cap;
	}
	line = strdup(buf);
	if (!line)
		return sd_errx(ctx, -ENOMEM, "%s", buf);
	rf->line[rf->n++] = line;
	if (ctx->log_fn && ctx->level >= SDUMP_LOG_DEBUG)
		ctx->log_fn(ctx->log_data, SDUMP_LOG_DEBUG, buf);
	return 0;
}

int sd_refuse(struct sdump_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = vrefuse(ctx, r, false, fmt, ap);
	va_end(ap);
	return r;
}

int sd_refuse_unsafe(struct sdump_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = vrefuse(ctx, r, true, fmt, ap);
	va_end(ap);
	return r;
}

void sd_refusals_begin(struct sdump_ctx *ctx)
{
	char **l;
	size_t n;

	sd_refusals_end(ctx, &l, &n);
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
	ctx->refusals.collect = true;
}

void sd_refusals_end(struct sdump_ctx *ctx, char ***ret_lines, size_t *ret_n)
{
	*ret_lines = ctx->refusals.line;
	*ret_n = ctx->refusals.n;
	ctx->refusals = (struct sd_refusals){ 0 };
}
