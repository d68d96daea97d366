/* SPDX-License-Identifier: MIT */
/* The fdinfo of anonymous-inode fds, as Linux 6.18 prints it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pstate.h"
#include "unit.h"

static void test_eventfd(void)
{
	struct fd_anon_state a = { 0 };

	ASSERT_OK(sd_proc_parse_eventfd("pos:\t0\nflags:\t02004002\nmnt_id:\t17\nino:\t1038\n"
					"eventfd-count: fffffffffffffff0\neventfd-id: 1\neventfd-semaphore: 1\n",
					&a));
	ASSERT_EQ(a.efd_count, 0xfffffffffffffff0ull);
	ASSERT_TRUE(a.efd_semaphore);
	ASSERT_OK(sd_proc_parse_eventfd("eventfd-count:                0\neventfd-id: 7\neventfd-semaphore: 0\n", &a));
	ASSERT_EQ(a.efd_count, 0);
	ASSERT_TRUE(!a.efd_semaphore);
	/* older kernels: no semaphore line */
	ASSERT_EQ(sd_proc_parse_eventfd("eventfd-count: 5\neventfd-id: 7\n", &a), -ENODATA);
	/* no counter, a counter no eventfd holds, garbage */
	ASSERT_EQ(sd_proc_parse_eventfd("eventfd-id: 7\neventfd-semaphore: 0\n", &a), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_eventfd("eventfd-count: ffffffffffffffff\neventfd-semaphore: 0\n", &a), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_eventfd("eventfd-count: 1x\neventfd-semaphore: 0\n", &a), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_eventfd("eventfd-count: 1\neventfd-semaphore: 2\n", &a), -EBADMSG);
	/* a key inside another line is no line of its own */
	ASSERT_EQ(sd_proc_parse_eventfd("x eventfd-count: 1\neventfd-semaphore: 0\n", &a), -EBADMSG);
}

static void test_signalfd(void)
{
	struct fd_anon_state a = { 0 };

	ASSERT_OK(sd_proc_parse_signalfd("pos:\t0\nflags:\t04002\nmnt_id:\t17\nino:\t1038\nsigmask:\t0000000400000200\n", &a));
	ASSERT_EQ(a.sigmask, 0x400000200ull);
	ASSERT_EQ(sd_proc_parse_signalfd("pos:\t0\nflags:\t04002\n", &a), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_signalfd("sigmask:\tzz\n", &a), -EBADMSG);
}

static void test_timerfd(void)
{
	struct timerfd_state t = { 0 };

	ASSERT_OK(sd_proc_parse_timerfd("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\nclockid: 0\nticks: 0\n"
					"settime flags: 03\nit_value: (99, 138243450)\nit_interval: (1, 0)\n", &t));
	ASSERT_EQ(t.clockid, 0);
	ASSERT_EQ(t.ticks, 0);
	ASSERT_EQ(t.settime_flags, 3);
	ASSERT_EQ(t.value_ns, 99138243450ull);
	ASSERT_EQ(t.interval_ns, 1000000000ull);
	ASSERT_OK(sd_proc_parse_timerfd("clockid: 1\nticks: 5\nsettime flags: 00\nit_value: (0, 0)\n"
					"it_interval: (0, 1000000)\n", &t));
	ASSERT_EQ(t.clockid, 1);
	ASSERT_EQ(t.ticks, 5);
	ASSERT_EQ(t.value_ns, 0);
	ASSERT_EQ(t.interval_ns, 1000000);
	/* a line missing, nanoseconds of more than a second, a value beyond 2^64 ns */
	ASSERT_EQ(sd_proc_parse_timerfd("clockid: 1\nticks: 5\nit_value: (0, 0)\nit_interval: (0, 1)\n", &t),
		  -EBADMSG);
	ASSERT_EQ(sd_proc_parse_timerfd("clockid: 1\nticks: 5\nsettime flags: 00\nit_value: (0, 1000000000)\n"
					"it_interval: (0, 1)\n", &t), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_timerfd("clockid: 1\nticks: 5\nsettime flags: 00\nit_value: (18446744074, 0)\n"
					"it_interval: (0, 1)\n", &t), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_timerfd("clockid: 1\nticks: 5\nsettime flags: 09\nit_value: (1, 0)\n"
					"it_interval: (0, 1)\n", &t), -EBADMSG);
}

