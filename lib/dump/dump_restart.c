/* SPDX-License-Identifier: MIT */
/*
 * A thread stopped in restart_syscall. A poll(), nanosleep(),
 * clock_nanosleep() or timed futex wait interrupted by a stop (a SIGSTOP,
 * a debugger, sdump's own earlier pass) is not started again as itself:
 * the kernel keeps what it needs in the thread's restart block and the
 * thread calls restart_syscall (219) on its way back, which is where the
 * next seize finds it (orig_rax 219, rax -ERESTART_RESTARTBLOCK). A
 * restored thread has no restart block: its restart_syscall would fail
 * with EINTR (tail -f dies of it). Which call it restarts is read from
 * the code before its `syscall` instruction (`mov $NR, %eax` just before
 * it: how glibc, musl's and Go's raw calls make these four), checked
 * against the arguments still in its registers; the restore starts that
 * call again. Where the code does not say (glibc's generic syscall(), as
 * Rust's futex waits use), a timed futex wait, as its registers show it,
 * may wake with EINTR: futex(2) allows such spurious wakeups, and the
 * programs that call it directly wait again. Any other call that cannot be
 * told is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "dump: "
#include "ctx.h"
#include "dump_state.h"
#include "procfs.h"
#include "util.h"

#define ERESTART_RESTARTBLOCK 516
#define FUTEX_CMD(op) ((op) & ~(128 | 256))	/* FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME */
#define FUTEX_WAIT_OP 0
#define FUTEX_WAIT_BITSET_OP 9

/* Whether @regs hold the arguments of a timed futex wait: an aligned address, the op, a timeout. */
static bool futex_wait_args(const struct user_regs_struct *regs)
{
	int cmd = FUTEX_CMD((int)regs->rsi);

	return (cmd == FUTEX_WAIT_OP || cmd == FUTEX_WAIT_BITSET_OP) && regs->rdi >= 4096 &&
	       !(regs->rdi & 3) && regs->r10 >= 4096;
}

/* Whether @nr with the arguments of @regs is a call the kernel restarts through a restart block. */
static bool restartable(long nr, const struct user_regs_struct *regs)
{
	switch (nr) {
	case SYS_poll:
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
		return true;
	case SYS_futex:
		return futex_wait_args(regs);
	default:
		return false;
	}
}

int sd_restart_collect(struct sdump_ctx *ctx, pid_t pid, struct thread_state *t)
{
	const struct user_regs_struct *regs = &t->regs;
	_cleanup_close_ int mem = -1;
	char path[PROC_PATH_MAX];
	uint8_t code[7];
	int32_t nr;

	if ((long long)regs->orig_rax != SYS_restart_syscall || (long long)regs->rax != -ERESTART_RESTARTBLOCK)
		return 0;
	mem = open(sd_proc_path(path, pid, "task/%d/mem", t->tid), O_RDONLY | O_CLOEXEC);
	/* rip is past the `syscall` (0f 05); before it `mov $NR, %eax` (b8 NR) */
	if (mem >= 0 && regs->rip >= sizeof(code) &&
	    sd_pread_all(mem, code, sizeof(code), (off_t)(regs->rip - sizeof(code))) == (ssize_t)sizeof(code) &&
	    code[0] == 0xb8 && code[5] == 0x0f && code[6] == 0x05) {
		memcpy(&nr, code + 1, sizeof(nr));
		if (restartable(nr, regs)) {
			t->restart_call = nr;
			pr_debug(ctx, "thread %d: in restart_syscall, restarting syscall %d", t->tid, nr);
			return 0;
		}
	}
	if (futex_wait_args(regs)) {
		pr_debug(ctx, "thread %d: in restart_syscall of a futex wait: it wakes with EINTR", t->tid);
		return 0;
	}
	return sd_refuse(ctx, -EOPNOTSUPP,
		       "cannot dump pid %d: thread %d is stopped on its way back into a call interrupted before (restart_syscall) whose call sdump cannot tell from its code, and a restore would end it with EINTR; dump it once that call has returned",
		       pid, t->tid);
}
