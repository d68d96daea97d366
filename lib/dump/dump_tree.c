/* SPDX-License-Identifier: MIT */
/*
 * The final dump of a process tree: the process given and all its
 * descendants, frozen at once, each member's pass in pid-PID/ of the image
 * directory, and tree.img at its top, written last (the commit of the
 * tree).
 *
 * The freeze walks down: a member is seized, every thread of it, and only
 * then are its children read (/proc/PID/task/TID/children of each of its
 * threads). A frozen process forks no more, so the list read then is
 * whole: a fork that raced the freeze is seen, a child that ended since is
 * a zombie. Each child is checked (traced by another, another PID
 * namespace, sharing memory, fds or fs with another member, a vfork
 * parent: one line each) before it is seized in turn.
 *
 * Once all are frozen every member is collected as a process alone would
 * be, then what members share is found: the open file descriptions held
 * by several (kcmp KCMP_FILE), recorded on each later holder as the one of
 * the first (the restore makes them in tree.img's order); a pipe whose
 * ends are in different members is inside the tree, its bytes saved once;
 * the unix sockets of all are matched with each other as one process's.
 * Members are collected in that order, each seeing what those before it
 * map (struct tree_objs): a part of a shmem object one maps already is
 * saved there, not again (Vma.shared_pid names the member), a deleted
 * file or memfd one saves is recorded as that member's.
 *
 * Then the members' pages are copied and their passes written, several
 * members at once (write_members()): a member's copy is compression-bound
 * and its end (the last frames, the fsyncs) leaves the CPUs idle, so one
 * after the other a tree of ten 100 MiB members stayed frozen three times
 * as long as one process of 1 GiB. The tree is still one moment: every
 * member stays frozen until the commit of the tree (a final dump kills
 * them all then, or resumes them all), and everything members share (fds,
 * pipes and their bytes, sessions and groups) was read above, while all
 * were frozen; what is left to do per member is its own memory and files,
 * and the parts of shared ones its collection gave it. A pre-dump's members run on each as soon as it is collected (a
 * pre-dump needs no one moment: the final dump saves what changed).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "array.h"
#include "ctx.h"
#include "dump_fd_kinds.h"
#include "dump_fd_sock.h"
#include "dump_pass.h"
#include "dump_state.h"
#include "image.h"
#include "pass_img.h"
#include "proc.h"
#include "procfs.h"
#include "ptree.h"
#include "tree_img.h"
#include "util.h"

#include "dump_tree_priv.h"

bool sd_tree_has_children(pid_t pid)
{
	_cleanup_free_ pid_t *kids = NULL;
	size_t n = 0, cap = 0;

	return sd_proc_children(pid, &kids, &n, &cap) == 0 && n > 0;
}

/* Member @m's ids and state from /proc; its state letter in *ret_state. */
static int read_member(struct tdump *td, struct tree_member *m, char *ret_state)
{
	_cleanup_free_ char *stat = NULL;
	char path[PROC_PATH_MAX];
	uint64_t f[53] = { 0 };
	int r, n;

	r = sd_read_file(AT_FDCWD, sd_proc_path(path, m->pid, "stat"), &stat, NULL);
	if (r < 0)
		return sd_errx(td->ctx, -ESRCH, "cannot dump pid %d: its child %d is gone", td->opts->pid,
			       m->pid);
	n = sd_proc_stat_fields(stat, f, 53);
	if (n < 39)
		return sd_errx(td->ctx, -EBADMSG, "cannot parse '%s'", path);
	*ret_state = (char)f[3];
	m->ppid = (pid_t)f[4];
	m->pgid = (pid_t)f[5];
	m->sid = (pid_t)f[6];
	m->exit_signal = (int)f[38];
	m->zombie = f[3] == 'Z' || f[3] == 'X';
	m->exit_status = n > 52 ? (int)f[52] : 0;
	m->stopped = f[3] == 'T';
	return 0;
}

