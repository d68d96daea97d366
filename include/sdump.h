/* SPDX-License-Identifier: MIT */
/*
 * libsdump: incremental checkpoints of running Linux processes.
 *
 * This header is the whole public API of the library and its documentation.
 *
 * Conventions, for every function below:
 * - A function that can fail returns an int: >= 0 on success, a negative
 *   errno value on failure. It never returns -1 with errno set.
 * - On failure a one-line message describing what failed, on which object,
 *   is kept in the context: sdump_ctx_last_error(). The first error of an
 *   operation wins; later failures while cleaning up are logged as warnings.
 * - Fixed meanings: -EBADMSG a corrupt or truncated image, -ESRCH the target
 *   process is gone, -ENOENT a missing image or parent image, -EOPNOTSUPP a
 *   kernel feature is missing, -EPERM/-EACCES the caller may not do this.
 * - Output parameters are named ret_* and are written only on success.
 * - The library never writes to stdout or stderr: diagnostics go to the log
 *   callback set with sdump_ctx_set_log(); results are returned in structs or
 *   written to a file descriptor the caller passes.
 */
#ifndef SDUMP_H
#define SDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SDUMP_API __attribute__((visibility("default")))

/* The version of sdump, and of the image format it writes and reads. */
#define SDUMP_VERSION "0.1.0"
/*
 * The image format written; every version from SDUMP_IMAGE_VERSION_MIN up
 * is read. 2: process trees (tree.img, a pass directory per member, an
 * fd's open file description shared with another member); a version-1
 * image is a one-process pass, read as such.
 */
#define SDUMP_IMAGE_VERSION 2
#define SDUMP_IMAGE_VERSION_MIN 1

/* ---------------------------------------------------------------------------
 * Context: logging, last error. One per thread of use; not thread-safe.
 */
struct sdump_ctx;

enum sdump_log_level {
	SDUMP_LOG_ERROR = 0,
	SDUMP_LOG_WARN = 1,
	SDUMP_LOG_INFO = 2,
	SDUMP_LOG_DEBUG = 3,
};

/*
 * Called for every message at or below the context's level. @msg has no
 * trailing newline. ERROR messages are the ones also kept as last error.
 */
typedef void (*sdump_log_fn)(void *userdata, enum sdump_log_level level, const char *msg);

/* Allocate a context with log level WARN and no log callback. -ENOMEM. */
SDUMP_API int sdump_ctx_new(struct sdump_ctx **ret_ctx);
/* Free a context; NULL is allowed. */
SDUMP_API void sdump_ctx_free(struct sdump_ctx *ctx);
SDUMP_API void sdump_ctx_set_log(struct sdump_ctx *ctx, sdump_log_fn fn, void *userdata);
SDUMP_API void sdump_ctx_set_log_level(struct sdump_ctx *ctx, enum sdump_log_level level);
/*
 * The message of the first error since the last sdump_ctx_clear_error(), or
 * NULL. Owned by the context, valid until the next call on it.
 */
SDUMP_API const char *sdump_ctx_last_error(const struct sdump_ctx *ctx);
SDUMP_API void sdump_ctx_clear_error(struct sdump_ctx *ctx);
/*
 * A flag that, once non-zero, asks a running operation to stop: it unwinds
 * as on any error (the target resumed and detached, no image left) and
 * returns -ECANCELED. Meant to be set from a signal handler.
 */
SDUMP_API void sdump_ctx_set_cancel(struct sdump_ctx *ctx, const volatile int *flag);

/*
 * Progress of the long phase of an operation: a pass copying pages out of
 * the target (pre-dump, dump), a restore writing memory into the new
 * process. Counts are pages; the caller works out the rate and the time
 * left.
 */
struct sdump_progress {
	const char *op;		/* "pre-dump", "dump", "restore" or "migrate"; static */
	/*
	 * "copy" (a pass), "memory" (a restore), "send" (a migration's pass
	 * sent: counts are its bytes in pages of 4096); static
	 */
	const char *phase;
	pid_t pid;		/* the target, or the process being restored */
	uint64_t done;		/* pages done so far, at most @total */
	uint64_t total;		/* pages the phase works through */
	uint32_t page_size;	/* bytes */
	uint64_t elapsed_us;	/* since the phase began */
	bool end;		/* the phase is over (finished or failed): its last call */
};

/*
 * Called from within the operation, on its thread: once when a phase begins
 * (done 0), then at most every 100 ms while it runs, and once when it ends
 * (@p->end set, also after a failure). @p is valid only during the call. The
 * callback must not call back into the library with the same context.
 */
typedef void (*sdump_progress_fn)(void *userdata, const struct sdump_progress *p);

/* Set (or, with a NULL @fn, remove) the progress callback. None by default. */
SDUMP_API void sdump_ctx_set_progress(struct sdump_ctx *ctx, sdump_progress_fn fn, void *userdata);

/* ---------------------------------------------------------------------------
 * Dumping.
 */

/* How written pages are found between passes. */
enum sdump_track {
	SDUMP_TRACK_AUTO = 0,	/* the best backend that works on this kernel */
	SDUMP_TRACK_SOFT_DIRTY, /* clear_refs + pagemap bit 55 */
	SDUMP_TRACK_UFFD_WP,	/* userfaultfd async write-protect + PAGEMAP_SCAN */
	SDUMP_TRACK_NONE,	/* every pass copies everything present */
};

/* "auto", "soft-dirty", "uffd-wp", "none"; NULL for an unknown value. */
SDUMP_API const char *sdump_track_name(enum sdump_track track);
/* Parse a name of sdump_track_name(). -EINVAL for an unknown name. */
SDUMP_API int sdump_track_parse(const char *name, enum sdump_track *ret_track);

struct sdump_handover;

