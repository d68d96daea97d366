/* SPDX-License-Identifier: MIT */
/*
 * POSIX timers of a process and the security state of its threads
 * (capabilities, securebits, no_new_privs, seccomp) in the data model
 * (pstate.h). Collected by dump/dump_sec.c, written by image/sec_img.c,
 * put back by restore/rst_sec.c and rst_timers.c. Nothing here touches a
 * process; the parser is pure, for the unit tests too.
 */
#ifndef SDUMP_PSEC_H
#define SDUMP_PSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most POSIX timers an image may hold (the kernel allows more; a dump refuses them). */
#define PTIMERS_MAX 4096
/* sigev_notify values the kernel keeps (SIGEV_THREAD is glibc's, a SIGEV_THREAD_ID to it) */
#define PTIMER_SIGEV_SIGNAL 0
#define PTIMER_SIGEV_NONE 1
#define PTIMER_SIGEV_THREAD_ID 4

/* One timer_create() timer. */
struct posix_timer {
	int32_t id;
	int32_t clock;		/* as the kernel keeps it: CLOCK_PROCESS_CPUTIME_ID reads -6 */
	int32_t notify;		/* PTIMER_SIGEV_* (THREAD_ID with SIGNAL) */
	int32_t signo;
	uint64_t value;		/* sigev_value */
	int32_t target;		/* the pid, or the tid of a SIGEV_THREAD_ID timer */
	uint64_t value_ns;	/* timer_gettime(): time left (0: disarmed) */
	uint64_t interval_ns;
	int32_t overrun;	/* timer_getoverrun() at the dump */
};

/* The most instructions of one seccomp filter (the kernel's BPF_MAXINSNS) and filters of a thread. */
#define SEC_FILTER_MAX_INSNS 4096
#define SEC_FILTERS_MAX 512

/* One classic BPF seccomp filter, as PTRACE_SECCOMP_GET_FILTER gives it. */
struct sec_filter {
	uint32_t flags;		/* PTRACE_SECCOMP_GET_METADATA: SECCOMP_FILTER_FLAG_LOG */
	size_t len;		/* instructions */
	uint64_t *insns;	/* struct sock_filter, 8 bytes each */
};

/* A thread's capabilities, securebits, no_new_privs and seccomp. !valid: an older image. */
struct sec_thread {
	bool valid;
	uint64_t cap_eff, cap_prm, cap_inh, cap_bnd, cap_amb;
	uint32_t securebits;
	bool no_new_privs;
	int seccomp_mode;	/* 0 off, 1 strict, 2 filter */
	size_t nfilters;	/* oldest first, as PTRACE_SECCOMP_GET_FILTER numbers them */
	struct sec_filter *filters;
};

/*
 * The timers of /proc/PID/timers text into a new array (*ret, *ret_n;
 * times and overruns 0): "ID:", "signal: SIG/VALUE", "notify:
 * KIND/pid.N" or "KIND/tid.N", "ClockID:". -EBADMSG for anything else,
 * -E2BIG past PTIMERS_MAX, -ENOMEM.
 */
int sd_psec_parse_timers(const char *buf, struct posix_timer **ret, size_t *ret_n);

/*
 * What a CPU-time clock id counts: *ret_pid the process or thread it
 * names (0: the caller's own) and *ret_thread whether a thread. False for
 * a clock that is no CPU-time clock.
 */
bool sd_psec_cpu_clock(int32_t clock, int32_t *ret_pid, bool *ret_thread);

/* Whether two filters are the same program with the same flags. */
bool sd_psec_filter_equal(const struct sec_filter *a, const struct sec_filter *b);

void sd_sec_thread_release(struct sec_thread *s);

#endif /* SDUMP_PSEC_H */