static void test_epoll(void)
{
	struct epoll_watch *w = NULL;
	size_t n = 99;

	ASSERT_OK(sd_proc_parse_epoll("pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n"
				      "tfd:        3 events: 80000019 data: 1122334455667788  pos:0 ino:40e sdev:10\n"
				      "tfd:        5 events: 10000019 data:               2b  pos:0 ino:40e sdev:10\n",
				      &w, &n));
	ASSERT_EQ(n, 2);
	ASSERT_EQ(w[0].tfd, 3);
	ASSERT_EQ(w[0].fd, 3);
	ASSERT_EQ(w[0].events, 0x80000019u);
	ASSERT_EQ(w[0].data, 0x1122334455667788ull);
	ASSERT_EQ(w[1].tfd, 5);
	ASSERT_EQ(w[1].data, 0x2b);
	free(w);
	/* none */
	ASSERT_OK(sd_proc_parse_epoll("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n", &w, &n));
	ASSERT_EQ(n, 0);
	ASSERT_TRUE(w == NULL);
	/* a field missing from its line (found on the next line does not count), garbage */
	ASSERT_EQ(sd_proc_parse_epoll("tfd:        3 events: 19\ndata: 5\n", &w, &n), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_epoll("tfd:        x events: 19 data: 5\n", &w, &n), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_epoll("tfd:        3 events: 1ffffffff data: 5\n", &w, &n), -EBADMSG);
}

static void test_inotify(void)
{
	struct inotify_watch *w = NULL;
	size_t n = 99;

	ASSERT_OK(sd_proc_parse_inotify("pos:\t0\nflags:\t04000\nmnt_id:\t17\nino:\t1038\n"
					"inotify wd:4 ino:3c51a sdev:fe00000 mask:4000fff ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:1ac5030000000000\n"
					"inotify wd:1a ino:13 sdev:10300005 mask:80000002 ignored_mask:0 fhandle-bytes:c fhandle-type:81 f_handle:130000000000000001020304\n",
					&w, &n));
	ASSERT_EQ(n, 2);
	ASSERT_EQ(w[0].wd, 4);
	ASSERT_EQ(w[0].ino, 0x3c51a);
	ASSERT_EQ(w[0].dev, 0xfeull << 32);
	ASSERT_EQ(w[0].mask, 0x4000fff);
	ASSERT_EQ(w[0].handle_bytes, 8);
	ASSERT_EQ(w[0].handle_type, 1);
	ASSERT_EQ(w[0].handle[0], 0x1a);
	ASSERT_EQ(w[0].handle[1], 0xc5);
	ASSERT_EQ(w[1].wd, 0x1a);
	ASSERT_EQ(w[1].dev, 0x103ull << 32 | 5);
	ASSERT_EQ(w[1].handle_bytes, 12);
	ASSERT_EQ(w[1].handle[11], 4);
	ASSERT_TRUE(w[1].path == NULL);
	free(w);
	/* sorted by wd whatever the order of the lines (the kernel lists them newest first) */
	ASSERT_OK(sd_proc_parse_inotify("inotify wd:5 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:0 fhandle-type:1 f_handle:\n"
					"inotify wd:2 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:0 fhandle-type:1 f_handle:\n",
					&w, &n));
	ASSERT_EQ(n, 2);
	ASSERT_EQ(w[0].wd, 2);
	ASSERT_EQ(w[1].wd, 5);
	free(w);
	/* a handle shorter than it says, one too long, a wd twice, wd 0, an ignored mask */
	ASSERT_EQ(sd_proc_parse_inotify("inotify wd:4 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:1ac503\n", &w, &n), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_inotify("inotify wd:4 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:81 fhandle-type:1 f_handle:00\n", &w, &n), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_inotify("inotify wd:4 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:0 fhandle-type:1 f_handle:\n"
					"inotify wd:4 ino:2 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:0 fhandle-type:1 f_handle:\n", &w, &n), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_inotify("inotify wd:0 ino:1 sdev:0 mask:2 ignored_mask:0 fhandle-bytes:0 fhandle-type:1 f_handle:\n", &w, &n), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_inotify("inotify wd:1 ino:1 sdev:0 mask:2 ignored_mask:4 fhandle-bytes:0 fhandle-type:1 f_handle:\n", &w, &n), -EBADMSG);
}