struct sdump_dump_opts {
	pid_t pid;		/* the target: any thread group id */
	const char *dir;	/* image directory; created, or empty */
	const char *parent;	/* previous pass, or NULL for a first pass */
	enum sdump_track track;
	unsigned int threads;	/* compression threads; 0: one per online CPU */
	/*
	 * zstd level, SDUMP_COMPRESS_LEVEL_MIN to _MAX; 0: the default (-1);
	 * SDUMP_COMPRESS_LEVEL_AUTO: chosen as the pass goes, the highest at
	 * which the pass takes no longer than writing its pages raw would
	 * (the speed of the disk under dir and of each level measured on the
	 * pass's own frames; with sink_rate, that rate)
	 */
	int compress_level;
	bool leave_running;	/* dump: resume the target afterwards instead of killing it */
	bool live;		/* dump with leave_running: copy after the freeze, before each write */
	/*
	 * dump: leave the target stopped (SIGSTOP: a job-control stop, not
	 * traced) instead of killing it, its tracking armed for a next pass
	 * as with leave_running (CRIU's --leave-stopped); SIGCONT resumes it.
	 * Not with leave_running.
	 */
	bool leave_stopped;
	/*
	 * The most data (holes not counted) a deleted file the process maps
	 * may hold for its contents to be saved; a larger one is refused.
	 * 0: SDUMP_GHOST_LIMIT_DEFAULT.
	 */
	uint64_t ghost_limit;
	/*
	 * Unix sockets whose peer is outside the process and that a restore
	 * connects to the peer's name again (--external unix:INODE): the
	 * inodes of the sockets (or of their peers), next_unix of them.
	 */
	const uint64_t *ext_unix;
	size_t next_unix;
	/*
	 * Established TCP connections saved (TCP repair, --tcp-established),
	 * their packets dropped from the freeze to the restore (the network
	 * lock, nftables); without it such a process is refused.
	 */
	bool tcp_established;
	/*
	 * A final dump only (not with leave_running or leave_stopped): called
	 * once the image is committed, the target still frozen. 0: the target
	 * is killed, as without it; an error: the target is resumed and
	 * detached (its tracking still armed), the image removed, and the
	 * dump returns that error (a migration whose destination did not
	 * take over); SDUMP_HANDOVER_UNSURE: the same, but the target is left
	 * stopped (SIGSTOP) instead of resumed and the dump returns
	 * -ENOTCONN (the destination may run it: nobody can tell). @h is for
	 * sdump_handover_arm().
	 */
	int (*handover)(void *data, const char *dir, struct sdump_handover *h);
	void *handover_data;
	/*
	 * The pass is scratch, not kept: nothing of it is fsynced (a
	 * migration's sender, which sends each pass and removes it; a crash
	 * loses nothing the destination had committed).
	 */
	bool scratch;
	/*
	 * A final dump with leave_running (not live): the pages are copied
	 * into memory while the target is frozen, the target resumed, and
	 * then they are compressed and written; this is the most memory that
	 * takes, in bytes (beyond it the pages stream as they are copied,
	 * the target frozen until the copy ends). 0: half the memory
	 * available (MemAvailable); < 0: none, every page streamed.
	 */
	int64_t memory_budget;
	/*
	 * A scratch pass sent once made (a migration's round): the rate it
	 * will be sent at, bytes per second, which compress_level auto fits
	 * (the time to compress and then send it against sending it raw).
	 * 0: not known (auto then keeps the default level for a scratch
	 * pass, and measures the disk for any other).
	 */
	uint64_t sink_rate;
};

#define SDUMP_GHOST_LIMIT_DEFAULT (64ull << 20)

/*
 * The zstd levels a pass takes: its fast (negative) levels down to zstd's
 * own lowest, where a frame is stored nearly as it is, up to 19.
 */
#define SDUMP_COMPRESS_LEVEL_MIN (-131072)
#define SDUMP_COMPRESS_LEVEL_MAX 19
/* --compress-level auto: outside the range of levels */
#define SDUMP_COMPRESS_LEVEL_AUTO (-2147483647 - 1)

/* A final dump's handover under way (sdump_dump_opts.handover). */
struct sdump_handover;
#define SDUMP_HANDOVER_UNSURE 1
/*
 * From now on the target dies if the caller does (PTRACE_O_EXITKILL on
 * every thread): a migration's sender arms it just before it tells the
 * destination to run its copy, so that the sender killed then leaves one
 * copy, not two. A hook that then fails still resumes or stops it.
 */
SDUMP_API int sdump_handover_arm(struct sdump_handover *h);

/* Counters of one pass, also stored in the image (stats.img). */
struct sdump_stats {
	uint64_t freeze_us;	  /* first seize to last thread resumed */
	uint64_t seize_us;	  /* seizing every thread */
	uint64_t collect_us;	  /* reading VMAs and the written set, re-arming */
	uint64_t copy_us;	  /* copying pages out of the target */
	uint64_t write_us;	  /* compressing and writing, overlapped with copy */
	uint64_t total_us;	  /* the whole pass */
	uint64_t vmas;		  /* VMAs recorded */
	uint64_t pages_scanned;	  /* pages of the VMAs looked at */
	uint64_t pages_written;	  /* pages whose contents this pass stores */
	uint64_t pages_in_parent; /* pages recorded as unchanged since the parent */
	uint64_t pages_zero;	  /* written pages found to be all zeros: stored as such */
	uint64_t pages_lost;	  /* pages unmapped by the target during the copy */
	uint64_t bytes_written;	  /* bytes of pages.img, pagemap.img and mm.img */
	bool live;		  /* a live dump: pages copied after the freeze */
	uint64_t live_faults;	  /* live: the target's writes served (page copied first) */
	uint64_t live_pages_frozen; /* live: pages copied while frozen (few written since the
				       parent; or memory that cannot be write-protected) */
	uint64_t refreeze_us;	  /* live with uffd-wp tracking: the second, short freeze
				     that hands tracking back */
	uint64_t held_bytes;	  /* dump -R: bytes of pages copied into memory while frozen,
				     compressed after the resume (0: streamed) */
	uint64_t cpu_us;	  /* CPU time (user and system, every thread) of the process
				     that ran the pass, during it */
	/* pages.img's zstd levels: the one most pages got, the lowest and highest any frame got */
	int32_t compress_level;
	int32_t compress_level_min, compress_level_max;
	uint64_t compress_cpu_us; /* CPU time of the compressors (part of cpu_us) */
	uint64_t sink_rate;	  /* auto: bytes per second the sink took, measured or given
				     (0: a fixed level, or none known) */
};

