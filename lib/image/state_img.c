/* SPDX-License-Identifier: MIT */
/* core-<tid>.img, process.img, files.img: to and from struct process_state / files_state. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#define LOG_PREFIX "image: "
#include "ctx.h"
#include "anon_img.h"
#include "attr_img.h"
#include "sec_img.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "image.h"
#include "img_files.h"
#include "process.pb-c.h"
#include "pstate.h"
#include "removed_img.h"
#include "state_img.h"
#include "path_img.h"
#include "sock_img.h"
#include "tty_img.h"
#include "util.h"

/* files.img numbers the kinds as struct fd_state does: one cast each way */
_Static_assert((int)FDK_FILE == (int)FD_KIND__FD_FILE, "FdKind FD_FILE");
_Static_assert((int)FDK_DIR == (int)FD_KIND__FD_DIR, "FdKind FD_DIR");
_Static_assert((int)FDK_UNIX == (int)FD_KIND__FD_UNIX, "FdKind FD_UNIX");
_Static_assert((int)FDK_INET == (int)FD_KIND__FD_INET, "FdKind FD_INET");
_Static_assert((int)FDK_NETLINK == (int)FD_KIND__FD_NETLINK, "FdKind FD_NETLINK");
_Static_assert((int)FDK_PACKET == (int)FD_KIND__FD_PACKET, "FdKind FD_PACKET");
_Static_assert((int)FDK_CHR == (int)FD_KIND__FD_CHR, "FdKind FD_CHR");
_Static_assert((int)FDK_PIPE == (int)FD_KIND__FD_PIPE, "FdKind FD_PIPE");
_Static_assert((int)FDK_FIFO == (int)FD_KIND__FD_FIFO, "FdKind FD_FIFO");
_Static_assert((int)FDK_TTY == (int)FD_KIND__FD_TTY, "FdKind FD_TTY");
_Static_assert((int)FDK_EVENTFD == (int)FD_KIND__FD_EVENTFD, "FdKind FD_EVENTFD");
_Static_assert((int)FDK_SIGNALFD == (int)FD_KIND__FD_SIGNALFD, "FdKind FD_SIGNALFD");
_Static_assert((int)FDK_TIMERFD == (int)FD_KIND__FD_TIMERFD, "FdKind FD_TIMERFD");
_Static_assert((int)FDK_EPOLL == (int)FD_KIND__FD_EPOLL, "FdKind FD_EPOLL");
_Static_assert((int)FDK_INOTIFY == (int)FD_KIND__FD_INOTIFY, "FdKind FD_INOTIFY");
_Static_assert((int)FDK_PIDFD == (int)FD_KIND__FD_PIDFD, "FdKind FD_PIDFD");
_Static_assert((int)FDK_FANOTIFY == (int)FD_KIND__FD_FANOTIFY, "FdKind FD_FANOTIFY");
_Static_assert((int)FDK_GHOST == (int)FD_KIND__FD_GHOST, "FdKind FD_GHOST");
_Static_assert((int)FDK_MEMFD == (int)FD_KIND__FD_MEMFD, "FdKind FD_MEMFD");
_Static_assert((int)FDK_PTMX == (int)FD_KIND__FD_PTMX, "FdKind FD_PTMX");
_Static_assert((int)FDK_PTS == (int)FD_KIND__FD_PTS, "FdKind FD_PTS");
_Static_assert((int)FLK_POSIX == (int)LOCK_KIND__LOCK_POSIX, "LockKind LOCK_POSIX");
_Static_assert((int)FLK_OFD == (int)LOCK_KIND__LOCK_OFD, "LockKind LOCK_OFD");
_Static_assert((int)FLK_FLOCK == (int)LOCK_KIND__LOCK_FLOCK, "LockKind LOCK_FLOCK");
_Static_assert((int)FLK_LEASE == (int)LOCK_KIND__LOCK_LEASE, "LockKind LOCK_LEASE");

static ProtobufCBinaryData bin(const void *p, size_t len)
{
	return (ProtobufCBinaryData){ len, (uint8_t *)p };
}