/*
 * What a member cannot be, each said in one line, checked before it is
 * seized (refusals: a preflight lists them all, and *ret_noseize says that
 * it must not seize the member: traced by another, in vfork()).
 */
static int check_member(struct tdump *td, size_t i, bool *ret_noseize)
{
	const struct tree_member *m = &td->t[i]->m;
	pid_t root = td->opts->pid;
	int r;
	_cleanup_free_ char *status = NULL;
	_cleanup_free_ pid_t *kids = NULL;
	size_t nk = 0, ck = 0;
	char path[PROC_PATH_MAX];
	const char *l;
	static const struct {
		int type;
		const char *what;
	} shares[] = {
		{ KCMP_VM, "its memory (CLONE_VM)" },
		{ KCMP_FILES, "its fd table (CLONE_FILES; restored only where it is its parent's)" },
		{ KCMP_FS, "its working directory, root and umask (CLONE_FS)" },
		/* not KCMP_SYSVSEM: two processes without an undo list compare equal */
	};

	if (sd_read_file(AT_FDCWD, sd_proc_path(path, m->pid, "status"), &status, NULL) < 0)
		return sd_errx(td->ctx, -ESRCH, "cannot dump pid %d: its child %d is gone", root, m->pid);
	l = strstr(status, "\nTracerPid:");
	if (l && atoi(l + strlen("\nTracerPid:")) != 0) {
		*ret_noseize = true;
		return sd_refuse(td->ctx, -EPERM,
				 "cannot dump pid %d: pid %d of its tree is traced by pid %d (a debugger, strace?); detach it first",
				 root, m->pid, atoi(l + strlen("\nTracerPid:")));
	}
	/* "NSpid:\t42\t1": a pid in a namespace below ours too */
	l = strstr(status, "\nNSpid:");
	if (l && strcspn(l + strlen("\nNSpid:\t"), "\t\n") < strcspn(l + strlen("\nNSpid:\t"), "\n"))
		if ((r = sd_refuse(td->ctx, -EOPNOTSUPP,
				   "cannot dump pid %d: pid %d of its tree is in another PID namespace, which sdump cannot restore yet",
				   root, m->pid)) < 0)
			return r;
	/* a vfork() parent waits for its child, unkillable by a stop: never seized */
	if (sd_proc_children(m->pid, &kids, &nk, &ck) == 0)
		for (size_t k = 0; k < nk; k++)
			if (syscall(SYS_kcmp, m->pid, kids[k], KCMP_VM, 0, 0) == 0) {
				*ret_noseize = true;
				return sd_refuse(td->ctx, -EOPNOTSUPP,
						 "cannot dump pid %d: pid %d of its tree is in vfork(), waiting for its child %d to exec or exit; dump it once that is done",
						 root, m->pid, kids[k]);
			}
	/*
	 * Its parent's fd table (forked with CLONE_FILES): made so again, and
	 * so the table of any other member that shares it.
	 */
	td->t[i]->m.files_of_parent = i > 0 && !m->zombie &&
				      syscall(SYS_kcmp, m->ppid, m->pid, KCMP_FILES, 0, 0) == 0;
	for (size_t k = 0; k < i; k++) {
		if (td->t[k]->m.zombie)
			continue;
		for (size_t s = 0; s < ARRAY_SIZE(shares); s++)
			if ((shares[s].type != KCMP_FILES || !m->files_of_parent) &&
			    syscall(SYS_kcmp, td->t[k]->m.pid, m->pid, shares[s].type, 0, 0) == 0 &&
			    (r = sd_refuse(td->ctx, -EOPNOTSUPP,
					   "cannot dump pid %d: pid %d of its tree shares %s with pid %d, which sdump cannot restore yet",
					   root, m->pid, shares[s].what, td->t[k]->m.pid)) < 0)
				return r;
	}
	return 0;
}