/*
 * The counters of a pass as one JSON object on @out, its keys the field
 * names above (what sdump pre-dump --json and show --json print).
 */
SDUMP_API void sdump_stats_write_json(const struct sdump_stats *stats, FILE *out);
/*
 * The same for a person: the lines "frozen", "live" (a live dump),
 * "pages" and "on disk" of sdump show, for pages of @page_size bytes.
 */
SDUMP_API void sdump_stats_write_text(const struct sdump_stats *stats, uint32_t page_size, FILE *out);

/*
 * A pre-dump pass of opts->pid into opts->dir: seize every thread, collect
 * the VMAs and the pages to save, resume the target, then copy the pages
 * from the running target and write the image. The target is left running
 * and untraced on every path, success or failure. On failure no
 * inventory.img is left in opts->dir, and the parent is never modified.
 * Fills *ret_stats (may be NULL) on success. The copy reports its progress
 * to the callback of sdump_ctx_set_progress() (op "pre-dump", phase "copy";
 * "dump" for sdump_dump()); at log level INFO each phase is logged with its
 * time, and the last line sums the pass up (sdump(1) gives its form).
 * Errors: -ESRCH no such process, -EPERM may not trace it (the message says
 * what tracing needs, with kernel.yama.ptrace_scope's value where the kernel
 * has Yama), -EEXIST the directory is not empty, -ENOENT the parent is
 * missing, -ENOSPC, -EIO, ...
 */
SDUMP_API int sdump_pre_dump(struct sdump_ctx *ctx, const struct sdump_dump_opts *opts,
			     struct sdump_stats *ret_stats);

/*
 * The final pass: like sdump_pre_dump(), but the target stays frozen until
 * its pages are copied (the image is one moment), and the image also holds
 * every thread's registers and signal state, the process's handlers, mm
 * fields, limits, timers, credentials and fd table (core-<tid>.img,
 * process.img, files.img). Once the image is committed the target is
 * killed with SIGKILL, or with opts->leave_running resumed and detached,
 * its tracking still armed for the next pass (opts->leave_stopped: the
 * same, but left in a SIGSTOP stop). A caller that is the
 * target's parent finds it reaped (waitpid() gives ECHILD): as its tracer
 * the dump waits for its end, which for a parent is the reaping.
 * A process with children is dumped with its whole tree: each member's
 * pass in pid-PID/ of opts->dir, tree.img last (sdump_restore() takes
 * such a directory too; sdump_pre_dump() the same). Refused, with the
 * target left running: a live dump of a process with children; fds
 * that are sockets, anonymous inodes (eventfd, epoll, signalfd, timerfd,
 * inotify, io_uring, ...) or deleted files (-EOPNOTSUPP). Deleted files
 * the process maps are saved in the image (ghosts.img), once each; refused
 * are one above opts->ghost_limit (-EFBIG), one that cannot be read
 * without CAP_CHECKPOINT_RESTORE (-EPERM), and one mapped shared that
 * another process holds or that has another name (-EOPNOTSUPP).
 * sdump_pre_dump() refuses the same, and saves no contents.
 */
SDUMP_API int sdump_dump(struct sdump_ctx *ctx, const struct sdump_dump_opts *opts,
			 struct sdump_stats *ret_stats);

/* What a final dump of a process would meet, found by sdump_preflight(). */
struct sdump_preflight {
	pid_t pid;
	char comm[16];
	size_t threads;
	/*
	 * Every refusal a dump of it would meet now, one line each, as the
	 * dump would say it without its "cannot dump pid N: " (what it is,
	 * and what the user can do). None: a dump would go through.
	 */
	char **obstacles;
	size_t nobstacles, cap_obstacles;
	/*
	 * How many processes a dump takes: 1, or with children the tree's
	 * members (zombies too); then each obstacle of a member names it
	 * ("pid 4243: fd 5 is an io_uring ...")
	 */
	size_t members;
	/*
	 * false: one of them makes the system calls a dump runs in the
	 * process unsafe (syscall user dispatch), so the checks that need
	 * them (signals, timers, credentials, seccomp, working directory)
	 * were not run: there may be more
	 */
	bool complete;
	char tracker[16];	/* the tracker pre-dumps use (--track auto): "uffd-wp", ... */
	bool tracked;		/* an earlier pass left tracking armed: the next pre-dump is incremental */
};

/*
 * Look at @pid as a final dump would, without writing anything: seize it
 * briefly, run every check of sdump_dump() and collect every refusal
 * instead of stopping at the first. The process is left running and
 * untraced, as it was, on every path; nothing of it changes (tracking is
 * neither armed nor ended). Free *ret with sdump_preflight_free().
 * Errors (not obstacles): -ESRCH no such process, -EPERM may not trace it,
 * -EINVAL a thread, not a process.
 */
SDUMP_API int sdump_preflight(struct sdump_ctx *ctx, pid_t pid, struct sdump_preflight **ret);
SDUMP_API void sdump_preflight_free(struct sdump_preflight *pf);
/*
 * For a person (a line, then one per obstacle, then the tracker), or as
 * one JSON object on one line whose keys sdump(1) documents.
 */
SDUMP_API void sdump_preflight_write_text(const struct sdump_preflight *pf, FILE *out);
SDUMP_API void sdump_preflight_write_json(const struct sdump_preflight *pf, FILE *out);

