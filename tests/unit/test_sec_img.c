/* SPDX-License-Identifier: MIT */
/* POSIX timers and thread security state through sec.proto and back (image/sec_img.c). */
#include <stdlib.h>
#include <string.h>

#include "sec_img.h"
#include "unit.h"

static void test_thread_round_trip(void)
{
	uint64_t a[2] = { 0x0000000000000020ull, 0x7fff000000000006ull }, b[1] = { 0x50001000000006ull };
	struct sec_filter f[2] = { { 0, 2, a }, { 2, 1, b } };
	struct sec_thread in = { .valid = true, .cap_eff = 0x420, .cap_prm = 0x2420, .cap_inh = 0x2400,
				 .cap_bnd = 0x1fff6bfffffull, .cap_amb = 0x400, .securebits = 0x50,
				 .no_new_privs = true, .seccomp_mode = 2, .nfilters = 2, .filters = f };
	struct secimg_buf buf = { 0 };
	struct sec_thread out;
	ThreadSec pb;
	uint8_t *packed;
	size_t len;
	ThreadSec *back;

	ASSERT_OK(sd_secimg_thread_to_pb(&in, &buf, &pb));
	len = protobuf_c_message_get_packed_size(&pb.base);
	packed = malloc(len);
	ASSERT_TRUE(packed != NULL);
	(void)protobuf_c_message_pack(&pb.base, packed);
	sd_secimg_buf_release(&buf);
	back = thread_sec__unpack(NULL, len, packed);
	ASSERT_TRUE(back != NULL);
	ASSERT_OK(sd_secimg_thread_from_pb(back, &out));
	ASSERT_TRUE(out.valid);
	ASSERT_EQ(out.cap_eff, 0x420);
	ASSERT_EQ(out.cap_bnd, 0x1fff6bfffffull);
	ASSERT_EQ(out.securebits, 0x50);
	ASSERT_TRUE(out.no_new_privs);
	ASSERT_EQ(out.nfilters, 2);
	ASSERT_TRUE(sd_psec_filter_equal(&out.filters[0], &f[0]));
	ASSERT_TRUE(sd_psec_filter_equal(&out.filters[1], &f[1]));
	sd_sec_thread_release(&out);

	/* values no dump writes */
	back->seccomp_mode = 3;
	ASSERT_EQ(sd_secimg_thread_from_pb(back, &out), -EBADMSG);
	back->seccomp_mode = 1;		/* strict mode has no filters */
	ASSERT_EQ(sd_secimg_thread_from_pb(back, &out), -EBADMSG);
	back->seccomp_mode = 2;
	back->filters[1]->flags = 4;	/* only SECCOMP_FILTER_FLAG_LOG is kept */
	ASSERT_EQ(sd_secimg_thread_from_pb(back, &out), -EBADMSG);
	back->filters[1]->flags = 2;
	back->filters[1]->insns.len = 7;
	ASSERT_EQ(sd_secimg_thread_from_pb(back, &out), -EBADMSG);
	back->filters[1]->insns.len = 0;
	ASSERT_EQ(sd_secimg_thread_from_pb(back, &out), -EBADMSG);
	back->n_filters = 0;		/* filter mode without a filter */
	ASSERT_EQ(sd_secimg_thread_from_pb(back, &out), -EBADMSG);
	back->seccomp_mode = 0;
	ASSERT_OK(sd_secimg_thread_from_pb(back, &out));
	ASSERT_EQ(out.nfilters, 0);
	sd_sec_thread_release(&out);
	back->n_filters = 2;
	thread_sec__free_unpacked(back, NULL);
	free(packed);
}

static void test_timers(void)
{
	struct posix_timer t[3] = {
		{ 0, 1, PTIMER_SIGEV_SIGNAL, 34, 0x5eed, 100, 1000, 20000000, 2 },
		{ 1, 7, PTIMER_SIGEV_SIGNAL | PTIMER_SIGEV_THREAD_ID, 12, 7, 101, 3600000000000ull, 0, 0 },
		{ 3, -6, PTIMER_SIGEV_NONE, 0, 0, 100, 0, 0, 0 },
	};
	struct secimg_buf buf = { 0 };
	Process p = PROCESS__INIT;
	struct posix_timer *out = NULL;
	size_t n = 0;

	ASSERT_OK(sd_secimg_timers_to_pb(t, 3, &buf, &p));
	ASSERT_OK(sd_secimg_timers_from_pb(&p, &out, &n));
	ASSERT_EQ(n, 3);
	for (size_t i = 0; i < 3; i++) {
		ASSERT_EQ(out[i].id, t[i].id);
		ASSERT_EQ(out[i].clock, t[i].clock);
		ASSERT_EQ(out[i].notify, t[i].notify);
		ASSERT_EQ(out[i].signo, t[i].signo);
		ASSERT_EQ(out[i].value, t[i].value);
		ASSERT_EQ(out[i].target, t[i].target);
		ASSERT_EQ(out[i].value_ns, t[i].value_ns);
		ASSERT_EQ(out[i].interval_ns, t[i].interval_ns);
		ASSERT_EQ(out[i].overrun, t[i].overrun);
	}
	free(out);
	/* ids out of order, each once */
	p.posix_timers[1]->id = 0;
	ASSERT_EQ(sd_secimg_timers_from_pb(&p, &out, &n), -EBADMSG);
	p.posix_timers[1]->id = 1;
	p.posix_timers[1]->notify = 2;	/* SIGEV_THREAD is the C library's */
	ASSERT_EQ(sd_secimg_timers_from_pb(&p, &out, &n), -EBADMSG);
	p.posix_timers[1]->notify = 4;
	p.posix_timers[1]->signo = 0;	/* a signal timer without a signal */
	ASSERT_EQ(sd_secimg_timers_from_pb(&p, &out, &n), -EBADMSG);
	p.posix_timers[1]->signo = 65;
	ASSERT_EQ(sd_secimg_timers_from_pb(&p, &out, &n), -EBADMSG);
	p.posix_timers[1]->signo = 12;
	p.posix_timers[1]->value_ns = 1ull << 62;
	ASSERT_EQ(sd_secimg_timers_from_pb(&p, &out, &n), -EBADMSG);
	p.posix_timers[1]->value_ns = 0;
	p.posix_timers[1]->target = 0;
	ASSERT_EQ(sd_secimg_timers_from_pb(&p, &out, &n), -EBADMSG);
	sd_secimg_buf_release(&buf);
}

int main(void)
{
	RUN(test_thread_round_trip);
	RUN(test_timers);
	return unit_summary();
}
