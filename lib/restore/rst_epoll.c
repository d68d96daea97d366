/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: epolls. Each is made with the other fds (its opener),
 * its watches added once every fd is at its number, each as the fd
 * number it was added as: a watch whose file another fd holds now (its
 * own was closed, or given another file, since) is added through that
 * number for a moment, the fd there (if any) kept aside and put back.
 * What the new epoll's fdinfo then shows must be what the dump saw.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "procfs.h"
#include "pstate.h"
#include "restore.h"
#include "rst_fd_anon.h"
#include "util.h"

int sd_rst_epoll_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];

	return sd_rst_call(r, SYS_epoll_create1, (long)(d->flags & O_CLOEXEC), 0, 0, 0, 0, 0, ret_tmp);
}

static const struct fd_state *fd_find(const struct files_state *fs, int fd)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->fds[i].fd == fd)
			return &fs->fds[i];
	return NULL;
}

static int add_watch(struct rst *r, const struct fd_state *e, const struct epoll_watch *w)
{
	struct epoll_event ev = { .events = w->events, .data.u64 = w->data };
	const struct fd_state *there = NULL;
	long aside = -1;
	uint64_t a;
	int e2 = 0;

	if (w->fd != w->tfd) {
		/* the number it was added as: what is there now kept aside */
		there = fd_find(&r->fs, w->tfd);
		if (there)
			e2 = sd_rst_call(r, SYS_fcntl, w->tfd, F_DUPFD_CLOEXEC, 0, 0, 0, 0, &aside);
		if (e2 == 0)
			e2 = sd_rst_call(r, SYS_dup3, w->fd, w->tfd, 0, 0, 0, 0, NULL);
		if (e2 < 0)
			return e2;
	}
	sd_rst_data_reset(r);
	e2 = sd_rst_data_put(r, &ev, sizeof(ev), &a);
	if (e2 == 0)
		e2 = sd_rst_call(r, SYS_epoll_ctl, e->fd, EPOLL_CTL_ADD, w->tfd, (long)a, 0, 0, NULL);
	if (w->fd != w->tfd) {
		int e3;

		if (there)
			e3 = sd_rst_call(r, SYS_dup3, aside, w->tfd, (long)(there->flags & O_CLOEXEC), 0, 0, 0,
					 NULL);
		else
			e3 = sd_rst_call(r, SYS_close, w->tfd, 0, 0, 0, 0, 0, NULL);
		if (aside >= 0)
			(void)sd_rst_call(r, SYS_close, aside, 0, 0, 0, 0, 0, NULL);
		if (e2 == 0)
			e2 = e3;
	}
	return e2;
}

static int cmp_watch(const void *pa, const void *pb)
{
	const struct epoll_watch *a = pa, *b = pb;

	if (a->tfd != b->tfd)
		return a->tfd < b->tfd ? -1 : 1;
	if (a->events != b->events)
		return a->events < b->events ? -1 : 1;
	return a->data < b->data ? -1 : a->data > b->data;
}

/* The watches the new epoll's fdinfo shows are those of the dump (in any order: files sort them). */
static int check_watches(struct rst *r, const struct fd_state *e)
{
	_cleanup_free_ char *info = NULL;
	_cleanup_free_ struct epoll_watch *want = NULL;
	struct epoll_watch *got = NULL;
	char path[PROC_PATH_MAX];
	size_t n = 0, bad = 0;
	int err;

	err = sd_read_file(AT_FDCWD, sd_proc_path(path, r->pid, "fdinfo/%d", e->fd), &info, NULL);
	if (err == 0)
		err = sd_proc_parse_epoll(info, &got, &n);
	if (err < 0)
		return sd_err(r->ctx, err, "cannot read '%s'", path);
	want = malloc((e->anon.nwatches ? e->anon.nwatches : 1) * sizeof(*want));
	if (!want) {
		free(got);
		return -ENOMEM;
	}
	memcpy(want, e->anon.watches, e->anon.nwatches * sizeof(*want));
	qsort(want, e->anon.nwatches, sizeof(*want), cmp_watch);
	if (n)
		qsort(got, n, sizeof(*got), cmp_watch);
	while (bad < n && bad < e->anon.nwatches && !cmp_watch(&got[bad], &want[bad]))
		bad++;
	if (n != e->anon.nwatches || bad < n) {
		const struct epoll_watch *w = bad < e->anon.nwatches ? &want[bad] : &got[bad];

		err = sd_errx(r->ctx, -EOPNOTSUPP,
			      "cannot restore pid %d: epoll %d came back with %zu watches, not %zu as dumped, or its watch of fd %d with events %#x %s",
			      r->pid, e->fd, n, e->anon.nwatches, w->tfd, w->events,
			      bad < e->anon.nwatches ? "is missing" : "is one more");
	}
	free(got);
	return err;
}

int sd_rst_restore_epolls(struct rst *r)
{
	for (size_t i = 0; i < r->fs.n; i++) {
		const struct fd_state *e = &r->fs.fds[i];
		int err = 0;

		if (e->kind != FDK_EPOLL || e->has_dup_of || e->has_shared)
			continue;
		for (size_t k = 0; err == 0 && k < e->anon.nwatches; k++)
			err = add_watch(r, e, &e->anon.watches[k]);
		if (err == 0)
			err = check_watches(r, e);
		if (err < 0)
			return err;
	}
	return 0;
}
