/* SPDX-License-Identifier: MIT */
/*
 * Each thread's capabilities, securebits, no_new_privs and seccomp, after
 * its credentials. In this order, thread by thread:
 *
 *  0. before the credentials (sd_rst_sec_before_creds): securebits
 *     SECBIT_NO_SETUID_FIXUP, so that the change of uid keeps the
 *     capabilities the thread has from us (it would clear them);
 *  1. the inheritable set, while the permitted one is still ours;
 *  2. the bounding set: what it lacked dropped (PR_CAPBSET_DROP);
 *  3. the ambient set raised cap by cap (each needs to be permitted and
 *     inheritable, which it now is);
 *  4. the securebits of the image (their locks included);
 *  5. no_new_privs;
 *  6. seccomp: strict mode, or the filters, oldest first. The filters
 *     every thread has from the first one on are installed once, by one
 *     thread, with SECCOMP_FILTER_FLAG_TSYNC, so that they are shared as
 *     they were (a later TSYNC of the process works); the rest thread by
 *     thread. Installing a filter needs no_new_privs or CAP_SYS_ADMIN:
 *     the thread still has ours; the caller of the TSYNC is a thread
 *     without no_new_privs if there is one (TSYNC gives the caller's to
 *     every thread). From here on every system call we inject passes by
 *     the filters: PTRACE_O_SUSPEND_SECCOMP, which the kernel drops when
 *     we detach, so the filters act from the process's first instruction;
 *  7. last, the effective, permitted and inheritable sets of the image
 *     (capset() only narrows them now).
 *
 * An image of an older sdump (no ThreadSec) keeps what the credentials
 * leave, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "compat.h"
#include "inject.h"
#include "pattr.h"
#include "procfs.h"
#include "psec.h"
#include "pstate.h"
#include "restore.h"
#include "util.h"

struct our_sec {
	uint64_t eff, prm, bnd;
	int seccomp;
	bool nnp;
	int last_cap;
};

static int read_hex(const char *st, const char *key, uint64_t *ret)
{
	char v[64];

	if (sd_pattr_status_value(st, key, v, sizeof(v)) < 0)
		return -EBADMSG;
	*ret = strtoull(v, NULL, 16);
	return 0;
}

/* What sdump itself has, and so the new process until it is given its own. */
static int read_ours(struct sdump_ctx *ctx, struct our_sec *o)
{
	_cleanup_free_ char *st = NULL, *last = NULL;
	char v[32];
	int r;

	r = sd_read_file(AT_FDCWD, "/proc/self/status", &st, NULL);
	if (r < 0)
		return sd_err(ctx, r, "cannot read '/proc/self/status'");
	if (read_hex(st, "CapEff", &o->eff) < 0 || read_hex(st, "CapPrm", &o->prm) < 0 ||
	    read_hex(st, "CapBnd", &o->bnd) < 0 || sd_pattr_status_value(st, "Seccomp", v, sizeof(v)) < 0)
		return sd_errx(ctx, -EBADMSG, "cannot parse '/proc/self/status'");
	o->seccomp = atoi(v);
	o->nnp = sd_pattr_status_value(st, "NoNewPrivs", v, sizeof(v)) == 0 && atoi(v);
	o->last_cap = 40;
	if (sd_read_file(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", &last, NULL) == 0)
		o->last_cap = atoi(last);
	if (o->last_cap < 0 || o->last_cap > 63)
		o->last_cap = 63;
	return 0;
}

static int lowest_cap(uint64_t mask)
{
	for (int c = 0; c < 64; c++)
		if (mask & (1ull << c))
			return c;
	return -1;
}

int sd_rst_check_sec(struct rst *r)
{
	struct our_sec o;
	bool seccomp = false;
	int e = read_ours(r->ctx, &o);

	if (e < 0)
		return e;
	for (size_t i = 0; i < r->ps.nthreads; i++) {
		const struct sec_thread *s = &r->ps.threads[i].sec;
		uint64_t missing;

		if (!s->valid)
			continue;
		seccomp |= s->seccomp_mode != 0;
		/* what the thread had, we must have, to give it */
		missing = (s->cap_bnd & ~o.bnd) | ((s->cap_prm | s->cap_inh | s->cap_amb) & ~o.prm);
		if (missing)
			return sd_errx(r->ctx, -EPERM,
				       "cannot restore pid %d: thread %d had capability %d, which sdump restore does not have (permitted, or in its bounding set); restore as root with every capability",
				       r->pid, r->ps.threads[i].tid, lowest_cap(missing));
	}
	if (seccomp && (o.seccomp || !(o.eff & (1ull << CAP_SYS_ADMIN))))
		return sd_errx(r->ctx, -EPERM,
			       "cannot restore pid %d: it has seccomp filters, and sdump restore can only install them while its own calls pass by them (PTRACE_O_SUSPEND_SECCOMP): that needs CAP_SYS_ADMIN and sdump under no seccomp itself",
			       r->pid);
	/* what we are confined by the new process inherits beneath its own: said, not refused */
	if (o.seccomp || o.nnp)
		pr_warn(r->ctx, "pid %d: sdump restore runs under %s, which the restored process keeps beneath its own",
			r->pid, o.seccomp ? "seccomp" : "no_new_privs");
	return 0;
}

int sd_rst_sec_before_creds(struct rst *r)
{
	for (size_t i = 0; i < r->seized.n; i++) {
		int e;

		if (!r->ps.threads[i].sec.valid)
			continue;
		e = sd_rst_call_in(r, &r->seized.t[i], SYS_prctl, PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0,
				   0, 0, NULL);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot keep the capabilities of thread %d across its change of user",
				       r->seized.t[i].tid);
	}
	return 0;
}

static int put_caps(struct rst *r, struct seized_thread *t, uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};
	uint64_t ah, ad;
	int e;

	sd_rst_data_reset(r);
	e = sd_rst_data_put(r, &h, sizeof(h), &ah);
	if (e == 0)
		e = sd_rst_data_put(r, d, sizeof(d), &ad);
	if (e == 0)
		e = sd_rst_call_in(r, t, SYS_capset, (long)ah, (long)ad, 0, 0, 0, 0, NULL);
	return e;
}

