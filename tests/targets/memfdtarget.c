/* SPDX-License-Identifier: MIT */
/*
 * A target that holds deleted files and memfds, open and mapped, each
 * with state a restore must give back. Driven over stdin/stdout one line
 * at a time:
 *
 *   facts  -> one line, a JSON object: "pid", "fds" (role -> number)
 *   check  -> each one's state checked from inside: "ok", or "bad: " and
 *             what differs (it writes to them: once, after a restore)
 *   exit   -> exits 0
 *
 * --dir DIR (the files, named mf-PID.*) and --kinds LIST (comma-separated;
 * default all) set up, before it prints "ready PID":
 *   deleted: "del" DIR/mf-PID.del open O_RDWR, 4 KiB of 'a', a hole, 4 KiB
 *     of 'b' at 1 MiB and a hole to 1 MiB + 12 KiB, at offset 5000,
 *     mapped shared (its first 8 KiB) and unlinked; "del_ap" mf-PID.ap
 *     O_WRONLY | O_APPEND | close-on-exec holding "append" (at offset
 *     6), unlinked;
 *     "tmp" an O_TMPFILE | O_RDWR in DIR of mode 0640 holding "tmpfile"
 *     at 8 KiB, at offset 3; "deldir" the directory mf-PID.dd (mode 0751)
 *     open O_RDONLY | O_DIRECTORY, removed. check: names ("DIR/mf-PID.del
 *     (deleted)"), sizes, modes, holes and data where they were, offsets,
 *     flags (O_TMPFILE kept); a write through del shows in its mapping
 *     and one through the mapping in del; del_ap appends; a file made
 *     through tmp's /proc link is linkable (linkat) and holds its data.
 *   memfd: "mfd" memfd "mftarget" (MFD_CLOEXEC | MFD_ALLOW_SEALING) of 5
 *     pages, 'p' 'q' on pages 0 and 1, a hole on 2, 'r' on 3 and 4, at
 *     offset 100, mapped shared whole and privately (pages 0-1, page 0
 *     written 'P' there), sealed F_SEAL_SHRINK | F_SEAL_GROW; "mfd_nx" a
 *     memfd "mf noexec" (MFD_NOEXEC_SEAL) holding "nx", sealed F_SEAL_SEAL
 *     too; "mfd_fw" a memfd "mf future" of a page mapped shared, sealed
 *     F_SEAL_FUTURE_WRITE; "mfd_ro" a memfd "mf sealed" holding "ro", sealed
 *     F_SEAL_WRITE, then mapped shared read-only. check: names, sizes, seals, modes, the hole,
 *     offsets; a write through mfd shows in the shared mapping, one
 *     through the mapping in mfd; the private mapping keeps its 'P' and
 *     sees a write to page 1 it never made (the memfd's page); mfd_fw
 *     refuses write() but its mapping writes through; mfd_ro's mapping
 *     reads "ro" and cannot be made writable (EACCES).
 *   shm: "zsplit" shared anonymous memory of 4 pages ('0' to '3'), page 1
 *     made read-only (three VMAs of one object, at offsets 0, 1 and 2
 *     pages); "zalias" shared anonymous memory of 2 pages mapped again
 *     elsewhere (mremap, old size 0); "shm" /dev/shm/mf-PID.shm open
 *     O_RDWR, 2 pages mapped shared, unlinked. check: the pages; the three
 *     parts one object (their map_files links one inode), the alias and
 *     its original one (a write through one shows in the other), the
 *     deleted /dev/shm file one with its fd.
 *   sysv: a part of a System V segment attached (for the refusal): no check.
 *   big: "big" mf-PID.big, 64 KiB of data open O_RDWR, unlinked: no
 *     check.
 *   hugetlb: "huge" memfd_create("huge", MFD_HUGETLB), where the kernel
 *     makes one (else no such role): no check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define PG 4096
#define O_LARGEFILE_KERNEL 0100000 /* what F_GETFL shows, whatever libc calls O_LARGEFILE */
#define MIB (1 << 20)