static int write_thread(struct sdump_ctx *ctx, struct img_dir *dir, const struct thread_state *t,
			uint64_t *size)
{
	ThreadCore c = THREAD_CORE__INIT;
	SigInfo *sig = calloc(t->npending ? t->npending : 1, sizeof(*sig));
	SigInfo **sigp = calloc(t->npending ? t->npending : 1, sizeof(*sigp));
	SigInfo stop = SIG_INFO__INIT;
	AttrThread attrs;
	ThreadSec sec;
	struct secimg_buf secb = { 0 };
	uint32_t spec[ATTR_NSPEC];
	uint64_t sz = 0;
	int r;

	if (!sig || !sigp) {
		free(sig);
		free(sigp);
		return sd_err(ctx, -ENOMEM, "cannot encode thread %d", t->tid);
	}
	c.tid = t->tid;
	c.regs = bin(&t->regs, sizeof(t->regs));
	if (t->xsave) {
		c.has_xsave = true;
		c.xsave = bin(t->xsave, t->xsave_len);
	}
	c.fpregs = bin(&t->fpregs, sizeof(t->fpregs));
	c.sigmask = t->sigmask;
	for (size_t i = 0; i < t->npending; i++) {
		sig_info__init(&sig[i]);
		sig[i].raw = bin(t->pending[i], SIGINFO_SIZE);
		sigp[i] = &sig[i];
	}
	c.n_pending = t->npending;
	c.pending = sigp;
	if (t->has_stop_signal) {
		stop.raw = bin(t->stop_signal, SIGINFO_SIZE);
		c.stop_signal = &stop;
	}
	c.altstack_sp = t->altstack_sp;
	c.altstack_size = t->altstack_size;
	c.altstack_flags = t->altstack_flags;
	c.robust_list = t->robust_list;
	c.robust_list_len = t->robust_list_len;
	c.clear_child_tid = t->clear_child_tid;
	if (t->has_rseq) {
		c.has_rseq_abi = c.has_rseq_size = c.has_rseq_sig = true;
		c.rseq_abi = t->rseq_abi;
		c.rseq_size = t->rseq_size;
		c.rseq_sig = t->rseq_sig;
	}
	c.comm = (char *)t->comm;
	c.sched_policy = t->sched_policy;
	c.sched_priority = t->sched_priority;
	c.nice = t->nice;
	if (t->restart_call) {
		c.has_restart_call = true;
		c.restart_call = t->restart_call;
	}
	if (t->attrs.valid) {
		sd_attrimg_thread_to_pb(&t->attrs, spec, &attrs);
		c.attrs = &attrs;
	}
	r = 0;
	if (t->sec.valid) {
		r = sd_secimg_thread_to_pb(&t->sec, &secb, &sec);
		c.sec = &sec;
	}
	if (r == 0)
		r = sd_imgfile_write_one(ctx, dir, IMGF_CORE, t->tid, &c.base, &sz);
	else
		r = sd_err(ctx, r, "cannot encode thread %d", t->tid);
	*size += sz;
	sd_secimg_buf_release(&secb);
	free(sig);
	free(sigp);
	return r;
}

