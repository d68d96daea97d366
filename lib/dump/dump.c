/* SPDX-License-Identifier: MIT */
/*
 * One dump pass, in order: check the target, create the directory, seize,
 * read the VMAs and the pages to save (dump_collect.c), resume (pre-dump),
 * copy the pages while compressing them, write the image, inventory last.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX ""
#include "ctx.h"
#include "compat.h"
#include "fault.h"
#include "image.h"
#include "live.h"
#include "runs.h"
#include "copier.h"
#include "chain.h"
#include "pages_img.h"
#include "pass_img.h"
#include "pagemap_img.h"
#include "proc.h"
#include "seize.h"
#include "dump_pass.h"
#include "dump_fd_extra.h"
#include "dump_fd_sock.h"
#include "netlock.h"
#include "dump_state.h"
#include "state_img.h"
#include "track.h"
#include "tree_img.h"
#include "ptree.h"
#include "util.h"
#include "procfs.h"

/* The target's identity: it must be a process (not a thread), and alive. */
int sd_pass_read_target(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	pid_t pid = p->opts->pid;
	_cleanup_free_ char *stat = NULL, *status = NULL, *comm = NULL;
	char path[PROC_PATH_MAX], state;
	pid_t tgid;
	int r;

	(void)sd_proc_path(path, pid, "stat");
	r = sd_read_file(AT_FDCWD, path, &stat, NULL);
	if (r == -ENOENT || r == -ESRCH)
		return sd_errx(ctx, -ESRCH, "cannot dump pid %d: no such process", pid);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '%s'", path);
	if (sd_proc_parse_stat(stat, &state, &p->meta.start_time) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
	if (state == 'Z' || state == 'X')
		return sd_errx(ctx, -ESRCH, "cannot dump pid %d: it is a zombie", pid);
	(void)sd_proc_path(path, pid, "status");
	r = sd_read_file(AT_FDCWD, path, &status, NULL);
	if (r < 0)
		return sd_err(ctx, r == -ENOENT ? -ESRCH : r, "cannot read '%s'", path);
	if (sd_proc_parse_status_tgid(status, &tgid) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot parse '%s'", path);
	if (tgid != pid)
		return sd_errx(ctx, -EINVAL, "cannot dump pid %d: it is a thread of process %d", pid,
			       tgid);
	(void)sd_proc_path(path, pid, "comm");
	if (sd_read_file(AT_FDCWD, path, &comm, NULL) == 0)
		sd_proc_parse_comm(comm, p->meta.comm);
	return 0;
}

static void read_host(struct pass *p)
{
	_cleanup_free_ char *boot = NULL;
	struct utsname u;

	if (uname(&u) == 0)
		(void)snprintf(p->meta.kernel, sizeof(p->meta.kernel), "%s", u.release);
	if (sd_read_file(AT_FDCWD, "/proc/sys/kernel/random/boot_id", &boot, NULL) == 0)
		(void)sd_proc_parse_boot_id(boot, &p->meta.boot_id_hi, &p->meta.boot_id_lo);
}

static int open_proc(struct pass *p, const char *name, int *ret_fd)
{
	char path[PROC_PATH_MAX];
	int fd;

	(void)sd_proc_path(path, p->opts->pid, "%s", name);
	fd = fault_fails(FAULT_PROCREAD) ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sd_err(p->ctx, errno == ENOENT ? -ESRCH : -errno, "cannot open '%s'", path);
	*ret_fd = fd;
	return 0;
}

static void unfreeze(struct pass *p)
{
	uint64_t t;

	if (!p->frozen)
		return;
	sd_seize_detach(p->ctx, &p->seized, &t);
	p->frozen = false;
	p->st.freeze_us = t - p->seized.t_first_us;
}

/*
 * After a live copy. The VMAs a tracker lent the live userfaultfd (uffd-wp:
 * a VMA belongs to one userfaultfd) go back to it in a second short freeze,
 * so that the swap misses no write; any other tracker has seen every write
 * since the instant by itself.
 */
static int finish_live(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	_cleanup_free_ char *maps = NULL;
	struct vma_list now = { 0 };
	uint64_t freeze = p->st.freeze_us;
	char path[PROC_PATH_MAX], d[32];
	int r;

	p->st.live = true;
	if (!track_lends_vmas(&p->tracker) || p->live.frozen) {
		r = sd_live_stop(&p->live);
		goto out;
	}
	r = sd_seize_process(ctx, p->opts->pid, &p->seized);
	if (r < 0)
		goto out;
	p->frozen = true;
	(void)sd_proc_path(path, p->opts->pid, "maps");
	r = sd_read_file(AT_FDCWD, path, &maps, NULL);
	if (r < 0)
		r = sd_err(ctx, r == -ENOENT ? -ESRCH : r, "cannot read '%s'", path);
	else if ((r = sd_proc_parse_maps(maps, &now)) < 0)
		r = sd_err(ctx, r, "cannot parse '%s'", path);
	if (r == 0)
		r = sd_live_handover(&p->live, &p->tracker, &now);
	sd_vma_list_release(&now);
	unfreeze(p);
	p->st.refreeze_us = p->st.freeze_us;
	p->st.freeze_us = freeze;
	sd_fmt_duration(d, sizeof(d), p->st.refreeze_us);
	pr_info(ctx, "dump %d: tracking handed back to %s, frozen again %s", p->opts->pid,
		p->track->name, d);
out:
	p->st.live_faults = p->live.faults;
	sd_live_release(&p->live);
	return r;
}

/*
 * dump -R: every page is in memory once the copy ends, so the target runs
 * on from here while they are compressed and written; what the image says
 * is still the moment of the freeze (every other piece of state was read
 * before the copy).
 */
static void resume_early(struct pass *p)
{
	char d[32];

	sd_dump_inet_release(p->ctx, p->opts, &p->fs, false);
	unfreeze(p);
	p->resumed_early = true;
	sd_fmt_duration(d, sizeof(d), p->st.freeze_us);
	pr_info(p->ctx, "%s %d: resumed after the copy, frozen %s; compressing %s", p->kind,
		p->opts->pid, d, p->st.held_bytes ? "from memory" : "the last frames");
}

static int copy_and_write(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	struct pagestore_writer *w = p->writer;
	struct pmimg pm = { 0 };
	struct copy_counts counts = { 0 };
	struct page_source src = {
		.pid = p->opts->pid,
		.pidfd = p->pidfd,
		.memfd = p->mem_fd,
		.page_size = p->meta.page_size,
		.vmas = &p->vmas,
		.copied = p->opts->live ? sd_live_copied : NULL,
		.copied_data = &p->live,
	};
	uint64_t t, size;
	int r;

	t = now_us();
	p->writer = NULL;
	if (!w) {
		r = sd_pass_writer_new(p, &w);
		if (r < 0)
			return r;
	}
	sd_progress_begin(ctx, p->kind, "copy", p->opts->pid, p->pages_to_copy, p->meta.page_size);
	r = sd_pages_copy(ctx, &src, &p->runs, w, &p->entries, &counts);
	sd_progress_end(ctx);
	p->st.copy_us = now_us() - t;
	if (r < 0)
		goto out;
	p->t_copied = now_us();
	if (sd_pagestore_writer_held(w))
		p->st.held_bytes = counts.data * p->meta.page_size;
	sd_pass_log_copy(p, &counts);
	if (sd_pass_resumes_early(p) && !p->tree_pipes && p->frozen)
		resume_early(p);
	sd_pagestore_writer_go(w);
	/* the protection goes as soon as the copy ends, before the compression does */
	if (p->opts->live) {
		r = finish_live(p);
		if (r < 0)
			goto out;
	}
	r = sd_pagestore_writer_finish(w, &pm.frames, &pm.nframes, &pm.stream_bytes,
				    &pm.pages_file_size);
	if (r < 0)
		goto out;
	p->st.write_us = now_us() - t;
	sd_pass_note_levels(p, w);
	pr_debug(ctx, "copied %" PRIu64 " MiB with process_vm_readv, %" PRIu64 " MiB from /proc/PID/mem",
		 counts.vm_readv_bytes >> 20, counts.mem_bytes >> 20);
	p->st.pages_written = counts.data + counts.zero;
	p->st.pages_in_parent = counts.parent;
	p->st.pages_zero = counts.zero;
	p->st.pages_lost = counts.lost;
	p->st.bytes_written += pm.pages_file_size;

	pm.page_size = p->meta.page_size;
	pm.frame_size = PAGESTORE_FRAME_SIZE;
	pm.list = p->entries;
	r = sd_pmimg_write(ctx, &p->dir, &pm, &size);
	pm.list = (struct pm_list){ 0 };
	if (r < 0)
		goto out;
	p->st.bytes_written += size;
	r = sd_passimg_write_mm(ctx, &p->dir, &p->vmas, &size);
	if (r < 0)
		goto out;
	p->st.bytes_written += size;
out:
	sd_pagestore_writer_free(w);
	sd_pmimg_release(&pm);
	return r;
}

void sd_pass_release(struct pass *p)
{
	sd_pagestore_writer_free(p->writer);
	p->writer = NULL;
	sd_live_release(&p->live);
	unfreeze(p);
	sd_bg_read_release(&p->locks);
	sd_bg_read_release(&p->smaps);
	sd_dump_shmem_prewalk_release(&p->shmem_pre);
	sd_process_state_release(&p->ps);
	sd_files_state_release(&p->fs);
	if (p->tracker_open)
		p->track->close(&p->tracker);
	sd_chain_release(&p->parent);
	zclose(&p->pidfd);
	zclose(&p->pagemap_fd);
	zclose(&p->mem_fd);
	sd_vma_list_release(&p->vmas);
	sd_run_list_release(&p->runs);
	sd_pm_list_release(&p->entries);
	sd_img_dir_release(&p->dir);
}

/* The parent must be a pass of this very process: same pid, start time and boot. */
static int open_parent(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	const struct pass_meta *pm;
	struct stat st;
	int r;

	/* the usual mistake, said plainly: the directory given is not there */
	if (stat(p->opts->parent, &st) < 0 && errno == ENOENT)
		return sd_errx(ctx, -ENOENT,
			       "parent image '%s' is missing: no such directory (--parent names the directory of an earlier pass of pid %d)",
			       p->opts->parent, p->opts->pid);
	r = sd_chain_open(ctx, p->opts->parent, &p->parent);
	if (r == -ENOENT && !sdump_ctx_last_error(ctx))
		r = sd_errx(ctx, r, "parent image '%s' is missing", p->opts->parent);
	if (r < 0)
		return r;
	pm = &p->parent.p[0].meta;
	if (pm->pid != p->opts->pid || pm->start_time != p->meta.start_time ||
	    pm->boot_id_hi != p->meta.boot_id_hi || pm->boot_id_lo != p->meta.boot_id_lo)
		return sd_errx(ctx, -EINVAL,
			       "parent image '%s' is of another process (pid %d started at %" PRIu64 "), not of pid %d",
			       p->opts->parent, pm->pid, pm->start_time, p->opts->pid);
	(void)snprintf(p->meta.parent_pass_id, sizeof(p->meta.parent_pass_id), "%s", pm->pass_id);
	(void)snprintf(p->meta.parent_path, sizeof(p->meta.parent_path), "%s", p->opts->parent);
	return 0;
}

/* "parent" -> the parent directory, relative to the new one (CRIU's convention). */
static int link_parent(struct pass *p)
{
	_cleanup_free_ char *from = realpath(p->opts->dir, NULL);
	_cleanup_free_ char *to = realpath(p->opts->parent, NULL);
	char rel[PATH_MAX] = "";
	size_t common = 0, len = 0;
	int r;

	if (!from || !to)
		return sd_err(p->ctx, -errno, "cannot resolve the path of '%s'", p->opts->parent);
	/* the longest common prefix that ends at a path component */
	for (size_t i = 0;; i++) {
		if ((from[i] == '/' || !from[i]) && (to[i] == '/' || !to[i]))
			common = i;
		if (!from[i] || !to[i] || from[i] != to[i])
			break;
	}
	for (const char *s = from + common; *s; s++)
		if (*s == '/')
			len += (size_t)snprintf(rel + len, sizeof(rel) - len, "../");
	(void)snprintf(rel + len, sizeof(rel) - len, "%s", to[common] == '/' ? to + common + 1 : to + common);
	if (!rel[0])
		(void)snprintf(rel, sizeof(rel), ".");
	r = symlinkat(rel, p->dir.dirfd, "parent");
	if (r < 0)
		return sd_err(p->ctx, -errno, "cannot link '%s/parent'", p->opts->dir);
	return 0;
}

/* SIGKILL the frozen target and wait until it is gone (or a zombie for its parent). */
static void end_target(struct pass *p)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	uint64_t t;

	if (kill(p->opts->pid, SIGKILL) < 0)
		pr_warn(p->ctx, "cannot kill pid %d, ignoring: %s", p->opts->pid, strerror(errno));
	/*
	 * As their tracer we reap the exit of every thread, the leader last:
	 * until then the leader waits for them and the process does not end.
	 */
	for (size_t i = p->seized.n; i-- > 0;)
		while (waitpid(p->seized.t[i].tid, NULL, __WALL) < 0 && errno == EINTR)
			;
	t = now_us();
	zfree(&p->seized.t);
	p->seized.n = p->seized.cap = 0;
	p->frozen = false;
	p->st.freeze_us = t - p->seized.t_first_us;
	if (poll(&pfd, 1, 10000) <= 0)
		pr_warn(p->ctx, "pid %d did not exit after SIGKILL", p->opts->pid);
}

/*
 * --leave-stopped: SIGSTOP queued while the target is frozen, then the
 * detach, after which its threads take it (a group stop, untraced). Back
 * once the kernel says it is stopped, so that the caller sees it so.
 */
static void stop_target(struct pass *p)
{
	pid_t pid = p->opts->pid;

	if (kill(pid, SIGSTOP) < 0)
		pr_warn(p->ctx, "cannot stop pid %d, it runs on: %s", pid, strerror(errno));
	unfreeze(p);
	for (int i = 0; i < 200; i++) {
		_cleanup_free_ char *stat = NULL;
		char path[PROC_PATH_MAX], state = 0;
		uint64_t start;

		if (sd_read_file(AT_FDCWD, sd_proc_path(path, pid, "stat"), &stat, NULL) < 0 ||
		    sd_proc_parse_stat(stat, &state, &start) < 0 || state == 'T')
			return;
		(void)usleep(5000);
	}
	pr_warn(p->ctx, "pid %d: not stopped yet after SIGSTOP", pid);
}

/* Every thread of every pass of the handover (a process's, or a tree's members') dies with us. */
SDUMP_API int sdump_handover_arm(struct sdump_handover *h)
{
	for (size_t k = 0; k < h->n; k++) {
		struct pass *p = h->p[k];
		long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | p->tracker.inj.ptrace_opts;

		for (size_t i = 0; i < p->seized.n; i++)
			if (sd_ptrace(PTRACE_SETOPTIONS, p->seized.t[i].tid, NULL, (void *)opts) < 0)
				return sd_err(p->ctx, -errno, "cannot tie thread %d of pid %d to us",
					      p->seized.t[i].tid, p->opts->pid);
	}
	return 0;
}

/*
 * A final dump's freeze ends after the commit (the target killed or
 * resumed), so stats.img, written before, holds a shorter one. It is
 * replaced (a new file renamed over it) with the whole freeze, the one -v
 * prints and the caller gets, so that show says the same. Failing that the
 * image stays as committed, its freeze a little short: a warning.
 */
static void restamp_freeze(struct pass *p)
{
	int r = sd_passimg_write_stats(p->ctx, &p->dir, &p->st);

	if (r == 0)
		r = sd_img_dir_sync(p->ctx, &p->dir);
	if (r < 0) {
		pr_warn(p->ctx, "%s %d: the image's freeze time stays the one at the commit: %s",
			p->kind, p->opts->pid, sdump_ctx_last_error(p->ctx));
		sdump_ctx_clear_error(p->ctx);
	}
}

/* Phase 1: the target checked, the parent opened, the directory made; nothing of the target touched. */
int sd_pass_open(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	const struct sdump_dump_opts *o = p->opts;
	int r;

	r = sd_pass_read_target(p);
	if (r < 0)
		return r;
	if (o->parent) {
		r = open_parent(p);
		if (r < 0)
			return r;
	}
	p->track = sd_track_select(ctx, o->track);
	if (!p->track)
		return -EOPNOTSUPP;
	(void)snprintf(p->meta.tracker, sizeof(p->meta.tracker), "%s", p->track->name);
	if (o->live) {
		const char *why = NULL;

		r = sd_live_probe(&why);
		if (r < 0)
			return sd_errx(ctx, r, "cannot dump pid %d live: %s", o->pid,
				       why ? why : strerror(-r));
	}
	p->state_valid = sd_track_state_read(o->pid, p->meta.start_time, &p->state) == 0;
	p->pidfd = (int)syscall(SYS_pidfd_open, o->pid, 0);
	if (p->pidfd < 0)
		return sd_err(ctx, errno == ESRCH ? -ESRCH : -errno, "cannot open pidfd of pid %d",
			      o->pid);
	r = sd_img_dir_create(ctx, o->dir, &p->dir);
	p->dir.no_sync = o->scratch;
	if (r < 0)
		return r;
	if (o->parent) {
		r = link_parent(p);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Phase 2: every thread of the target stopped. */
int sd_pass_seize(struct pass *p)
{
	char d[32];
	uint64_t t;
	int r;

	/* a process alone: what can be looked at before the freeze (and checked at it) */
	if (p->final && !p->tree_pipes && !p->preflight) {
		sd_dump_fd_locks_prime();
		sd_dump_shmem_prewalk(p->opts->pid, &p->shmem_pre);
	}
	t = now_us();
	r = sd_seize_process(p->ctx, p->opts->pid, &p->seized);
	if (r < 0)
		return r;
	p->frozen = true;
	p->st.seize_us = now_us() - t;
	/* read while frozen, and sleeping most of its time: on a thread, from now on */
	if (p->final)
		sd_bg_read_start(&p->locks, "/proc/locks");
	sd_fmt_duration(d, sizeof(d), p->st.seize_us);
	pr_info(p->ctx, "%s %d: seize %s (%zu thread%s)", p->kind, p->opts->pid, d, p->seized.n,
		p->seized.n == 1 ? "" : "s");
	return sd_check_cancel(p->ctx);
}

/* Phase 3: what to save read while frozen; a pre-dump's target runs on after it. */
int sd_pass_collect_all(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	const struct sdump_dump_opts *o = p->opts;
	char d[32];
	uint64_t t;
	int r;

	t = now_us();
	r = open_proc(p, "pagemap", &p->pagemap_fd);
	if (r == 0)
		r = open_proc(p, "mem", &p->mem_fd);
	/* under seccomp, every call injected from here on passes by the filters */
	if (r == 0)
		r = sd_sec_prepare(ctx, &p->seized, &p->tracker.inj, p->final);
	/*
	 * Final dump: refuse what cannot be dumped yet before anything of the
	 * target changes (tracking included).
	 */
	if (r == 0 && p->final)
		r = sd_state_check_supported(ctx, o->pid, &p->seized, p->tree_pipes != NULL);
	if (r == 0 && p->final)
		r = sd_files_collect(ctx, o->pid, p->pidfd,
				  sd_track_left_fd(o->pid, p->state_valid ? &p->state : NULL),
				  p->tree_pipes, &p->fs);
	/* a tree's member: its unix sockets are checked with every member's (dump_tree.c) */
	if (r == 0 && p->final)
		r = p->tree_pipes ? sd_dump_inet_table(ctx, o, &p->fs) : sd_dump_sock_table(ctx, o, &p->fs);
	if (r == 0)
		r = sd_pass_collect(p);
	if (r == 0 && p->final)
		r = sd_state_collect(ctx, &p->seized, &p->tracker.inj, &p->vmas, &p->ps);
	if (r == 0 && p->final)
		r = sd_fs_removed_fds(ctx, o->pid, &p->ps, &p->fs);
	/* Live: the pages to save are protected, then copied while the target runs. */
	if (r == 0 && o->live)
		r = sd_live_arm(&p->tracker, p->mem_fd, &p->vmas, &p->runs, p->live_frozen, &p->live);
	if (r == 0 && o->live)
		p->st.live_pages_frozen = p->live.saved_pages;
	if (r == 0 && o->live)
		r = sd_live_start(&p->live);
	if (r < 0)
		sd_live_release(&p->live);
	p->st.collect_us = now_us() - t;
	/* Pre-dump: the target runs on while its pages are copied. */
	if (!p->final || o->live)
		unfreeze(p);
	if (r == 0 && !p->final)
		r = sd_pass_vmflags(p);
	if (r == 0 && !p->final)
		r = sd_dump_shmem_users(ctx, o->pid, &p->vmas, p->tree_objs);
	if (r < 0)
		return r;
	sd_fmt_duration(d, sizeof(d), p->st.collect_us);
	pr_info(ctx, "%s %d: collect %s (%zu VMAs, %" PRIu64 " pages to copy, %" PRIu64 " in parent, %s %s)%s",
		p->kind, o->pid, d, p->vmas.n, p->pages_to_copy, p->runs.pages - p->pages_to_copy,
		p->track->name, p->tracker.incremental ? "incremental" : "full",
		p->final ? "" : "; the process runs on");
	return sd_check_cancel(ctx);
}

/* Phase 4: pages copied, the image written and committed (its inventory last). */
int sd_pass_write(struct pass *p)
{
	struct sdump_ctx *ctx = p->ctx;
	const struct sdump_dump_opts *o = p->opts;
	char d[32], b[32];
	uint64_t t;
	int r;

	r = copy_and_write(p);
	if (r < 0)
		return r;
	if (p->final) {
		uint64_t size;

		r = sd_stateimg_write(ctx, &p->dir, &p->ps, &p->fs, &size);
		if (r < 0)
			return r;
		p->st.bytes_written += size;
	}
	/* compressing and writing pages.img overlaps the copy: what is left after it */
	sd_fmt_duration(d, sizeof(d), now_us() - p->t_copied);
	sd_fmt_size(b, sizeof(b), p->st.bytes_written);
	pr_info(ctx, "%s %d: write %s after the copy (%s on disk)", p->kind, o->pid, d, b);

	r = sd_check_cancel(ctx);
	if (r < 0)
		return r;
	t = now_us();
	p->st.total_us = t - p->t0;
	p->st.cpu_us = cpu_us() - p->cpu0;
	/* a final dump is still frozen: its freeze lasts until the image is written */
	if (p->frozen)
		p->st.freeze_us = now_us() - p->seized.t_first_us;
	r = sd_passimg_write_stats(ctx, &p->dir, &p->st);
	if (r < 0)
		return r;
	p->meta.time_end_ns = now_realtime_ns();
	/* Every other file durable first, then the inventory: it is what makes the directory an image. */
	r = sd_img_dir_sync(ctx, &p->dir);
	if (r < 0)
		return r;
	r = sd_passimg_write_inventory(ctx, &p->dir, &p->meta);
	if (r < 0)
		return r;
	r = sd_img_dir_sync(ctx, &p->dir);
	if (r < 0)
		return r;
	sd_fmt_duration(d, sizeof(d), now_us() - t);
	pr_info(ctx, "%s %d: commit %s (%s/inventory.img)", p->kind, o->pid, d, o->dir);
	return 0;
}

/*
 * Phase 5, once committed: a final dump ends the process now (a
 * migration), or lets it run on, still tracked, so that periodic
 * checkpoints can go on.
 */
int sd_pass_end(struct pass *p)
{
	const struct sdump_dump_opts *o = p->opts;
	int handover = 0;

	if (p->final && !o->leave_running && !o->leave_stopped && o->handover) {
		/* a migration: the destination says whether it took over */
		struct pass *one[1] = { p };
		struct sdump_handover h = { one, 1 };

		handover = o->handover(o->handover_data, o->dir, &h);
	}
	return sd_pass_end_after(p, handover);
}

int sd_pass_end_after(struct pass *p, int handover)
{
	struct sdump_ctx *ctx = p->ctx;
	const struct sdump_dump_opts *o = p->opts;
	int r;

	if (handover != 0) {
		if (handover == SDUMP_HANDOVER_UNSURE) {
			handover = -ENOTCONN;
			stop_target(p);
			pr_warn(ctx, "%s %d: the destination may run it: left stopped (SIGSTOP)", p->kind,
				o->pid);
		} else if (handover < 0) {
			pr_info(ctx, "%s %d: the destination did not take over: resumed", p->kind, o->pid);
		}
	}
	if (p->final && !o->leave_running && !o->leave_stopped && handover == 0) {
		end_target(p);
		sd_track_state_remove(o->pid, p->meta.start_time);
		pr_info(ctx, "%s %d: killed (SIGKILL)", p->kind, o->pid);
		restamp_freeze(p);
		return 0;
	}
	/* it runs on: so do its TCP connections, and the network lock goes */
	if (p->final && !p->resumed_early)
		sd_dump_inet_release(ctx, o, &p->fs, false);
	if (p->final && o->leave_stopped)
		stop_target(p);
	else
		unfreeze(p);
	if (p->final && handover == 0) {
		pr_info(ctx, "%s %d: %s, still tracked", p->kind, o->pid,
			o->leave_stopped ? "left stopped (SIGSTOP)" : "resumed");
		if (!p->resumed_early)
			restamp_freeze(p);
	}
	if (p->track != &sd_track_none_ops) {
		struct track_state st = { .fd = p->tracker.target_fd };

		(void)snprintf(st.pass_id, sizeof(st.pass_id), "%s", p->meta.pass_id);
		(void)snprintf(st.tracker, sizeof(st.tracker), "%s", p->track->name);
		r = sd_track_state_write(o->pid, p->meta.start_time, &st);
		if (r < 0)
			pr_warn(ctx, "cannot record the tracking state of pid %d, ignoring (the next pass saves everything): %s",
				o->pid, strerror(-r));
	}
	return handover;
}

static int run_pass(struct pass *p)
{
	int r = sd_pass_open(p);

	if (r == 0)
		r = sd_pass_hold(p);
	if (r == 0)
		r = sd_pass_seize(p);
	if (r == 0)
		r = sd_pass_collect_all(p);
	if (r == 0)
		r = sd_pass_write(p);
	if (r == 0)
		r = sd_pass_end(p);
	return r;
}

void sd_pass_init(struct pass *p, struct sdump_ctx *ctx, const struct sdump_dump_opts *opts, bool final)
{
	*p = (struct pass){
		.ctx = ctx,
		.opts = opts,
		.pidfd = -1,
		.pagemap_fd = -1,
		.mem_fd = -1,
		.dir = { .dirfd = -1 },
		.t0 = now_us(),
		.cpu0 = cpu_us(),
		.final = final,
		.kind = final ? "dump" : "pre-dump",
	};
	p->meta.format_version = SDUMP_IMAGE_VERSION;
	p->meta.kind = final ? PASS_KIND_DUMP : PASS_KIND_PRE_DUMP;
	p->meta.pid = opts->pid;
	p->meta.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	p->meta.time_start_ns = now_realtime_ns();
	read_host(p);
}

void sd_pass_fail(struct pass *p)
{
	/* the copy-before-write protection goes first: nobody waits on it any more */
	sd_live_release(&p->live);
	if (p->final && !p->resumed_early)
		sd_dump_inet_release(p->ctx, p->opts, &p->fs, false);
	unfreeze(p);
	sd_pagestore_writer_free(p->writer);
	p->writer = NULL;
	sd_img_dir_abort(p->ctx, &p->dir);
}

static int dump_pass(struct sdump_ctx *ctx, const struct sdump_dump_opts *opts, bool final,
		     struct sdump_stats *ret_stats)
{
	struct pass p;
	const char *kind = final ? "dump" : "pre-dump";
	struct sdump_dump_opts alone;
	char own_parent[PATH_MAX];
	int r;

	if (opts->pid <= 0 || !opts->dir || !opts->dir[0])
		return sd_errx(ctx, -EINVAL, "%s needs a pid and an image directory", kind);
	if (opts->leave_stopped && (!final || opts->leave_running))
		return sd_errx(ctx, -EINVAL, "leave_stopped is for a final dump, and not with leave_running");
	if (opts->live && (!final || !opts->leave_running))
		return sd_errx(ctx, -EINVAL, "a live dump lets the process run on: it needs leave_running");
	/* a lock a dump that died half way left */
	if (final && opts->tcp_established)
		sd_netlock_sweep(ctx);
	/* a process with children: the tree rooted at it (dump_tree.c) */
	if (sd_tree_has_children(opts->pid))
		return sd_tree_dump(ctx, opts, final, ret_stats);
	/* a process alone now, whose parent pass is its tree's (its children ended since): its own pass there */
	if (opts->parent && sd_treeimg_present(opts->parent)) {
		char name[TREE_DIR_NAME_MAX];

		if (snprintf(own_parent, sizeof(own_parent), "%s/%s", opts->parent,
			     sd_tree_dir_name(opts->pid, name)) >= (int)sizeof(own_parent))
			return sd_errx(ctx, -ENAMETOOLONG, "parent image '%s': name too long", opts->parent);
		alone = *opts;
		alone.parent = own_parent;
		opts = &alone;
	}
	sd_pass_init(&p, ctx, opts, final);
	r = sd_pass_id_new(p.meta.pass_id);
	if (r < 0)
		return sd_err(ctx, r, "cannot make a pass id");
	r = run_pass(&p);
	if (r < 0) {
		sd_pass_fail(&p);
	} else {
		sd_pass_log_done(&p);
		if (ret_stats)
			*ret_stats = p.st;
	}
	sd_pass_release(&p);
	return r;
}

SDUMP_API int sdump_pre_dump(struct sdump_ctx *ctx, const struct sdump_dump_opts *opts,
			     struct sdump_stats *ret_stats)
{
	return dump_pass(ctx, opts, false, ret_stats);
}

SDUMP_API int sdump_dump(struct sdump_ctx *ctx, const struct sdump_dump_opts *opts,
			 struct sdump_stats *ret_stats)
{
	return dump_pass(ctx, opts, true, ret_stats);
}
