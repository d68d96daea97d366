/* SPDX-License-Identifier: MIT */
/*
 * A target whose process and thread attributes (what prctl(2),
 * arch_prctl(2), the scheduler and /proc settings hold, beyond signals,
 * memory and fds) are set to values no process starts with, so that a
 * restore can be checked against what the target says of itself. Driven
 * over stdin/stdout one line at a time:
 *
 *   facts   -> one line, a JSON object: every value below as the process
 *              and each thread read it back themselves ("threads": "main",
 *              "pinned", "deadline", each with its "tid")
 *   rie     -> maps a PROT_READ page: "ok PERMS", its protections in
 *              /proc/self/maps ("r-xp" under READ_IMPLIES_EXEC)
 *   wx      -> tries a PROT_WRITE|PROT_EXEC mapping: "ok denied" (EACCES,
 *              as memory-deny-write-execute wants) or "ok allowed"
 *   exit    -> exits 0
 *
 * Set up before it prints "ready PID" (a value the kernel here lacks is
 * left as it is, and its fact says so: "ksm" false, "futex_slots" -1, ...):
 *   - process: its own session (setsid) with autogroup nice 5, THP
 *     disabled except where advised (Linux 6.18; else disabled),
 *     oom_score_adj 345, coredump_filter 0x3f, audit login uid 4242
 *     (where the kernel has audit; "loginuid" in facts, -1 without),
 *     child subreaper,
 *     membarrier registered for GLOBAL_EXPEDITED, PRIVATE_EXPEDITED,
 *     PRIVATE_EXPEDITED_SYNC_CORE and PRIVATE_EXPEDITED_RSEQ, KSM merging
 *     of all its memory, AMX tiles permitted (if the CPU has them), a
 *     private futex hash of 64 slots, memory-deny-write-execute, the
 *     mappings to come locked once touched (mlockall MCL_FUTURE |
 *     MCL_ONFAULT; "mcl_future" in facts: 6);
 *   - the main thread: personality READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE,
 *     timer slack 123456 ns, I/O priority best-effort 4, a 3 ms time
 *     slice (sched_setattr of SCHED_OTHER), parent-death signal SIGUSR2,
 *     memory policy MPOL_PREFERRED node 0;
 *   - "pinned", made while the main thread's slack was 222222 ns (its
 *     default): CPU 0 only, timer slack 7777 ns, I/O priority best-effort 7,
 *     CPUID faulting, machine-check kill early, parent-death signal SIGURG,
 *     memory policy MPOL_BIND | MPOL_F_STATIC_NODES node 0;
 *   - "deadline": SCHED_DEADLINE 2 ms every 20 ms, personality
 *     ADDR_NO_RANDOMIZE | UNAME26 (its own), TSC reads fault
 *     (PR_TSC_SIGSEGV), keepcaps, machine-check kill late, memory policy
 *     MPOL_INTERLEAVE node 0.
 * The threads but main wait in read() for a request and answer it
 * themselves: "deadline" makes no call that reads the TSC, "pinned" none
 * that runs cpuid.
 *
 * Options:
 *   --with sud  one more thread with syscall user dispatch on (selector
 *               ALLOW), which a dump must refuse
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif
#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH 78
#endif
#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#define FUTEX_SET_SLOTS 1
#define FUTEX_GET_SLOTS 2
#define MB_GET_REGISTRATIONS (1 << 9)
#define MB_REGISTERS ((1 << 2) | (1 << 4) | (1 << 6) | (1 << 8))
#define ARCH_GET_CPUID_ 0x1011
#define ARCH_SET_CPUID_ 0x1012
#define ARCH_GET_XCOMP_SUPP_ 0x1021
#define ARCH_GET_XCOMP_PERM_ 0x1022
#define ARCH_REQ_XCOMP_PERM_ 0x1023
#define XFEATURE_XTILEDATA 18
#define IOPRIO_WHO_PROCESS_ 1
#define IOPRIO_BE(level) ((2 << 13) | (level))
#define MPOL_PREFERRED_ 1
#define MPOL_BIND_ 2
#define MPOL_INTERLEAVE_ 3
#define MPOL_F_STATIC_NODES_ (1 << 15)

struct sattr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

enum { T_MAIN, T_PINNED, T_DEADLINE, T_SUD, NT_MAX };
static const char *const role[NT_MAX] = { "main", "pinned", "deadline", "sud" };
static int nt = T_SUD; /* threads in use */
static pid_t tids[NT_MAX];
static int req[NT_MAX][2], rep[NT_MAX][2];
static int ready[NT_MAX];
static volatile char sud_selector; /* SYSCALL_DISPATCH_FILTER_ALLOW */