/* What sdump_release() found and ended. */
struct sdump_release_info {
	bool had_state;		/* sdump kept tracking state for the process */
	char tracker[16];	/* the tracker it named ("uffd-wp", "soft-dirty"), or "" */
	int fd;			/* the tracking userfaultfd closed in the process, or -1 */
};

/*
 * End the tracking sdump's passes keep for @pid: close the userfaultfd of
 * the uffd-wp tracker in the process (which removes its write-protection;
 * the process is seized for that one call and always resumed and
 * detached), and remove sdump's state file for it. A later pre-dump then
 * saves everything again. Nothing to release is no error (*ret says so).
 * Errors: -ESRCH no such process, -EPERM may not trace it.
 */
SDUMP_API int sdump_release(struct sdump_ctx *ctx, pid_t pid, struct sdump_release_info *ret);

/*
 * An fd of the caller that stands in for a file of the image outside the
 * process (--inherit-fd fd[N]:KEY): every fd of the image whose file KEY
 * names gets a dup of the caller's fd @fd. KEY is the fd's link as the
 * image records it (sdump show): "pipe:[1234]" for a pipe, a path for a
 * file, FIFO, device or terminal.
 */
struct sdump_inherit_fd {
	int fd;
	const char *key;
};

struct sdump_restore_opts {
	const char *dir;	/* the image of a final dump */
	bool detach;		/* return once it runs; else wait for it to end */
	/*
	 * Join our session (a group leader leads a group of its own in it);
	 * terminals are ours, our terminal gets the settings it had and, if
	 * its group was in the foreground, makes it the foreground group.
	 */
	bool shell_job;
	const struct sdump_inherit_fd *inherit;	/* ninherit of them */
	size_t ninherit;
	/*
	 * A regular file an fd has open that changed since the dump (another
	 * size or modification time, or another file at its path) is refused
	 * (false), or opened as it is now at the dumped offset, with a warning
	 * (true: a log the process appends to). Mapped files are never taken
	 * changed: their unwritten pages would read what the file holds now.
	 */
	bool file_changed_allow;
	/*
	 * Where to write the restored process's pid (a decimal number and a
	 * newline), once it runs; NULL: nowhere. A pidfile that cannot be
	 * written fails the restore, and the process is killed.
	 */
	const char *pidfile;
	/*
	 * Where to store the counters of the restore once the process runs
	 * (sdump restore --display-stats, --json); NULL: not wanted.
	 */
	struct sdump_restore_stats *ret_stats;
	/*
	 * The established TCP connections of the image made again closed
	 * (an unconnected socket), for programs that connect again; false:
	 * restored with TCP repair, as they were.
	 */
	bool tcp_close;
	/*
	 * Lazy restore: the process runs before its anonymous private memory
	 * is in; the caller's threads serve its page faults from the image
	 * and push the rest in the background until every page is in (see
	 * sdump(1), --lazy). The call returns (with detach) or waits for the
	 * process only once every page is in; a failure to fill kills the
	 * process.
	 */
	bool lazy;
	/*
	 * Called once the process is whole, every thread still held, just
	 * before its timers are armed and it is let go: 0 lets it run; an
	 * error fails the restore (the process is killed, as on any failure).
	 * A migration's receiver waits there for the sender's word.
	 */
	int (*before_start)(void *data, pid_t pid);
	void *before_start_data;
	/*
	 * Called once the process runs (let go after before_start), before a
	 * lazy restore waits for its memory; NULL: not wanted. A migration's
	 * receiver, detached, returns from there while its helper fetches.
	 */
	void (*started)(void *data, pid_t pid);
	void *started_data;
	/*
	 * Post-copy (a migration's receiver): the newest pass's pages.img is
	 * still arriving, its size and header already right. Before any bytes
	 * [off, off + len) of it are read, lazy_fetch is called, from any
	 * thread of the restore, and returns 0 once they are in the file, or
	 * -errno: the restore fails, or once the process runs its fill fails
	 * and the process is killed. With it, a lazy restore's fill stays in
	 * the caller's threads: with detach the call returns once every page
	 * is in. NULL: the image is whole.
	 */
	int (*lazy_fetch)(void *data, uint64_t off, uint64_t len);
	void *lazy_fetch_data;
	/*
	 * The cgroups the process goes into (sdump restore --cgroup): NULL or
	 * "same", those it was in (refused, before anything is made, where
	 * one is missing here); "here", left in the caller's; an absolute
	 * cgroup path ("/batch/job1"), that cgroup in every hierarchy it was in.
	 */
	const char *cgroup;
};

/* Counters of one restore, up to the moment the process runs. */
struct sdump_restore_stats {
	pid_t pid;		/* the restored process */
	uint64_t passes;	/* of the chain read */
	uint64_t threads, fds, vmas;
	uint64_t pages_restored;   /* pages written into the process (UFFDIO_COPY or writes) */
	uint64_t bytes_restored;   /* their bytes */
	uint64_t frames;	   /* frames of pages.img decoded */
	uint64_t read_us;	   /* reading the image and the checks before the process is made */
	uint64_t memory_us;	   /* filling the memory */
	uint64_t total_us;	   /* the whole restore, until the process runs */
	/* a lazy restore (opts->lazy): the fill after the start (pages_restored: those before) */
	bool lazy;
	uint64_t lazy_complete_us;	/* from the start of the restore to every page in */
	uint64_t lazy_faults;		/* page faults served */
	uint64_t lazy_fault_pages;	/* pages placed for them (whole frames) */
	uint64_t lazy_pushed;		/* pages pushed in the background */
	uint64_t lazy_events;		/* fork, mremap, munmap, MADV_DONTNEED seen */
};

/*
 * The counters of a restore as one JSON object on @out, its keys the field
 * names above; or for a person, a few lines (sdump restore --display-stats).
 */
