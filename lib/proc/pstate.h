/* SPDX-License-Identifier: MIT */
/*
 * The data model of a process's non-memory state: each thread's registers,
 * signals and kernel-side registrations, and what the process holds (signal
 * handlers, mm fields, limits, timers, credentials, its fd table). The dump
 * fills it (dump/dump_state.c, dump/dump_files.c), image/state_img.c writes
 * and reads it, restore/ puts it back, inspect/ prints it. Nothing here
 * touches a process.
 */
#ifndef SDUMP_PSTATE_H
#define SDUMP_PSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "sdump.h"
#include "pattr.h"
#include "psec.h"
#include "pstate_anon.h"
#include "pstate_sock.h"

#define SIGINFO_SIZE 128
#define NSIG_MAX 64
#define XSAVE_MAX 16384

struct thread_state {
	pid_t tid;
	struct user_regs_struct regs;
	struct user_fpregs_struct fpregs;
	uint8_t *xsave;		/* NT_X86_XSTATE, or NULL */
	size_t xsave_len;
	uint64_t sigmask;
	size_t npending;
	uint8_t (*pending)[SIGINFO_SIZE];
	bool has_stop_signal;
	uint8_t stop_signal[SIGINFO_SIZE];
	uint64_t altstack_sp, altstack_size;
	int altstack_flags;
	uint64_t robust_list, robust_list_len;
	uint64_t clear_child_tid;
	bool has_rseq;
	uint64_t rseq_abi;
	uint32_t rseq_size, rseq_sig;
	char comm[16];
	int sched_policy, sched_priority, nice;
	/* in restart_syscall: the call it restarts, or 0 (dump_restart.c) */
	int restart_call;
	struct attr_thread attrs;
	struct sec_thread sec;		/* capabilities, no_new_privs, seccomp (psec.h) */
};

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

struct rlimit64_s {
	uint64_t cur, max;
};

struct mm_fields {
	uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint8_t *auxv;
	size_t auxv_len;
	char exe[4096];
	uint64_t vdso, vvar, vvar_end;
};

#define NRLIMITS 16

/*
 * A directory removed while the process kept it as its cwd or root (the
 * /proc link reads "PATH (deleted)"), or one of its parents removed with
 * it: what a directory made again at PATH for the restore must have.
 */
struct removed_dir {
	uint32_t mode, uid, gid;
};

/* The most removed directories, the cwd's (or root's) and its parents', an image may hold. */
#define REMOVED_DIRS_MAX 32

struct process_state {
	pid_t pid, ppid, pgid, sid;
	struct ksigaction sigactions[NSIG_MAX]; /* [sig - 1] */
	size_t nshared;
	uint8_t (*shared)[SIGINFO_SIZE];
	struct mm_fields mm;
	uint32_t personality;
	struct rlimit64_s rlimits[NRLIMITS];
	uint64_t itimer_interval_us[3], itimer_value_us[3];
	uint32_t umask;
	char cwd[4096], root[4096];
	uint32_t uid[4], gid[4];
	size_t ngroups;
	uint32_t groups[256];
	bool thp_disabled;
	int dumpable;
	size_t nthreads;
	struct thread_state *threads;
	/* removed cwd / root: [0] the directory itself, [i + 1] the parent of [i] (all removed) */
	size_t ncwd_removed, nroot_removed;
	struct removed_dir cwd_removed[REMOVED_DIRS_MAX], root_removed[REMOVED_DIRS_MAX];
	struct attr_process attrs;
	size_t ntimers;			/* POSIX timers, by id (psec.h) */
	struct posix_timer *timers;
	uint64_t ctty;		/* its session's controlling terminal, major << 32 | minor (0: none) */
	pid_t ctty_fg_pgrp;	/* that terminal's foreground process group (0: none) */
	int stop_sig;		/* in a job-control stop at the dump: its signal (0: not stopped) */
};

/*
 * The kinds of fd a dump saves, numbered as FdKind in files.img. A new kind
 * touches, each in its own file:
 *
 *  - its line here, and FDK_MAX if it comes last;
 *  - its name in fd_kind_names[] (proc/pstate.c), what sdump show prints;
 *  - its row in dump_fd_kinds[] (dump/dump_fd_kinds.c): how the dump
 *    recognises it and what it collects beyond the generic fields (a row
 *    that refuses it today becomes one that takes it);
 *  - its opener in rst_fd_openers[] (restore/rst_files.c);
 *  - its FdKind value in proto/files.proto, and the Fd fields it needs,
 *    written and read in image/state_img.c; there too a _Static_assert
 *    that the two numberings agree (test_image.c checks that FdKind has
 *    no value more or fewer than FDK_FILE..FDK_MAX, and their names);
 *  - its description under "File descriptors" in man/sdump.1, under FdKind
 *    in man/sdump-images.5, and in README.md's paragraph on the fd table;
 *  - a test in tests/integration: the dump in t030-dump-state.sh, the
 *    restore in t041-restore-state.sh (a refused kind: t033-dump-refuse.sh).
 */
