/* SPDX-License-Identifier: MIT */
/*
 * The trampoline: a page of code mapped into a target for the many calls
 * of a final dump, so that sdump killed with SIGKILL in the middle of one
 * leaves the thread as it was instead of running on with sdump's
 * registers. The kernel detaches a dead tracer's threads and they run
 * from wherever their registers point; through the vdso's `syscall`, that
 * is the vdso's next instructions with the call's arguments in every
 * register, a crash (seen: a migration's sender killed during its last
 * round crashed the source). Through the trampoline, the instruction after
 * the `syscall` puts the thread's own signal mask back, loads its own
 * registers from the page's data and jumps back to where it was (to its interrupted system call again,
 * as the kernel would restart it). On the normal path sdump takes the
 * thread at the call's exit stop and puts its registers back itself: the
 * tail never runs.
 *
 * The page is mapped read and execute (never write: memory-deny-write-
 * execute refuses that) and written through /proc/PID/mem, which may
 * write where the process cannot. Where the mapping is refused (a seccomp
 * filter, a policy), the calls go through the vdso as before.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "inject: "
#include "ctx.h"
#include "inject.h"
#include "inject_priv.h"
#include "util.h"

/*
 * The code and its data, assembled into sdump's read-only data (never run
 * here): only local labels in between, so that every reference is relative
 * to the blob and it runs wherever it is copied.
 */
__asm__("	.pushsection .rodata\n"
	"	.balign 16\n"
	"	.globl sd_tramp_blob\n"
	"	.hidden sd_tramp_blob\n"
	"sd_tramp_blob:\n"
	"	syscall\n"
	".Ltail:\n"
	/* a stack below the thread's red zone, for its flags */
	"	movq .Ltd+0(%rip), %rsp\n"
	/* its own signal mask: sdump blocked the others while it ran its calls */
	"	movl $14, %eax\n" /* SYS_rt_sigprocmask */
	"	movl $2, %edi\n"  /* SIG_SETMASK */
	"	leaq .Ltd+152(%rip), %rsi\n"
	"	xorl %edx, %edx\n"
	"	movl $8, %r10d\n"
	"	syscall\n"
	"	pushq .Ltd+8(%rip)\n"
	"	popfq\n"
	"	movq .Ltd+16(%rip), %rax\n"
	"	movq .Ltd+24(%rip), %rbx\n"
	"	movq .Ltd+32(%rip), %rcx\n"
	"	movq .Ltd+40(%rip), %rdx\n"
	"	movq .Ltd+48(%rip), %rsi\n"
	"	movq .Ltd+56(%rip), %rdi\n"
	"	movq .Ltd+64(%rip), %rbp\n"
	"	movq .Ltd+72(%rip), %r8\n"
	"	movq .Ltd+80(%rip), %r9\n"
	"	movq .Ltd+88(%rip), %r10\n"
	"	movq .Ltd+96(%rip), %r11\n"
	"	movq .Ltd+104(%rip), %r12\n"
	"	movq .Ltd+112(%rip), %r13\n"
	"	movq .Ltd+120(%rip), %r14\n"
	"	movq .Ltd+128(%rip), %r15\n"
	"	movq .Ltd+136(%rip), %rsp\n"
	"	jmpq *.Ltd+144(%rip)\n"
	/*
	 * A batch (inject_batch.c): %rbx the table, %r12 its calls, %r13 and
	 * %r14 the tgid and tid, %r15 the signal to end on; then the tail
	 * above, which the tracer, woken by that signal, never lets run
	 */
	"	.globl sd_tramp_batch\n"
	"	.hidden sd_tramp_batch\n"
	"sd_tramp_batch:\n"
	"	testq %r12, %r12\n"
	"	jz 2f\n"
	"1:	movq 0(%rbx), %rax\n"
	"	movq 8(%rbx), %rdi\n"
	"	movq 16(%rbx), %rsi\n"
	"	movq 24(%rbx), %rdx\n"
	"	movq 32(%rbx), %r10\n"
	"	movq 40(%rbx), %r8\n"
	"	movq 48(%rbx), %r9\n"
	"	syscall\n"
	"	movq %rax, 56(%rbx)\n"
	"	addq $64, %rbx\n"
	"	decq %r12\n"
	"	jnz 1b\n"
	"2:	movl $234, %eax\n" /* SYS_tgkill */
	"	movq %r13, %rdi\n"
	"	movq %r14, %rsi\n"
	"	movq %r15, %rdx\n"
	"	syscall\n"
	"	.globl sd_tramp_batch_end\n"
	"	.hidden sd_tramp_batch_end\n"
	"sd_tramp_batch_end:\n"
	"	jmp .Ltail\n"
	"	.balign 8\n"
	".Ltd:\n"
	"	.fill 20, 8, 0\n"
	"	.globl sd_tramp_blob_end\n"
	"	.hidden sd_tramp_blob_end\n"
	"sd_tramp_blob_end:\n"
	"	.popsection\n");

extern const unsigned char sd_tramp_blob[], sd_tramp_blob_end[], sd_tramp_batch[],
	sd_tramp_batch_end[];