SDUMP_API void sdump_restore_stats_write_json(const struct sdump_restore_stats *st, FILE *out);
SDUMP_API void sdump_restore_stats_write_text(const struct sdump_restore_stats *st, FILE *out);

/*
 * Bring back the process of the final dump in opts->dir (and its chain):
 * same PID and TIDs, memory, registers, signals, fds and the rest of its
 * state; see sdump(1) for the list. The new process is a child of the
 * caller. Without opts->detach, waits for it and stores its exit status in
 * *ret_status (128 + N when killed by signal N). On any failure nothing is
 * left behind: a half-restored process is killed.
 * Writing the memory reports its progress to the callback of
 * sdump_ctx_set_progress() (op "restore", phase "memory"); at log level
 * INFO each step is logged with its time.
 * Errors: -EEXIST the PID is in use, -ESTALE a file changed since the
 * dump, -EINVAL a pre-dump, a terminal without shell_job, a pipe to the
 * outside without an inherited fd for it or an inherited fd that fits
 * none, -EBADMSG a damaged image, -ENOENT a missing parent. A process
 * killed by a signal once it runs is logged at SDUMP_LOG_WARN.
 */
SDUMP_API int sdump_restore(struct sdump_ctx *ctx, const struct sdump_restore_opts *opts,
			    int *ret_status);

/*
 * A restore built while its chain grows (a migration's receiver): the
 * process made at the first pass, stopped and traced, its memory filled
 * pass by pass as they come, so that the final dump leaves only its own
 * pages and the process's state to apply.
 *
 * sdump_restore_stage_begin: from the first pass in @dir (a pre-dump of a
 * single process), the process made with its PID and the VMAs a pre-dump
 * knows mapped and filled. sdump_restore_stage_update: pass @dir, the
 * child of the one before, applied: VMAs that went unmapped, those that
 * came or changed mapped and filled whole, in those kept only what the
 * pass stores and what the process dropped. sdump_restore_stage_finish:
 * the final dump in opts->dir (a child of the last pass given), applied
 * and the rest restored as sdump_restore() does, and started (opts as
 * there: before_start, detach, ...); @s is freed. Where the final dump
 * cannot finish the process made (another vdso, another timer slack, a
 * VMA over the trampoline), it is dropped and the final dump restored
 * from scratch, said at SDUMP_LOG_INFO. sdump_restore_stage_abort: the
 * process killed and reaped, @s freed. Any failure of begin or update
 * leaves @s to abort; of finish, nothing (as sdump_restore()).
 * *ret_pid (may be NULL): the process made. @opts must stay valid until
 * finish or abort.
 */
struct sdump_restore_stage;
SDUMP_API int sdump_restore_stage_begin(struct sdump_ctx *ctx, const struct sdump_restore_opts *opts,
					const char *dir, struct sdump_restore_stage **ret);
SDUMP_API int sdump_restore_stage_update(struct sdump_restore_stage *s, const char *dir);
SDUMP_API int sdump_restore_stage_finish(struct sdump_restore_stage *s, int *ret_status);
SDUMP_API void sdump_restore_stage_abort(struct sdump_restore_stage *s);

/* ---------------------------------------------------------------------------
 * Live migration: sdump_migrate() on the source, sdump_receive() on the
 * destination, over TCP (TLS 1.3 with certificates both ways when given).
 */

/* TLS: the three files (PEM), or all NULL for plain TCP. */
struct sdump_tls_opts {
	const char *cert;	/* our certificate, signed by the peer's CA */
	const char *key;	/* its private key */
	const char *ca;		/* the CA that signed the peer's */
};

struct sdump_migrate_opts {
	pid_t pid;
	const char *to;		/* the receiver, "ADDR:PORT" */
	struct sdump_tls_opts tls;
	/* the downtime to aim at, ms: the last round is done once it should fit; 0: 300 */
	uint64_t downtime_ms;
	unsigned int max_rounds; /* rounds at most, the last one included; 0: 30 */
	uint64_t bandwidth;	/* bytes per second sent at most; 0: no limit */
	enum sdump_track track;
	unsigned int threads;	/* as sdump_dump_opts */
	int compress_level;
	/* where each round's pass is made before it is sent (removed after); NULL: $TMPDIR or /tmp */
	const char *work_dir;
	/*
	 * A process that does not converge is slowed down while the rounds
	 * are sent (auto-converge): to 50 % of its CPU time, then halved
	 * round after round down to 3 %, through its cgroup's cpu.max where
	 * it has a cgroup (v2) of its own, else short freezes; false: it is
	 * switched over as it is, with a warning.
	 */
	bool auto_converge;
	/*
	 * Established TCP connections moved (the final dump's, TCP repair):
	 * their packets dropped at the source from its freeze on (the network
	 * lock, which stays there once it is killed: what still comes there is
	 * dropped, not reset); their local addresses must be the destination's
	 * when it restores, and reach their peers from it once it runs.
	 */
	bool tcp_established;
};

#define SDUMP_MIGRATE_MAX_ROUNDS 64

struct sdump_migrate_round {
	uint64_t pages;		/* pages whose contents it sent */
	uint64_t bytes;		/* bytes sent (the pass's files, as compressed on disk) */
	uint64_t dump_us;	/* making the pass */
	uint64_t send_us;	/* sending it, until the destination committed it */
	uint64_t freeze_us;	/* the target frozen in it */
	/* its pages' zstd levels (the one most got, the lowest, the highest), its compressors' CPU */
	int32_t compress_level, compress_level_min, compress_level_max;
	uint64_t compress_cpu_us;
};