static int write_process(struct sdump_ctx *ctx, struct img_dir *dir, const struct process_state *ps,
			 uint64_t *size)
{
	Process p = PROCESS__INIT;
	MmFields mm = MM_FIELDS__INIT;
	AttrProcess attrs;
	SigAction sa[NSIG_MAX], *sap[NSIG_MAX];
	Rlimit rl[NRLIMITS], *rlp[NRLIMITS];
	Itimer it[3], *itp[3];
	RemovedDir cwdr[REMOVED_DIRS_MAX], *cwdrp[REMOVED_DIRS_MAX];
	RemovedDir rootr[REMOVED_DIRS_MAX], *rootrp[REMOVED_DIRS_MAX];
	SigInfo *sh = calloc(ps->nshared ? ps->nshared : 1, sizeof(*sh));
	SigInfo **shp = calloc(ps->nshared ? ps->nshared : 1, sizeof(*shp));
	int32_t *tids = calloc(ps->nthreads ? ps->nthreads : 1, sizeof(*tids));
	struct secimg_buf timb = { 0 };
	uint64_t sz = 0;
	int r;

	if (!sh || !shp || !tids) {
		r = sd_err(ctx, -ENOMEM, "cannot encode %s", sd_imgfile_name(IMGF_PROCESS));
		goto out;
	}
	p.pid = ps->pid;
	p.ppid = ps->ppid;
	p.pgid = ps->pgid;
	p.sid = ps->sid;
	for (int i = 0; i < NSIG_MAX; i++) {
		sig_action__init(&sa[i]);
		sa[i].sig = (uint32_t)i + 1;
		sa[i].handler = ps->sigactions[i].handler;
		sa[i].flags = ps->sigactions[i].flags;
		sa[i].restorer = ps->sigactions[i].restorer;
		sa[i].mask = ps->sigactions[i].mask;
		sap[i] = &sa[i];
	}
	p.n_sigactions = NSIG_MAX;
	p.sigactions = sap;
	for (size_t i = 0; i < ps->nshared; i++) {
		sig_info__init(&sh[i]);
		sh[i].raw = bin(ps->shared[i], SIGINFO_SIZE);
		shp[i] = &sh[i];
	}
	p.n_shared_pending = ps->nshared;
	p.shared_pending = shp;
	mm.start_code = ps->mm.start_code;
	mm.end_code = ps->mm.end_code;
	mm.start_data = ps->mm.start_data;
	mm.end_data = ps->mm.end_data;
	mm.start_brk = ps->mm.start_brk;
	mm.brk = ps->mm.brk;
	mm.start_stack = ps->mm.start_stack;
	mm.arg_start = ps->mm.arg_start;
	mm.arg_end = ps->mm.arg_end;
	mm.env_start = ps->mm.env_start;
	mm.env_end = ps->mm.env_end;
	mm.auxv = bin(ps->mm.auxv, ps->mm.auxv_len);
	mm.exe = (char *)ps->mm.exe;
	mm.vdso = ps->mm.vdso;
	mm.vvar = ps->mm.vvar;
	mm.vvar_end = ps->mm.vvar_end;
	p.mm = &mm;
	p.personality = ps->personality;
	for (int i = 0; i < NRLIMITS; i++) {
		rlimit__init(&rl[i]);
		rl[i].resource = (uint32_t)i;
		rl[i].cur = ps->rlimits[i].cur;
		rl[i].max = ps->rlimits[i].max;
		rlp[i] = &rl[i];
	}
	p.n_rlimits = NRLIMITS;
	p.rlimits = rlp;
	for (int i = 0; i < 3; i++) {
		itimer__init(&it[i]);
		it[i].which = (uint32_t)i;
		it[i].interval_us = ps->itimer_interval_us[i];
		it[i].value_us = ps->itimer_value_us[i];
		itp[i] = &it[i];
	}
	p.n_itimers = 3;
	p.itimers = itp;
	p.umask = ps->umask;
	p.cwd = (char *)ps->cwd;
	p.root = (char *)ps->root;
	p.n_uid = 4;
	p.uid = (uint32_t *)ps->uid;
	p.n_gid = 4;
	p.gid = (uint32_t *)ps->gid;
	p.n_groups = ps->ngroups;
	p.groups = (uint32_t *)ps->groups;
	p.thp_disabled = ps->thp_disabled;
	p.dumpable = ps->dumpable;
	for (size_t i = 0; i < ps->nthreads; i++)
		tids[i] = ps->threads[i].tid;
	p.n_tids = ps->nthreads;
	p.tids = tids;
	sd_removedimg_encode(ps->cwd_removed, ps->ncwd_removed, cwdr, cwdrp);
	p.n_cwd_removed = MIN(ps->ncwd_removed, REMOVED_DIRS_MAX);
	p.cwd_removed = cwdrp;
	sd_removedimg_encode(ps->root_removed, ps->nroot_removed, rootr, rootrp);
	p.n_root_removed = MIN(ps->nroot_removed, REMOVED_DIRS_MAX);
	p.root_removed = rootrp;
	if (ps->attrs.valid) {
		sd_attrimg_process_to_pb(&ps->attrs, &attrs);
		p.attrs = &attrs;
	}
	r = sd_secimg_timers_to_pb(ps->timers, ps->ntimers, &timb, &p);
	if (r < 0) {
		r = sd_err(ctx, r, "cannot encode %s", sd_imgfile_name(IMGF_PROCESS));
		goto out;
	}
	p.has_ctty = ps->ctty != 0;
	p.ctty = ps->ctty;
	p.has_ctty_fg_pgrp = ps->ctty != 0;
	p.ctty_fg_pgrp = ps->ctty_fg_pgrp;
	p.has_stop_signal = ps->stop_sig != 0;
	p.stop_signal = ps->stop_sig;
	r = sd_imgfile_write_one(ctx, dir, IMGF_PROCESS, 0, &p.base, &sz);
	*size += sz;
out:
	sd_secimg_buf_release(&timb);
	free(sh);
	free(shp);
	free(tids);
	return r;
}

/*
 * The owner, signal, shared description and locks of @d into @fd; its locks
 * in @lk and @lkp, from *@used on (enough for all of the table's).
 */
