/* SPDX-License-Identifier: MIT */
/*
 * The VmFlags of a pass's VMAs (see dump_pass.h): read from smaps while the
 * target is frozen, kept in mm.img for the restore, and refused where a
 * restore could not give them back. The guard pages are found by the page
 * scan instead (dump_collect.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "ctx.h"
#include "dump_pass.h"
#include "procfs.h"
#include "track.h"
#include "util.h"

/* What is wrong with @v for a restore, or NULL; @ours: the target holds sdump's uffd-wp tracker. */
static const char *refusal(const struct vma *v, bool ours, char *buf, size_t size)
{
	uint32_t f = v->vmflags;

	if (f & (VMF_UFFD_MISSING | VMF_UFFD_MINOR))
		return "is registered with a userfaultfd of the process's own (VmFlags um or ui): not supported; unregister it (UFFDIO_UNREGISTER) or close the userfaultfd before the dump";
	/* sdump's tracker registers private anonymous and file memory only, with its own fd */
	if ((f & VMF_UFFD_WP) && (!ours || (v->kind != VK_ANON && v->kind != VK_FILE)))
		return "is write-protected with a userfaultfd of the process's own (VmFlags uw): not supported; unregister it (UFFDIO_UNREGISTER) or close the userfaultfd before the dump";
	if (f & VMF_HUGETLB)
		return "is hugetlb memory (VmFlags ht): not supported";
	if (f & VMF_SYNC)
		return "is a MAP_SYNC mapping of a DAX file (VmFlags sf): not supported";
	if (f & VMF_SHADOW_STACK)
		return "is a shadow stack (VmFlags ss): not supported";
	if (f & VMF_UNKNOWN) {
		(void)snprintf(buf, size, "has the VmFlag '%s', which this sdump does not know: not supported",
			       v->vmflag_unknown);
		return buf;
	}
	if (v->pkey) {
		(void)snprintf(buf, size,
			       "is protected by the protection key %u (pkey_mprotect): not supported",
			       v->pkey);
		return buf;
	}
	return NULL;
}

int sd_pass_vmflags(struct pass *p)
{
	_cleanup_free_ char *smaps = NULL;
	char path[PROC_PATH_MAX], buf[160];
	pid_t pid = p->opts->pid;
	bool ours = sd_track_left_fd(pid, p->state_valid ? &p->state : NULL) >= 0;
	int r;

	(void)sd_proc_path(path, pid, "smaps");
	r = sd_bg_read_take(&p->smaps, path, &smaps, NULL);
	if (r < 0)
		return sd_err(p->ctx, r, "cannot read '%s'", path);
	r = sd_proc_parse_smaps(smaps, &p->vmas);
	if (r < 0)
		return sd_err(p->ctx, r, "cannot parse '%s'", path);
	for (size_t i = 0; i < p->vmas.n; i++) {
		const struct vma *v = &p->vmas.v[i];
		const char *why;

		/* frozen, the two files show the same VMAs; running, one may have changed */
		if (!v->has_vmflags && !p->final)
			continue;
		if (!v->has_vmflags)
			return sd_errx(p->ctx, -EIO,
				       "cannot dump pid %d: 0x%" PRIx64 "-0x%" PRIx64 " of its maps is not in its smaps",
				       pid, v->start, v->end);
		why = refusal(v, ours, buf, sizeof(buf));
		/* a preflight goes on to the next VMA */
		if (why && (r = sd_refuse(p->ctx, -EOPNOTSUPP, "cannot dump pid %d: 0x%" PRIx64 "-0x%" PRIx64 " %s",
					  pid, v->start, v->end, why)) < 0)
			return r;
	}
	return 0;
}
