/* SPDX-License-Identifier: MIT */
/*
 * sdump receive: the destination. Each pass arrives into DIR/.N.part,
 * gets its parent link (../N-1, made here, never taken from the sender),
 * is verified as sdump verify would (the newest pass: every frame, its
 * state files; the chain's record files and links; the final pass of a
 * restore all but its frames, which the restore reads and checks) and
 * only then renamed to DIR/N. With --restore the process is built while the passes come
 * (sdump_restore_stage_*): made from the first, stopped, each next pass
 * applied to it once committed and acknowledged (while the sender makes
 * the next one), so that the final pass leaves only its own pages and the
 * process's state to apply; then it is held until the sender says GO. Any
 * failure before it runs kills it and removes every pass written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "receive: "
#include "ctx.h"
#include "orphan.h"
#include "ptree.h"
#include "tree_img.h"
#include "util.h"
#include "mig_net.h"
#include "mig_pass.h"
#include "mig_lazy.h"

struct receiver {
	struct sdump_ctx *ctx;
	const struct sdump_receive_opts *o;
	struct mig_conn c;
	int dirfd;
	bool made_dir;			/* we made opts->dir: it goes on failure */
	unsigned int n;			/* passes committed */
	bool part;			/* .n+1.part exists */
	bool runs;			/* the process runs (or, without restore, the image is handed over) */
	pid_t pid;			/* the restored process */
	bool marked;			/* DIR/.receiving written */
	int markfd;			/* it, locked */
	struct sdump_restore_opts ro;	/* with restore: the restore's, rdir its directory */
	char rdir[PATH_MAX];
	struct sdump_restore_stage *stage; /* the process built so far, or NULL */
	bool unstaged;			/* restored from the final pass alone */
	struct mig_lazy_rx *lz;		/* post-copy: the final pass's pages arriving */
	int *notify;			/* detached post-copy: the caller's pipe, until the process runs */
	/*
	 * What a pass received left to fsync; the final pass of a restore's is
	 * synced once the process runs, before the marker goes (a receiver
	 * killed before that leaves its marker: everything is removed), so
	 * that its fsyncs are not in the process's downtime.
	 */
	struct mig_unsynced unsynced;
};

#define MARKER ".receiving"

/* A name a receive writes into its directory: N, .N.part, the marker. */
static bool ours(const char *name)
{
	size_t n = strspn(name, "0123456789");

	if (!strcmp(name, MARKER))
		return true;
	if (n > 0 && !name[n])
		return true;
	n = name[0] == '.' ? strspn(name + 1, "0123456789") : 0;
	return n > 0 && !strcmp(name + 1 + n, ".part");
}

/*
 * What a receiver killed before the end left (its marker names it, and it
 * is gone): removed, said in a warning. -EBUSY if it still runs.
 */
static int clean_leftovers(struct receiver *rc, int fd)
{
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX];
	long pid;
	DIR *d;
	struct dirent *de;

	int mfd;

	if (sd_read_file(fd, MARKER, &buf, NULL) < 0)
		return 1; /* no marker: not ours */
	pid = strtol(buf, NULL, 10);
	/* a receiver holds its marker locked while it runs (a pid may be of another namespace) */
	mfd = openat(fd, MARKER, O_RDONLY | O_CLOEXEC);
	if (mfd < 0)
		return 1;
	if (flock(mfd, LOCK_EX | LOCK_NB) < 0) {
		close(mfd);
		return sd_errx(rc->ctx, -EBUSY, "'%s' is being received into (by pid %ld)", rc->o->dir, pid);
	}
	close(mfd);
	d = fdopendir(dup(fd));
	if (!d)
		return sd_err(rc->ctx, -errno, "cannot open '%s'", rc->o->dir);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, MARKER))
			continue;
		if (!ours(de->d_name)) {
			closedir(d);
			return 1;
		}
		(void)snprintf(path, sizeof(path), "%s/%s", rc->o->dir, de->d_name);
		sd_mig_remove_pass(path);
	}
	closedir(d);
	(void)unlinkat(fd, MARKER, 0);
	(void)fsync(fd);
	pr_warn(rc->ctx, "removed what a receiver killed before its end (pid %ld) left in '%s'", pid,
		rc->o->dir);
	return 0;
}

