/* SPDX-License-Identifier: MIT */
/* /proc/sysvipc/shm, as Linux 6.18 prints it. */
#include <errno.h>

#include "proc_sysv.h"
#include "unit.h"

static const char shm[] =
	"       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n"
	"  11028976         15   600                    56 12357 12357      0 65534 65534 65534 65534 1796358856 1796358861 1796358759                  4096                     0\n"
	"         0       4242  1640                 10000  1673  1673      3     0     0     0     0 1796358926          0 1796358926                  4096                     0\n";

static void test_sysv_shm(void)
{
	struct proc_sysv_shm s;

	ASSERT_OK(sd_proc_parse_sysv_shm(shm, 15, &s));
	ASSERT_EQ(s.key, 11028976);
	ASSERT_EQ(s.mode, 0600);
	ASSERT_EQ(s.size, 56);
	ASSERT_EQ(s.cpid, 12357);
	ASSERT_EQ(s.nattch, 0);
	ASSERT_EQ(s.uid, 65534);
	ASSERT_EQ(s.gid, 65534);
	/* removed, still attached: key IPC_PRIVATE, SHM_DEST in the perms */
	ASSERT_OK(sd_proc_parse_sysv_shm(shm, 4242, &s));
	ASSERT_EQ(s.key, 0);
	ASSERT_EQ(s.mode, 01640);
	ASSERT_EQ(s.size, 10000);
	ASSERT_EQ(s.nattch, 3);
	ASSERT_EQ(sd_proc_parse_sysv_shm(shm, 16, &s), -ENOENT);
	ASSERT_EQ(sd_proc_parse_sysv_shm("header\nnot a line\n", 15, &s), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_sysv_shm("header\n", 15, &s), -ENOENT);
}

int main(void)
{
	RUN(test_sysv_shm);
	return unit_summary();
}
