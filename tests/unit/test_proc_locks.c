/* SPDX-License-Identifier: MIT */
/* The lock lines of /proc/locks and fdinfo, and the names of locks and open flags. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "proc_locks.h"
#include "pstate.h"
#include "unit.h"

static void test_lock_kinds(void)
{
	struct proc_lock pl;

	/* as Linux 6.18 prints them, in /proc/locks and after "lock:\t" in fdinfo */
	ASSERT_OK(sd_proc_parse_lock("5: POSIX  ADVISORY  WRITE 11315 fe:00:10952751 10 29\n", &pl));
	ASSERT_EQ(pl.l.kind, FLK_POSIX);
	ASSERT_TRUE(pl.l.write);
	ASSERT_EQ(pl.pid, 11315);
	ASSERT_EQ(pl.l.dev, 0xfeull << 32);
	ASSERT_EQ(pl.l.ino, 10952751);
	ASSERT_EQ(pl.l.start, 10);
	ASSERT_EQ(pl.l.end, 29);
	ASSERT_TRUE(!pl.breaking);

	ASSERT_OK(sd_proc_parse_lock("4: POSIX  ADVISORY  READ 11315 103:0a:7 100 EOF", &pl));
	ASSERT_EQ(pl.l.kind, FLK_POSIX);
	ASSERT_TRUE(!pl.l.write);
	ASSERT_EQ(pl.l.dev, 0x103ull << 32 | 0xa);
	ASSERT_EQ(pl.l.start, 100);
	ASSERT_EQ(pl.l.end, LOCK_EOF);

	ASSERT_OK(sd_proc_parse_lock("3: OFDLCK ADVISORY  READ -1 fe:00:10952751 0 4\n", &pl));
	ASSERT_EQ(pl.l.kind, FLK_OFD);
	ASSERT_EQ(pl.pid, -1);
	ASSERT_EQ(pl.l.end, 4);

	ASSERT_OK(sd_proc_parse_lock("2: FLOCK  ADVISORY  WRITE 11315 fe:00:10952773 0 EOF\n", &pl));
	ASSERT_EQ(pl.l.kind, FLK_FLOCK);
	ASSERT_TRUE(pl.l.write);
	ASSERT_EQ(pl.l.start, 0);
	ASSERT_EQ(pl.l.end, LOCK_EOF);

	ASSERT_OK(sd_proc_parse_lock("1: LEASE  ACTIVE    READ 11315 fe:00:10952850 0 EOF\n", &pl));
	ASSERT_EQ(pl.l.kind, FLK_LEASE);
	ASSERT_TRUE(!pl.l.write);
	ASSERT_TRUE(!pl.breaking);
	/* a lease being broken shows what it breaks to */
	ASSERT_OK(sd_proc_parse_lock("1: LEASE  BREAKING  UNLCK 11315 fe:00:10952850 0 EOF\n", &pl));
	ASSERT_TRUE(pl.breaking);
	ASSERT_TRUE(!pl.l.write);
}