/*
 * The directory must be missing, or empty (once a killed receiver's
 * leftovers are gone): a migration never mixes with other files.
 */
static int check_dir(struct receiver *rc)
{
	struct stat st;
	int fd, r = 0;
	DIR *d;
	struct dirent *de;

	if (stat(rc->o->dir, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return sd_err(rc->ctx, -errno, "cannot use '%s'", rc->o->dir);
	}
	if (!S_ISDIR(st.st_mode))
		return sd_errx(rc->ctx, -ENOTDIR, "'%s' is not a directory", rc->o->dir);
	fd = open(rc->o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sd_err(rc->ctx, -errno, "cannot open '%s'", rc->o->dir);
	r = clean_leftovers(rc, fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return sd_err(rc->ctx, -errno, "cannot open '%s'", rc->o->dir);
	}
	r = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			r = sd_errx(rc->ctx, -EEXIST,
				    "'%s' is not empty: a migration goes into an empty directory", rc->o->dir);
	closedir(d);
	return r;
}

static int open_dir(struct receiver *rc)
{
	if (mkdir(rc->o->dir, 0700) == 0)
		rc->made_dir = true;
	else if (errno != EEXIST)
		return sd_err(rc->ctx, -errno, "cannot make '%s'", rc->o->dir);
	rc->dirfd = open(rc->o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rc->dirfd < 0)
		return sd_err(rc->ctx, -errno, "cannot open '%s'", rc->o->dir);
	/* until the end, the directory says whose it is: a receiver killed leaves it marked */
	{
		char line[32];
		int fd = openat(rc->dirfd, MARKER, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());

		if (fd < 0 || flock(fd, LOCK_EX) < 0 || sd_write_all(fd, line, (size_t)n) < 0 ||
		    fsync(fd) < 0) {
			int e = -errno;

			if (fd >= 0)
				close(fd);
			return sd_err(rc->ctx, e, "cannot write '%s/%s'", rc->o->dir, MARKER);
		}
		/* held locked until we end, by any path: then a next receiver may clean up */
		rc->markfd = fd;
		rc->marked = true;
	}
	return 0;
}

/* Everything this migration wrote, gone: the passes, the one arriving, the directory if ours. */
static void remove_all(struct receiver *rc)
{
	char path[PATH_MAX];

	if (rc->part) {
		(void)snprintf(path, sizeof(path), "%s/.%u.part", rc->o->dir, rc->n + 1);
		sd_mig_remove_pass(path);
	}
	for (unsigned int i = rc->n; i >= 1; i--) {
		(void)snprintf(path, sizeof(path), "%s/%u", rc->o->dir, i);
		sd_mig_remove_pass(path);
	}
	if (rc->marked)
		(void)unlinkat(rc->dirfd, MARKER, 0);
	if (rc->dirfd >= 0)
		(void)fsync(rc->dirfd);
	if (rc->made_dir)
		(void)rmdir(rc->o->dir);
	pr_info(rc->ctx, "the %u pass%s received removed", rc->n, rc->n == 1 ? "" : "es");
}

/* Whether the pass's fsyncs wait until the process runs: the final pass of a restore (not post-copy). */
static bool sync_after_start(const struct receiver *rc, bool final)
{
	return final && rc->o->restore && !rc->c.pages_later;
}

/*
 * The parent link of pass @n of a process alone: "../N-1", or, where pass
 * N-1 is of its tree (its children ended since), its own pass there
 * ("../N-1/pid-PID", as the sender's dump links it).
 */
static void parent_link(struct receiver *rc, unsigned int n, char *link, size_t size)
{
	struct proc_tree t = { 0 };
	char dir[PATH_MAX], name[TREE_DIR_NAME_MAX];

	(void)snprintf(link, size, "../%u", n - 1);
	(void)snprintf(dir, sizeof(dir), "%s/%u", rc->o->dir, n - 1);
	if (!sd_treeimg_present(dir) || sd_treeimg_read(rc->ctx, dir, &t) < 0 || !t.n) {
		sdump_ctx_clear_error(rc->ctx);
		sd_tree_release(&t);
		return;
	}
	(void)snprintf(link, size, "../%u/%s", n - 1, sd_tree_dir_name(t.m[0].pid, name));
	sd_tree_release(&t);
}

/* Pass n+1: received, linked to its parent, verified, renamed into place. */
static int recv_pass(struct receiver *rc, bool final)
{
	struct sdump_verify_report *rep = NULL;
	char part[32], name[16], path[PATH_MAX], b[32], d[32];
	unsigned int n = rc->n + 1;
	uint64_t bytes = 0, t = now_us(), tv;
	int fd, r;

	(void)snprintf(part, sizeof(part), ".%u.part", n);
	(void)snprintf(name, sizeof(name), "%u", n);
	(void)snprintf(path, sizeof(path), "%s/%s", rc->o->dir, part);
	if (mkdirat(rc->dirfd, part, 0700) < 0)
		return sd_err(rc->ctx, -errno, "cannot make '%s'", path);
	rc->part = true;
	fd = openat(rc->dirfd, part, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sd_err(rc->ctx, -errno, "cannot open '%s'", path);
	if (n > 1)
		(void)snprintf(name, sizeof(name), "%u", n - 1);
	r = sd_mig_recv_files(&rc->c, fd, path, n > 1 ? name : NULL, &rc->unsynced, &bytes);
	(void)snprintf(name, sizeof(name), "%u", n);
	/* a tree's pass has its parent links in its members' directories (sd_mig_recv_files) */
	if (r == 0 && n > 1 && faccessat(fd, "tree.img", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		char link[48];

		parent_link(rc, n, link, sizeof(link));
		if (symlinkat(link, fd, "parent") < 0)
			r = sd_err(rc->ctx, -errno, "cannot link '%s/parent'", path);
	}
	if (r == 0)
		r = sd_mig_sync_later(&rc->c, &rc->unsynced, fd, path);
	else
		close(fd);
	if (r == 0 && !sync_after_start(rc, final))
		r = sd_mig_sync_now(&rc->c, &rc->unsynced);
	if (r < 0)
		return r;
	tv = now_us();
	/*
	 * Post-copy: the final pass's pages are yet to come, each frame checked
	 * when read. With --restore the final pass's frames are read by the
	 * restore that follows, each checked there (checksum, size), while the
	 * sender is frozen: not read twice.
	 */
	if (final && (rc->c.pages_later || rc->o->restore))
		r = sdump_pass_verify_no_pages(rc->ctx, path, &rep);
	else
		r = sdump_pass_verify(rc->ctx, path, &rep);
	if (r < 0)
		return r;
	if (rep->n < 1 || strcmp(rep->passes[0].kind, final ? "dump" : "pre-dump"))
		r = sd_errx(rc->ctx, -EPROTO, "%s sent pass %u as a %s, but it is a %s", rc->c.peer, n,
			    final ? "final dump" : "pre-dump", rep->n ? rep->passes[0].kind : "nothing");
	sdump_verify_report_free(rep);
	if (r < 0)
		return r;
	if (renameat(rc->dirfd, part, rc->dirfd, name) < 0)
		return sd_err(rc->ctx, -errno, "cannot commit '%s/%s'", rc->o->dir, name);
	rc->part = false;
	rc->n = n;
	if (sync_after_start(rc, final)) {
		fd = dup(rc->dirfd);
		r = fd < 0 ? sd_err(rc->ctx, -errno, "cannot sync '%s'", rc->o->dir)
			   : sd_mig_sync_later(&rc->c, &rc->unsynced, fd, rc->o->dir);
		if (r < 0)
			return r;
	} else if (fsync(rc->dirfd) < 0) {
		return sd_err(rc->ctx, -errno, "cannot sync '%s'", rc->o->dir);
	}
	sd_fmt_size(b, sizeof(b), bytes);
	sd_fmt_duration(d, sizeof(d), now_us() - tv);
	pr_info(rc->ctx, "pass %u (%s) committed: %s in %.2f s, verified in %s", n,
		final ? "dump" : "pre-dump", b, (tv - t) / 1e6, d);
	put_le32((uint8_t *)path, n);
	return sd_mig_send_msg(&rc->c, MIG_ACK, path, 4);
}

/*
 * With restore, pass rc->n committed (not the final one): the process (or
 * the tree) made from it, or the pass applied to it; one whose processes
 * changed has it made again from that pass (rst_stage.c).
 */
static int stage_pass(struct receiver *rc)
{
	int r;

	/* post-copy restores from the final pass, lazily: nothing to build before */
	if (!rc->o->restore || rc->unstaged || rc->o->lazy)
		return 0;
	(void)snprintf(rc->rdir, sizeof(rc->rdir), "%s/%u", rc->o->dir, rc->n);
	if (rc->stage)
		return sdump_restore_stage_update(rc->stage, rc->rdir);
	r = sdump_restore_stage_begin(rc->ctx, &rc->ro, rc->rdir, &rc->stage);
	if (r == -ENOTSUP) {
		pr_info(rc->ctx, "%s", sdump_ctx_last_error(rc->ctx));
		sdump_ctx_clear_error(rc->ctx);
		rc->unstaged = true;
		return 0;
	}
	return r;
}

/* The process is whole and held: the sender's word lets it run. */
static int before_start(void *data, pid_t pid)
{
	struct receiver *rc = data;
	uint8_t msg[MIG_MSG_MAX];
	size_t len;
	int r;

	rc->pid = pid;
	if (pid > 0)
		pr_info(rc->ctx, "pid %d restored, held until the sender lets go", pid);
	if (rc->lz)
		return sd_mig_lazy_rx_go(rc->lz, pid);
	r = sd_mig_send_msg(&rc->c, MIG_READY, NULL, 0);
	if (r == 0)
		r = sd_mig_expect(&rc->c, MIG_GO, msg, &len);
	return r;
}

/* After the final pass: restore and hand over, or (without restore) hand the image over. */
static int take_over(struct receiver *rc)
{
	uint8_t msg[4];
	int r;

	(void)snprintf(rc->rdir, sizeof(rc->rdir), "%s/%u", rc->o->dir, rc->n);
	if (rc->o->restore && rc->c.pages_later) {
		/* post-copy: its memory follows, the process runs first */
		if (rc->stage) {
			sdump_restore_stage_abort(rc->stage);
			rc->stage = NULL;
		}
		r = sd_mig_lazy_rx_start(rc->ctx, &rc->c, rc->rdir, &rc->lz);
		if (r < 0)
			return r;
		rc->ro.lazy = true;
		rc->ro.lazy_fetch = sd_mig_lazy_fetch;
		rc->ro.lazy_fetch_data = rc->lz;
		r = sdump_restore(rc->ctx, &rc->ro, NULL);
	} else if (rc->stage) {
		/* the final pass onto the process built so far: finish frees it, whatever happens */
		struct sdump_restore_stage *st = rc->stage;

		rc->stage = NULL;
		r = sdump_restore_stage_finish(st, NULL);
	} else if (rc->o->restore) {
		r = sdump_restore(rc->ctx, &rc->ro, NULL);
	} else {
		r = before_start(rc, 0);
	}
	if (rc->lz) {
		int e = sd_mig_lazy_rx_end(rc->lz, r == 0);

		rc->lz = NULL;
		r = r < 0 ? r : e;
	}
	if (r < 0)
		return r;
	rc->runs = true;
	/* the final pass durable, now that the process runs, before the chain is said to be ours */
	if (sd_mig_sync_now(&rc->c, &rc->unsynced) < 0) {
		pr_warn(rc->ctx, "the image in '%s/%u' may not be durable (pid %d runs): %s", rc->o->dir, rc->n,
			rc->pid, sdump_ctx_last_error(rc->ctx));
		sdump_ctx_clear_error(rc->ctx);
	}
	/* it runs: the chain is the destination's now */
	(void)unlinkat(rc->dirfd, MARKER, 0);
	(void)fsync(rc->dirfd);
	rc->marked = false;
	put_le32(msg, (uint32_t)rc->pid);
	r = sd_mig_send_msg(&rc->c, MIG_RUNNING, msg, 4);
	if (r < 0) {
		/*
		 * The sender told us to run it, and cannot hear that it does: it
		 * leaves its own copy stopped, never running. Ours runs on.
		 */
		pr_warn(rc->ctx, "cannot tell the sender that pid %d runs: %s; its copy stays stopped there",
			rc->pid, sdump_ctx_last_error(rc->ctx));
		sdump_ctx_clear_error(rc->ctx);
	}
	return 0;
}

/* Once it runs: the sender's DONE (its copy is gone), then, unless detached, the process's end. */
static int after(struct receiver *rc, int *ret_status)
{
	uint8_t msg[MIG_MSG_MAX];
	size_t len;
	int status;

	rc->c.idle_ms = 30000;
	if (sd_mig_expect(&rc->c, MIG_DONE, msg, &len) < 0) {
		pr_warn(rc->ctx, "the sender did not confirm the end of its copy: %s",
			sdump_ctx_last_error(rc->ctx));
		sdump_ctx_clear_error(rc->ctx);
	}
	sd_mig_close(&rc->c);
	if (rc->pid > 0)
		pr_info(rc->ctx, "pid %d runs here", rc->pid);
	else
		pr_info(rc->ctx, "the image is in '%s/%u': sdump restore -D brings it up", rc->o->dir, rc->n);
	if (!rc->o->restore || rc->o->detach || rc->pid <= 0) {
		*ret_status = 0;
		return 0;
	}
	while (waitpid(rc->pid, &status, 0) < 0)
		if (errno != EINTR)
			return sd_err(rc->ctx, -errno, "cannot wait for pid %d", rc->pid);
	if (WIFSIGNALED(status))
		pr_warn(rc->ctx, "the restored pid %d was killed by signal %d", rc->pid, WTERMSIG(status));
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

static int receive(struct receiver *rc)
{
	const struct sdump_receive_opts *o = rc->o;
	struct mig_tls tls = { o->tls.cert, o->tls.key, o->tls.ca };
	uint8_t msg[MIG_MSG_MAX];
	size_t len;
	int lfd, r;

	r = check_dir(rc);
	if (r < 0)
		return r;
	r = sd_mig_listen(rc->ctx, o->listen, &lfd);
	if (r < 0)
		return r;
	pr_info(rc->ctx, "listening on %s%s", o->listen, o->tls.ca ? " (TLS)" : "");
	r = sd_mig_accept(rc->ctx, lfd, o->tls.ca ? &tls : NULL, &rc->c);
	close(lfd);
	if (r < 0)
		return r;
	r = sd_mig_expect(&rc->c, MIG_HELLO, msg, &len);
	if (r < 0)
		return r;
	if (len < 8 || get_le32(msg) != MIG_PROTO_VERSION)
		return sd_errx(rc->ctx, -EPROTO, "%s speaks version %u of the migration stream, not %u",
			       rc->c.peer, len >= 4 ? get_le32(msg) : 0, MIG_PROTO_VERSION);
	if (get_le32(msg + 4) != (uint32_t)sysconf(_SC_PAGESIZE))
		return sd_errx(rc->ctx, -EPROTO, "%s has pages of %u bytes, not %ld", rc->c.peer,
			       get_le32(msg + 4), sysconf(_SC_PAGESIZE));
	/* the sender is who it must be: from here on we write */
	r = open_dir(rc);
	if (r < 0)
		return r;
	put_le32(msg, MIG_PROTO_VERSION);
	put_le32(msg + 4, (uint32_t)sysconf(_SC_PAGESIZE));
	put_le32(msg + 8, o->restore && o->lazy ? MIG_HELLO_POSTCOPY : 0);
	r = sd_mig_send_msg(&rc->c, MIG_HELLO, msg, 12);
	for (bool final = false; r == 0 && !final;) {
		r = sd_mig_expect(&rc->c, MIG_PASS, msg, &len);
		if (r < 0)
			break;
		if (len < 8 || get_le32(msg) != rc->n + 1)
			return sd_errx(rc->ctx, -EPROTO, "%s sent pass %u where %u was due", rc->c.peer,
				       len >= 4 ? get_le32(msg) : 0, rc->n + 1);
		final = get_le32(msg + 4) != 0;
		/* post-copy: the final pass comes with the head of its pages.img only */
		rc->c.pages_later = final && o->restore && o->lazy;
		r = recv_pass(rc, final);
		if (r == 0 && !final)
			r = stage_pass(rc);
	}
	if (r == 0)
		r = take_over(rc);
	return r;
}

/* What a detached post-copy receiver's helper tells the command: the process runs, or why not. */
struct detached_word {
	int32_t pid, helper, err;
	char msg[500];
};

/* A detached post-copy receive: its process runs; the command may return, this goes on as its helper. */
static void started(void *data, pid_t pid)
{
	struct receiver *rc = data;
	struct detached_word w = { .pid = pid, .helper = getpid() };
	int devnull;

	if (!rc->notify || *rc->notify < 0)
		return;
	(void)prctl(PR_SET_NAME, "sdump-lazy", 0, 0, 0);
	(void)sd_write_all(*rc->notify, &w, sizeof(w));
	zclose(rc->notify);
	/* no terminal's signals from here, nothing of the caller's held but stderr */
	(void)setsid();
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		(void)dup2(devnull, 0);
		(void)dup2(devnull, 1);
		(void)close(devnull);
	}
}

static int receive_main(struct sdump_ctx *ctx, const struct sdump_receive_opts *opts, int *notify,
			int *ret_status);

/*
 * receive -d --restore --lazy: the receive goes on in a process of its own
 * (nobody's child), which tells us over a pipe once the process runs, or
 * why the receive failed before; from then on it is the helper that
 * fetches the memory, and says on stderr how that ended.
 */
struct worker_arg {
	struct sdump_ctx *ctx;
	const struct sdump_receive_opts *opts;
	int pfd[2];
};

/* The receive itself, in the helper: what went wrong before the process ran goes to the command. */
static void worker(void *arg)
{
	struct worker_arg *a = arg;
	struct detached_word w = { 0 };
	int status = 0, r;

	zclose(&a->pfd[0]);
	r = receive_main(a->ctx, a->opts, &a->pfd[1], &status);
	if (r < 0 && a->pfd[1] >= 0) {
		w.err = r;
		(void)snprintf(w.msg, sizeof(w.msg), "%s",
			       sdump_ctx_last_error(a->ctx) ? sdump_ctx_last_error(a->ctx) : strerror(-r));
		(void)sd_write_all(a->pfd[1], &w, sizeof(w));
	} else if (r < 0) {
		sd_log(a->ctx, SDUMP_LOG_ERROR, "receive (helper %d): %s", (int)getpid(),
		       sdump_ctx_last_error(a->ctx) ? sdump_ctx_last_error(a->ctx) : strerror(-r));
	}
	_exit(r < 0);
}

/*
 * receive -d --restore --lazy: the receive goes on in a process of its own
 * (nobody's child), which tells us over a pipe once the process runs, or
 * why the receive failed before; from then on it is the helper that
 * fetches the memory, and says on stderr how that ended.
 */
static int receive_detached(struct sdump_ctx *ctx, const struct sdump_receive_opts *opts)
{
	struct worker_arg a = { ctx, opts, { -1, -1 } };
	struct detached_word w = { 0 };
	ssize_t n;
	pid_t c;

	if (pipe2(a.pfd, O_CLOEXEC) < 0)
		return sd_err(ctx, -errno, "cannot start the receiver's helper");
	c = sd_orphan_spawn(worker, &a);
	zclose(&a.pfd[1]);
	if (c < 0) {
		zclose(&a.pfd[0]);
		return sd_errx(ctx, -EAGAIN, "cannot start the receiver's helper");
	}
	while ((n = read(a.pfd[0], &w, sizeof(w))) < 0 && errno == EINTR)
		;
	zclose(&a.pfd[0]);
	if (n != (ssize_t)sizeof(w))
		return sd_errx(ctx, -EPIPE, "the receiver ended before its process ran, without a word");
	if (w.err < 0) {
		w.msg[sizeof(w.msg) - 1] = 0;
		return sd_errx(ctx, w.err, "%s", w.msg);
	}
	pr_info(ctx,
		"pid %d runs; its memory follows (helper process %d, sdump-lazy, fetches it: if the connection dies first, it kills pid %d, the sender resumes its copy, and it says so here)",
		(int)w.pid, (int)w.helper, (int)w.pid);
	return 0;
}

SDUMP_API int sdump_receive(struct sdump_ctx *ctx, const struct sdump_receive_opts *opts,
			    int *ret_status)
{
	int r;

	if (opts->restore && opts->lazy && opts->detach && opts->dir && opts->listen) {
		r = receive_detached(ctx, opts);
		if (r == 0 && ret_status)
			*ret_status = 0;
		return r;
	}
	return receive_main(ctx, opts, NULL, ret_status);
}

static int receive_main(struct sdump_ctx *ctx, const struct sdump_receive_opts *opts, int *notify,
			int *ret_status)
{
	struct receiver rc = { .ctx = ctx, .o = opts, .dirfd = -1, .markfd = -1, .c = { .fd = -1 },
			       .notify = notify };
	int r, status = 0;

	rc.ro = (struct sdump_restore_opts){
		.dir = rc.rdir,
		.detach = true,
		.shell_job = opts->shell_job,
		.before_start = before_start,
		.before_start_data = &rc,
		.started = notify ? started : NULL,
		.started_data = &rc,
	};

	if (!opts->dir || !opts->dir[0] || !opts->listen)
		return sd_errx(ctx, -EINVAL, "receive needs a directory and an address to listen on");
	if ((opts->tls.cert || opts->tls.key || opts->tls.ca) &&
	    !(opts->tls.cert && opts->tls.key && opts->tls.ca))
		return sd_errx(ctx, -EINVAL, "TLS needs all three of the certificate, its key and the CA");
	if (!opts->tls.ca && !opts->insecure && !sd_mig_addr_is_loopback(opts->listen))
		return sd_errx(ctx, -EPERM,
			       "will not listen on %s without TLS: anyone there could send a process to run; give --tls-cert, --tls-key and --tls-ca, or --insecure",
			       opts->listen);
	r = receive(&rc);
	if (r < 0 && !rc.runs) {
		char line[512];

		(void)snprintf(line, sizeof(line), "%s",
			       sdump_ctx_last_error(ctx) ? sdump_ctx_last_error(ctx) : strerror(-r));
		sd_mig_send_fail(&rc.c, "the receiver gave up: %s", line);
		/* the process built so far goes first, then the passes */
		sdump_restore_stage_abort(rc.stage);
		rc.stage = NULL;
		sd_mig_sync_drop(&rc.unsynced);
		if (rc.dirfd >= 0)
			remove_all(&rc);
		/* the sender may be sending a pass: it reads the word when it next waits for ours */
		sd_mig_linger(&rc.c, MIG_LINGER_MS);
	}
	if (r == 0)
		r = after(&rc, &status);
	sd_mig_close(&rc.c);
	zclose(&rc.markfd);
	zclose(&rc.dirfd);
	if (r == 0 && ret_status)
		*ret_status = status;
	return r;
}