static void write_fd_extra(Fd *fd, const struct fd_state *d, Lock *lk, Lock **lkp, size_t *used)
{
	fd->has_owner_type = fd->has_owner_pid = d->owner_type || d->owner_pid;
	fd->owner_type = d->owner_type;
	fd->owner_pid = d->owner_pid;
	fd->has_signum = d->signum != 0;
	fd->signum = d->signum;
	fd->has_dup_of = d->has_dup_of;
	fd->dup_of = d->dup_of;
	fd->has_shared_pid = fd->has_shared_fd = d->has_shared;
	fd->shared_pid = d->shared_pid;
	fd->shared_fd = d->shared_fd;
	fd->n_locks = d->nlocks;
	fd->locks = lkp + *used;
	for (size_t k = 0; k < d->nlocks; k++) {
		Lock *l = &lk[*used];

		lock__init(l);
		l->kind = (LockKind)d->locks[k].kind;
		l->write = d->locks[k].write;
		l->start = d->locks[k].start;
		l->end = d->locks[k].end;
		l->dev = d->locks[k].dev;
		l->ino = d->locks[k].ino;
		lkp[(*used)++] = l;
	}
}

static int write_files(struct sdump_ctx *ctx, struct img_dir *dir, const struct files_state *fs,
		       uint64_t *size)
{
	Files f = FILES__INIT;
	Fd *fd = calloc(fs->n ? fs->n : 1, sizeof(*fd));
	Fd **fdp = calloc(fs->n ? fs->n : 1, sizeof(*fdp));
	TtyState *tt = calloc(fs->n ? fs->n : 1, sizeof(*tt));
	size_t nlocks = 0, used = 0;
	Lock *lk = NULL, **lkp = NULL;
	uint64_t sz = 0;
	int r;

	for (size_t i = 0; i < fs->n; i++)
		nlocks += fs->fds[i].nlocks;
	lk = calloc(nlocks ? nlocks : 1, sizeof(*lk));
	lkp = calloc(nlocks ? nlocks : 1, sizeof(*lkp));
	if (!fd || !fdp || !tt || !lk || !lkp) {
		free(fd);
		free(fdp);
		free(tt);
		free(lk);
		free(lkp);
		return sd_err(ctx, -ENOMEM, "cannot encode %s", sd_imgfile_name(IMGF_FILES));
	}
	for (size_t i = 0; i < fs->n; i++) {
		const struct fd_state *d = &fs->fds[i];

		fd__init(&fd[i]);
		fd[i].fd = d->fd;
		fd[i].kind = (FdKind)d->kind;
		fd[i].path = (char *)d->path;
		fd[i].flags = d->flags;
		fd[i].pos = d->pos;
		fd[i].dev = d->dev;
		fd[i].ino = d->ino;
		fd[i].size = d->size;
		fd[i].has_mtime_ns = d->mtime_ns != 0;
		fd[i].mtime_ns = d->mtime_ns;
		fd[i].has_atime_ns = d->kind == FDK_GHOST && d->atime_ns != 0;
		fd[i].atime_ns = d->atime_ns;
		fd[i].mode = d->mode;
		fd[i].rdev = d->rdev;
		fd[i].has_pipe_size = d->pipe_size != 0;
		fd[i].pipe_size = d->pipe_size;
		if (d->has_pipe_data) {
			fd[i].has_pipe_data = true;
			fd[i].pipe_data = bin(d->pipe_data, d->pipe_data_len);
		}
		write_fd_extra(&fd[i], d, lk, lkp, &used);
		if (d->has_tty) {
			sd_ttyimg_to_pb(&d->tty, &tt[i]);
			fd[i].tty = &tt[i];
		}
		fd[i].has_external = d->external;
		fd[i].external = d->external;
		sd_removedimg_fd_to_pb(d, &fd[i]);
		fd[i].has_ghost = d->ghost != 0;
		fd[i].ghost = d->ghost;
		sd_ttyimg_pty_to_pb(d, &fd[i]);
		fd[i].has_pidfd_pid = d->pidfd_pid != 0;
		fd[i].pidfd_pid = d->pidfd_pid;
		sd_pathimg_to_pb(d, &fd[i]);
		fdp[i] = &fd[i];
		r = sd_anonimg_to_pb(d, &fd[i]);
		if (r == 0)
			r = sd_sockimg_to_pb(d, &fd[i]);
		if (r < 0) {
			r = sd_err(ctx, r, "cannot encode %s", sd_imgfile_name(IMGF_FILES));
			goto out;
		}
	}
	f.n_fds = fs->n;
	f.fds = fdp;
	r = sd_imgfile_write_one(ctx, dir, IMGF_FILES, 0, &f.base, &sz);
	*size += sz;
out:
	for (size_t i = 0; i < fs->n; i++) {
		sd_anonimg_free(&fd[i]);
		sd_sockimg_free(&fd[i]);
	}
	free(fd);
	free(fdp);
	free(tt);
	free(lk);
	free(lkp);
	return r;
}