static int add_member(struct tdump *td, pid_t pid, pid_t ppid)
{
	struct tmember *tm;

	for (size_t i = 0; i < td->n; i++)
		if (td->t[i]->m.pid == pid)
			return 0;
	if (td->n >= TREE_MAX_MEMBERS)
		return sd_errx(td->ctx, -E2BIG, "cannot dump pid %d: its tree has more than %d processes",
			       td->opts->pid, TREE_MAX_MEMBERS);
	tm = calloc(1, sizeof(*tm));
	if (!tm || ARRAY_RESERVE(td->t, td->cap, td->n + 1, 8) < 0) {
		free(tm);
		return sd_err(td->ctx, -ENOMEM, "cannot dump pid %d", td->opts->pid);
	}
	td->t[td->n++] = tm;
	tm->m.pid = pid;
	tm->m.ppid = ppid;
	return 0;
}

/*
 * The parent pass of member @i: of a tree image, its own pass there (one
 * that was not in that tree yet gets a full first pass); of a one-process
 * pass, the root's alone.
 */
static const char *member_parent(struct tdump *td, struct tmember *tm, size_t i)
{
	const char *parent = td->opts->parent;
	char name[TREE_DIR_NAME_MAX];
	struct stat st;

	if (!parent)
		return NULL;
	if (!sd_treeimg_present(parent))
		return i == 0 ? parent : NULL;
	(void)snprintf(tm->parent, sizeof(tm->parent), "%s/%s", parent, sd_tree_dir_name(tm->m.pid, name));
	if (stat(tm->parent, &st) < 0) {
		pr_info(td->ctx, "%s %d: pid %d is new in the tree since '%s': a full pass", td->final ? "dump" : "pre-dump",
			td->opts->pid, tm->m.pid, parent);
		return NULL;
	}
	return tm->parent;
}

/* Member @i frozen, and its children added to the list. */
static int freeze_member(struct tdump *td, size_t i)
{
	struct tmember *tm = td->t[i];
	char state = 0, name[TREE_DIR_NAME_MAX];
	_cleanup_free_ pid_t *kids = NULL;
	size_t nk = 0, ck = 0;
	pid_t ppid = tm->m.ppid;
	bool noseize = false;
	int r;

	r = read_member(td, &tm->m, &state);
	if (r < 0)
		return r;
	/* the root's own checks say what a zombie root or a thread is */
	if (i > 0 && tm->m.ppid != ppid)
		return sd_errx(td->ctx, -ESRCH, "cannot dump pid %d: its child %d left it while it was frozen",
			       td->opts->pid, tm->m.pid);
	if (tm->m.zombie && i > 0) {
		_cleanup_free_ char *comm = NULL;
		char path[PROC_PATH_MAX];

		if (sd_read_file(AT_FDCWD, sd_proc_path(path, tm->m.pid, "comm"), &comm, NULL) == 0)
			sd_proc_parse_comm(comm, tm->m.comm);
		return 0;
	}
	r = check_member(td, i, &noseize);
	if (r < 0)
		return r;
	tm->o = *td->opts;
	tm->o.pid = tm->m.pid;
	/* a migration hands the tree over once, not member by member */
	tm->o.handover = NULL;
	tm->o.parent = member_parent(td, tm, i);
	(void)snprintf(tm->dir, sizeof(tm->dir), "%s/%s", td->opts->dir, sd_tree_dir_name(tm->m.pid, name));
	tm->o.dir = tm->dir;
	sd_pass_init(&tm->p, td->ctx, &tm->o, td->final);
	tm->has_pass = true;
	tm->p.tree_pipes = &td->ends;
	r = sd_pass_id_new(tm->p.meta.pass_id);
	if (r < 0)
		return sd_err(td->ctx, r, "cannot make a pass id");
	r = sd_pass_open(&tm->p);
	if (r == 0)
		r = sd_pass_seize(&tm->p);
	if (r < 0)
		return r;
	/* what it was before the seize made it a tracing stop, and by which signal */
	tm->m.stopped = state == 'T';
	tm->m.stop_sig = tm->p.seized.group_stop_sig;
	r = sd_proc_children(tm->m.pid, &kids, &nk, &ck);
	if (r < 0)
		return sd_err(td->ctx, r, "cannot list the children of pid %d", tm->m.pid);
	for (size_t k = 0; k < nk && r == 0; k++)
		r = add_member(td, kids[k], tm->m.pid);
	return r;
}


