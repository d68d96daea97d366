/* SPDX-License-Identifier: MIT */
/* statetarget: what its files share (see main.c for what it is). */
#ifndef STATETARGET_H
#define STATETARGET_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif
#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif
#ifndef PR_GET_THP_DISABLE
#define PR_GET_THP_DISABLE 42
#endif

enum { T_MAIN, T_READ, T_SLEEP, T_FUTEX, NT, T_SLEEP2 = NT, T_FLOOP, T_MUTEX, NT_MORE };
extern const char *const role[NT_MORE];
extern int nt;

struct tinfo {
	pid_t tid;
	long syscall_nr; /* what it is blocked in, from /proc/self/task/TID/syscall */
	unsigned long fs_base, sigmask, tls_addr, tls_value, robust, tidaddr, rseq;
	int nice, policy;
	int ready;
};

extern struct tinfo ti[NT_MORE];
extern __thread unsigned long tls_value;

extern int xmm_futex;
extern int xmm_done;
extern unsigned char xmm_in[8][16];
extern unsigned char xmm_out[8][16];
extern unsigned char membuf[4096];

extern int rpipe[2];
extern int hpipe[2];
extern int fd_file, fd_append, fd_dir, fd_null, with_fd;
extern pid_t child_pid;
extern const char *with;
extern char datapath[4096], delpath[4096], linkpath[4200];
extern void *altstack;
extern int pending_read_sig, pending_main_sig;
extern volatile sig_atomic_t hup_count, usr1_count;

extern char read_got[256];
extern int read_len;

extern int sleep2_count, sleep2_ret, sleep2_errno;
extern long sleep2_rem;
extern int floop_word, floop_count;
extern long floop_ret;
extern pthread_mutex_t pi_mutex;
extern int upipe[2];
extern int mutex_held;

void die(const char *what);
void block(int a, int b);
unsigned long my_fs_base(void);
void report_self(int idx);
void wait_threads(void);
void on_usr1(int sig, siginfo_t *si, void *uc);
void on_hup(int sig);
void on_alrm(int sig);
void *read_main(void *arg);
void *sleep_main(void *arg);
void *futex_main(void *arg);
void *sleep2_main(void *arg);
void *floop_main(void *arg);
void *mutex_main(void *arg);
void xmmcheck(void);
void readwake(const char *text);
void sleepwake(pthread_t t);
void futexwake(void);
void mutexheld(void);
void unlock_mutex(void);

#endif