int sd_stateimg_write(struct sdump_ctx *ctx, struct img_dir *dir, const struct process_state *ps,
		   const struct files_state *fs, uint64_t *ret_size)
{
	uint64_t size = 0;
	int r;

	for (size_t i = 0; i < ps->nthreads; i++) {
		r = write_thread(ctx, dir, &ps->threads[i], &size);
		if (r < 0)
			return r;
	}
	r = write_process(ctx, dir, ps, &size);
	if (r == 0)
		r = write_files(ctx, dir, fs, &size);
	if (r == 0 && ret_size)
		*ret_size = size;
	return r;
}

static int bad(struct sdump_ctx *ctx, struct img_dir *dir, const char *name)
{
	return sd_errx(ctx, -EBADMSG, "image file '%s/%s' is corrupt: bad values", dir->path, name);
}

static void copy_siginfo(uint8_t out[SIGINFO_SIZE], const SigInfo *s)
{
	memset(out, 0, SIGINFO_SIZE);
	if (s->raw.len)
		memcpy(out, s->raw.data, MIN(s->raw.len, (size_t)SIGINFO_SIZE));
}

static int read_thread(struct sdump_ctx *ctx, struct img_dir *dir, pid_t tid, struct thread_state *t)
{
	ProtobufCMessage *m;
	ThreadCore *c;
	char name[IMG_NAME_MAX];
	int r = 0;

	sd_imgfile_name_tid(IMGF_CORE, tid, name);
	r = sd_imgfile_read_one(ctx, dir, IMGF_CORE, tid, &m);
	if (r < 0)
		return r;
	c = (ThreadCore *)m;
	if (c->tid != tid || c->regs.len != sizeof(t->regs) || c->fpregs.len != sizeof(t->fpregs) ||
	    (c->has_xsave && (c->xsave.len < 576 || c->xsave.len > XSAVE_MAX)) || c->n_pending > 4096) {
		r = bad(ctx, dir, name);
		goto out;
	}
	t->tid = tid;
	memcpy(&t->regs, c->regs.data, sizeof(t->regs));
	memcpy(&t->fpregs, c->fpregs.data, sizeof(t->fpregs));
	if (c->has_xsave) {
		t->xsave = malloc(c->xsave.len);
		if (!t->xsave) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(t->xsave, c->xsave.data, c->xsave.len);
		t->xsave_len = c->xsave.len;
	}
	t->sigmask = c->sigmask;
	t->pending = calloc(c->n_pending ? c->n_pending : 1, SIGINFO_SIZE);
	if (!t->pending) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->n_pending; i++)
		copy_siginfo(t->pending[i], c->pending[i]);
	t->npending = c->n_pending;
	if (c->stop_signal) {
		t->has_stop_signal = true;
		copy_siginfo(t->stop_signal, c->stop_signal);
	}
	t->altstack_sp = c->altstack_sp;
	t->altstack_size = c->altstack_size;
	t->altstack_flags = c->altstack_flags;
	t->robust_list = c->robust_list;
	t->robust_list_len = c->robust_list_len;
	t->clear_child_tid = c->clear_child_tid;
	t->has_rseq = c->has_rseq_abi;
	t->rseq_abi = c->rseq_abi;
	t->rseq_size = c->rseq_size;
	t->rseq_sig = c->rseq_sig;
	(void)snprintf(t->comm, sizeof(t->comm), "%s", c->comm);
	t->sched_policy = c->sched_policy;
	t->sched_priority = c->sched_priority;
	t->nice = c->nice;
	t->restart_call = c->has_restart_call ? c->restart_call : 0;
	if (c->attrs && sd_attrimg_thread_from_pb(c->attrs, &t->attrs) < 0)
		r = bad(ctx, dir, name);
	if (r == 0 && c->sec) {
		r = sd_secimg_thread_from_pb(c->sec, &t->sec);
		if (r == -EBADMSG)
			r = bad(ctx, dir, name);
	}
out:
	protobuf_c_message_free_unpacked(m, NULL);
	return r;
}