static void sum_stats(const struct tdump *td, struct sdump_stats *st, uint64_t t_first)
{
	*st = td->t[0]->p.st;
	for (size_t i = 1; i < td->n; i++) {
		const struct sdump_stats *s = &td->t[i]->p.st;

		if (!td->t[i]->has_pass)
			continue;
		st->vmas += s->vmas;
		st->pages_scanned += s->pages_scanned;
		st->pages_written += s->pages_written;
		st->pages_in_parent += s->pages_in_parent;
		st->pages_zero += s->pages_zero;
		st->pages_lost += s->pages_lost;
		st->bytes_written += s->bytes_written;
		st->seize_us += s->seize_us;
		st->collect_us += s->collect_us;
		st->copy_us += s->copy_us;
		st->write_us += s->write_us;
	}
	/* the tree's freeze: from the first seize to the last member's resume (or end) */
	st->freeze_us = 0;
	for (size_t i = 0; i < td->n; i++) {
		const struct pass *p = &td->t[i]->p;

		if (td->t[i]->has_pass && p->seized.t_first_us + p->st.freeze_us > t_first + st->freeze_us)
			st->freeze_us = p->seized.t_first_us + p->st.freeze_us - t_first;
	}
	st->total_us = now_us() - td->t[0]->p.t0;
	st->cpu_us = cpu_us() - td->t[0]->p.cpu0;
}

struct writers {
	struct tdump *td;
	_Atomic size_t next;
	_Atomic int err;
};

static void *write_main(void *arg)
{
	struct writers *w = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&w->next, 1);
		int r;

		if (i >= w->td->n || atomic_load(&w->err))
			return NULL;
		if (!w->td->t[i]->has_pass)
			continue;
		r = sd_pass_write(&w->td->t[i]->p);
		if (r < 0) {
			int zero = 0;

			(void)atomic_compare_exchange_strong(&w->err, &zero, r);
		}
	}
}

/*
 * Every member's pass written: by one thread per online CPU (at least two:
 * one member's fsync overlaps another's copy), each taking the next member;
 * one after the other when the caller follows the progress (one phase at a
 * time) or with one member alive. The first error, others stop at their
 * next member.
 */
static int write_members(struct tdump *td)
{
	struct writers w = { .td = td };
	pthread_t th[8];
	size_t alive = 0, nth = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cpus < 2 ? 2 : cpus > 8 ? 8 : (size_t)cpus;

	for (size_t i = 0; i < td->n; i++)
		alive += td->t[i]->has_pass;
	if (want > alive)
		want = alive;
	if (want <= 1 || td->ctx->progress_fn)
		want = 1;
	for (; nth + 1 < want; nth++)
		if (pthread_create(&th[nth], NULL, write_main, &w) != 0)
			break;
	(void)write_main(&w);
	for (size_t k = 0; k < nth; k++)
		(void)pthread_join(th[k], NULL);
	return atomic_load(&w.err);
}