static void die(const char *what)
{
	fprintf(stderr, "attrtarget: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
}

/* A thread's own values, as JSON, into @buf: only system calls, no vDSO and no cpuid. */
static void thread_facts(int i, char *buf, size_t size)
{
	unsigned char cpus[128] = { 0 };
	struct sattr sa = { 0 };
	long slack, def = -1;
	int sig = -1, tsc = -1, policy, mpol = -1;
	unsigned long nodes[16] = { 0 };
	char list[512] = "";
	size_t used = 0;

	(void)syscall(SYS_sched_getaffinity, 0, sizeof(cpus), cpus);
	for (int c = 0; c < (int)sizeof(cpus) * 8; c++)
		if (cpus[c / 8] & (1 << (c % 8)))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%d", used ? "," : "", c);
	(void)syscall(SYS_sched_getattr, 0, &sa, sizeof(sa), 0);
	policy = sched_getscheduler(0);
	(void)prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
	(void)prctl(PR_GET_TSC, &tsc, 0, 0, 0);
	(void)syscall(SYS_get_mempolicy, &mpol, nodes, sizeof(nodes) * 8, 0, 0);
	slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	/* the default: what 0 gives (a real-time thread ignores the call: none to read) */
	if (policy != SCHED_DEADLINE && slack > 0 && prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0) == 0) {
		def = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
		(void)prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
	}
	(void)snprintf(buf, size,
		       "{\"tid\":%ld,\"cpus\":\"%s\",\"pdeathsig\":%d,\"slack\":%ld,\"slack_default\":%ld"
		       ",\"personality\":%d,\"ioprio\":%ld,\"tsc\":%d,\"mce\":%d,\"keepcaps\":%d"
		       ",\"cpuid\":%ld,\"policy\":%d,\"runtime\":%llu,\"deadline\":%llu,\"period\":%llu"
		       ",\"mempolicy\":%d,\"mempolicy_nodes\":%lu}",
		       syscall(SYS_gettid), list, sig, slack, def, personality(0xffffffff),
		       syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS_, 0), tsc,
		       prctl(PR_MCE_KILL_GET, 0, 0, 0, 0), prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0),
		       syscall(SYS_arch_prctl, ARCH_GET_CPUID_, 0), policy,
		       (unsigned long long)sa.runtime, (unsigned long long)sa.deadline,
		       (unsigned long long)sa.period, mpol, nodes[0]);
	(void)i;
}

static void set_mempolicy_node0(int mode)
{
	unsigned long node0 = 1;

	if (syscall(SYS_set_mempolicy, mode, &node0, 2) < 0)
		die("set_mempolicy");
}

static void setup_thread(int i)
{
	struct sattr dl = { .size = sizeof(dl), .policy = SCHED_DEADLINE, .runtime = 2000000,
			    .deadline = 20000000, .period = 20000000 };
	unsigned char cpu0 = 1;

	switch (i) {
	case T_PINNED:
		if (syscall(SYS_sched_setaffinity, 0, sizeof(cpu0), &cpu0) < 0)
			die("sched_setaffinity");
		if (prctl(PR_SET_TIMERSLACK, 7777, 0, 0, 0) < 0 ||
		    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS_, 0, IOPRIO_BE(7)) < 0 ||
		    prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0) < 0 ||
		    prctl(PR_SET_PDEATHSIG, SIGURG, 0, 0, 0) < 0)
			die("pinned thread setup");
		set_mempolicy_node0(MPOL_BIND_ | MPOL_F_STATIC_NODES_);
		/* ENODEV: a CPU without CPUID faulting; the fact then says cpuid works */
		(void)syscall(SYS_arch_prctl, ARCH_SET_CPUID_, 0);
		break;
	case T_DEADLINE:
		if (personality(ADDR_NO_RANDOMIZE | UNAME26) < 0 || prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0) < 0 ||
		    prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) < 0)
			die("deadline thread setup");
		set_mempolicy_node0(MPOL_INTERLEAVE_);
		if (syscall(SYS_sched_setattr, 0, &dl, 0) < 0)
			die("sched_setattr SCHED_DEADLINE");
		break;
	case T_SUD:
		if (prctl(PR_SET_SYSCALL_USER_DISPATCH, 1 /* ON */, 0, 0, &sud_selector) < 0)
			die("PR_SET_SYSCALL_USER_DISPATCH");
		break;
	}
}