enum { DEL, DEL_AP, TMP, DELDIR, MFD, MFD_NX, MFD_FW, MFD_RO, BIG, HUGE, SHM, NROLES };
static const char *const role[NROLES] = { "del", "del_ap", "tmp", "deldir", "mfd", "mfd_nx", "mfd_fw",
					  "mfd_ro", "big", "huge", "shm" };
static int fds[NROLES];
static char dir[3000] = "/tmp", del_path[3100], ap_path[3100], dd_path[3100];
static char *del_map, *mfd_map, *mfd_priv, *fw_map, *ro_map;
static char *zsplit, *zalias_a, *zalias_b, *shm_map, shm_path[3100];
static char bad[4096];

static void die(const char *what)
{
	fprintf(stderr, "memfdtarget: %s: %s\n", what, strerror(errno));
	exit(1);
}

static bool fail(const char *fmt, ...)
{
	size_t n = strlen(bad);
	va_list ap;

	if (n && n < sizeof(bad) - 2)
		bad[n++] = ';', bad[n++] = ' ', bad[n] = '\0';
	va_start(ap, fmt);
	vsnprintf(bad + n, sizeof(bad) - n, fmt, ap);
	va_end(ap);
	return false;
}

static void fill(int fd, char c, size_t len, off_t off)
{
	char buf[PG];

	memset(buf, c, sizeof(buf));
	for (size_t done = 0; done < len; done += PG)
		if (pwrite(fd, buf, len - done < PG ? len - done : PG, off + (off_t)done) < 0)
			die("pwrite");
}

static void setup_deleted(void)
{
	int pid = (int)getpid();

	snprintf(del_path, sizeof(del_path), "%s/mf-%d.del", dir, pid);
	snprintf(ap_path, sizeof(ap_path), "%s/mf-%d.ap", dir, pid);
	snprintf(dd_path, sizeof(dd_path), "%s/mf-%d.dd", dir, pid);
	fds[DEL] = open(del_path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fds[DEL] < 0)
		die(del_path);
	fill(fds[DEL], 'a', PG, 0);
	fill(fds[DEL], 'b', PG, MIB);
	if (ftruncate(fds[DEL], MIB + 3 * PG) < 0 || lseek(fds[DEL], 5000, SEEK_SET) != 5000)
		die("del");
	del_map = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fds[DEL], 0);
	if (del_map == MAP_FAILED || unlink(del_path) < 0)
		die("del mmap");
	fds[DEL_AP] = open(ap_path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fds[DEL_AP] < 0 || write(fds[DEL_AP], "append", 6) != 6 || unlink(ap_path) < 0)
		die(ap_path);
	fds[TMP] = open(dir, O_TMPFILE | O_RDWR, 0640);
	if (fds[TMP] < 0 || pwrite(fds[TMP], "tmpfile", 7, 2 * PG) != 7 || lseek(fds[TMP], 3, SEEK_SET) != 3)
		die("O_TMPFILE");
	if (mkdir(dd_path, 0751) < 0 || chmod(dd_path, 0751) < 0)
		die(dd_path);
	fds[DELDIR] = open(dd_path, O_RDONLY | O_DIRECTORY);
	if (fds[DELDIR] < 0 || rmdir(dd_path) < 0)
		die("deldir");
}

