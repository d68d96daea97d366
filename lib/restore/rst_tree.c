/* SPDX-License-Identifier: MIT */
/*
 * The restore of a process tree: every member of tree.img made again with
 * its PID, each by its own parent, so that the parent's wait() reaps it.
 *
 *  1. every member's image read and checked, as a process alone's is;
 *  2. the root made as a process alone is (a traced child of ours),
 *     emptied to its trampoline, in its session and group; then, in
 *     tree.img's order (a parent before its children), each member is
 *     forked by its parent while that is still the trampoline alone: a
 *     clone3(set_tid = PID) injected into it, the child traced from birth
 *     (PTRACE_O_TRACEFORK), a copy of the trampoline. Right after its
 *     fork a member that led a session calls setsid(), one that led a
 *     group setpgid(0, 0), so that its own children are born into them;
 *     once all exist the others join their groups (setpgid), and every
 *     member's session and group are checked against the image;
 *  3. a zombie ends now, as it had (exit_group(), or its signal with the
 *     core dump off), and its parent's SIGCHLD of it, queued while the
 *     parent is traced, is taken away: it had that one before the dump;
 *  4. each member maps its vdso, then is restored as a process alone is
 *     (memory, fds, threads, ...), in order: an fd whose open file
 *     description an earlier member holds is a copy of that member's
 *     (pidfd_getfd), the same description and offset; a pipe an earlier
 *     member made is the same pipe (sdump keeps a copy of its ends); the
 *     first member with a unix socket makes every member's, connected as
 *     they were, and each later one is given its own (sdump keeps them);
 *  5. every member's trampoline goes and its registers are set; only then
 *     are all detached, at once, with every signal of ours blocked; the
 *     members stopped at the dump first, children before parents, each
 *     stopped again (SIGSTOP at detach), and the SIGCHLD that stop gives
 *     its parent taken away (start_stopped()).
 *
 * A failure anywhere kills every member made (PTRACE_O_EXITKILL does if
 * sdump itself dies); sdump is a child subreaper meanwhile, so that the
 * members orphaned by the kill come to it to be reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "array.h"
#include "ctx.h"
#include "fault.h"
#include "inject.h"
#include "procfs.h"
#include "proc.h"
#include "netlock.h"
#include "restore.h"
#include "rst_sock.h"
#include "tree_img.h"
#include "util.h"

#include "rst_tree_priv.h"

size_t sd_rst_tree_count(const struct rst_tree *t)
{
	return t->tree.n;
}

/* A child of @p (the trampoline alone) with pid @tid, traced from birth (clone3 set_tid). */
static int clone_tid(struct rst *p, pid_t tid, int exit_signal, uint64_t flags)
{
	struct clone_args args = { .flags = flags, .exit_signal = (uint64_t)exit_signal, .set_tid_size = 1 };
	uint64_t at = 0, a = 0;
	long ret = -1;
	int e;

	sd_rst_data_reset(p);
	e = sd_rst_data_put(p, &tid, sizeof(tid), &at);
	args.set_tid = at;
	if (e == 0)
		e = sd_rst_data_put(p, &args, sizeof(args), &a);
	if (e == 0)
		e = sd_rst_try(p, SYS_clone3, (long)a, sizeof(args), 0, &ret);
	if (e == 0 && ret < 0)
		e = (int)ret;
	return e;
}