int sd_tree_preflight_walk(struct sdump_ctx *ctx, pid_t root, pid_t **ret_pids, bool **ret_check,
			   size_t *ret_n)
{
	struct sdump_dump_opts o = { .pid = root };
	struct tdump td = { .ctx = ctx, .opts = &o, .final = true, .top = { .dirfd = -1 } };
	pid_t *pids = NULL;
	bool *check = NULL;
	int r;

	r = add_member(&td, root, 0);
	for (size_t i = 0; r == 0 && i < td.n; i++) {
		struct tmember *tm = td.t[i];
		_cleanup_free_ pid_t *kids = NULL;
		size_t nk = 0, ck = 0;
		bool noseize = false;
		char state;

		r = read_member(&td, &tm->m, &state);
		if (r < 0 || tm->m.zombie)
			continue;
		r = check_member(&td, i, &noseize);
		tm->has_pass = !noseize;
		if (r == 0 && sd_proc_children(tm->m.pid, &kids, &nk, &ck) < 0)
			r = sd_err(ctx, -ENOMEM, "cannot list the children of pid %d", tm->m.pid);
		for (size_t k = 0; k < nk && r == 0; k++)
			r = add_member(&td, kids[k], tm->m.pid);
	}
	if (r == 0)
		r = sd_tree_check_ids(&td);
	if (r == 0) {
		pids = calloc(td.n, sizeof(*pids));
		check = calloc(td.n, sizeof(*check));
		if (!pids || !check)
			r = sd_err(ctx, -ENOMEM, "cannot check pid %d", root);
	}
	for (size_t i = 0; i < td.n; i++) {
		if (r == 0) {
			pids[i] = td.t[i]->m.pid;
			check[i] = td.t[i]->has_pass;
		}
		free(td.t[i]);
	}
	free(td.t);
	if (r < 0) {
		free(pids);
		free(check);
		return r;
	}
	*ret_pids = pids;
	*ret_check = check;
	*ret_n = td.n;
	return 0;
}

/* The tree committed and frozen: the hook of a migration, once for every member's pass. */
static int tree_handover(struct tdump *td)
{
	_cleanup_free_ struct pass **ps = calloc(td->n, sizeof(*ps));
	struct sdump_handover h = { 0 };
	size_t k = 0;

	if (!ps)
		return sd_err(td->ctx, -ENOMEM, "cannot hand pid %d over", td->opts->pid);
	for (size_t i = 0; i < td->n; i++)
		if (td->t[i]->has_pass)
			ps[k++] = &td->t[i]->p;
	h.p = ps;
	h.n = k;
	return td->opts->handover(td->opts->handover_data, td->opts->dir, &h);
}