static void *thread_main(void *arg)
{
	int i = (int)(intptr_t)arg;
	char c, buf[1024];

	tids[i] = (pid_t)syscall(SYS_gettid);
	setup_thread(i);
	__atomic_store_n(&ready[i], 1, __ATOMIC_RELEASE);
	for (;;) {
		if (read(req[i][0], &c, 1) != 1) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		thread_facts(i, buf, sizeof(buf));
		if (write(rep[i][1], buf, strlen(buf) + 1) < 0)
			return NULL;
	}
}

static long read_long(const char *path, int base)
{
	char buf[128] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtol(buf, NULL, base);
}

static int write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(s, f);
	return fclose(f);
}

static int autogroup_nice(void)
{
	char buf[128] = "";
	FILE *f = fopen("/proc/self/autogroup", "r");
	const char *p;

	if (!f)
		return -100;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	p = strstr(buf, " nice ");
	return p ? atoi(p + 6) : -100;
}

/*
 * Whether mappings to come are locked (mlockall MCL_FUTURE): the VmFlags
 * of a page mapped now, "lo" and, for MCL_ONFAULT, "lf". 2, 2|4 or 0.
 */
static int mcl_future(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char line[512], want[32];
	int hit = 0, flags = 0;
	FILE *f;

	if (p == MAP_FAILED)
		return -1;
	(void)snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	f = fopen("/proc/self/smaps", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && line[0] != ' ' && isxdigit((unsigned char)line[0]))
			hit = !strncmp(line, want, strlen(want));
		else if (hit && !strncmp(line, "VmFlags:", 8))
			flags = (strstr(line, " lo") ? 2 : 0) | (strstr(line, " lf") ? 4 : 0);
	}
	if (f)
		fclose(f);
	munmap(p, 4096);
	return flags;
}

static void facts(void)
{
	unsigned long long perm = 0;
	char buf[1024];
	int sub = -1;

	(void)prctl(PR_GET_CHILD_SUBREAPER, &sub, 0, 0, 0);
	if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM_, &perm) < 0)
		perm = 0;
	printf("{\"pid\":%d,\"sid\":%d,\"oom_score_adj\":%ld,\"coredump_filter\":%ld,\"autogroup_nice\":%d"
	       ",\"subreaper\":%d,\"membarrier\":%ld,\"ksm\":%d,\"xcomp_perm\":%llu,\"futex_slots\":%d"
	       ",\"mdwe\":%d,\"thp_disable\":%d,\"mcl_future\":%d,\"loginuid\":%ld,\"threads\":{",
	       (int)getpid(), (int)getsid(0), read_long("/proc/self/oom_score_adj", 10),
	       read_long("/proc/self/coredump_filter", 16), autogroup_nice(), sub,
	       syscall(SYS_membarrier, MB_GET_REGISTRATIONS, 0, 0),
	       prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0), perm, prctl(PR_FUTEX_HASH, FUTEX_GET_SLOTS, 0, 0, 0),
	       prctl(PR_GET_MDWE, 0, 0, 0, 0), prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0), mcl_future(),
	       access("/proc/self/loginuid", F_OK) == 0 ? read_long("/proc/self/loginuid", 10) : -1L);
	for (int i = 0; i < nt; i++) {
		char c = 'f';

		if (i == T_MAIN) {
			thread_facts(i, buf, sizeof(buf));
		} else if (write(req[i][1], &c, 1) != 1 || read(rep[i][0], buf, sizeof(buf)) <= 0) {
			(void)snprintf(buf, sizeof(buf), "null");
		}
		printf("%s\"%s\":%s", i ? "," : "", role[i], buf);
	}
	printf("}}\n");
}

static void rie(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char line[512], want[64], perms[8] = "?";
	FILE *f;

	if (p == MAP_FAILED) {
		printf("error mmap %s\n", strerror(errno));
		return;
	}
	(void)snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			(void)sscanf(line, "%*s %7s", perms);
	if (f)
		fclose(f);
	munmap(p, 4096);
	printf("ok %s\n", perms);
}