/* @m, just cloned by @p, taken: its birth stop waited for, ready for calls injected. */
static int adopt(struct rst *p, struct rst *m)
{
	pid_t tid = m->pid;
	char path[PROC_PATH_MAX];
	int status;

	while (waitpid(tid, &status, __WALL) < 0)
		if (errno != EINTR)
			return sd_err(p->ctx, -errno, "cannot wait for the new pid %d", tid);
	m->inj.pid = m->pid;
	m->inj.ptrace_opts = p->inj.ptrace_opts;
	m->inj.syscall_ip = p->tramp;
	m->tramp = p->tramp;
	m->seized.pid = m->pid;
	m->seized.cap = m->ps.nthreads ? m->ps.nthreads : 1;
	m->seized.t = calloc(m->seized.cap, sizeof(*m->seized.t));
	if (!m->seized.t)
		return -ENOMEM;
	m->seized.t[0] = (struct seized_thread){ .tid = m->pid };
	m->seized.n = 1;
	m->mem_fd = open(sd_proc_path(path, m->pid, "mem"), O_RDWR | O_CLOEXEC);
	if (m->mem_fd < 0)
		return sd_err(p->ctx, -errno, "cannot open '%s'", path);
	m->pidfd = (int)syscall(SYS_pidfd_open, m->pid, 0);
	if (m->pidfd < 0)
		return sd_err(p->ctx, -errno, "cannot open a pidfd of the new pid %d", m->pid);
	return 0;
}

/*
 * Member @m forked by @p (both still the trampoline alone), traced from
 * birth: its parent, or with CLONE_PARENT in @flags the helper of its
 * session, a child of its parent (make_lost_session).
 */
static int fork_member(struct rst *p, struct rst *m, uint64_t flags)
{
	const struct tree_member *tm = m->member;
	int e;

	/* a parent's fd table shared (CLONE_FILES), not a helper's; CLONE_PARENT: the helper's exit signal */
	if (tm->files_of_parent && (flags & CLONE_PARENT))
		return sd_errx(p->ctx, -EOPNOTSUPP, "cannot restore pid %d: it shares the fd table of its parent %d, whose session is gone",
			       m->pid, tm->ppid);
	e = clone_tid(p, m->pid, (flags & CLONE_PARENT) ? 0 : tm->exit_signal,
		      flags | (tm->files_of_parent ? CLONE_FILES : 0));
	if (e == -EEXIST)
		return sd_errx(p->ctx, e, "cannot restore pid %d: it is in use", m->pid);
	if (e < 0)
		return sd_errx(p->ctx, e, "cannot create pid %d, a child of pid %d: %s", m->pid, p->pid,
			       strerror(-e));
	m->started = true;
	e = adopt(p, m);
	if (e < 0)
		return e;
	/* a leader of a session or a group leads it before its children are born */
	if (tm->sid == tm->pid)
		e = sd_rst_call(m, SYS_setsid, 0, 0, 0, 0, 0, 0, NULL);
	else if (tm->pgid == tm->pid)
		e = sd_rst_call(m, SYS_setpgid, 0, 0, 0, 0, 0, 0, NULL);
	if (e < 0)
		return sd_errx(p->ctx, e, "cannot make the session or group of pid %d again", m->pid);
	/* and a session leader its controlling terminal, which its children inherit */
	if (tm->sid == tm->pid)
		e = sd_rst_pty_ctty_early(m);
	if (e < 0)
		return e;
	m->session_done = true;
	return 0;
}

/*
 * What session or group @id of the image is now: a member's id is itself;
 * the root's session or group, when it was outside the tree, is the one
 * the root has now (ours, or --shell-job's); a group whose leader was gone
 * is itself (make_lost_groups); any other -1.
 */
static pid_t id_now(const struct rst_tree *t, pid_t id, bool session)
{
	const struct tree_member *root = &t->tree.m[0];

	/* in our job (--shell-job) the root's session is ours, one it led too */
	if (session && id == root->sid && t->m && t->m[0].opts && t->m[0].opts->shell_job)
		return getsid(root->pid);
	if (sd_tree_find(&t->tree, id) >= 0)
		return id;
	for (size_t k = 0; !session && k < t->nlost; k++)
		if (t->lost[k] == id)
			return id;
	/* (a session's helper leads the group of its pid too) */
	for (size_t k = 0; k < t->nsess; k++)
		if (t->sess[k]->pid == id)
			return id;
	if (session && id == root->sid)
		return getsid(root->pid);
	if (!session && id == root->pgid)
		return getpgid(root->pid);
	return -1;
}