/* Steps 1-4 for thread @i. */
static int restore_caps(struct rst *r, size_t i, const struct our_sec *o)
{
	const struct sec_thread *s = &r->ps.threads[i].sec;
	struct seized_thread *t = &r->seized.t[i];
	int e = put_caps(r, t, o->eff, o->prm, s->cap_inh);

	for (int c = 0; e == 0 && c <= o->last_cap; c++)
		if (!(s->cap_bnd & (1ull << c)) && (o->bnd & (1ull << c)))
			e = sd_rst_call_in(r, t, SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0, 0, NULL);
	if (e == 0)
		e = sd_rst_call_in(r, t, SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0, NULL);
	for (int c = 0; e == 0 && c < 64; c++)
		if (s->cap_amb & (1ull << c))
			e = sd_rst_call_in(r, t, SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0, 0, NULL);
	if (e == 0)
		e = sd_rst_call_in(r, t, SYS_prctl, PR_SET_SECUREBITS, s->securebits, 0, 0, 0, 0, NULL);
	if (e == 0 && s->no_new_privs)
		e = sd_rst_call_in(r, t, SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0, NULL);
	return e;
}

static int install_filter(struct rst *r, struct seized_thread *t, const struct sec_filter *f, unsigned long flags)
{
	struct {
		uint16_t len;
		uint16_t pad[3];
		uint64_t filter;
	} prog = { (uint16_t)f->len, { 0 }, 0 };
	uint64_t ai, ap;
	long ret = 0;
	int e;

	sd_rst_data_reset(r);
	e = sd_rst_data_put(r, f->insns, f->len * sizeof(*f->insns), &ai);
	prog.filter = ai;
	if (e == 0)
		e = sd_rst_data_put(r, &prog, sizeof(prog), &ap);
	if (e == 0)
		e = sd_rst_call_in(r, t, SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				   (long)(flags | f->flags | SECCOMP_FILTER_FLAG_SPEC_ALLOW), (long)ap, 0, 0, 0, &ret);
	/* with TSYNC, a thread that could not take it is named by a positive return */
	if (e == 0 && ret > 0)
		e = sd_errx(r->ctx, -ESRCH, "thread %ld of pid %d cannot share its seccomp filters", ret, r->pid);
	return e;
}