static int run_tree(struct tdump *td, uint64_t *t_first)
{
	struct proc_tree tree = { 0 };
	size_t alive = 0;
	int r, handover = 0;

	r = sd_img_dir_create(td->ctx, td->opts->dir, &td->top);
	td->top.no_sync = td->opts->scratch;
	if (r < 0)
		return r;
	r = add_member(td, td->opts->pid, 0);
	/* down the tree: a member frozen, then its children read */
	for (size_t i = 0; r == 0 && i < td->n; i++) {
		r = freeze_member(td, i);
		if (r == 0 && i == 0)
			*t_first = td->t[0]->p.seized.t_first_us;
	}
	if (r == 0 && td->final)
		r = sd_tree_check_ids(td);
	for (size_t i = 0; r == 0 && td->final && i < td->n; i++)
		if (td->t[i]->has_pass)
			r = sd_tree_read_pipe_ends(td, td->t[i]);
	td->pids = calloc(td->n, sizeof(*td->pids));
	if (r == 0 && !td->pids)
		r = sd_err(td->ctx, -ENOMEM, "cannot dump pid %d", td->opts->pid);
	for (size_t i = 0; r == 0 && i < td->n; i++)
		td->pids[td->objs.npids++] = td->t[i]->m.pid;
	td->objs.pids = td->pids;
	/* every member is known: a pty's master looks for its slave's holders outside them */
	td->ends.members = td->pids;
	td->ends.nmembers = td->objs.npids;
	/* one after the other: each sees what the members before it have */
	for (size_t i = 0; r == 0 && i < td->n; i++)
		if (td->t[i]->has_pass) {
			td->t[i]->p.tree_objs = &td->objs;
			r = sd_pass_collect_all(&td->t[i]->p);
			if (r == 0)
				r = sd_tree_note_member(td, td->t[i]);
		}
	if (r == 0 && td->final)
		r = sd_tree_find_shared(td);
	if (r == 0 && td->final)
		r = sd_tree_check_sockets(td);
	if (r == 0 && td->final)
		sd_tree_pair_ptys(td);
	if (r == 0)
		r = write_members(td);
	if (r < 0)
		return r;
	tree.m = calloc(td->n, sizeof(*tree.m));
	if (!tree.m)
		return sd_err(td->ctx, -ENOMEM, "cannot dump pid %d", td->opts->pid);
	for (size_t i = 0; i < td->n; i++) {
		tree.m[tree.n++] = td->t[i]->m;
		alive += td->t[i]->has_pass;
	}
	/* the commit of the tree: every member's pass is durable already */
	r = sd_treeimg_write(td->ctx, &td->top, &tree, NULL);
	if (r == 0)
		r = sd_img_dir_sync(td->ctx, &td->top);
	sd_tree_release(&tree);
	if (r < 0)
		return r;
	pr_info(td->ctx, "%s %d: commit of the tree, %zu process%s (%zu zombie%s) (%s/tree.img)",
		td->final ? "dump" : "pre-dump", td->opts->pid, td->n, td->n == 1 ? "" : "es", td->n - alive, td->n - alive == 1 ? "" : "s",
		td->opts->dir);
	/* a migration: the destination takes the whole tree, or none of it */
	if (td->final && !td->opts->leave_running && !td->opts->leave_stopped && td->opts->handover)
		handover = tree_handover(td);
	/* the whole tree goes at once, or runs on: no member sees another gone */
	if (td->final && !td->opts->leave_running && !td->opts->leave_stopped && handover == 0)
		for (size_t i = 0; i < td->n; i++)
			if (td->t[i]->has_pass)
				(void)kill(td->t[i]->m.pid, SIGKILL);
	for (size_t i = td->n; i-- > 0;)
		if (td->t[i]->has_pass)
			r = sd_pass_end_after(&td->t[i]->p, handover);
	return handover ? r : 0;
}

int sd_tree_dump(struct sdump_ctx *ctx, const struct sdump_dump_opts *opts, bool final,
		 struct sdump_stats *ret_stats)
{
	struct tdump td = { .ctx = ctx, .opts = opts, .top = { .dirfd = -1 } };
	uint64_t t_first = now_us();
	int r;

	td.final = final;
	if (opts->live)
		return sd_errx(ctx, -EOPNOTSUPP,
			       "cannot dump pid %d live: it has child processes, and a live dump of a process tree is not supported yet",
			       opts->pid);
	r = run_tree(&td, &t_first);
	if (r < 0) {
		/* every member runs on as it was, and no image is left */
		for (size_t i = td.n; i-- > 0;)
			if (td.t[i]->has_pass)
				sd_pass_fail(&td.t[i]->p);
		sd_img_dir_abort(ctx, &td.top);
	} else {
		struct sdump_stats st;

		for (size_t i = 0; i < td.n; i++)
			if (td.t[i]->has_pass)
				sd_pass_log_done(&td.t[i]->p);
		sum_stats(&td, &st, t_first);
		pr_info(ctx, "%s %d: the tree of %zu processes frozen %.1f ms, %.2f s", final ? "dump" : "pre-dump",
			opts->pid, td.n, st.freeze_us / 1000.0, st.total_us / 1e6);
		if (ret_stats)
			*ret_stats = st;
	}
	for (size_t i = 0; i < td.n; i++) {
		if (td.t[i]->has_pass)
			sd_pass_release(&td.t[i]->p);
		free(td.t[i]);
	}
	free(td.t);
	free(td.ends.e);
	free(td.objs.o);
	free(td.pids);
	sd_img_dir_release(&td.top);
	return r;
}