/*
 * A process group whose leader was gone at the dump (it ended; its group
 * lived on in its members): made again by a helper with the leader's pid,
 * forked by the first member of the group (so in its session: a member
 * not leading a session has its parent's) and made a group leader by it
 * (setpgid on its child), which the members then join; once they have,
 * the helper is killed and its parent reaps it. Its exit signal is 0: no
 * SIGCHLD of it. A helper is traced from birth (PTRACE_O_TRACECLONE), a
 * copy of the trampoline that never runs.
 */
static int make_lost_groups(struct rst_tree *t)
{
	const struct tree_member *root = &t->tree.m[0];

	for (size_t i = 1; i < t->tree.n; i++) {
		const struct tree_member *tm = &t->tree.m[i];
		struct rst *m = &t->m[i];
		pid_t g = tm->pgid;
		int status, e;

		if (g == tm->pid || g == root->pgid || id_now(t, g, false) >= 0)
			continue;
		if (t->nlost == ARRAY_SIZE(t->lost))
			return sd_errx(t->ctx, -E2BIG, "cannot restore pid %d: more than %zu process groups whose leader is gone",
				       root->pid, ARRAY_SIZE(t->lost));
		e = clone_tid(m, g, 0, 0);
		if (e == -EEXIST)
			return sd_errx(t->ctx, e, "cannot restore pid %d: pid %d, of its process group %d (whose leader is gone), is in use",
				       tm->pid, g, g);
		if (e < 0)
			return sd_errx(t->ctx, e, "cannot restore pid %d: cannot make its process group %d again: %s",
				       tm->pid, g, strerror(-e));
		t->lost[t->nlost] = g;
		t->lost_parent[t->nlost++] = tm->pid;
		while (waitpid(g, &status, __WALL) < 0)
			if (errno != EINTR)
				return sd_err(t->ctx, -errno, "cannot wait for the new pid %d", g);
		e = sd_rst_call(m, SYS_setpgid, g, g, 0, 0, 0, 0, NULL);
		if (e < 0)
			return sd_errx(t->ctx, e, "cannot restore pid %d: cannot make its process group %d again", tm->pid,
				       g);
		sd_log(t->ctx, SDUMP_LOG_DEBUG, "restore: process group %d, whose leader was gone, made again by a helper",
		       g);
	}
	return 0;
}

/*
 * A session whose leader was gone at the dump, like a group
 * (make_lost_groups): a helper with the leader's pid, forked by the parent
 * of the first member of the session whose parent is outside it, leads
 * it (setsid) and forks each such member with CLONE_PARENT: a child of
 * its parent, in the session. The helper's exit signal is the member's
 * (CLONE_PARENT gives the helper's); once all have joined their groups it
 * is killed, reaped by its parent, and the SIGCHLD of it taken away. In
 * *@ret_p the one to fork member @i, with *@ret_flags.
 */
static int lost_session(struct rst_tree *t, size_t i, struct rst **ret_p, uint64_t *ret_flags)
{
	const struct tree_member *tm = &t->tree.m[i];
	long pi = sd_tree_find(&t->tree, tm->ppid);
	struct rst *h;
	int e;

	*ret_p = &t->m[pi];
	*ret_flags = 0;
	if (tm->sid == tm->pid || id_now(t, tm->sid, true) >= 0 || sd_tree_find(&t->tree, tm->sid) >= 0 ||
	    t->tree.m[pi].sid == tm->sid)
		return 0;
	*ret_flags = CLONE_PARENT;
	for (size_t k = 0; k < t->nsess; k++)
		if (t->sess[k]->pid == tm->sid) {
			*ret_p = t->sess[k];
			/* the dump checks that one parent has them all */
			return t->sess_parent[k] == (size_t)pi ? 0 :
				sd_errx(t->ctx, -EOPNOTSUPP, "cannot restore pid %d: its session %d, whose leader is gone, has members of two parents",
					tm->pid, tm->sid);
		}
	if (t->nsess == ARRAY_SIZE(t->sess))
		return sd_errx(t->ctx, -E2BIG, "cannot restore pid %d: more than %zu sessions whose leader is gone",
			       tm->pid, ARRAY_SIZE(t->sess));
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	sd_rst_init(h, t->ctx, t->m[0].opts);
	h->tree = t;
	h->pid = tm->sid;
	e = clone_tid(&t->m[pi], h->pid, tm->exit_signal, 0);
	if (e < 0) {
		free(h);
		return sd_errx(t->ctx, e, "cannot restore pid %d: cannot make its session %d (whose leader is gone) again%s",
			       tm->pid, tm->sid, e == -EEXIST ? ": that pid is in use" : "");
	}
	t->sess_parent[t->nsess] = (size_t)pi;
	t->sess[t->nsess++] = h;
	e = adopt(&t->m[pi], h);
	if (e == 0)
		e = sd_rst_call(h, SYS_setsid, 0, 0, 0, 0, 0, 0, NULL);
	if (e < 0)
		return sd_errx(t->ctx, e, "cannot restore pid %d: cannot make its session %d again", tm->pid, tm->sid);
	*ret_p = h;
	return 0;
}