static void wx(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED && errno == EACCES) {
		printf("ok denied\n");
		return;
	}
	if (p != MAP_FAILED)
		munmap(p, 4096);
	printf(p == MAP_FAILED ? "error mmap %s\n" : "ok allowed\n", strerror(errno));
}

static void setup_process(void)
{
	struct sattr slice = { .size = sizeof(slice), .policy = SCHED_OTHER, .runtime = 3000000 };
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	unsigned long long supp = 0;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL) < 0 || sigaction(SIGURG, &sa, NULL) < 0)
		die("sigaction");
	if (setsid() < 0)
		die("setsid");
	/* a kernel without autogroups has no file: the fact says -100 */
	(void)write_str("/proc/self/autogroup", "5");
	if (write_str("/proc/self/oom_score_adj", "345") < 0 ||
	    write_str("/proc/self/coredump_filter", "0x3f") < 0)
		die("/proc/self setup");
	if (access("/proc/self/loginuid", F_OK) == 0 && write_str("/proc/self/loginuid", "4242") < 0)
		die("/proc/self/loginuid");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("PR_SET_CHILD_SUBREAPER");
	for (int bit = 0; bit < 10; bit++)
		if ((MB_REGISTERS & (1 << bit)) && syscall(SYS_membarrier, 1 << bit, 0, 0) < 0 &&
		    errno != EINVAL)
			die("membarrier register");
	(void)prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0);
	if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_SUPP_, &supp) == 0 &&
	    (supp & (1ull << XFEATURE_XTILEDATA)) &&
	    syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM_, XFEATURE_XTILEDATA) < 0)
		die("ARCH_REQ_XCOMP_PERM");
	if (personality(READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE) < 0)
		die("personality");
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS_, 0, IOPRIO_BE(4)) < 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0) < 0)
		die("main thread setup");
	if (syscall(SYS_sched_setattr, 0, &slice, 0) < 0)
		die("sched_setattr slice");
	set_mempolicy_node0(MPOL_PREFERRED_);
	if (prctl(PR_SET_THP_DISABLE, 1, 1 << 1 /* PR_THP_DISABLE_EXCEPT_ADVISED */, 0, 0) < 0 &&
	    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		die("PR_SET_THP_DISABLE");
}

int main(int argc, char **argv)
{
	pthread_t th;
	char line[256];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--with") && i + 1 < argc && !strcmp(argv[i + 1], "sud")) {
			nt = NT_MAX;
			i++;
		} else {
			fprintf(stderr, "attrtarget: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup_process();
	tids[T_MAIN] = (pid_t)syscall(SYS_gettid);
	for (int i = 1; i < nt; i++) {
		/* a thread's default timer slack is its maker's slack */
		if (prctl(PR_SET_TIMERSLACK, i == T_PINNED ? 222222 : 333333, 0, 0, 0) < 0)
			die("PR_SET_TIMERSLACK");
		if (pipe(req[i]) < 0 || pipe(rep[i]) < 0)
			die("pipe");
		if (pthread_create(&th, NULL, thread_main, (void *)(intptr_t)i))
			die("pthread_create");
		while (!__atomic_load_n(&ready[i], __ATOMIC_ACQUIRE))
			usleep(1000);
	}
	if (prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0) < 0)
		die("PR_SET_TIMERSLACK");
	/* more threads grow an automatic hash; one set is kept */
	(void)prctl(PR_FUTEX_HASH, FUTEX_SET_SLOTS, 64, 0, 0);
	/* what it maps from now on is locked once touched (the threads are made: no 8 MiB stacks locked) */
	if (mlockall(MCL_FUTURE | MCL_ONFAULT) < 0)
		die("mlockall");
	/* last: no executable memory may come after it */
	(void)prctl(PR_SET_MDWE, 1 /* PR_MDWE_REFUSE_EXEC_GAIN */, 0, 0, 0);
	printf("ready %d\n", (int)getpid());

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "facts"))
			facts();
		else if (!strcmp(line, "rie"))
			rie();
		else if (!strcmp(line, "wx"))
			wx();
		else if (!strcmp(line, "exit"))
			return 0;
		else
			printf("error unknown command '%s'\n", line);
	}
	return 0;
}