static void setup_memfd(void)
{
	fds[MFD] = memfd_create("mftarget", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fds[MFD] < 0)
		die("memfd_create");
	fill(fds[MFD], 'p', PG, 0);
	fill(fds[MFD], 'q', PG, PG);
	fill(fds[MFD], 'r', 2 * PG, 3 * PG);
	if (lseek(fds[MFD], 100, SEEK_SET) != 100)
		die("lseek");
	mfd_map = mmap(NULL, 5 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fds[MFD], 0);
	mfd_priv = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fds[MFD], 0);
	if (mfd_map == MAP_FAILED || mfd_priv == MAP_FAILED)
		die("mmap memfd");
	mfd_priv[0] = 'P';
	if (fcntl(fds[MFD], F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		die("F_ADD_SEALS");
	fds[MFD_NX] = memfd_create("mf noexec", MFD_NOEXEC_SEAL);
	if (fds[MFD_NX] < 0 || write(fds[MFD_NX], "nx", 2) != 2 || fcntl(fds[MFD_NX], F_ADD_SEALS, F_SEAL_SEAL) < 0)
		die("memfd noexec");
	fds[MFD_FW] = memfd_create("mf future", MFD_ALLOW_SEALING);
	if (fds[MFD_FW] < 0 || ftruncate(fds[MFD_FW], PG) < 0)
		die("memfd future");
	fw_map = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fds[MFD_FW], 0);
	if (fw_map == MAP_FAILED)
		die("mmap future");
	fw_map[0] = 'f';
	if (fcntl(fds[MFD_FW], F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0)
		die("F_SEAL_FUTURE_WRITE");
	fds[MFD_RO] = memfd_create("mf sealed", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (fds[MFD_RO] < 0 || write(fds[MFD_RO], "ro", 2) != 2 ||
	    fcntl(fds[MFD_RO], F_ADD_SEALS, F_SEAL_WRITE) < 0)
		die("memfd sealed");
	ro_map = mmap(NULL, PG, PROT_READ, MAP_SHARED, fds[MFD_RO], 0);
	if (ro_map == MAP_FAILED)
		die("mmap sealed");
}

static void setup_big(void)
{
	char path[3100];

	snprintf(path, sizeof(path), "%s/mf-%d.big", dir, (int)getpid());
	fds[BIG] = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fds[BIG] < 0)
		die(path);
	fill(fds[BIG], 'B', 64 * 1024, 0);
	if (unlink(path) < 0)
		die(path);
}

static void setup_shm(void)
{
	zsplit = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	zalias_a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (zsplit == MAP_FAILED || zalias_a == MAP_FAILED)
		die("mmap shared");
	for (int i = 0; i < 4; i++)
		memset(zsplit + i * PG, '0' + i, PG);
	if (mprotect(zsplit + PG, PG, PROT_READ) < 0)
		die("mprotect");
	memcpy(zalias_a, "alias", 5);
	zalias_b = mremap(zalias_a, 0, 2 * PG, MREMAP_MAYMOVE);
	if (zalias_b == MAP_FAILED)
		die("mremap");
	snprintf(shm_path, sizeof(shm_path), "/dev/shm/mf-%d.shm", (int)getpid());
	fds[SHM] = open(shm_path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fds[SHM] < 0 || ftruncate(fds[SHM], 2 * PG) < 0)
		die(shm_path);
	shm_map = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fds[SHM], 0);
	if (shm_map == MAP_FAILED || unlink(shm_path) < 0)
		die("mmap /dev/shm");
	memcpy(shm_map + PG, "shm", 3);
}

/* The inode of the mapping at @p (its /proc/self/map_files link). */
static unsigned long ino_at(const char *p)
{
	char path[128], line[512];
	unsigned long a, b, ino = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	struct stat st;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && (unsigned long)p >= a && (unsigned long)p < b) {
			snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", a, b);
			if (stat(path, &st) == 0)
				ino = (unsigned long)st.st_ino;
		}
	if (f)
		fclose(f);
	return ino;
}