static int drop_sigchld(struct rst *p);

/* The helpers of make_lost_groups and lost_session gone: killed, and reaped by their parents when @reap. */
static int end_lost_groups(struct rst_tree *t, bool reap)
{
	int e = 0;

	for (size_t k = 0; k < t->nlost; k++) {
		long i = sd_tree_find(&t->tree, t->lost_parent[k]);
		int status;

		(void)kill(t->lost[k], SIGKILL);
		/* ours to take first (its tracer), then its parent's */
		while (waitpid(t->lost[k], &status, __WALL) < 0 && errno == EINTR)
			;
		if (reap && e == 0 && i >= 0)
			e = sd_rst_call(&t->m[i], SYS_wait4, t->lost[k], 0, __WALL, 0, 0, 0, NULL);
		if (e < 0)
			e = sd_errx(t->ctx, e, "cannot reap the helper of process group %d", t->lost[k]);
	}
	t->nlost = 0;
	for (size_t k = 0; k < t->nsess; k++) {
		struct rst *h = t->sess[k], *p = &t->m[t->sess_parent[k]];
		int status;

		(void)kill(h->pid, SIGKILL);
		while (waitpid(h->pid, &status, __WALL) < 0 && errno == EINTR)
			;
		if (reap && e == 0)
			e = sd_rst_call(p, SYS_wait4, h->pid, 0, __WALL, 0, 0, 0, NULL);
		if (reap && e == 0)
			e = drop_sigchld(p);
		if (e < 0)
			e = sd_errx(t->ctx, e, "cannot reap the helper of session %d", h->pid);
		zclose(&h->mem_fd);
		zclose(&h->pidfd);
		free(h->seized.t);
		free(h);
	}
	t->nsess = 0;
	return e;
}

/* Every member in the group it had, then all checked. */
static int join_groups(struct rst_tree *t)
{
	for (size_t i = 1; i < t->tree.n; i++) {
		const struct tree_member *tm = &t->tree.m[i];
		pid_t want = id_now(t, tm->pgid, false);
		int e;

		if (tm->sid == tm->pid || tm->pgid == tm->pid || want < 0 || getpgid(tm->pid) == want)
			continue;
		e = sd_rst_call(&t->m[i], SYS_setpgid, 0, want, 0, 0, 0, 0, NULL);
		if (e < 0)
			return sd_errx(t->ctx, e, "cannot restore pid %d: it cannot join process group %d again",
				       tm->pid, tm->pgid);
	}
	for (size_t i = 0; i < t->tree.n; i++) {
		const struct tree_member *tm = &t->tree.m[i];
		pid_t sid = id_now(t, tm->sid, true), pgid = id_now(t, tm->pgid, false);

		if (getsid(tm->pid) != sid || getpgid(tm->pid) != pgid)
			return sd_errx(t->ctx, -EOPNOTSUPP,
				       "cannot restore pid %d: it was in session %d, process group %d, whose leader is not in the tree and not the root's",
				       tm->pid, tm->sid, tm->pgid);
	}
	return 0;
}

