/* SPDX-License-Identifier: MIT */
/* What sdump show prints of an anonymous-inode fd's own state (eventfd, ...). */
#include <inttypes.h>
#include <stdio.h>

#include "infofmt.h"
#include "pstate.h"

void sd_anon_text(FILE *out, const struct fd_state *d)
{
	const struct fd_anon_state *a = &d->anon;

	switch (d->kind) {
	case FDK_EVENTFD:
		fprintf(out, "             counter %" PRIu64 "%s\n", a->efd_count,
			a->efd_semaphore ? ", EFD_SEMAPHORE" : "");
		break;
	case FDK_SIGNALFD:
		fprintf(out, "             signals %#" PRIx64 " (bit sig - 1)\n", a->sigmask);
		break;
	default:
		break;
	}
}

void sd_anon_json(FILE *out, const struct fd_state *d)
{
	const struct fd_anon_state *a = &d->anon;

	fprintf(out, ",\"anon\":");
	switch (d->kind) {
	case FDK_EVENTFD:
		fprintf(out, "{\"count\":%" PRIu64 ",\"semaphore\":%s}", a->efd_count,
			a->efd_semaphore ? "true" : "false");
		break;
	case FDK_SIGNALFD:
		fprintf(out, "{\"sigmask\":%" PRIu64 "}", a->sigmask);
		break;
	default:
		fprintf(out, "null");
		break;
	}
}