static int read_process(struct sdump_ctx *ctx, struct img_dir *dir, struct process_state *ps)
{
	ProtobufCMessage *m;
	Process *p;
	int r = 0;

	r = sd_imgfile_read_one(ctx, dir, IMGF_PROCESS, 0, &m);
	if (r < 0)
		return r;
	p = (Process *)m;
	if (p->n_sigactions > NSIG_MAX || p->n_rlimits > NRLIMITS || p->n_itimers > 3 ||
	    p->n_uid != 4 || p->n_gid != 4 || p->n_groups > ARRAY_SIZE(ps->groups) ||
	    p->n_tids == 0 || p->n_tids > 65536 || p->mm->auxv.len > 65536 || p->n_shared_pending > 4096) {
		r = bad(ctx, dir, sd_imgfile_name(IMGF_PROCESS));
		goto out;
	}
	ps->pid = p->pid;
	ps->ppid = p->ppid;
	ps->pgid = p->pgid;
	ps->sid = p->sid;
	ps->ctty = p->has_ctty ? p->ctty : 0;
	ps->ctty_fg_pgrp = p->has_ctty_fg_pgrp ? p->ctty_fg_pgrp : 0;
	ps->stop_sig = p->has_stop_signal ? p->stop_signal : 0;
	if (ps->ctty_fg_pgrp < 0 || (ps->stop_sig && ps->stop_sig != SIGSTOP && ps->stop_sig != SIGTSTP &&
				     ps->stop_sig != SIGTTIN && ps->stop_sig != SIGTTOU)) {
		r = bad(ctx, dir, sd_imgfile_name(IMGF_PROCESS));
		goto out;
	}
	for (size_t i = 0; i < p->n_sigactions; i++) {
		const SigAction *s = p->sigactions[i];

		if (s->sig < 1 || s->sig > NSIG_MAX) {
			r = bad(ctx, dir, sd_imgfile_name(IMGF_PROCESS));
			goto out;
		}
		ps->sigactions[s->sig - 1] = (struct ksigaction){ s->handler, s->flags, s->restorer, s->mask };
	}
	ps->shared = calloc(p->n_shared_pending ? p->n_shared_pending : 1, SIGINFO_SIZE);
	ps->mm.auxv = malloc(p->mm->auxv.len ? p->mm->auxv.len : 1);
	ps->threads = calloc(p->n_tids, sizeof(*ps->threads));
	if (!ps->shared || !ps->mm.auxv || !ps->threads) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p->n_shared_pending; i++)
		copy_siginfo(ps->shared[i], p->shared_pending[i]);
	ps->nshared = p->n_shared_pending;
	ps->mm.start_code = p->mm->start_code;
	ps->mm.end_code = p->mm->end_code;
	ps->mm.start_data = p->mm->start_data;
	ps->mm.end_data = p->mm->end_data;
	ps->mm.start_brk = p->mm->start_brk;
	ps->mm.brk = p->mm->brk;
	ps->mm.start_stack = p->mm->start_stack;
	ps->mm.arg_start = p->mm->arg_start;
	ps->mm.arg_end = p->mm->arg_end;
	ps->mm.env_start = p->mm->env_start;
	ps->mm.env_end = p->mm->env_end;
	if (p->mm->auxv.len)
		memcpy(ps->mm.auxv, p->mm->auxv.data, p->mm->auxv.len);
	ps->mm.auxv_len = p->mm->auxv.len;
	(void)snprintf(ps->mm.exe, sizeof(ps->mm.exe), "%s", p->mm->exe);
	ps->mm.vdso = p->mm->vdso;
	ps->mm.vvar = p->mm->vvar;
	ps->mm.vvar_end = p->mm->vvar_end;
	ps->personality = p->personality;
	for (size_t i = 0; i < p->n_rlimits; i++)
		if (p->rlimits[i]->resource < NRLIMITS)
			ps->rlimits[p->rlimits[i]->resource] = (struct rlimit64_s){ p->rlimits[i]->cur,
										   p->rlimits[i]->max };
	for (size_t i = 0; i < p->n_itimers; i++) {
		uint32_t w = p->itimers[i]->which;

		if (w < 3) {
			ps->itimer_interval_us[w] = p->itimers[i]->interval_us;
			ps->itimer_value_us[w] = p->itimers[i]->value_us;
		}
	}
	ps->umask = p->umask;
	(void)snprintf(ps->cwd, sizeof(ps->cwd), "%s", p->cwd);
	(void)snprintf(ps->root, sizeof(ps->root), "%s", p->root);
	memcpy(ps->uid, p->uid, sizeof(ps->uid));
	memcpy(ps->gid, p->gid, sizeof(ps->gid));
	if (p->n_groups)
		memcpy(ps->groups, p->groups, p->n_groups * sizeof(uint32_t));
	ps->ngroups = p->n_groups;
	ps->thp_disabled = p->thp_disabled;
	ps->dumpable = p->dumpable;
	if (sd_removedimg_decode(p->cwd_removed, p->n_cwd_removed, ps->cwd, ps->cwd_removed,
				&ps->ncwd_removed) < 0 ||
	    sd_removedimg_decode(p->root_removed, p->n_root_removed, ps->root, ps->root_removed,
				&ps->nroot_removed) < 0 ||
	    (p->attrs && sd_attrimg_process_from_pb(p->attrs, &ps->attrs) < 0)) {
		r = bad(ctx, dir, sd_imgfile_name(IMGF_PROCESS));
		goto out;
	}
	r = sd_secimg_timers_from_pb(p, &ps->timers, &ps->ntimers);
	if (r == -EBADMSG)
		r = bad(ctx, dir, sd_imgfile_name(IMGF_PROCESS));
	if (r < 0)
		goto out;
	for (size_t i = 0; i < p->n_tids && r == 0; i++) {
		r = read_thread(ctx, dir, p->tids[i], &ps->threads[i]);
		ps->nthreads++;
	}