struct sdump_migrate_stats {
	unsigned int rounds;	/* the last one is the final dump */
	struct sdump_migrate_round round[SDUMP_MIGRATE_MAX_ROUNDS];
	bool converged;		/* the last round was expected to fit the downtime */
	char why_last[64];	/* why the last round came then: "fits the downtime", ... */
	double dirty_rate;	/* bytes per second the target wrote, last measured */
	double bandwidth;	/* bytes per second sent, measured */
	uint64_t bytes_sent;	/* everything, messages included */
	uint64_t downtime_us;	/* the target frozen at the source until the destination ran it */
	uint64_t total_us;
	pid_t dest_pid;		/* the process at the destination (in its PID namespace), 0 if not restored */
	unsigned int throttle_pct;	/* auto-converge: the CPU share it was slowed to last, 0 never */
	char throttle_how[32];		/* "cpu.max of its cgroup", "short freezes", "" */
};

/*
 * Move the running process opts->pid to the receiver at opts->to: rounds
 * of pre-dumps sent while it runs (the first all its memory, each next one
 * what it wrote since) until the next round is expected to fit the
 * downtime (the measured dirty rate against the measured bandwidth),
 * rounds stop shrinking, or opts->max_rounds; then the final dump, frozen,
 * sent, and the handover: the process is killed only once the receiver
 * says its copy runs (or, if the receiver does not restore, that it holds
 * the image). On any failure before that the process is resumed, its
 * tracking ended, untraced, and the receiver drops what it got. At log
 * level INFO each round is logged; progress goes to the callback (op
 * "migrate"). *ret_stats (may be NULL) is filled on success.
 * Errors: those of sdump_pre_dump() and sdump_dump(), -ECONNREFUSED,
 * -ECONNRESET, -ETIMEDOUT the connection, -EACCES TLS refused, -EPROTO the
 * receiver refused (the message says why).
 */
SDUMP_API int sdump_migrate(struct sdump_ctx *ctx, const struct sdump_migrate_opts *opts,
			    struct sdump_migrate_stats *ret_stats);
/* The statistics as a table for a person, or as one JSON object (sdump(1) gives its keys). */
SDUMP_API void sdump_migrate_stats_write_text(const struct sdump_migrate_stats *st, FILE *out);
SDUMP_API void sdump_migrate_stats_write_json(const struct sdump_migrate_stats *st, FILE *out);

struct sdump_receive_opts {
	const char *dir;	/* where the passes go, DIR/1, DIR/2, ...: empty or missing */
	const char *listen;	/* "ADDR:PORT" */
	struct sdump_tls_opts tls;
	/* without TLS, listen on a non-loopback address all the same */
	bool insecure;
	bool restore;		/* bring the process up from the last pass */
	/*
	 * With restore: return once it runs, else wait for its end. With lazy
	 * too, a helper process of its own (sdump-lazy in ps) goes on fetching
	 * its memory and exits once every page is here (0), or once the
	 * connection died first (1: the process killed, the sender resuming
	 * its copy, said on stderr).
	 */
	bool detach;
	bool shell_job;		/* with restore: as sdump_restore_opts.shell_job */
	/*
	 * With restore: post-copy. The final pass's pages follow once it is
	 * committed, its memory fetched from the sender on demand (a lazy
	 * restore, sdump_restore_opts.lazy_fetch) while the sender pushes the
	 * rest; the process runs as soon as its state is here. If the
	 * connection dies before every page arrived, the process is killed
	 * (it cannot go on) and the sender resumes its copy, still frozen.
	 */
	bool lazy;
};

/*
 * Accept one migration on opts->listen: every pass written into
 * opts->dir/N as an ordinary chain, each one checked as sdump verify does
 * and committed (renamed into place) only once whole; with opts->restore
 * the process restored from the last pass and let run once the sender
 * says so. Any failure before the process runs removes it and every pass
 * written. Without TLS, a listening address that is not loopback needs
 * opts->insecure. A sender whose certificate our CA did not sign is refused
 * before anything is written. *ret_status: as sdump_restore() (0 without
 * restore or with detach).
 */
SDUMP_API int sdump_receive(struct sdump_ctx *ctx, const struct sdump_receive_opts *opts,
			    int *ret_status);

/* ---------------------------------------------------------------------------
 * Reading images.
 */

struct sdump_vma_info {
	uint64_t start, end;	/* [start, end) */
	uint64_t pgoff;		/* offset in the file, bytes */
	char prot[5];		/* "rwxp" / "r--s", as in /proc/PID/maps */
	char *path;		/* file or [heap]/[stack]/[vdso]..., or NULL (anonymous) */
	uint64_t pages_data;	/* pages whose data this pass stores */
	uint64_t pages_parent;	/* pages recorded as "in parent" */
	char open[3];		/* a file mapping: "r" or "rw", how its file was open; "" unknown */
	bool deleted;		/* a mapping of a deleted file */
	bool ghost_saved;	/* whose contents this pass holds (a final dump does) */
	uint64_t ghost_size;	/* then the file's size */
	uint64_t ghost_data;	/* and its bytes of data (holes not counted) */
	char vmflags[64];	/* the VmFlags saved, as smaps names them ("lo lf ac"); "" none or not saved */
	bool has_vmflags;	/* false in images made before sdump saved them */
	uint64_t *guards;	/* its guard pages: [start, end) pairs, nguards of them */
	size_t nguards;
	/*
	 * A member of a process tree: shared memory, or a deleted file, that
	 * the member shared_pid (before it in the tree) maps too and holds the
	 * pages or the contents of; 0 none
	 */
	int shared_pid;
};

/* One pass of a chain, as sdump show lists them. */
struct sdump_pass_summary {
	char *dir;		/* the pass's directory, as reached through the parent links */
	char *pass_id;
	char *kind;		/* "pre-dump" or "dump" */
	char *tracker;
	uint64_t time_start_ns;
	struct sdump_stats stats;
};

/* One member of a process tree's image (tree.img), as sdump show lists them. */
struct sdump_tree_member_info {
	pid_t pid, ppid, pgid, sid;
	bool zombie;		/* ended, not reaped: no pass of its own */
	int exit_status;	/* a zombie's wait status */
	bool stopped;		/* in a job-control stop */
	char comm[16];
	char *dir;		/* its pass (the tree's directory/pid-PID), NULL for a zombie */
	struct sdump_stats stats; /* its pass's (zeros for a zombie) */
};

