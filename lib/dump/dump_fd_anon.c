/* SPDX-License-Identifier: MIT */
/*
 * The fds on anonymous inodes the dump takes: each kind's state, from its
 * fdinfo (formats: proc/proc_anon.c).
 */
#include <errno.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "dump_fd_anon.h"
#include "pstate_anon.h"

/* The counter (64 bits) and EFD_SEMAPHORE of an eventfd. */
int sd_dump_eventfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		    struct fd_state *d)
{
	int r = sd_proc_parse_eventfd(p->info, &d->anon);

	(void)done;
	if (r == -ENODATA)
		return sd_errx(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is an eventfd whose EFD_SEMAPHORE flag this kernel's fdinfo does not show, and a restore could not tell",
			       p->pid, p->fd);
	if (r < 0)
		return sd_errx(ctx, -EBADMSG, "cannot read the counter of eventfd %d of pid %d in its fdinfo",
			       p->fd, p->pid);
	return 0;
}

/* The signals a signalfd reads (its mask; SIGKILL and SIGSTOP never in it). */
int sd_dump_signalfd(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		     struct fd_state *d)
{
	(void)done;
	if (sd_proc_parse_signalfd(p->info, &d->anon) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot read the mask of signalfd %d of pid %d in its fdinfo",
			       p->fd, p->pid);
	return 0;
}