out:
	protobuf_c_message_free_unpacked(m, NULL);
	return r;
}

/*
 * The owner, signal, shared description and locks of fd @i of @f into @d,
 * checked: -EBADMSG for values no dump writes, -ENOMEM. *@nlocks counts the
 * locks of the whole table.
 */
static int read_fd_extra(const Files *f, size_t i, struct fd_state *d, size_t *nlocks)
{
	const Fd *s = f->fds[i];
	bool found = false;

	if ((s->has_owner_type && (s->owner_type < 0 || s->owner_type > 2)) ||
	    (s->has_owner_pid && s->owner_pid < 0) ||
	    (s->has_signum && (s->signum < 0 || s->signum > NSIG_MAX)))
		return -EBADMSG;
	d->owner_type = s->owner_type;
	d->owner_pid = s->owner_pid;
	d->signum = s->signum;
	/* a lower fd of the same kind, which has none of its own */
	for (size_t k = 0; s->has_dup_of && k < i; k++)
		if (f->fds[k]->fd == s->dup_of && f->fds[k]->kind == s->kind && !f->fds[k]->has_dup_of)
			found = true;
	if (s->has_dup_of && (!found || s->n_locks))
		return -EBADMSG;
	d->has_dup_of = s->has_dup_of;
	d->dup_of = s->dup_of;
	/* a description of another member: on an fd that is no dup of a lower one */
	if (s->has_shared_pid != s->has_shared_fd ||
	    (s->has_shared_pid && (s->shared_pid <= 0 || s->shared_fd < 0 || s->has_dup_of)))
		return -EBADMSG;
	d->has_shared = s->has_shared_pid;
	d->shared_pid = s->shared_pid;
	d->shared_fd = s->shared_fd;
	/* settings only on a terminal, the outside only on a pipe */
	if ((s->tty && ((s->kind != FD_KIND__FD_TTY && s->kind != FD_KIND__FD_PTMX && s->kind != FD_KIND__FD_PTS) ||
			sd_ttyimg_from_pb(s->tty, &d->tty) < 0)) ||
	    (s->external && s->kind != FD_KIND__FD_PIPE))
		return -EBADMSG;
	d->has_tty = s->tty != NULL;
	d->external = s->has_external && s->external;
	/* a deleted file's contents: on those kinds only, and always */
	if ((s->kind == FD_KIND__FD_GHOST || s->kind == FD_KIND__FD_MEMFD) != (s->has_ghost && s->ghost))
		return -EBADMSG;
	d->ghost = s->has_ghost ? s->ghost : 0;
	if (sd_removedimg_fd_from_pb(s, d) < 0)
		return -EBADMSG;
	if (sd_ttyimg_pty_from_pb(s, d) < 0)
		return -EBADMSG;
	/* another process of a pidfd: on a pidfd only, a pid (the restore checks it is a member) or -1 */
	if (s->has_pidfd_pid && (s->kind != FD_KIND__FD_PIDFD || s->pidfd_pid == 0 || s->pidfd_pid < -1))
		return -EBADMSG;
	d->pidfd_pid = s->has_pidfd_pid ? s->pidfd_pid : 0;
	if (s->n_locks > FILES_MAX_LOCKS - *nlocks)
		return -EBADMSG;
	*nlocks += s->n_locks;
	if (!s->n_locks)
		return 0;
	d->locks = calloc(s->n_locks, sizeof(*d->locks));
	if (!d->locks)
		return -ENOMEM;
	for (size_t k = 0; k < s->n_locks; k++) {
		const Lock *l = s->locks[k];
		bool ranged = l->kind == LOCK_KIND__LOCK_POSIX || l->kind == LOCK_KIND__LOCK_OFD;

		if ((int)l->kind < (int)FLK_POSIX || (int)l->kind > (int)FLK_MAX ||
		    l->start > INT64_MAX || l->end < l->start ||
		    (l->end > INT64_MAX && l->end != LOCK_EOF) ||
		    (!ranged && (l->start || l->end != LOCK_EOF)) ||
		    (l->kind == LOCK_KIND__LOCK_LEASE && (int)s->kind != (int)FDK_FILE))
			return -EBADMSG;
		d->locks[k] = (struct lock_state){ .kind = (enum lock_kind)l->kind, .write = l->write,
						   .start = l->start, .end = l->end,
						   .dev = l->dev, .ino = l->ino };
		d->nlocks++;
	}
	return 0;
}