enum fd_kind {
	FDK_FILE = 1,	/* a regular file, reopened by path */
	FDK_DIR,
	FDK_CHR,	/* a character device other than a terminal */
	FDK_PIPE,
	FDK_FIFO,	/* a named pipe */
	FDK_TTY,	/* a terminal: the restoring shell's (--shell-job) */
	/* anonymous inodes (10-19): their state in fd_state.anon (pstate_anon.h) */
	FDK_EVENTFD = 10,
	FDK_SIGNALFD,
	FDK_TIMERFD,
	FDK_EPOLL,
	FDK_INOTIFY,
	FDK_PIDFD,	/* a pidfd of the process itself, or of a member of its tree */
	FDK_FANOTIFY,
	/* deleted files (17-19): their contents in ghosts.img, fd_state.ghost */
	FDK_GHOST = 17,	/* a regular file or a directory open after its last name went */
	FDK_MEMFD,	/* a memfd: its name, contents and seals */
	/* a pty whose both ends the process holds (19, 30) */
	FDK_PTMX = 19,	/* its master: fd_state.pty, its settings in fd_state.tty */
	/* sockets (20-29): their state in fd_state.sk (pstate_sock.h) */
	FDK_UNIX = 20,
	FDK_INET,	/* a TCP, UDP, UDP-Lite, ICMP (ping) or raw socket, IPv4 or IPv6 */
	FDK_PTS = 30,	/* a slave of a pty master the process holds */
	/* files by path (34-37) */
	FDK_NODE = 34,	/* a FIFO, device node or symlink open after its last name went */
	FDK_PATH,	/* an O_PATH fd of a symlink or of a socket file */
	FDK_BLK,	/* a block device */
	FDK_NS,		/* a namespace fd of one of the process's own namespaces: fd_state.ns */
	FDK_NETLINK = 39, /* a netlink socket */
	FDK_PACKET,	/* a packet socket (AF_PACKET) */
	FDK_MAX = FDK_PACKET
};

/*
 * The kinds of file lock, numbered as LockKind in files.img; each line of
 * /proc/locks (and of the fdinfo of the fd it is held through) is one.
 */
enum lock_kind {
	FLK_POSIX = 1,	/* fcntl(F_SETLK): the process's, on a byte range */
	FLK_OFD,	/* fcntl(F_OFD_SETLK): the open file description's, on a byte range */
	FLK_FLOCK,	/* flock(): the open file description's, the whole file */
	FLK_LEASE,	/* fcntl(F_SETLEASE) */
	FLK_MAX = FLK_LEASE
};

/* end of a lock to the end of the file, however long it grows ("EOF") */
#define LOCK_EOF UINT64_MAX

struct lock_state {
	enum lock_kind kind;
	bool write;		/* a write (exclusive) lock or lease, else read (shared) */
	uint64_t start, end;	/* POSIX and OFD: bytes start..end; flock and lease: 0..LOCK_EOF */
	uint64_t dev, ino;	/* the inode as /proc/locks names it: major << 32 | minor */
};

/* A terminal's settings (FDK_TTY): termios as tcgetattr() gives them, the window size. */
#define TTY_NCC_MAX 32
struct tty_state {
	uint32_t iflag, oflag, cflag, lflag, line;
	uint8_t cc[TTY_NCC_MAX];
	size_t ncc;
	uint32_t ispeed, ospeed;
	uint16_t rows, cols, xpixel, ypixel;
};

/* A pty (FDK_PTMX, FDK_PTS): its number, and of a master its packet mode and lock. */
#define PTY_INDEX_MAX (1u << 20)
struct pty_state {
	uint32_t index;		/* /dev/pts/INDEX (TIOCGPTN) */
	bool packet;		/* TIOCPKT on (TIOCGPKT) */
	bool locked;		/* the slave may not be opened (TIOCGPTLCK) */
	bool has_owner;		/* a master's: its slave /dev/pts/INDEX's */
	uint32_t mode, uid, gid;	/* permissions (07777) and owner */
};