/* Whether @pid is a zombie by now. */
/* Whether @pid is in state @want ('Z' a zombie, 'T' a job-control stop). */
static bool in_state(pid_t pid, char want)
{
	_cleanup_free_ char *stat = NULL;
	char path[PROC_PATH_MAX], state;
	uint64_t start;

	return sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "stat"), &stat, NULL) == 0 &&
	       sd_proc_parse_stat(stat, &state, &start) == 0 && state == want;
}

static bool is_zombie(pid_t pid)
{
	return in_state(pid, 'Z');
}

/*
 * A SIGCHLD queued to @p by the restore itself (a child of it ending or
 * stopping again while it is traced: the kernel queues a traced process
 * even the signals it ignores) taken away: an injected rt_sigtimedwait()
 * for it that does not wait takes it whether it is blocked or not, and one
 * the kernel delivers first stops it in signal-delivery-stop, where it is
 * dropped.
 */
static int drop_sigchld(struct rst *p)
{
	uint64_t set = 1ull << (SIGCHLD - 1), a_set, a_ts;
	struct timespec zero = { 0, 0 };
	long v;
	int e;

	sd_rst_data_reset(p);
	e = sd_rst_data_put(p, &set, sizeof(set), &a_set);
	if (e == 0)
		e = sd_rst_data_put(p, &zero, sizeof(zero), &a_ts);
	if (e < 0)
		return e;
	{
		const long args[6] = { (long)a_set, 0, (long)a_ts, sizeof(set), 0, 0 };

		e = sd_inject_call(p->ctx, &p->inj, NULL, &p->seized.t[0], SYS_rt_sigtimedwait, args, 0, &v);
	}
	if (e < 0)
		return e;
	/* SIGCHLD taken, or none there (EAGAIN: it had none, or it stopped for it first) */
	if (v != SIGCHLD && v != -EAGAIN)
		return sd_err(p->ctx, (int)v, "cannot take the SIGCHLD of the restore from pid %d", p->pid);
	for (size_t k = 0; k < p->seized.n; k++) {
		if (p->seized.t[k].pending_sig == SIGCHLD) {
			p->seized.t[k].pending_sig = 0;
			p->seized.t[k].resend_sig = false;
		}
	}
	return 0;
}

/* Whether @r's image holds a SIGCHLD queued (to the process or one of its threads). */
static bool image_has_sigchld(const struct rst *r)
{
	int signo;

	for (size_t k = 0; k < r->ps.nshared; k++) {
		memcpy(&signo, r->ps.shared[k], sizeof(signo));
		if (signo == SIGCHLD)
			return true;
	}
	for (size_t i = 0; i < r->ps.nthreads; i++) {
		const struct thread_state *th = &r->ps.threads[i];

		for (size_t k = 0; k < th->npending; k++) {
			memcpy(&signo, th->pending[k], sizeof(signo));
			if (signo == SIGCHLD)
				return true;
		}
		if (th->has_stop_signal) {
			memcpy(&signo, th->stop_signal, sizeof(signo));
			if (signo == SIGCHLD)
				return true;
		}
	}
	return false;
}

