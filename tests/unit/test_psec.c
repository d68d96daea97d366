/* SPDX-License-Identifier: MIT */
/* The pure parts of POSIX timers and thread security state (proc/psec.c). */
#include <stdlib.h>
#include <string.h>

#include "psec.h"
#include "unit.h"

static void test_timers(void)
{
	/* as Linux 6.18 prints them, newest first */
	const char *txt = "ID: 103\nsignal: 0/0000000000000000\nnotify: none/pid.12353\nClockID: -98830\n"
			  "ID: 102\nsignal: 12/000000000000002a\nnotify: signal/tid.12354\nClockID: 0\n"
			  "ID: 7\nsignal: 10/0000000000001234\nnotify: signal/pid.12353\nClockID: -6\n";
	struct posix_timer *t = NULL;
	size_t n = 0;

	ASSERT_OK(sd_psec_parse_timers(txt, &t, &n));
	ASSERT_EQ(n, 3);
	ASSERT_EQ(t[0].id, 103);
	ASSERT_EQ(t[0].notify, PTIMER_SIGEV_NONE);
	ASSERT_EQ(t[0].clock, -98830);
	ASSERT_EQ(t[0].target, 12353);
	ASSERT_EQ(t[1].notify, PTIMER_SIGEV_SIGNAL | PTIMER_SIGEV_THREAD_ID);
	ASSERT_EQ(t[1].signo, 12);
	ASSERT_EQ(t[1].value, 0x2a);
	ASSERT_EQ(t[1].target, 12354);
	ASSERT_EQ(t[2].id, 7);
	ASSERT_EQ(t[2].value, 0x1234);
	ASSERT_EQ(t[2].clock, -6);
	free(t);
	ASSERT_OK(sd_psec_parse_timers("", &t, &n));
	ASSERT_EQ(n, 0);
	free(t);
	t = NULL;
	/* cut short, unknown kinds and keys, junk after a value */
	ASSERT_EQ(sd_psec_parse_timers("ID: 1\nsignal: 10/0\n", &t, &n), -EBADMSG);
	ASSERT_EQ(sd_psec_parse_timers("ID: 1\nsignal: 10/0\nnotify: thread/pid.3\nClockID: 0\n", &t, &n), -EBADMSG);
	ASSERT_EQ(sd_psec_parse_timers("ID: 1\nsignal: 10/0\nnotify: signal/xid.3\nClockID: 0\n", &t, &n), -EBADMSG);
	ASSERT_EQ(sd_psec_parse_timers("ID: 1\nsignal: 10/0\nnotify: signal/pid.3\nClockID: 0x\n", &t, &n), -EBADMSG);
	ASSERT_EQ(sd_psec_parse_timers("ID: 1\nsignal: 10/0\nnotify: signal/pid.3\nFoo: 0\n", &t, &n), -EBADMSG);
	ASSERT_EQ(sd_psec_parse_timers("ID: 1\nID: 2\n", &t, &n), -EBADMSG);
	ASSERT_EQ(sd_psec_parse_timers("ID: -1\nsignal: 10/0\nnotify: signal/pid.3\nClockID: 0\n", &t, &n), -EBADMSG);
	ASSERT_EQ(sd_psec_parse_timers("ID: 1\nsignal: 65/0\nnotify: signal/pid.3\nClockID: 0\n", &t, &n), -EBADMSG);
}

static void test_cpu_clock(void)
{
	int32_t pid = 0;
	bool thread = true;

	ASSERT_TRUE(!sd_psec_cpu_clock(0, &pid, &thread));
	ASSERT_TRUE(!sd_psec_cpu_clock(7, &pid, &thread));
	/* CLOCK_PROCESS_CPUTIME_ID as the kernel keeps it: the caller's process */
	ASSERT_TRUE(sd_psec_cpu_clock(-6, &pid, &thread));
	ASSERT_EQ(pid, 0);
	ASSERT_TRUE(!thread);
	/* CLOCK_THREAD_CPUTIME_ID: the caller's thread */
	ASSERT_TRUE(sd_psec_cpu_clock(-2, &pid, &thread));
	ASSERT_EQ(pid, 0);
	ASSERT_TRUE(thread);
	/* clock_getcpuclockid(12353) */
	ASSERT_TRUE(sd_psec_cpu_clock(-98830, &pid, &thread));
	ASSERT_EQ(pid, 12353);
	ASSERT_TRUE(!thread);
	/* pthread_getcpuclockid of tid 12354: (~12354 << 3) | 4 | 2 */
	ASSERT_TRUE(sd_psec_cpu_clock((int32_t)((~12354u << 3) | 6), &pid, &thread));
	ASSERT_EQ(pid, 12354);
	ASSERT_TRUE(thread);
	/* which clock 3 is none */
	ASSERT_TRUE(!sd_psec_cpu_clock(-5, &pid, &thread));
}

static void test_filter_equal(void)
{
	uint64_t a[2] = { 1, 2 }, b[2] = { 1, 2 }, c[2] = { 1, 3 };
	struct sec_filter fa = { 0, 2, a }, fb = { 0, 2, b }, fc = { 0, 2, c }, fl = { 2, 2, b };

	ASSERT_TRUE(sd_psec_filter_equal(&fa, &fb));
	ASSERT_TRUE(!sd_psec_filter_equal(&fa, &fc));
	ASSERT_TRUE(!sd_psec_filter_equal(&fa, &fl));
}

int main(void)
{
	RUN(test_timers);
	RUN(test_cpu_clock);
	RUN(test_filter_equal);
	return unit_summary();
}