static void test_lock_refused(void)
{
	struct proc_lock pl = { .pid = 77 };

	/* a waiter, and kinds no fd of a process holds */
	ASSERT_EQ(sd_proc_parse_lock("1: -> POSIX  ADVISORY  WRITE 12 fe:00:3 0 EOF\n", &pl), -ENOENT);
	ASSERT_EQ(sd_proc_parse_lock("1: DELEG  ACTIVE    READ 12 fe:00:3 0 EOF\n", &pl), -EOPNOTSUPP);
	ASSERT_EQ(sd_proc_parse_lock("1: LEASE  BREAKER   READ 12 fe:00:3 0 EOF\n", &pl), -EOPNOTSUPP);
	ASSERT_EQ(sd_proc_parse_lock("1: UNKNOWN UNKNOWN  READ 12 fe:00:3 0 EOF\n", &pl), -EOPNOTSUPP);
	/* damaged */
	ASSERT_EQ(sd_proc_parse_lock("", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("x: POSIX  ADVISORY  WRITE 12 fe:00:3 0 EOF", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1 POSIX  ADVISORY  WRITE 12 fe:00:3 0 EOF", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1: POSIX  ADVISORY  WRITE 12 fe:00:3 0", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1: POSIX  ADVISORY  WRITE 12 fe:00:3 0 EOF x", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1: POSIX  ADVISORY  UNLCK 12 fe:00:3 0 EOF", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1: POSIX  ADVISORY  WRITE 12 fe:00 0 EOF", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1: POSIX  ADVISORY  WRITE 12 <none>:0 0 EOF", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1: POSIX  ADVISORY  WRITE 12 fe:00:3 9 8", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1: POSIX  ADVISORY  WRITE 12 fe:00:3 -1 8", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1: POSIX  ADVISORY  WRITE x fe:00:3 0 8", &pl), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_lock("1: POSIX  ADVISORY  WRITE 12 fe:00:3 0 18446744073709551615",
				  &pl), -EBADMSG);
	/* nothing written on failure */
	ASSERT_EQ(pl.pid, 77);
}

static void test_lock_describe(void)
{
	struct lock_state l = { .kind = FLK_POSIX, .write = true, .start = 0, .end = 99 };
	char b[LOCK_DESCRIBE_MAX];

	sd_lock_describe(&l, b);
	ASSERT_STREQ(b, "POSIX write lock on bytes 0-99");
	l = (struct lock_state){ .kind = FLK_OFD, .start = 100, .end = LOCK_EOF };
	sd_lock_describe(&l, b);
	ASSERT_STREQ(b, "OFD read lock on bytes 100 to the end");
	l = (struct lock_state){ .kind = FLK_FLOCK, .write = true, .end = LOCK_EOF };
	sd_lock_describe(&l, b);
	ASSERT_STREQ(b, "flock exclusive lock");
	l.write = false;
	sd_lock_describe(&l, b);
	ASSERT_STREQ(b, "flock shared lock");
	l.kind = FLK_LEASE;
	sd_lock_describe(&l, b);
	ASSERT_STREQ(b, "read lease");
	ASSERT_STREQ(sd_lock_kind_name(FLK_OFD), "ofd");
	ASSERT_STREQ(sd_lock_kind_name(0), "?");
	ASSERT_STREQ(sd_lock_kind_name((enum lock_kind)(FLK_MAX + 1)), "?");
}

static void test_fd_flags_name(void)
{
	char b[FD_FLAGS_NAME_MAX];

	sd_fd_flags_name(O_RDWR | 0100000, b);
	ASSERT_STREQ(b, "O_RDWR|O_LARGEFILE");
	sd_fd_flags_name(07116001, b); /* as fdinfo shows O_WRONLY|O_APPEND|O_NONBLOCK|O_NOATIME|O_SYNC|O_CLOEXEC */
	ASSERT_STREQ(b, "O_WRONLY|O_APPEND|O_NONBLOCK|O_SYNC|O_LARGEFILE|O_NOATIME|O_CLOEXEC");
	sd_fd_flags_name(O_DSYNC | O_DIRECT | O_ASYNC, b);
	ASSERT_STREQ(b, "O_RDONLY|O_DSYNC|O_ASYNC|O_DIRECT");
	sd_fd_flags_name(O_PATH | O_DIRECTORY, b);
	ASSERT_STREQ(b, "O_PATH|O_DIRECTORY");
	sd_fd_flags_name(O_WRONLY | 020000000000u, b);
	ASSERT_STREQ(b, "O_WRONLY|020000000000");
	sd_fd_flags_name(3, b);
	ASSERT_STREQ(b, "O_ACCMODE");
}

int main(void)
{
	RUN(test_lock_kinds);
	RUN(test_lock_refused);
	RUN(test_lock_describe);
	RUN(test_fd_flags_name);
	return unit_summary();
}