/* Zombie @z ends as it had: exit_group(code), or killed by its signal without a core dump. */
static int end_zombie(struct rst *z)
{
	int status = z->member->exit_status, e = 0;
	struct user_regs_struct regs;
	struct ksigaction dfl = { 0 };
	uint64_t a = 0, zero = 0;

	sd_rst_data_reset(z);
	e = sd_rst_data_str(z, z->member->comm, &a);
	if (e == 0)
		e = sd_rst_call(z, SYS_prctl, PR_SET_NAME, (long)a, 0, 0, 0, 0, NULL);
	if (e == 0 && WIFSIGNALED(status)) {
		e = sd_rst_call(z, SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0, 0, NULL);
		sd_rst_data_reset(z);
		if (e == 0)
			e = sd_rst_data_put(z, &dfl, sizeof(dfl), &a);
		/* SIGKILL has no action to set (rt_sigaction refuses it): it kills as it is */
		if (e == 0 && WTERMSIG(status) != SIGKILL)
			e = sd_rst_call(z, SYS_rt_sigaction, WTERMSIG(status), (long)a, 0, 8, 0, 0, NULL);
		if (e == 0)
			e = sd_rst_data_put(z, &zero, sizeof(zero), &a);
		if (e == 0)
			e = sd_rst_call(z, SYS_rt_sigprocmask, SIG_SETMASK, (long)a, 0, 8, 0, 0, NULL);
	}
	if (e == 0 && sd_ptrace(PTRACE_GETREGS, z->pid, NULL, &regs) < 0)
		e = -errno;
	if (e < 0)
		return sd_errx(z->ctx, e, "cannot end the zombie pid %d again", z->pid);
	regs.rip = z->tramp;
	regs.orig_rax = (unsigned long long)-1;
	if (WIFSIGNALED(status)) {
		regs.rax = SYS_kill;
		regs.rdi = (unsigned long long)z->pid;
		regs.rsi = (unsigned long long)WTERMSIG(status);
	} else {
		regs.rax = SYS_exit_group;
		regs.rdi = (unsigned long long)WEXITSTATUS(status);
	}
	if (sd_ptrace(PTRACE_SETREGS, z->pid, NULL, &regs) < 0 ||
	    sd_ptrace(PTRACE_DETACH, z->pid, NULL, NULL) < 0)
		return sd_err(z->ctx, -errno, "cannot end the zombie pid %d again", z->pid);
	z->seized.n = 0;
	for (int i = 0; i < 2000 && !is_zombie(z->pid); i++)
		(void)usleep(1000);
	if (!is_zombie(z->pid))
		return sd_errx(z->ctx, -ETIMEDOUT, "the zombie pid %d did not end again", z->pid);
	return 0;
}

/*
 * The zombies end; the SIGCHLD each parent gets then (queued, as it is
 * traced) is taken by the next call injected into it, and dropped: it had
 * the one of the dump's zombie before, in its image.
 */
static int end_zombies(struct rst_tree *t)
{
	for (size_t i = 1; i < t->tree.n; i++) {
		int e;

		if (!t->tree.m[i].zombie)
			continue;
		e = end_zombie(&t->m[i]);
		if (e < 0)
			return e;
	}
	for (size_t i = 0; i < t->tree.n; i++) {
		struct rst *p = &t->m[i];
		bool parent = false;
		int e;

		for (size_t k = i + 1; k < t->tree.n; k++)
			parent |= t->tree.m[k].zombie && t->tree.m[k].ppid == p->pid;
		if (!parent)
			continue;
		e = drop_sigchld(p);
		if (e < 0)
			return e;
	}
	return 0;
}

/*
 * The members stopped at the dump go first, children before parents, each
 * detached into its job-control stop (SIGSTOP). The stop notifies the
 * parent, still traced, with a SIGCHLD it did not have (it had the one of
 * the stop before the dump, in its image, or had taken it): once its
 * stopped children are so, it is taken away, unless the image holds one.
 * Before the parent's own trampoline goes (sd_rst_finish_prepare).
 */
static int start_stopped(struct rst_tree *t)
{
	for (size_t i = t->tree.n; i-- > 0;) {
		struct rst *p = &t->m[i];
		bool stopped_kids = false;
		int e;

		if (t->tree.m[i].zombie)
			continue;
		for (size_t k = i + 1; k < t->tree.n; k++) {
			if (t->tree.m[k].ppid != p->pid || !t->tree.m[k].stopped || t->tree.m[k].zombie)
				continue;
			for (int n = 0; n < 2000 && !in_state(t->tree.m[k].pid, 'T'); n++)
				(void)usleep(1000);
			if (!in_state(t->tree.m[k].pid, 'T'))
				return sd_errx(t->ctx, -ETIMEDOUT, "the restored pid %d did not stop again",
					       t->tree.m[k].pid);
			stopped_kids = true;
		}
		if (stopped_kids && !image_has_sigchld(p)) {
			e = drop_sigchld(p);
			if (e < 0)
				return e;
		}
		if (!t->tree.m[i].stopped)
			continue;
		e = sd_rst_finish_prepare(p);
		if (e == 0)
			e = sd_rst_detach(p, t->tree.m[i].stop_sig);
		if (e < 0)
			return e;
	}
	return 0;
}

