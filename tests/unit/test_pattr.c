/* SPDX-License-Identifier: MIT */
/* The pure helpers of the process and thread attributes (proc/pattr.c). */
#include <string.h>

#include "pattr.h"
#include "unit.h"

static void test_autogroup(void)
{
	int nice = 99;

	ASSERT_OK(sd_pattr_parse_autogroup("/autogroup-17 nice 0\n", &nice));
	ASSERT_EQ(nice, 0);
	ASSERT_OK(sd_pattr_parse_autogroup("/autogroup-1234 nice -20", &nice));
	ASSERT_EQ(nice, -20);
	ASSERT_OK(sd_pattr_parse_autogroup("/autogroup-1 nice 19\n", &nice));
	ASSERT_EQ(nice, 19);
	ASSERT_EQ(sd_pattr_parse_autogroup("/autogroup-1 nice 20\n", &nice), -EBADMSG);
	ASSERT_EQ(sd_pattr_parse_autogroup("/autogroup-1 nice x\n", &nice), -EBADMSG);
	ASSERT_EQ(sd_pattr_parse_autogroup("/autogroup-1 nice 5x\n", &nice), -EBADMSG);
	ASSERT_EQ(sd_pattr_parse_autogroup("autogroup-1 nice 5\n", &nice), -EBADMSG);
	ASSERT_EQ(sd_pattr_parse_autogroup("/autogroup-1\n", &nice), -EBADMSG);
	/* a task in the root task group: an empty file */
	ASSERT_EQ(sd_pattr_parse_autogroup("", &nice), -ENODATA);
	ASSERT_EQ(sd_pattr_parse_autogroup("\n", &nice), -ENODATA);
	ASSERT_EQ(nice, 19);
}

static void test_status_value(void)
{
	const char *st = "Name:\tcat\nx86_Thread_features:\t\nx86_Thread_features_locked:\tshstk\n"
			 "untag_mask:\t0xffffffffffffffff\nLast:  a b  \n";
	char v[32];

	ASSERT_OK(sd_pattr_status_value(st, "x86_Thread_features", v, sizeof(v)));
	ASSERT_STREQ(v, "");
	ASSERT_OK(sd_pattr_status_value(st, "x86_Thread_features_locked", v, sizeof(v)));
	ASSERT_STREQ(v, "shstk");
	ASSERT_OK(sd_pattr_status_value(st, "untag_mask", v, sizeof(v)));
	ASSERT_STREQ(v, "0xffffffffffffffff");
	ASSERT_OK(sd_pattr_status_value(st, "Name", v, sizeof(v)));
	ASSERT_STREQ(v, "cat");
	ASSERT_OK(sd_pattr_status_value(st, "Last", v, sizeof(v)));
	ASSERT_STREQ(v, "a b");
	ASSERT_OK(sd_pattr_status_value(st, "untag_mask", v, 5));
	ASSERT_STREQ(v, "0xff");
	/* a key is a whole key: "x86_Thread" is no line of its own */
	ASSERT_EQ(sd_pattr_status_value(st, "x86_Thread", v, sizeof(v)), -ENOENT);
	ASSERT_EQ(sd_pattr_status_value(st, "Missing", v, sizeof(v)), -ENOENT);
	ASSERT_EQ(sd_pattr_status_value("", "Name", v, sizeof(v)), -ENOENT);
}

static void test_cpus(void)
{
	const uint8_t a[2] = { 0x0f, 0x05 }, b[1] = { 0x0f }, none[3] = { 0 };
	const uint8_t all[3] = { 0xff, 0xff, 0xff };
	uint8_t m[2];
	char buf[64];

	sd_pattr_fmt_cpus(a, sizeof(a), buf, sizeof(buf));
	ASSERT_STREQ(buf, "0-3,8,10");
	sd_pattr_fmt_cpus(none, sizeof(none), buf, sizeof(buf));
	ASSERT_STREQ(buf, "none");
	sd_pattr_fmt_cpus(all, sizeof(all), buf, sizeof(buf));
	ASSERT_STREQ(buf, "0-23");
	sd_pattr_fmt_cpus(b, sizeof(b), buf, 3);
	ASSERT_STREQ(buf, "0-");
	ASSERT_TRUE(sd_pattr_cpus_subset(b, sizeof(b), a, sizeof(a)));
	ASSERT_TRUE(!sd_pattr_cpus_subset(a, sizeof(a), b, sizeof(b)));
	ASSERT_TRUE(sd_pattr_cpus_subset(none, sizeof(none), b, sizeof(b)));
	ASSERT_TRUE(sd_pattr_cpus_subset(a, sizeof(a), all, sizeof(all)));
	sd_pattr_cpus_minus(a, sizeof(a), b, sizeof(b), m);
	ASSERT_EQ(m[0], 0);
	ASSERT_EQ(m[1], 0x05);
}

static void test_names(void)
{
	ASSERT_STREQ(sd_sched_policy_name(1 | 0x40000000), "SCHED_FIFO");
	ASSERT_STREQ(sd_sched_policy_name(5), "SCHED_IDLE");
	ASSERT_STREQ(sd_sched_policy_name(99), "an unknown policy");
	ASSERT_STREQ(sd_rlimit_name(7), "RLIMIT_NOFILE");
	ASSERT_STREQ(sd_rlimit_name(15), "RLIMIT_RTTIME");
	ASSERT_STREQ(sd_rlimit_name(16), "an unknown limit");
	ASSERT_STREQ(sd_rlimit_name(-1), "an unknown limit");
}

int main(void)
{
	RUN(test_names);
	RUN(test_autogroup);
	RUN(test_status_value);
	RUN(test_cpus);
	return unit_summary();
}