_Static_assert(SYS_tgkill == 234 && SYS_rt_sigprocmask == 14 && SIG_SETMASK == 2,
	       "the trampoline's calls are x86-64's");

/* The data's words, in the order the code loads them. */
enum { TD_SP, TD_FLAGS, TD_RAX, TD_RBX, TD_RCX, TD_RDX, TD_RSI, TD_RDI, TD_RBP,
       TD_R8, TD_R9, TD_R10, TD_R11, TD_R12, TD_R13, TD_R14, TD_R15, TD_RSP, TD_RIP, TD_MASK, TD_N };
_Static_assert(TD_MASK * 8 == 152, "the tail loads the mask from .Ltd+152");

#define RED_ZONE 128

/* The kernel's codes for a system call interrupted, to run again (include/linux/errno.h). */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

static size_t blob_len(void)
{
	return (size_t)(sd_tramp_blob_end - sd_tramp_blob);
}

int sd_inject_tramp_map(struct sdump_ctx *ctx, struct injector *inj, struct seized *s)
{
	const long args[6] = { 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 };
	long addr, ret;

	/* a filter that sees our calls might kill the process for an executable mapping */
	if (inj->mem_fd < 0 || inj->seccomp_filtered || blob_len() > 4096)
		return 0;
	if (sd_inject_call(ctx, inj, s, NULL, SYS_mmap, args, 0, &addr) < 0)
		return -ESRCH;
	if (addr < 0 && addr > -4096) {
		pr_debug(ctx, "pid %d: no trampoline (mmap: %s): calls through the vdso", inj->pid,
			 strerror((int)-addr));
		return 0;
	}
	if (pwrite(inj->mem_fd, sd_tramp_blob, blob_len(), (off_t)addr) == (ssize_t)blob_len()) {
		inj->tramp = (uint64_t)addr;
		pr_debug(ctx, "pid %d: trampoline at 0x%lx", inj->pid, (unsigned long)addr);
		return 0;
	}
	pr_debug(ctx, "pid %d: no trampoline (cannot write it: %s): calls through the vdso", inj->pid,
		 strerror(errno));
	{
		const long unmap[6] = { addr, 4096 };

		return sd_inject_call(ctx, inj, s, NULL, SYS_munmap, unmap, INJECT_UNDO, &ret);
	}
}

int sd_inject_tramp_unmap(struct sdump_ctx *ctx, struct injector *inj, struct seized *s)
{
	const long args[6] = { (long)inj->tramp, 4096 };
	long ret;
	int r;

	if (!inj->tramp)
		return 0;
	/* through the vdso: the call must not return into the page it unmaps */
	inj->tramp = 0;
	r = sd_inject_call(ctx, inj, s, NULL, SYS_munmap, args, INJECT_UNDO, &ret);
	if (r == 0 && ret < 0)
		r = sd_err(ctx, (int)ret, "cannot unmap the trampoline page of pid %d", inj->pid);
	return r;
}

uint64_t sd_inject_tramp_batch_ip(const struct injector *inj, bool end)
{
	return inj->tramp + (uint64_t)((end ? sd_tramp_batch_end : sd_tramp_batch) - sd_tramp_blob);
}

int sd_inject_tramp_arm(struct injector *inj, const struct seized_thread *t,
			const struct user_regs_struct *saved, uint64_t *ret_ip)
{
	uint64_t d[TD_N];
	long orig = (long)saved->orig_rax, rax = (long)saved->rax;

	if (t->mask_saved)
		d[TD_MASK] = t->sigmask;
	else if (ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(d[TD_MASK]), &d[TD_MASK]) < 0)
		return -errno;

	d[TD_RIP] = saved->rip;
	d[TD_RAX] = saved->rax;
	/* stopped inside a system call the kernel would restart: to its `syscall` again */
	if (orig >= 0 && (rax == -ERESTARTSYS || rax == -ERESTARTNOINTR || rax == -ERESTARTNOHAND ||
			  rax == -ERESTART_RESTARTBLOCK)) {
		d[TD_RIP] = saved->rip - 2;
		d[TD_RAX] = rax == -ERESTART_RESTARTBLOCK ? (uint64_t)SYS_restart_syscall : (uint64_t)orig;
	}
	d[TD_SP] = saved->rsp - RED_ZONE;
	d[TD_FLAGS] = saved->eflags;
	d[TD_RBX] = saved->rbx;
	d[TD_RCX] = saved->rcx;
	d[TD_RDX] = saved->rdx;
	d[TD_RSI] = saved->rsi;
	d[TD_RDI] = saved->rdi;
	d[TD_RBP] = saved->rbp;
	d[TD_R8] = saved->r8;
	d[TD_R9] = saved->r9;
	d[TD_R10] = saved->r10;
	d[TD_R11] = saved->r11;
	d[TD_R12] = saved->r12;
	d[TD_R13] = saved->r13;
	d[TD_R14] = saved->r14;
	d[TD_R15] = saved->r15;
	d[TD_RSP] = saved->rsp;
	if (pwrite(inj->mem_fd, d, sizeof(d), (off_t)(inj->tramp + blob_len() - sizeof(d))) != (ssize_t)sizeof(d))
		return errno ? -errno : -EIO;
	*ret_ip = inj->tramp;
	return 0;
}