/* The root, a process alone would be made so; SIGCHLD at its default and no signal blocked, for all. */
static int make_root(struct rst_tree *t)
{
	struct rst *r = &t->m[0];
	uint64_t a = 0, zero = 0;
	struct ksigaction dfl = { 0 };
	int e;

	e = sd_rst_start_child(r);
	if (e == 0)
		e = sd_rst_clear_address_space(r);
	if (e < 0)
		return e;
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	if (r->pidfd < 0)
		return sd_err(r->ctx, -errno, "cannot open a pidfd of the new pid %d", r->pid);
	sd_rst_data_reset(r);
	e = sd_rst_data_put(r, &dfl, sizeof(dfl), &a);
	if (e == 0)
		e = sd_rst_call(r, SYS_rt_sigaction, SIGCHLD, (long)a, 0, 8, 0, 0, NULL);
	if (e == 0)
		e = sd_rst_data_put(r, &zero, sizeof(zero), &a);
	if (e == 0)
		e = sd_rst_call(r, SYS_rt_sigprocmask, SIG_SETMASK, (long)a, 0, 8, 0, 0, NULL);
	if (e == 0)
		e = sd_rst_restore_session(r);
	if (e == 0)
		e = sd_rst_pty_ctty_early(r);
	return e;
}

static int read_members(struct rst_tree *t, const struct sdump_restore_opts *opts, uint64_t *tp)
{
	for (size_t i = 0; i < t->tree.n; i++) {
		struct rst *m = &t->m[i];
		char dir[PATH_MAX], name[TREE_DIR_NAME_MAX];
		int e;

		sd_rst_init(m, t->ctx, opts);
		m->t0 = t->t0;
		m->tree = t;
		m->member = &t->tree.m[i];
		m->pid = m->member->pid;
		if (m->member->zombie)
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", opts->dir, sd_tree_dir_name(m->pid, name)) >= (int)sizeof(dir))
			return sd_errx(t->ctx, -ENAMETOOLONG, "image directory '%s': name too long", opts->dir);
		e = sd_rst_read(m, dir, tp);
		if (e < 0)
			return e;
		if (m->ps.pid != m->member->pid)
			return sd_errx(t->ctx, -EBADMSG, "image '%s' is corrupt: it holds pid %d, not %d", dir,
				       m->ps.pid, m->member->pid);
	}
	return 0;
}

/*
 * Steps 2 and 3: the root made, every member forked by its parent, in its
 * session and group, and the zombies ended. What each member's image says
 * of it beyond tree.img is not needed yet: a restore built over rounds
 * (rst_stage_tree.c) makes them at its first pass.
 */
int sd_rst_tree_make(struct rst_tree *t)
{
	int e = make_root(t);

	for (size_t i = 1; e == 0 && i < t->tree.n; i++) {
		struct rst *p;
		uint64_t flags;

		e = lost_session(t, i, &p, &flags);
		if (e == 0)
			e = fork_member(p, &t->m[i], flags);
	}
	if (e == 0)
		e = make_lost_groups(t);
	if (e == 0)
		e = join_groups(t);
	if (e == 0)
		e = end_lost_groups(t, true);
	if (e == 0)
		e = end_zombies(t);
	if (e == 0)
		e = sd_check_cancel(t->ctx);
	if (e == 0)
		sd_log(t->ctx, SDUMP_LOG_INFO, "restore %d: a tree of %zu processes made, each by its parent",
		       t->m[0].pid, t->tree.n);
	return e;
}