static void test_pidfd(void)
{
	int pid = 0;

	ASSERT_OK(sd_proc_parse_pidfd("pos:\t0\nflags:\t02004002\nmnt_id:\t4\nino:\t6037644\nPid:\t19954\nNSpid:\t19954\n", &pid));
	ASSERT_EQ(pid, 19954);
	ASSERT_OK(sd_proc_parse_pidfd("flags:\t02000002\nPid:\t-1\nNSpid:\t-1\n", &pid));
	ASSERT_EQ(pid, -1);
	ASSERT_EQ(sd_proc_parse_pidfd("flags:\t02000002\nNSpid:\t5\n", &pid), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_pidfd("Pid:\t0\n", &pid), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_pidfd("Pid:\t-2\n", &pid), -EBADMSG);
}

static void test_fanotify(void)
{
	struct fd_anon_state a = { 0 };

	ASSERT_OK(sd_proc_parse_fanotify("pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n"
					 "fanotify flags:11 event-flags:88000\n"
					 "fanotify ino:a7244f sdev:fe00000 mflags:200 mask:1 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:4f24a700366d1e62\n"
					 "fanotify sdev:15 mflags:0 mask:8 ignored_mask:0\n"
					 "fanotify mnt_id:1b mflags:40 mask:0 ignored_mask:20\n", &a));
	ASSERT_EQ(a.fan_flags, 0x11);
	ASSERT_EQ(a.fan_event_flags, 0x88000);
	ASSERT_EQ(a.nfanotify, 3);
	ASSERT_EQ(a.fanotify[0].type, FANM_INODE);
	ASSERT_EQ(a.fanotify[0].mflags, 0x200);
	ASSERT_EQ(a.fanotify[0].mask, 1);
	ASSERT_EQ(a.fanotify[0].obj.ino, 0xa7244f);
	ASSERT_EQ(a.fanotify[0].obj.dev, 0xfeull << 32);
	ASSERT_EQ(a.fanotify[0].obj.handle_bytes, 8);
	ASSERT_EQ(a.fanotify[1].type, FANM_FS);
	ASSERT_EQ(a.fanotify[1].obj.dev, 0x15);
	ASSERT_EQ(a.fanotify[1].mask, 8);
	ASSERT_EQ(a.fanotify[2].type, FANM_MOUNT);
	ASSERT_EQ(a.fanotify[2].mnt_id, 0x1b);
	ASSERT_EQ(a.fanotify[2].ignored_mask, 0x20);
	sd_fd_anon_release(&a);
	/* no flags line, a mark of no kind known, a mark line cut short */
	ASSERT_EQ(sd_proc_parse_fanotify("fanotify sdev:15 mflags:0 mask:8 ignored_mask:0\n", &a), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_fanotify("fanotify flags:0 event-flags:0\nfanotify mnt_ns:5 mflags:0 mask:8 ignored_mask:0\n", &a), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_fanotify("fanotify flags:0 event-flags:0\nfanotify sdev:15 mflags:0 mask:8\n", &a), -EBADMSG);
}

int main(void)
{
	RUN(test_fanotify);
	RUN(test_pidfd);
	RUN(test_inotify);
	RUN(test_epoll);
	RUN(test_timerfd);
	RUN(test_eventfd);
	RUN(test_signalfd);
	return unit_summary();
}