static bool check_shm(void)
{
	char buf[4] = "";

	for (int i = 0; i < 4; i++)
		if (zsplit[i * PG] != '0' + i || zsplit[i * PG + PG - 1] != '0' + i)
			fail("zsplit page %d holds '%c'", i, zsplit[i * PG]);
	if (!ino_at(zsplit) || ino_at(zsplit) != ino_at(zsplit + PG) || ino_at(zsplit) != ino_at(zsplit + 3 * PG))
		fail("zsplit's parts are of several objects (%lu, %lu, %lu)", ino_at(zsplit),
		     ino_at(zsplit + PG), ino_at(zsplit + 3 * PG));
	if (memcmp(zalias_b, "alias", 5))
		fail("zalias's second mapping reads '%.5s'", zalias_b);
	zalias_a[PG] = 'x';
	zalias_b[1] = 'y';
	if (zalias_b[PG] != 'x' || zalias_a[1] != 'y')
		fail("zalias's two mappings do not share their pages");
	if (memcmp(shm_map + PG, "shm", 3))
		fail("the /dev/shm file's mapping reads '%.3s'", shm_map + PG);
	if (pwrite(fds[SHM], "S", 1, 7) != 1 || shm_map[7] != 'S')
		fail("the /dev/shm file: a write through its fd is not in its mapping");
	if (pread(fds[SHM], buf, 3, PG) != 3 || memcmp(buf, "shm", 3))
		fail("the /dev/shm file's fd reads '%.3s'", buf);
	return true;
}

