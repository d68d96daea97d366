/* SPDX-License-Identifier: MIT */
/*
 * The data model of the fds on anonymous inodes a dump saves (eventfd,
 * signalfd, timerfd, epoll, inotify): what each kind's fdinfo shows of its
 * state, held in struct fd_state (pstate.h) as its member anon; and the
 * pure parsers of those fdinfo lines (proc_anon.c).
 */
#ifndef SDUMP_PSTATE_ANON_H
#define SDUMP_PSTATE_ANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest value an eventfd counter holds (fs/eventfd.c: ULLONG_MAX - 1). */
#define EVENTFD_COUNT_MAX (UINT64_MAX - 1)

/*
 * A timerfd, as fdinfo shows it once timerfd_gettime() has moved a
 * periodic timer that expired past its expirations (adding them to ticks).
 */
struct timerfd_state {
	int clockid;
	uint32_t settime_flags;	/* TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET */
	uint64_t ticks;		/* expirations not read yet */
	/*
	 * When it fires next (0: disarmed): fdinfo's it_value, the time left;
	 * in an image with TFD_TIMER_ABSTIME the clock's time then instead.
	 */
	uint64_t value_ns;
	uint64_t interval_ns;
};

/*
 * One watch of an epoll, a "tfd:" line of its fdinfo: the fd number it
 * was added as, its events (the kernel's: EPOLLERR and EPOLLHUP always
 * in, EPOLLWAKEUP only where it took), its data; and which fd of the
 * process holds its file now (kcmp KCMP_EPOLL_TFD): @tfd itself, or
 * another when that one was closed or given another file since.
 */
struct epoll_watch {
	int tfd;
	uint32_t events;
	uint64_t data;
	int fd;
};

/* The most watches an image may hold, over all its epolls. */
#define EPOLL_MAX_WATCHES (1u << 20)

/*
 * One watch of an inotify, an "inotify wd:" line of its fdinfo: its watch
 * descriptor, its mask (the events, IN_ONESHOT, IN_EXCL_UNLINK), the inode
 * (as stat() names its device: major << 32 | minor) and its file handle;
 * the dump finds the inode's path through the handle.
 */
#define INOTIFY_HANDLE_MAX 128
struct inotify_watch {
	int wd;
	uint32_t mask;
	uint64_t dev, ino;
	int handle_type;
	uint32_t handle_bytes;
	uint8_t handle[INOTIFY_HANDLE_MAX];
	char *path;		/* a path of the inode (the dump's); NULL until found */
};

/* The most watches an image may hold, over all its inotifys, and the highest watch descriptor. */
#define INOTIFY_MAX_WATCHES (1u << 20)
#define INOTIFY_MAX_WD (1 << 16)

/*
 * One mark of a fanotify group, a "fanotify ino:" (an inode), "fanotify
 * mnt_id:" (a mount) or "fanotify sdev:" (a file system) line of its
 * fdinfo: its mark flags (FAN_MARK_IGNORED_SURV_MODIFY,
 * FAN_MARK_EVICTABLE, ...), mask and ignored mask; what it marks in
 * @obj: the inode (dev, ino, handle) or the file system (dev), with a path
 * of it the dump finds (a mount's: its mount point).
 */
enum fanotify_mark_type {
	FANM_INODE = 0,
	FANM_MOUNT = 1,
	FANM_FS = 2,
};

struct fanotify_mark_state {
	enum fanotify_mark_type type;
	uint32_t mflags;
	uint64_t mask, ignored_mask;
	int mnt_id;			/* FANM_MOUNT: its mount's id */
	struct inotify_watch obj;	/* wd unused */
};

#define FANOTIFY_MAX_MARKS (1u << 20)

struct fd_anon_state {
	/* eventfd: "eventfd-count:" (hex) and "eventfd-semaphore:" (EFD_SEMAPHORE) */
	uint64_t efd_count;
	bool efd_semaphore;
	/* signalfd: "sigmask:", bit sig - 1 for each signal it reads */
	uint64_t sigmask;
	struct timerfd_state tfd;
	/* epoll: its watches, in fdinfo's order */
	size_t nwatches;
	struct epoll_watch *watches;
	/* inotify: its watches, by increasing watch descriptor */
	size_t ninotify;
	struct inotify_watch *inotify;
	/* fanotify: fanotify_init()'s flags and event flags, its marks in fdinfo's order */
	uint32_t fan_flags, fan_event_flags;
	size_t nfanotify;
	struct fanotify_mark_state *fanotify;
};

/* Free what @a owns; takes a zeroed or half-filled one. */
void sd_fd_anon_release(struct fd_anon_state *a);

/*
 * The fdinfo text @info of an eventfd: its counter and EFD_SEMAPHORE.
 * -EBADMSG if the counter is missing or malformed, -ENODATA without the
 * "eventfd-semaphore:" line (older kernels do not show it).
 */
int sd_proc_parse_eventfd(const char *info, struct fd_anon_state *ret);

/* The fdinfo text @info of a signalfd: its mask. -EBADMSG without one. */
int sd_proc_parse_signalfd(const char *info, struct fd_anon_state *ret);

/*
 * The fdinfo text @info of a timerfd: clockid, ticks, settime flags,
 * it_value (the time left) and it_interval. -EBADMSG if one is missing or
 * malformed.
 */
int sd_proc_parse_timerfd(const char *info, struct timerfd_state *ret);

/*
 * The "tfd:" lines of the fdinfo text @info of an epoll, into a new array
 * (@ret_n of them, their fd set to their tfd; NULL for none). -EBADMSG
 * for a malformed line, -ENOMEM.
 */
int sd_proc_parse_epoll(const char *info, struct epoll_watch **ret, size_t *ret_n);

/*
 * The "inotify wd:" lines of the fdinfo text @info of an inotify, into a
 * new array sorted by watch descriptor (@ret_n of them, paths NULL; NULL
 * for none). -EBADMSG for a malformed line (a handle longer than
 * INOTIFY_HANDLE_MAX, a watch descriptor twice), -ENOMEM.
 */
int sd_proc_parse_inotify(const char *info, struct inotify_watch **ret, size_t *ret_n);

/*
 * The process a pidfd refers to, its fdinfo's "Pid:" (in the pid namespace
 * of the reader): -1 once it has exited and been reaped. -EBADMSG without.
 */
int sd_proc_parse_pidfd(const char *info, int *ret_pid);

/*
 * The fdinfo text @info of a fanotify group: its "fanotify flags:" line
 * into @ret (fan_flags, fan_event_flags) and its marks into a new array
 * (@ret->nfanotify of them, paths NULL). -EBADMSG for a malformed line or
 * none of flags, -ENOMEM.
 */
int sd_proc_parse_fanotify(const char *info, struct fd_anon_state *ret);

#endif /* SDUMP_PSTATE_ANON_H */