/* Step 5, once every member is built: the sender's word (a migration), then all started at once. */
int sd_rst_tree_start(struct rst_tree *t, const struct sdump_restore_opts *opts)
{
	struct rst *root = &t->m[0];
	sigset_t oldmask;
	int e;

	/* the processes of dead ones' pidfds: dead, as at the dump, before any member runs */
	sd_rst_tree_dead_end(t);
	e = sd_rst_tty_start(root);

	/* a migration's receiver: the sender's word, once the whole tree is built, before any runs */
	if (e == 0 && opts->before_start)
		e = opts->before_start(opts->before_start_data, root->pid);
	if (e < 0)
		return e;
	/* all at once: no signal may end us between the first detach and the last */
	sd_inject_block_signals(&oldmask);
	e = start_stopped(t);
	for (size_t i = 0; e == 0 && i < t->tree.n; i++)
		if (!t->tree.m[i].zombie && !t->tree.m[i].stopped)
			e = sd_rst_finish_prepare(&t->m[i]);
	for (size_t i = t->tree.n; e == 0 && i-- > 0;)
		if (!t->tree.m[i].zombie && !t->tree.m[i].stopped)
			e = sd_rst_detach(&t->m[i], 0);
	sd_inject_unblock_signals(&oldmask);
	if (e == 0)
		sd_rst_tree_lazy_running(t);
	if (e == 0 && opts->started)
		opts->started(opts->started_data, root->pid);
	return e;
}

static int run_tree(struct rst_tree *t, const struct sdump_restore_opts *opts)
{
	uint64_t tm = now_us();
	int e;

	e = read_members(t, opts, &tm);
	/* a pty's slave whose master another member holds, while nothing is made yet: the root inherits our fds */
	for (size_t i = 0; e == 0 && i < t->tree.n; i++)
		if (!t->tree.m[i].zombie)
			e = sd_rst_tree_ptys(&t->m[i]);
	if (e == 0)
		e = sd_rst_tree_make(t);
	for (size_t i = 0; e == 0 && i < t->tree.n; i++) {
		if (t->tree.m[i].zombie)
			continue;
		e = sd_rst_map_vdso(&t->m[i]);
		if (e == 0)
			e = sd_rst_build(&t->m[i], &tm);
	}
	return e < 0 ? e : sd_rst_tree_start(t, opts);
}

/* Every member made goes; what the kill orphans comes to us (a subreaper) and is reaped too. */
void sd_rst_tree_kill_all(struct rst_tree *t)
{
	(void)end_lost_groups(t, false);
	for (size_t i = t->tree.n; i-- > 0;)
		sd_rst_kill(&t->m[i]);
	for (size_t i = t->tree.n; i-- > 0;)
		if (!t->tree.m[i].zombie)
			sd_rst_reap(&t->m[i]);
	for (int i = 0; i < 2000; i++) {
		pid_t w = waitpid(-1, NULL, __WALL | WNOHANG);

		if (w < 0 && errno == ECHILD)
			break;
		if (w <= 0)
			(void)usleep(1000);
	}
}

int sd_rst_tree_restore(struct sdump_ctx *ctx, const struct sdump_restore_opts *opts, int *ret_status)
{
	uint64_t t0 = now_us();
	struct rst_tree t = { .ctx = ctx, .t0 = t0 };
	int e, subreaper;

	/* post-copy's fetch hook serves one process's pages.img */
	if (opts->lazy && opts->lazy_fetch)
		return sd_errx(ctx, -EOPNOTSUPP,
			       "'%s' holds a process tree, which a post-copy restore does not take yet; migrate it without --lazy",
			       opts->dir);
	e = sd_rst_tree_open(ctx, opts->dir, &t, &subreaper);
	if (e < 0)
		return e;
	e = run_tree(&t, opts);
	return sd_rst_tree_end(&t, opts, e, t0, subreaper, ret_status);
}