static int read_files(struct sdump_ctx *ctx, struct img_dir *dir, struct files_state *fs)
{
	ProtobufCMessage *m;
	size_t nlocks = 0;
	Files *f;
	int r = 0;

	r = sd_imgfile_read_one(ctx, dir, IMGF_FILES, 0, &m);
	if (r < 0)
		return r;
	f = (Files *)m;
	if (f->n_fds > FILES_MAX_FDS) {
		r = bad(ctx, dir, sd_imgfile_name(IMGF_FILES));
		goto out;
	}
	fs->fds = calloc(f->n_fds ? f->n_fds : 1, sizeof(*fs->fds));
	if (!fs->fds) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < f->n_fds; i++) {
		const Fd *s = f->fds[i];
		struct fd_state *d = &fs->fds[i];

		/* sorted and unique, as a dump writes them: a restore places each once */
		if (s->fd < 0 || (i > 0 && s->fd <= fs->fds[i - 1].fd) ||
		    !strcmp(sd_fd_kind_name((enum fd_kind)s->kind), "?") ||
		    (s->has_pipe_data && s->pipe_data.len > (16u << 20)) ||
		    (s->has_pipe_size && (s->pipe_size > (1u << 31) ||
					   (s->has_pipe_data && s->pipe_data.len > s->pipe_size)))) {
			r = bad(ctx, dir, sd_imgfile_name(IMGF_FILES));
			goto out;
		}
		/* counted at once: sd_files_state_release() frees what it holds on any failure */
		fs->n++;
		d->fd = s->fd;
		d->kind = (enum fd_kind)s->kind;
		d->path = strdup(s->path ? s->path : "");
		if (!d->path) {
			r = -ENOMEM;
			goto out;
		}
		d->flags = s->flags;
		d->pos = s->pos;
		d->dev = s->dev;
		d->ino = s->ino;
		d->size = s->size;
		d->mtime_ns = s->has_mtime_ns ? s->mtime_ns : 0;
		d->atime_ns = s->has_atime_ns ? s->atime_ns : 0;
		d->mode = s->mode;
		d->rdev = s->rdev;
		d->pipe_size = s->has_pipe_size ? s->pipe_size : 0;
		if (s->has_pipe_data) {
			d->has_pipe_data = true;
			d->pipe_data = malloc(s->pipe_data.len ? s->pipe_data.len : 1);
			if (!d->pipe_data) {
				r = -ENOMEM;
				goto out;
			}
			if (s->pipe_data.len)
				memcpy(d->pipe_data, s->pipe_data.data, s->pipe_data.len);
			d->pipe_data_len = s->pipe_data.len;
		}
		r = read_fd_extra(f, i, d, &nlocks);
		if (r == 0)
			r = sd_anonimg_from_pb(s, d);
		if (r == 0)
			r = sd_sockimg_from_pb(s, d);
		if (r == 0)
			r = sd_pathimg_from_pb(s, d);
		if (r < 0) {
			if (r == -EBADMSG)
				r = bad(ctx, dir, sd_imgfile_name(IMGF_FILES));
			goto out;
		}
	}
	if (sd_anonimg_check_table(fs) < 0)
		r = bad(ctx, dir, sd_imgfile_name(IMGF_FILES));
out:
	protobuf_c_message_free_unpacked(m, NULL);
	return r;
}

int sd_stateimg_read(struct sdump_ctx *ctx, struct img_dir *dir, struct process_state *ret_ps,
		  struct files_state *ret_fs)
{
	struct process_state ps = { 0 };
	struct files_state fs = { 0 };
	int r;

	r = read_process(ctx, dir, &ps);
	if (r == 0)
		r = read_files(ctx, dir, &fs);
	if (r < 0) {
		sd_process_state_release(&ps);
		sd_files_state_release(&fs);
		return r == -ENOMEM ? sd_err(ctx, r, "cannot read the state in '%s'", dir->path) : r;
	}
	*ret_ps = ps;
	*ret_fs = fs;
	return 0;
}