/* What fd @fd links to, as /proc/self/fd shows it. */
static const char *link_of(int fd)
{
	static char buf[4200];
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The data of @fd starts at @data and its hole at @hole (SEEK_DATA from @from). */
static bool extent(const char *name, int fd, off_t from, off_t data, off_t hole)
{
	off_t d = lseek(fd, from, SEEK_DATA), h = d < 0 ? -1 : lseek(fd, d, SEEK_HOLE);

	if (d != data || h != hole)
		return fail("%s: data from %lld at %lld to %lld, not %lld to %lld", name, (long long)from,
			    (long long)d, (long long)h, (long long)data, (long long)hole);
	return true;
}

static bool expect_file(int r, const char *want_link, off_t size, mode_t mode, off_t pos, int flags)
{
	struct stat st;
	int fl = fcntl(fds[r], F_GETFL);

	if (strcmp(link_of(fds[r]), want_link))
		return fail("%s links to '%s', not '%s'", role[r], link_of(fds[r]), want_link);
	if (fstat(fds[r], &st) < 0 || st.st_nlink != 0 || st.st_size != size || (st.st_mode & 07777) != mode)
		return fail("%s: %ld links, size %lld, mode %o; not 0, %lld, %o", role[r], (long)st.st_nlink,
			    (long long)st.st_size, st.st_mode & 07777, (long long)size, mode);
	if (!S_ISDIR(st.st_mode) && lseek(fds[r], 0, SEEK_CUR) != pos)
		return fail("%s at offset %lld, not %lld", role[r], (long long)lseek(fds[r], 0, SEEK_CUR), (long long)pos);
	if ((fl & ~O_LARGEFILE_KERNEL) != flags)
		return fail("%s: flags %o, not %o", role[r], fl & ~O_LARGEFILE_KERNEL, flags);
	return true;
}

static bool check_deleted(void)
{
	char buf[16] = "";
	struct stat st;
	char tmp_link[64], want[3200];

	snprintf(want, sizeof(want), "%s (deleted)", del_path);
	expect_file(DEL, want, MIB + 3 * PG, 0644, 5000, O_RDWR);
	extent("del", fds[DEL], 0, 0, PG);
	extent("del", fds[DEL], PG, MIB, MIB + PG);
	if (pread(fds[DEL], buf, 2, MIB + PG - 1) != 2 || memcmp(buf, "b\0", 2))
		fail("del: not 'b' then a hole at 1 MiB + 4 KiB");
	if (del_map[0] != 'a' || del_map[PG] != 0)
		fail("del's mapping: '%c' '%c', not 'a' and a hole", del_map[0], del_map[PG]);
	if (pwrite(fds[DEL], "X", 1, 10) != 1 || del_map[10] != 'X')
		fail("del: a write through the fd is not in its mapping");
	del_map[PG + 1] = 'Y';
	if (pread(fds[DEL], buf, 1, PG + 1) != 1 || buf[0] != 'Y')
		fail("del: a write through the mapping is not in the file");

	snprintf(want, sizeof(want), "%s (deleted)", ap_path);
	expect_file(DEL_AP, want, 6, 0600, 6, O_WRONLY | O_APPEND);
	if ((fcntl(fds[DEL_AP], F_GETFD) & FD_CLOEXEC) == 0)
		fail("del_ap is not close-on-exec");
	if (write(fds[DEL_AP], "!", 1) != 1 || fstat(fds[DEL_AP], &st) < 0 || st.st_size != 7)
		fail("del_ap: a write does not append");

	snprintf(want, sizeof(want), "%s/#", dir);
	if (strncmp(link_of(fds[TMP]), want, strlen(want)))
		fail("tmp links to '%s', not an O_TMPFILE in %s", link_of(fds[TMP]), dir);
	else
		expect_file(TMP, link_of(fds[TMP]), 2 * PG + 7, 0640, 3, O_RDWR | O_TMPFILE);
	extent("tmp", fds[TMP], 0, 2 * PG, 2 * PG + 7);
	if (pread(fds[TMP], buf, 7, 2 * PG) != 7 || memcmp(buf, "tmpfile", 7))
		fail("tmp does not hold its data");
	/* an O_TMPFILE opened without O_EXCL can be given a name */
	snprintf(want, sizeof(want), "%s/mf-%d.linked", dir, (int)getpid());
	snprintf(tmp_link, sizeof(tmp_link), "/proc/self/fd/%d", fds[TMP]);
	if (linkat(AT_FDCWD, tmp_link, AT_FDCWD, want, AT_SYMLINK_FOLLOW) < 0)
		fail("tmp cannot be linked: %s", strerror(errno));
	else if (stat(want, &st) < 0 || st.st_size != 2 * PG + 7 || unlink(want) < 0)
		fail("tmp linked is not the file");

	snprintf(want, sizeof(want), "%s (deleted)", dd_path);
	if (strcmp(link_of(fds[DELDIR]), want))
		fail("deldir links to '%s', not '%s'", link_of(fds[DELDIR]), want);
	if (fstat(fds[DELDIR], &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0751 || st.st_nlink)
		fail("deldir: mode %o, %ld links", st.st_mode, (long)st.st_nlink);
	if ((fcntl(fds[DELDIR], F_GETFL) & ~O_LARGEFILE_KERNEL) != (O_RDONLY | O_DIRECTORY))
		fail("deldir: flags %o", fcntl(fds[DELDIR], F_GETFL));
	if (openat(fds[DELDIR], "x", O_CREAT | O_RDWR, 0600) >= 0 || errno != ENOENT)
		fail("a file can be made in deldir, which is deleted");
	return true;
}

static bool check_memfd(void)
{
	char buf[8] = "";
	struct stat st;

	expect_file(MFD, "/memfd:mftarget (deleted)", 5 * PG, 0777, 100, O_RDWR);
	if ((fcntl(fds[MFD], F_GETFD) & FD_CLOEXEC) == 0)
		fail("mfd is not close-on-exec");
	if (fcntl(fds[MFD], F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW))
		fail("mfd's seals: %#x", fcntl(fds[MFD], F_GET_SEALS));
	extent("mfd", fds[MFD], 0, 0, 2 * PG);
	extent("mfd", fds[MFD], 2 * PG, 3 * PG, 5 * PG);
	if (mfd_map[0] != 'p' || mfd_map[PG] != 'q' || mfd_map[2 * PG] || mfd_map[3 * PG] != 'r')
		fail("mfd's shared mapping does not hold its pages");
	if (mfd_priv[0] != 'P')
		fail("mfd's private mapping lost its own page 0: '%c'", mfd_priv[0]);
	if (pwrite(fds[MFD], "W", 1, PG + 5) != 1 || mfd_map[PG + 5] != 'W')
		fail("mfd: a write through the fd is not in the shared mapping");
	if (mfd_priv[PG + 5] != 'W')
		fail("mfd: a write through the fd is not in the private mapping's page it never wrote");
	mfd_map[3 * PG + 1] = 'M';
	if (pread(fds[MFD], buf, 1, 3 * PG + 1) != 1 || buf[0] != 'M')
		fail("mfd: a write through the shared mapping is not in the memfd");
	if (ftruncate(fds[MFD], PG) == 0 || errno != EPERM)
		fail("mfd can be shrunk: its seals are gone");

	expect_file(MFD_NX, "/memfd:mf noexec (deleted)", 2, 0666, 2, O_RDWR);
	if (fcntl(fds[MFD_NX], F_GET_SEALS) != (F_SEAL_EXEC | F_SEAL_SEAL))
		fail("mfd_nx's seals: %#x", fcntl(fds[MFD_NX], F_GET_SEALS));
	if (fchmod(fds[MFD_NX], 0777) == 0)
		fail("mfd_nx can be made executable");

	expect_file(MFD_FW, "/memfd:mf future (deleted)", PG, 0777, 0, O_RDWR);
	if (fcntl(fds[MFD_FW], F_GET_SEALS) != F_SEAL_FUTURE_WRITE)
		fail("mfd_fw's seals: %#x", fcntl(fds[MFD_FW], F_GET_SEALS));
	if (pwrite(fds[MFD_FW], "w", 1, 0) >= 0 || errno != EPERM)
		fail("mfd_fw takes a write()");
	fw_map[1] = 'g';
	if (pread(fds[MFD_FW], buf, 2, 0) != 2 || memcmp(buf, "fg", 2))
		fail("mfd_fw's mapping does not write through: '%.2s'", buf);
	if (fstat(fds[MFD_FW], &st) < 0 || st.st_nlink)
		fail("mfd_fw has links");

	if (fcntl(fds[MFD_RO], F_GET_SEALS) != F_SEAL_WRITE)
		fail("mfd_ro's seals: %#x", fcntl(fds[MFD_RO], F_GET_SEALS));
	if (memcmp(ro_map, "ro", 2))
		fail("mfd_ro's mapping reads '%.2s'", ro_map);
	if (mprotect(ro_map, PG, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
		fail("mfd_ro's mapping can be made writable: %s", strerror(errno));
	return true;
}

int main(int argc, char **argv)
{
	const char *kinds = "deleted,memfd";
	char line[256];
	bool want_deleted, want_memfd;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--kinds") && i + 1 < argc)
			kinds = argv[++i];
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			snprintf(dir, sizeof(dir), "%s", argv[++i]);
	for (int i = 0; i < NROLES; i++)
		fds[i] = -1;
	want_deleted = strstr(kinds, "deleted") != NULL;
	want_memfd = strstr(kinds, "memfd") != NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (want_deleted)
		setup_deleted();
	if (want_memfd)
		setup_memfd();
	if (strstr(kinds, "big"))
		setup_big();
	if (strstr(kinds, "hugetlb"))
		fds[HUGE] = memfd_create("huge", MFD_HUGETLB);
	if (strstr(kinds, "shm"))
		setup_shm();
	if (strstr(kinds, "sysv")) {
		int id = shmget(IPC_PRIVATE, 2 * PG, IPC_CREAT | 0600);
		char *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);

		/* its second page unmapped: a part of the segment stays attached */
		if (p == (void *)-1 || shmctl(id, IPC_RMID, NULL) < 0 || munmap(p + PG, PG) < 0)
			die("shmget");
	}
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "facts")) {
			printf("{\"pid\":%d,\"fds\":{", (int)getpid());
			for (int i = 0, n = 0; i < NROLES; i++)
				if (fds[i] >= 0)
					printf("%s\"%s\":%d", n++ ? "," : "", role[i], fds[i]);
			printf("}}\n");
		} else if (!strcmp(line, "check")) {
			bad[0] = '\0';
			if (want_deleted)
				check_deleted();
			if (want_memfd)
				check_memfd();
			if (strstr(kinds, "shm"))
				check_shm();
			printf("%s%s\n", bad[0] ? "bad: " : "ok", bad);
		} else if (!strcmp(line, "exit")) {
			break;
		} else {
			printf("unknown command '%s'\n", line);
		}
	}
	return 0;
}