struct sdump_image_info {
	char *dir;		/* the directory as given */
	uint32_t format_version;
	char *kind;		/* "pre-dump" or "dump" */
	char *pass_id;		/* 32 hex digits */
	char *parent_pass_id;	/* or NULL */
	char *parent_path;	/* the parent link as stored, or NULL */
	char *tracker;		/* backend name */
	pid_t pid;
	uint64_t start_time;	/* the process's start time, clock ticks since boot */
	char *comm;
	uint32_t page_size;
	char *kernel;		/* uname release of the dumping kernel */
	uint64_t time_start_ns, time_end_ns; /* CLOCK_REALTIME */
	struct sdump_stats stats;
	size_t nr_vmas;
	struct sdump_vma_info *vmas;
	size_t chain_len;	/* this pass and all its parents, newest first */
	struct sdump_pass_summary *chain;
	struct sdump_image_state *state; /* a final dump's process state (opaque), or NULL */
	/*
	 * Of a process tree's image: its members in tree.img's order, the root
	 * first; everything above then describes the root's pass. Else 0, NULL.
	 */
	size_t tree_len;
	struct sdump_tree_member_info *tree;
};

/*
 * Read and verify the image in @dir (every checksum of every file) and its
 * chain of parents (every link and record file), and describe them. Free with sdump_image_info_free(). -ENOENT: not an image
 * (no inventory.img); -EBADMSG: corrupt or truncated. Of a process tree's
 * image (tree.img), every member's pass is read and verified so, and the
 * result describes the root's, with the tree in tree_len and tree.
 */
SDUMP_API int sdump_image_info_load(struct sdump_ctx *ctx, const char *dir,
				    struct sdump_image_info **ret_info);
SDUMP_API void sdump_image_info_free(struct sdump_image_info *info);
/*
 * Describe a loaded image on @out: as text for a person, or as one JSON
 * object whose keys sdump(1) documents (a final dump adds threads, process
 * and files).
 */
SDUMP_API void sdump_image_info_write_text(const struct sdump_image_info *info, FILE *out);
SDUMP_API void sdump_image_info_write_json(const struct sdump_image_info *info, FILE *out);
/*
 * The chain of a loaded image as a table on @out: a header line, then one
 * line per pass, newest first: kind, start date (UTC), tracker, pages
 * written, bytes on disk, freeze time and directory (sdump show --chain).
 */
SDUMP_API void sdump_image_info_write_chain(const struct sdump_image_info *info, FILE *out);

/* What sdump_chain_verify() read of one pass. */
struct sdump_verify_pass {
	char *dir;		/* as reached through the parent links */
	char *kind;		/* "pre-dump" or "dump" */
	char *pass_id;
	uint64_t frames;	/* frames of pages.img decoded */
	uint64_t page_bytes;	/* their bytes, decompressed */
	uint64_t parent_runs;	/* runs left to the parent, each found recorded there */
	uint64_t ghost_files, ghost_frames; /* saved deleted files and frames of ghost-data.img */
	uint64_t threads, fds;	/* a final dump's state files */
};

struct sdump_verify_report {
	size_t n;		/* passes, newest first */
	struct sdump_verify_pass *passes;
};

/*
 * Read and check every byte of the chain ending at @dir: every record file
 * and parent link of every pass, every frame of its pages.img and
 * ghost-data.img (checksum, decompression, size), a final dump's state
 * files, and that every run a pass leaves to its parent is recorded there.
 * The first failure is the error, naming its file: -EBADMSG corrupt or
 * truncated, -ENOENT a missing pass. @dir a tree's image (tree.img):
 * tree.img, then every member's chain, the report holding each member's
 * passes after the one before's (the root's first). Free the report with
 * sdump_verify_report_free().
 */
SDUMP_API int sdump_chain_verify(struct sdump_ctx *ctx, const char *dir,
				 struct sdump_verify_report **ret_report);
/*
 * The same for the newest pass of @dir alone: every record file and link
 * of the chain, but the frames and state files of @dir only (its parents
 * verified before, as a receiver of a migration does pass by pass).
 */
SDUMP_API int sdump_pass_verify(struct sdump_ctx *ctx, const char *dir,
				struct sdump_verify_report **ret_report);
/*
 * The same, but the frames of its pages.img are not read (a post-copy
 * receiver's final pass, whose pages are still arriving: each frame's
 * checksum is checked when the restore reads it).
 */
SDUMP_API int sdump_pass_verify_no_pages(struct sdump_ctx *ctx, const char *dir,
					 struct sdump_verify_report **ret_report);
SDUMP_API void sdump_verify_report_free(struct sdump_verify_report *rep);
/* The report for a person (a few lines per pass, then one 'verified:' line), or as JSON. */
SDUMP_API void sdump_verify_report_write_text(const struct sdump_verify_report *rep, FILE *out);
SDUMP_API void sdump_verify_report_write_json(const struct sdump_verify_report *rep, FILE *out);

/* What sdump_squash() made. */
struct sdump_squash_info {
	uint64_t passes;	/* of the chain read */
	uint64_t pages_data;	/* pages the new pass stores */
	uint64_t pages_zero;	/* pages it records as zeros */
	uint64_t bytes_written;	/* its pages.img, pagemap.img and mm.img */
};

/*
 * Write into @new_dir (it must not exist, or be an empty directory) one
 * pass equal to the newest pass of the chain ending at @dir that holds
 * every page itself: no parent, the same pass id, kind, process, memory
 * map and state, so that a restore of @new_dir gives the process a
 * restore of @dir gives, byte for byte, and a next pass may take
 * @new_dir as its parent as it would @dir. It is written in a temporary
 * directory beside @new_dir and renamed to it once complete: a failure
 * or an interruption leaves no @new_dir (at most the temporary
 * ".NAME.squash-XXXXXX", to remove), and the chain is only read.
 * Errors as sdump_chain_verify()'s for the chain; -EEXIST @new_dir is
 * not empty; -ENOSPC, -EIO.
 */
