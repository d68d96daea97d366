/* SPDX-License-Identifier: MIT */
/*
 * A fanotify group at the final dump: fanotify_init()'s flags and event
 * flags and its marks, from its fdinfo; each marked inode's path found
 * through its file handle (dump_fd_inotify.c), each marked mount's or
 * file system's from our mountinfo. Refused, with one line: events queued
 * and not read, a group of a permission class (FAN_CLASS_CONTENT,
 * FAN_CLASS_PRE_CONTENT: a permission event read and not answered yet
 * holds its process, and fdinfo does not show it), a mark of a kind or
 * with flags sdump does not know.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "files: "
#include "ctx.h"
#include "dump_fd_anon.h"
#include "pstate_anon.h"

#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200
#endif

/* the mark flags a restore gives back with fanotify_mark() */
#define FAN_MFLAGS_KNOWN (FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE)

int sd_dump_fanotify(struct sdump_ctx *ctx, const struct fd_probe *p, const struct files_state *done,
		     struct fd_state *d)
{
	struct fd_anon_state *a = &d->anon;
	size_t total = 0;
	int queued = 0, r;

	r = sd_proc_parse_fanotify(p->info, a);
	if (r == -ENOMEM)
		return sd_err(ctx, r, "cannot read the marks of fanotify group %d of pid %d", p->fd, p->pid);
	if (r < 0)
		return sd_errx(ctx, -EBADMSG, "cannot read the marks of fanotify group %d of pid %d in its fdinfo",
			       p->fd, p->pid);
	if (a->fan_flags & (FAN_CLASS_CONTENT | FAN_CLASS_PRE_CONTENT))
		return sd_refuse(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d: fd %d is a fanotify group of a permission class (FAN_CLASS_CONTENT or FAN_CLASS_PRE_CONTENT), whose events read and not answered yet sdump cannot see; only FAN_CLASS_NOTIF groups are restored",
			       p->pid, p->fd);
	r = sd_fd_probe_queued(ctx, p, "fanotify group", &queued);
	if (r < 0)
		return r;
	if (queued > 0)
		return sd_refuse(ctx, -EBUSY,
			       "cannot dump pid %d: fd %d is a fanotify group with %d bytes of events not read yet, which a restore would lose; dump it once the process has read them",
			       p->pid, p->fd, queued);
	for (size_t i = 0; i < done->n; i++)
		total += done->fds[i].anon.nfanotify;
	if (total + a->nfanotify > FANOTIFY_MAX_MARKS)
		return sd_refuse(ctx, -E2BIG, "cannot dump pid %d: its fanotify groups hold more than %u marks, more than an image keeps",
			       p->pid, FANOTIFY_MAX_MARKS);
	for (size_t i = 0; i < a->nfanotify; i++) {
		struct fanotify_mark_state *m = &a->fanotify[i];

		if (m->mflags & ~(uint32_t)FAN_MFLAGS_KNOWN)
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: fd %d is a fanotify group with a mark of flags %#x sdump does not know",
				       p->pid, p->fd, m->mflags);
		/*
		 * A modification clears an ignored mask (unless
		 * FAN_MARK_IGNORED_SURV_MODIFY) and leaves the mark: one of
		 * nothing, which fanotify_mark() cannot make
		 */
		if (!m->mask && !m->ignored_mask)
			return sd_refuse(ctx, -EOPNOTSUPP,
				       "cannot dump pid %d: fd %d is a fanotify group with a mark whose ignored mask a modification cleared, leaving a mark of no events that fanotify_mark() cannot make again; dump it once the process has marked it again or removed it",
				       p->pid, p->fd);
		if (m->type == FANM_INODE) {
			r = sd_dump_notify_path(ctx, p, "a fanotify group", &m->obj);
		} else {
			r = sd_dump_mount_of(m->obj.dev, m->type == FANM_MOUNT ? m->mnt_id : -1, &m->obj.path);
			if (r >= 0) {
				(void)close(r);
				r = 0;
			} else if (r == -ENOENT) {
				r = sd_refuse(ctx, -EOPNOTSUPP,
					    "cannot dump pid %d: fd %d is a fanotify group marking a %s that sdump sees no mount of, so that a restore could not mark it again",
					    p->pid, p->fd, m->type == FANM_MOUNT ? "mount" : "file system");
			} else {
				r = sd_err(ctx, r, "cannot read the marks of fanotify group %d of pid %d", p->fd, p->pid);
			}
		}
		if (r < 0)
			return r;
	}
	return 0;
}