/* How many filters, from the oldest, every thread has the same. */
static size_t shared_filters(const struct process_state *ps)
{
	size_t n = ps->threads[0].sec.nfilters;

	for (size_t i = 0; i < ps->nthreads; i++) {
		const struct sec_thread *s = &ps->threads[i].sec;
		size_t k = 0;

		if (!s->valid || s->seccomp_mode != 2)
			return 0;
		while (k < n && k < s->nfilters && sd_psec_filter_equal(&s->filters[k], &ps->threads[0].sec.filters[k]))
			k++;
		n = k;
	}
	return n;
}

static int restore_seccomp(struct rst *r)
{
	const struct process_state *ps = &r->ps;
	size_t shared = shared_filters(ps), caller = 0;
	bool any = false;
	int e = 0;

	for (size_t i = 0; i < ps->nthreads; i++)
		any |= ps->threads[i].sec.valid && ps->threads[i].sec.seccomp_mode;
	if (!any)
		return 0;
	e = sd_inject_suspend_seccomp(r->ctx, &r->inj, &r->seized, r->pid, false);
	if (e < 0)
		return e;
	for (size_t i = 0; i < ps->nthreads; i++)
		if (!ps->threads[i].sec.no_new_privs) {
			caller = i;
			break;
		}
	for (size_t k = 0; e == 0 && k < shared; k++)
		e = install_filter(r, &r->seized.t[caller], &ps->threads[caller].sec.filters[k],
				   SECCOMP_FILTER_FLAG_TSYNC);
	for (size_t i = 0; e == 0 && i < ps->nthreads; i++) {
		const struct sec_thread *s = &ps->threads[i].sec;
		struct seized_thread *t = &r->seized.t[i];

		if (!s->valid)
			continue;
		if (s->seccomp_mode == 1)
			e = sd_rst_call_in(r, t, SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0, 0, NULL);
		for (size_t k = s->seccomp_mode == 2 ? shared : s->nfilters; e == 0 && k < s->nfilters; k++)
			e = install_filter(r, t, &s->filters[k], 0);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot restore the seccomp %s of thread %d", s->seccomp_mode == 1 ? "mode" : "filters",
				       t->tid);
	}
	if (e < 0)
		return sd_errx(r->ctx, e, "cannot restore the seccomp filters of pid %d", r->pid);
	return 0;
}

int sd_rst_restore_sec(struct rst *r)
{
	struct our_sec o;
	int e = read_ours(r->ctx, &o);

	for (size_t i = 0; e == 0 && i < r->seized.n; i++) {
		if (!r->ps.threads[i].sec.valid)
			continue;
		e = restore_caps(r, i, &o);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot restore the capabilities of thread %d", r->seized.t[i].tid);
	}
	if (e == 0)
		e = restore_seccomp(r);
	for (size_t i = 0; e == 0 && i < r->seized.n; i++) {
		const struct sec_thread *s = &r->ps.threads[i].sec;

		if (!s->valid)
			continue;
		e = put_caps(r, &r->seized.t[i], s->cap_eff, s->cap_prm, s->cap_inh);
		if (e < 0)
			return sd_errx(r->ctx, e, "cannot restore the capabilities of thread %d", r->seized.t[i].tid);
	}
	return e;
}