SDUMP_API int sdump_squash(struct sdump_ctx *ctx, const char *dir, const char *new_dir,
			   struct sdump_squash_info *ret_info);

/* What sdump_prune() did. */
struct sdump_prune_info {
	uint64_t chains;	/* of the directories given */
	uint64_t squashed;	/* passes made self-contained in place (one per chain pruned) */
	uint64_t deleted;	/* pass directories removed */
	uint64_t bytes_freed;	/* the files removed, less those written */
};

/*
 * For each chain ending at one of @dirs (its newest pass): keep the newest
 * @keep passes (>= 1) restorable and remove the older ones. The oldest
 * kept pass is first squashed in place (what it and the passes after it
 * still need of the older ones folded into it, its pass id kept, so that
 * the passes after it still link to it), the new directory swapped with
 * the old one in one step (renameat2 RENAME_EXCHANGE); only then are the
 * older passes removed. An interruption at any point leaves every chain
 * restorable: before the swap as it was, after it shorter. A pass that a
 * kept pass of another chain given needs is not removed; chains not given
 * are not known of. A chain of @keep passes or fewer is left as it is.
 */
SDUMP_API int sdump_prune(struct sdump_ctx *ctx, const char *const *dirs, size_t ndirs,
			  unsigned int keep, struct sdump_prune_info *ret_info);

/*
 * Write the bytes of the dumped memory in [addr, addr + len) to @out_fd, as
 * the image in @dir and its parents record them: stored pages from the
 * newest pass that has them, pages of file mappings that were never written
 * from their file, other pages as zeros. The range must lie inside recorded
 * VMAs with no gap: -ERANGE otherwise. -EBADMSG on a damaged image.
 */
SDUMP_API int sdump_extract(struct sdump_ctx *ctx, const char *dir, uint64_t addr, uint64_t len,
			    int out_fd);

/*
 * The pass directory of member @pid of the process tree image @dir into
 * @buf (what extract, coredump, show and verify read of one member);
 * -ENOENT (with a message) when @dir is no tree image or has no such
 * member, -ENAMETOOLONG.
 */
SDUMP_API int sdump_tree_member_dir(struct sdump_ctx *ctx, const char *dir, pid_t pid, char *buf,
				    size_t size);

/*
 * Write to @out_fd (seekable: it is written at offsets) an ELF core file of
 * the moment of the final dump in @dir, memory read through its chain:
 * gdb reads its threads, registers (general, FPU, xstate) and memory.
 * -EINVAL for a pre-dump (it has no threads); -EBADMSG on a damaged image.
 */
SDUMP_API int sdump_coredump(struct sdump_ctx *ctx, const char *dir, int out_fd);

/* ---------------------------------------------------------------------------
 * Kernel features.
 */
struct sdump_feature {
	const char *name;	/* static, e.g. "ptrace-seize" */
	bool present;
	bool required;		/* a plain full pre-dump needs it */
	char detail[96];	/* why missing, or what was found */
	const char *value;	/* "track-auto": the tracker's name, static; else NULL */
};

/*
 * Probe every kernel feature sdump can use, by trying it (never by version).
 * Returns the number of entries stored in @ret_features (at most @max). The
 * last entry is "track-auto": present when --track auto finds a tracker,
 * which @value names ("none" otherwise).
 */
SDUMP_API int sdump_check(struct sdump_ctx *ctx, struct sdump_feature *ret_features, size_t max);

/*
 * The result of sdump_check() as one JSON object on one line (sdump check
 * --json; sdump(1) documents its keys): "features", an array of objects
 * {"name", "present", "required", "detail"} in probe order, without the
 * track-auto entry; "track_auto", the tracker --track auto uses (a string,
 * "none" when there is none); "full_pre_dump_possible", whether every
 * required feature is present.
 */
SDUMP_API void sdump_features_write_json(const struct sdump_feature *features, size_t n, FILE *out);

/*
 * ---------------------------------------------------------------------
 * For tests only. Nothing a program that checkpoints processes needs:
 * the command line calls these when SDUMP_FAULT or SDUMP_FAULT_COUNT is
 * set, so that the test suite can fail any call of the shipped binary.
 * ---------------------------------------------------------------------
 */

/*
 * Fault injection, for tests: the @nth call of one kind fails with an errno,
 * given as "<kind>:<nth>[:<errno>]" (the SDUMP_FAULT environment variable of
 * the command line). Kinds: "write" (write, pwrite, fsync of image files, of
 * the memory of a process being restored, of state files), "procread" (reads
 * of /proc files, pagemap, /proc/PID/mem, process_vm_readv), "ptrace" (a
 * ptrace request that goes forward), "inject" (a system call injected into a
 * process: it returns -errno instead of running), "open" (creating an image
 * directory or file), "net" (a send or receive of a migration's stream: the
 * connection as if cut). The errno is a name (EIO, ENOSPC, EDQUOT, EPERM,
 * EACCES, ENOMEM, ESRCH, EFAULT, EINVAL, EROFS, EFBIG, EAGAIN, EBUSY,
 * EMFILE, ECONNRESET, EPIPE) or a number; EIO when left out. NULL or "" clears the plan.
 * Process-wide. Returns 0 or -EINVAL for a malformed @spec.
 */
SDUMP_API int sdump_fault_set(const char *spec);
/*
 * How many calls of each kind the process made so far, whether or not a
 * plan is set: "write=N procread=N ptrace=N inject=N open=N net=N" into @buf
 * (truncated to @size), so that a test can walk nth over a whole operation.
 */
SDUMP_API void sdump_fault_format_counts(char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SDUMP_H */