struct fd_state {
	int fd;
	enum fd_kind kind;
	char *path;		/* what /proc/PID/fd/N links to; never NULL once read */
	uint32_t flags;
	uint64_t pos;
	uint64_t dev, ino, size, rdev;
	uint32_t mode;
	uint64_t mtime_ns;	/* the file's st_mtim, ns since the epoch (0: unknown, an older image) */
	uint64_t atime_ns;	/* and st_atim (saved for a deleted file's: its copy gets both) */
	uint8_t *pipe_data;	/* on one fd of each pipe */
	size_t pipe_data_len;
	bool has_pipe_data;
	uint32_t pipe_size;	/* pipes and FIFOs: F_GETPIPE_SZ (0: unknown, an older image) */
	int owner_type, owner_pid;	/* F_GETOWN_EX: who gets its I/O signals (pid 0: nobody) */
	int signum;			/* F_GETSIG: which signal (0: SIGIO) */
	bool has_dup_of;		/* its open file description is shared with a lower fd: */
	int dup_of;			/* the lowest of them */
	size_t nlocks;			/* held through its open file description; on the lowest */
	struct lock_state *locks;	/* fd of a shared one */
	bool has_tty;			/* a terminal: its settings */
	struct tty_state tty;
	bool external;			/* a pipe whose other end no fd of the process held */
	bool has_shared;		/* a process tree: its open file description is that */
	pid_t shared_pid;		/* of fd shared_fd of member shared_pid, which the */
	int shared_fd;			/* restore makes first (tree.img's order) */
	struct fd_anon_state anon;	/* an anonymous inode's own state, by kind */
	uint32_t ghost;			/* FDK_GHOST, FDK_MEMFD: its file in ghosts.img (>= 1) */
	bool has_pty;			/* FDK_PTMX, FDK_PTS: */
	struct pty_state pty;
	struct sock_state *sk;		/* a socket's (FDK_UNIX, FDK_INET, FDK_NETLINK, FDK_PACKET), else NULL */
	pid_t pidfd_pid;		/* FDK_PIDFD: of another member of its tree (0: of itself, -1: exited) */
	/*
	 * FDK_NODE of a symlink: its target; FDK_FILE of a file whose name in
	 * path went but which has another: that name (else NULL).
	 */
	char *link_target;
	bool has_node_owner;		/* FDK_NODE: its owner */
	uint32_t node_uid, node_gid;
	char ns[24];			/* FDK_NS: its name in /proc/PID/ns ("net") */
	bool has_proc_start;		/* a file of another process's /proc: */
	uint64_t proc_start;		/* its start time (/proc/PID/stat field 22) */
	/*
	 * FDK_GHOST of a directory: the removed directory of the cwd or root
	 * (removed_of) at removed_level (0: the cwd itself), one directory
	 * with it; or else the parents removed with it, innermost first, as
	 * mode, uid, gid triplets (nremoved_parents of them).
	 */
	uint8_t removed_of;		/* REMOVED_OF_CWD, REMOVED_OF_ROOT, 0: neither */
	uint32_t removed_level;
	size_t nremoved_parents;
	uint32_t *removed_parents;
};

#define REMOVED_OF_CWD 1
#define REMOVED_OF_ROOT 2

/* The most fds an image may hold: the kernel's default fs.nr_open. */
#define FILES_MAX_FDS (1u << 20)
/* The most locks an image may hold, over all its fds. */
#define FILES_MAX_LOCKS (1u << 20)

struct files_state {
	size_t n;
	struct fd_state *fds;
};

/* Free what the structures own; both take zeroed or half-filled ones. */
void sd_process_state_release(struct process_state *ps);
void sd_files_state_release(struct files_state *fs);

/* "file", "dir", ...: the name of kind @k, "?" for a value that is none. */
const char *sd_fd_kind_name(enum fd_kind k);

/*
 * The path of directory @level of a removed cwd or root whose /proc link
 * reads @link ("PATH (deleted)"): PATH for 0, its parent for 1, and so on
 * up to "/" (PATH's number of components). -EINVAL when @link does not
 * end so, is not an absolute path of plain names, or has no such level.
 */
int sd_removed_dir_path(const char *link, size_t level, char *buf, size_t size);
/* "posix", "ofd", "flock", "lease": the name of lock kind @k, "?" for a value that is none. */
const char *sd_lock_kind_name(enum lock_kind k);
/*
 * What a message calls lock @l: "POSIX write lock on bytes 0-99", "OFD read
 * lock on bytes 100 to the end", "flock exclusive lock", "read lease".
 */
#define LOCK_DESCRIBE_MAX 96
void sd_lock_describe(const struct lock_state *l, char ret_buf[LOCK_DESCRIBE_MAX]);
/*
 * Open flags as fdinfo shows them (O_CLOEXEC included) by name:
 * "O_RDWR|O_APPEND|O_CLOEXEC", any bit without a name in octal at the end
 * ("O_RDONLY|020000000000").
 */
#define FD_FLAGS_NAME_MAX 256
void sd_fd_flags_name(uint32_t flags, char ret_buf[FD_FLAGS_NAME_MAX]);

/* What sdump show keeps of a final dump (opaque in sdump.h). */
struct sdump_image_state {
	struct process_state ps;
	struct files_state fs;
};

#endif /* SDUMP_PSTATE_H */
