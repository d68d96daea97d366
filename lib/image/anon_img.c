/* SPDX-License-Identifier: MIT */
/* The anonymous-inode fds' own fields of files.img, to and from struct fd_anon_state. */
#include <errno.h>
#include <stdlib.h>

#include "anon_img.h"

int sd_anonimg_to_pb(const struct fd_state *d, Fd *out)
{
	const struct fd_anon_state *a = &d->anon;

	switch (d->kind) {
	case FDK_EVENTFD:
		out->has_eventfd_count = out->has_eventfd_semaphore = true;
		out->eventfd_count = a->efd_count;
		out->eventfd_semaphore = a->efd_semaphore;
		break;
	case FDK_SIGNALFD:
		out->has_signalfd_mask = true;
		out->signalfd_mask = a->sigmask;
		break;
	default:
		break;
	}
	return 0;
}

void sd_anonimg_free(Fd *out)
{
	(void)out;
}

int sd_anonimg_from_pb(const Fd *in, struct fd_state *d)
{
	struct fd_anon_state *a = &d->anon;
	bool efd = d->kind == FDK_EVENTFD;

	/* each kind's fields on its fds only, and all of them */
	if ((efd ? 2 : 0) != in->has_eventfd_count + in->has_eventfd_semaphore)
		return -EBADMSG;
	if (efd) {
		if (in->eventfd_count > EVENTFD_COUNT_MAX)
			return -EBADMSG;
		a->efd_count = in->eventfd_count;
		a->efd_semaphore = in->eventfd_semaphore;
	}
	if ((d->kind == FDK_SIGNALFD) != in->has_signalfd_mask)
		return -EBADMSG;
	a->sigmask = in->signalfd_mask;
	return 0;
}
