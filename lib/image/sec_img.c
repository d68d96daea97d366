/* SPDX-License-Identifier: MIT */
/* POSIX timers and thread security state in the image (sec_img.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sec_img.h"

/* SECCOMP_FILTER_FLAG_LOG: the one flag PTRACE_SECCOMP_GET_METADATA reports */
#define FILTER_FLAG_LOG 2u
/* No timer runs for 2^62 ns (146 years) or more: a bound on forged values. */
#define TIME_NS_MAX (1ull << 62)

void sd_secimg_buf_release(struct secimg_buf *b)
{
	free(b->a);
	free(b->b);
	b->a = b->b = NULL;
}

int sd_secimg_timers_to_pb(const struct posix_timer *t, size_t n, struct secimg_buf *b, Process *out)
{
	PosixTimer *pt = calloc(n ? n : 1, sizeof(*pt));
	PosixTimer **pp = calloc(n ? n : 1, sizeof(*pp));

	b->a = pt;
	b->b = pp;
	if (!pt || !pp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		posix_timer__init(&pt[i]);
		pt[i].id = t[i].id;
		pt[i].clock = t[i].clock;
		pt[i].notify = t[i].notify;
		pt[i].signo = t[i].signo;
		pt[i].value = t[i].value;
		pt[i].target = t[i].target;
		pt[i].value_ns = t[i].value_ns;
		pt[i].interval_ns = t[i].interval_ns;
		pt[i].overrun = t[i].overrun;
		pp[i] = &pt[i];
	}
	out->n_posix_timers = n;
	out->posix_timers = pp;
	return 0;
}

int sd_secimg_thread_to_pb(const struct sec_thread *s, struct secimg_buf *b, ThreadSec *out)
{
	size_t n = s->nfilters;
	SecFilter *f = calloc(n ? n : 1, sizeof(*f));
	SecFilter **fp = calloc(n ? n : 1, sizeof(*fp));

	b->a = f;
	b->b = fp;
	if (!f || !fp)
		return -ENOMEM;
	thread_sec__init(out);
	out->cap_eff = s->cap_eff;
	out->cap_prm = s->cap_prm;
	out->cap_inh = s->cap_inh;
	out->cap_bnd = s->cap_bnd;
	out->cap_amb = s->cap_amb;
	out->securebits = s->securebits;
	out->no_new_privs = s->no_new_privs;
	out->seccomp_mode = s->seccomp_mode;
	for (size_t i = 0; i < n; i++) {
		sec_filter__init(&f[i]);
		f[i].flags = s->filters[i].flags;
		f[i].insns.data = (uint8_t *)s->filters[i].insns;
		f[i].insns.len = s->filters[i].len * sizeof(uint64_t);
		fp[i] = &f[i];
	}
	out->n_filters = n;
	out->filters = fp;
	return 0;
}

int sd_secimg_timers_from_pb(const Process *in, struct posix_timer **ret, size_t *ret_n)
{
	size_t n = in->n_posix_timers;
	struct posix_timer *t;

	if (n > PTIMERS_MAX)
		return -EBADMSG;
	t = calloc(n ? n : 1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const PosixTimer *p = in->posix_timers[i];
		int kind = p->notify & ~PTIMER_SIGEV_THREAD_ID;

		/* by id, each once; a signal for a timer that sends one */
		if (p->id < 0 || (i && p->id <= t[i - 1].id) ||
		    (p->notify != PTIMER_SIGEV_SIGNAL && p->notify != PTIMER_SIGEV_NONE &&
		     p->notify != (PTIMER_SIGEV_SIGNAL | PTIMER_SIGEV_THREAD_ID)) ||
		    p->signo < 0 || p->signo > 64 || (kind == PTIMER_SIGEV_SIGNAL && p->signo == 0) ||
		    p->target <= 0 || p->value_ns >= TIME_NS_MAX || p->interval_ns >= TIME_NS_MAX) {
			free(t);
			return -EBADMSG;
		}
		t[i] = (struct posix_timer){ p->id, p->clock, p->notify, p->signo, p->value, p->target,
					     p->value_ns, p->interval_ns, p->overrun };
	}
	*ret = t;
	*ret_n = n;
	return 0;
}

int sd_secimg_thread_from_pb(const ThreadSec *in, struct sec_thread *s)
{
	size_t n = in->n_filters;

	if (in->seccomp_mode < 0 || in->seccomp_mode > 2 || n > SEC_FILTERS_MAX ||
	    (in->seccomp_mode == 2) != (n > 0))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		const SecFilter *f = in->filters[i];

		if ((f->flags & ~FILTER_FLAG_LOG) || f->insns.len == 0 || f->insns.len % 8 ||
		    f->insns.len > SEC_FILTER_MAX_INSNS * 8)
			return -EBADMSG;
	}
	*s = (struct sec_thread){ .valid = true };
	s->filters = calloc(n ? n : 1, sizeof(*s->filters));
	if (!s->filters)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const SecFilter *f = in->filters[i];

		s->filters[i].insns = malloc(f->insns.len);
		if (!s->filters[i].insns) {
			sd_sec_thread_release(s);
			return -ENOMEM;
		}
		memcpy(s->filters[i].insns, f->insns.data, f->insns.len);
		s->filters[i].len = f->insns.len / 8;
		s->filters[i].flags = f->flags;
		s->nfilters++;
	}
	s->cap_eff = in->cap_eff;
	s->cap_prm = in->cap_prm;
	s->cap_inh = in->cap_inh;
	s->cap_bnd = in->cap_bnd;
	s->cap_amb = in->cap_amb;
	s->securebits = in->securebits;
	s->no_new_privs = in->no_new_privs;
	s->seccomp_mode = in->seccomp_mode;
	return 0;
}
