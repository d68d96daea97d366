/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bgread.h"
#include "util.h"

static void *read_main(void *data)
{
	struct bg_read *b = data;

	b->err = sd_read_file(AT_FDCWD, b->path, &b->text, &b->len);
	return NULL;
}

void sd_bg_read_start(struct bg_read *b, const char *path)
{
	sigset_t all, old;

	*b = (struct bg_read){ .started = false };
	if (strlen(path) >= sizeof(b->path))
		return;
	memcpy(b->path, path, strlen(path) + 1);
	/* the new thread inherits the mask: every signal blocked there */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_BLOCK, &all, &old);
	b->started = pthread_create(&b->thread, NULL, read_main, b) == 0;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void join(struct bg_read *b)
{
	if (b->started)
		(void)pthread_join(b->thread, NULL);
	b->started = false;
}

int sd_bg_read_take(struct bg_read *b, const char *path, char **ret_buf, size_t *ret_len)
{
	int r;

	if (!b || !b->started || strcmp(b->path, path)) {
		sd_bg_read_release(b);
		return sd_read_file(AT_FDCWD, path, ret_buf, ret_len);
	}
	join(b);
	r = b->err;
	if (r == 0) {
		*ret_buf = b->text;
		if (ret_len)
			*ret_len = b->len;
		b->text = NULL;
	}
	return r;
}

void sd_bg_read_release(struct bg_read *b)
{
	if (!b)
		return;
	join(b);
	zfree(&b->text);
}
