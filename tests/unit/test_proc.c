/* SPDX-License-Identifier: MIT */
/* Parsers of /proc/PID files, fed from buffers. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "proc.h"
#include "procfs.h"
#include "pstate.h"
#include "unit.h"

static const char maps_text[] =
	"55d0c4a00000-55d0c4a02000 r--p 00000000 08:01 1311234                    /usr/bin/cat\n"
	"55d0c4a02000-55d0c4a07000 r-xp 00002000 08:01 1311234                    /usr/bin/cat\n"
	"55d0c5c1e000-55d0c5c3f000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f1a2b000000-7f1a2b021000 rw-p 00000000 00:00 0 \n"
	"7f1a2b100000-7f1a2b101000 rw-s 00000000 00:01 1025                   /dev/zero (deleted)\n"
	"7f1a2b200000-7f1a2b202000 rw-s 00000000 00:01 2049                    /memfd:x (deleted)\n"
	"7f1a2b300000-7f1a2b301000 r--p 7ffff000 fd:02 12345678901 /home/u/a file  with spaces\n"
	"7f1a2b400000-7f1a2b401000 rw-s 00000000 103:05 888                    /var/lib/shared.db\n"
	"7f1a2b500000-7f1a2b501000 rw-p 00003000 08:01 999                    /tmp/gone (deleted)\n"
	"7f1a2b600000-7f1a2b602000 rw-p 00000000 00:00 0                         [anon:my buffer]\n"
	"7f1a2b700000-7f1a2b701000 ---p 00000000 00:00 0 \n"
	"7f1a2b800000-7f1a2b801000 rw-s 00000000 00:01 7                  /SYSV0000abcd (deleted)\n"
	"7f1a2b900000-7f1a2b901000 rw-p 00000000 00:01 2050                    /memfd:y (deleted)\n"
	"7f1a2ba00000-7f1a2ba01000 rw-s 00000000 00:01 9                         [anon_shmem:shm]\n"
	"7f1a2bb00000-7f1a2bb02000 r--s 00001000 08:01 1000                    /tmp/shared gone (deleted)\n"
	"7ffd1c3e0000-7ffd1c401000 rw-p 00000000 00:00 0                          [stack]\n"
	"7ffd1c5f0000-7ffd1c5f4000 r--p 00000000 00:00 0                          [vvar]\n"
	"7ffd1c5f4000-7ffd1c5f5000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
	"7ffd1c5f5000-7ffd1c5f7000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

struct want_vma {
	uint64_t start, end, pgoff;
	uint32_t prot;
	bool shared;
	uint32_t maj, min;
	uint64_t ino;
	enum vma_kind kind;
	const char *path;
};

#define RW (PROT_READ | PROT_WRITE)
#define RX (PROT_READ | PROT_EXEC)

static const struct want_vma maps_want[] = {
	{ 0x55d0c4a00000, 0x55d0c4a02000, 0, PROT_READ, false, 8, 1, 1311234, VK_FILE,
	  "/usr/bin/cat" },
	{ 0x55d0c4a02000, 0x55d0c4a07000, 0x2000, RX, false, 8, 1, 1311234, VK_FILE,
	  "/usr/bin/cat" },
	{ 0x55d0c5c1e000, 0x55d0c5c3f000, 0, RW, false, 0, 0, 0, VK_ANON, "[heap]" },
	{ 0x7f1a2b000000, 0x7f1a2b021000, 0, RW, false, 0, 0, 0, VK_ANON, NULL },
	{ 0x7f1a2b100000, 0x7f1a2b101000, 0, RW, true, 0, 1, 1025, VK_SHMEM,
	  "/dev/zero (deleted)" },
	/* a shared memfd: a shared mapping of a deleted file, one object with the memfd's fds */
	{ 0x7f1a2b200000, 0x7f1a2b202000, 0, RW, true, 0, 1, 2049, VK_FILE_SHARED,
	  "/memfd:x (deleted)" },
	{ 0x7f1a2b300000, 0x7f1a2b301000, 0x7ffff000, PROT_READ, false, 0xfd, 2, 12345678901ull,
	  VK_FILE, "/home/u/a file  with spaces" },
	{ 0x7f1a2b400000, 0x7f1a2b401000, 0, RW, true, 0x103, 5, 888, VK_FILE_SHARED,
	  "/var/lib/shared.db" },
	/* private and deleted: a file mapping still, of a deleted file (its contents are saved) */
	{ 0x7f1a2b500000, 0x7f1a2b501000, 0x3000, RW, false, 8, 1, 999, VK_FILE,
	  "/tmp/gone (deleted)" },
	{ 0x7f1a2b600000, 0x7f1a2b602000, 0, RW, false, 0, 0, 0, VK_ANON, "[anon:my buffer]" },
	{ 0x7f1a2b700000, 0x7f1a2b701000, 0, PROT_NONE, false, 0, 0, 0, VK_ANON, NULL },
	{ 0x7f1a2b800000, 0x7f1a2b801000, 0, RW, true, 0, 1, 7, VK_SHMEM,
	  "/SYSV0000abcd (deleted)" },
	/* a private memfd: a mapping of a deleted file (the memfd's contents are saved) */
	{ 0x7f1a2b900000, 0x7f1a2b901000, 0, RW, false, 0, 1, 2050, VK_FILE, "/memfd:y (deleted)" },
	{ 0x7f1a2ba00000, 0x7f1a2ba01000, 0, RW, true, 0, 1, 9, VK_SHMEM, "[anon_shmem:shm]" },
	/* shared and deleted: a shared file mapping of a deleted file */
	{ 0x7f1a2bb00000, 0x7f1a2bb02000, 0x1000, PROT_READ, true, 8, 1, 1000, VK_FILE_SHARED,
	  "/tmp/shared gone (deleted)" },
	{ 0x7ffd1c3e0000, 0x7ffd1c401000, 0, RW, false, 0, 0, 0, VK_ANON, "[stack]" },
	{ 0x7ffd1c5f0000, 0x7ffd1c5f4000, 0, PROT_READ, false, 0, 0, 0, VK_VVAR, "[vvar]" },
	{ 0x7ffd1c5f4000, 0x7ffd1c5f5000, 0, PROT_READ, false, 0, 0, 0, VK_VVAR, "[vvar_vclock]" },
	{ 0x7ffd1c5f5000, 0x7ffd1c5f7000, 0, RX, false, 0, 0, 0, VK_VDSO, "[vdso]" },
	{ 0xffffffffff600000, 0xffffffffff601000, 0, PROT_EXEC, false, 0, 0, 0, VK_VSYSCALL,
	  "[vsyscall]" },
};

static void check_vma(const struct vma *v, const struct want_vma *w)
{
	ASSERT_EQ(v->start, w->start);
	ASSERT_EQ(v->end, w->end);
	ASSERT_EQ(v->pgoff, w->pgoff);
	ASSERT_EQ(v->prot, w->prot);
	ASSERT_EQ(v->shared, w->shared);
	ASSERT_EQ(v->dev_major, w->maj);
	ASSERT_EQ(v->dev_minor, w->min);
	ASSERT_EQ(v->ino, w->ino);
	ASSERT_EQ(v->kind, w->kind);
	ASSERT_STREQ(v->path, w->path);
}

static void test_maps_realistic(void)
{
	struct vma_list l = { 0 };
	size_t i;

	ASSERT_OK(sd_proc_parse_maps(maps_text, &l));
	ASSERT_EQ(l.n, sizeof(maps_want) / sizeof(maps_want[0]));
	for (i = 0; i < l.n; i++) {
		const char *p = maps_want[i].path;

		check_vma(&l.v[i], &maps_want[i]);
		/* deleted: the file mappings whose path ends so, memfds too, never shmem */
		if (!unit_cur_failed)
			ASSERT_EQ(l.v[i].deleted, p && (!strcmp(p, "/tmp/gone (deleted)") ||
							 !strcmp(p, "/tmp/shared gone (deleted)") ||
							 !strcmp(p, "/memfd:x (deleted)") ||
							 !strcmp(p, "/memfd:y (deleted)")));
		if (unit_cur_failed) {
			fprintf(stderr, "  in maps line %zu\n", i + 1);
			break;
		}
	}
	sd_vma_list_release(&l);
	ASSERT_EQ(l.n, 0);
	ASSERT_TRUE(l.v == NULL);
}

static void test_maps_no_trailing_newline(void)
{
	struct vma_list l = { 0 };

	ASSERT_OK(sd_proc_parse_maps("1000-2000 rw-p 00000000 00:00 0\n"
				  "3000-5000 r-xs 00001000 0a:0b 42 /x y",
				  &l));
	ASSERT_EQ(l.n, 2);
	ASSERT_TRUE(l.v[0].path == NULL);
	ASSERT_EQ(l.v[0].kind, VK_ANON);
	ASSERT_EQ(l.v[1].start, 0x3000);
	ASSERT_EQ(l.v[1].end, 0x5000);
	ASSERT_EQ(l.v[1].pgoff, 0x1000);
	ASSERT_EQ(l.v[1].prot, RX);
	ASSERT_EQ(l.v[1].shared, true);
	ASSERT_EQ(l.v[1].dev_major, 10);
	ASSERT_EQ(l.v[1].dev_minor, 11);
	ASSERT_EQ(l.v[1].ino, 42);
	ASSERT_EQ(l.v[1].kind, VK_FILE_SHARED);
	ASSERT_STREQ(l.v[1].path, "/x y");
	sd_vma_list_release(&l);
}

static void test_maps_empty(void)
{
	struct vma_list l = { .n = 99 };

	ASSERT_OK(sd_proc_parse_maps("", &l));
	ASSERT_EQ(l.n, 0);
	sd_vma_list_release(&l);
	/* empty lines are skipped */
	ASSERT_OK(sd_proc_parse_maps("\n1000-2000 rw-p 00000000 00:00 0\n\n", &l));
	ASSERT_EQ(l.n, 1);
	sd_vma_list_release(&l);
}

/* Many lines: the list grows past its first allocation. */
static void test_maps_many(void)
{
	struct vma_list l = { 0 };
	size_t n = 1000, cap = n * 64 + 1, off = 0;
	char *buf = malloc(cap);

	ASSERT_TRUE(buf != NULL);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off,
					"%zx-%zx rw-p 00000000 00:00 0 [anon:%zu]\n",
					(i * 2 + 1) * 0x1000, (i * 2 + 2) * 0x1000, i);
	ASSERT_OK(sd_proc_parse_maps(buf, &l));
	free(buf);
	ASSERT_EQ(l.n, n);
	for (size_t i = 0; i < n; i++) {
		char name[32];

		ASSERT_EQ(l.v[i].start, (i * 2 + 1) * 0x1000);
		ASSERT_EQ(l.v[i].end, (i * 2 + 2) * 0x1000);
		snprintf(name, sizeof(name), "[anon:%zu]", i);
		ASSERT_STREQ(l.v[i].path, name);
	}
	/* find over a large list: every VMA, and every gap */
	for (size_t i = 0; i < n; i++) {
		ASSERT_TRUE(sd_vma_list_find(&l, (i * 2 + 1) * 0x1000) == &l.v[i]);
		ASSERT_TRUE(sd_vma_list_find(&l, (i * 2 + 2) * 0x1000 - 1) == &l.v[i]);
		ASSERT_TRUE(sd_vma_list_find(&l, (i * 2 + 2) * 0x1000) == NULL);
	}
	sd_vma_list_release(&l);
}

static const char *const bad_maps[] = {
	"1000-2000 rw-p 00000000 08:01\n",			/* no inode */
	"1000-2000 rw-p 00000000\n",				/* no device */
	"1000-2000 rw-p\n",
	"1000-2000\n",
	"1000 rw-p 00000000 00:00 0\n",				/* no end */
	"-2000 rw-p 00000000 00:00 0\n",
	"1000-2000 rw-p 00000000 0800 0\n",			/* device without ':' */
	"1000-2000 rw-p zzzz 00:00 0\n",			/* bad offset */
	"1001-2000 rw-p 00000000 00:00 0\n",			/* unaligned start */
	"1000-2fff rw-p 00000000 00:00 0\n",			/* unaligned end */
	"2000-2000 rw-p 00000000 00:00 0\n",			/* empty */
	"3000-2000 rw-p 00000000 00:00 0\n",			/* start > end */
	"1000-2000 rw- 00000000 00:00 0\n",			/* 3 permission letters */
	"1000-2000 rw-x 00000000 00:00 0\n",			/* neither p nor s */
	"hello world\n",
	" \n",
	/* a valid line, then a bad one: the first must not leak */
	"1000-2000 rw-p 00000000 00:00 0 [heap]\n1000-2000 rw-p 00000000 08:01\n",
	/* overlapping */
	"1000-3000 rw-p 00000000 00:00 0 [a]\n2000-4000 rw-p 00000000 00:00 0 [b]\n",
	/* unsorted */
	"5000-6000 rw-p 00000000 00:00 0 [a]\n1000-2000 rw-p 00000000 00:00 0 [b]\n",
	/* the same twice */
	"1000-2000 rw-p 00000000 00:00 0 /a\n1000-2000 rw-p 00000000 00:00 0 /a\n",
	/* sorted, then one overlapping an earlier line than the last */
	"1000-2000 r--p 0 00:00 0 /a\n3000-4000 r--p 0 00:00 0 /b\n3000-5000 r--p 0 00:00 0 /c\n",
};

static void test_maps_malformed(void)
{
	for (size_t i = 0; i < sizeof(bad_maps) / sizeof(bad_maps[0]); i++) {
		struct vma v = { .start = 77 };
		struct vma_list l = { .v = &v, .n = 1, .cap = 1 };
		int r = sd_proc_parse_maps(bad_maps[i], &l);

		if (r != -EBADMSG)
			fprintf(stderr, "  maps input %zu: %s", i, bad_maps[i]);
		ASSERT_EQ(r, -EBADMSG);
		/* the output is written only on success */
		ASSERT_TRUE(l.v == &v);
		ASSERT_EQ(l.n, 1);
		ASSERT_EQ(v.start, 77);
	}
}

static void test_vma_list_find(void)
{
	struct vma_list l = { 0 };

	ASSERT_TRUE(sd_vma_list_find(&l, 0x1000) == NULL);
	ASSERT_OK(sd_proc_parse_maps("1000-3000 rw-p 00000000 00:00 0\n"
				  "3000-4000 rw-p 00000000 00:00 0\n"
				  "8000-a000 rw-p 00000000 00:00 0\n"
				  "ffffffffff600000-ffffffffff601000 --xp 0 00:00 0 [vsyscall]\n",
				  &l));
	ASSERT_EQ(l.n, 4);
	ASSERT_TRUE(sd_vma_list_find(&l, 0) == NULL);
	ASSERT_TRUE(sd_vma_list_find(&l, 0xfff) == NULL);
	ASSERT_TRUE(sd_vma_list_find(&l, 0x1000) == &l.v[0]);
	ASSERT_TRUE(sd_vma_list_find(&l, 0x2abc) == &l.v[0]);
	ASSERT_TRUE(sd_vma_list_find(&l, 0x2fff) == &l.v[0]);
	/* end is exclusive: adjacent VMAs */
	ASSERT_TRUE(sd_vma_list_find(&l, 0x3000) == &l.v[1]);
	ASSERT_TRUE(sd_vma_list_find(&l, 0x3fff) == &l.v[1]);
	/* gap */
	ASSERT_TRUE(sd_vma_list_find(&l, 0x4000) == NULL);
	ASSERT_TRUE(sd_vma_list_find(&l, 0x7fff) == NULL);
	ASSERT_TRUE(sd_vma_list_find(&l, 0x8000) == &l.v[2]);
	ASSERT_TRUE(sd_vma_list_find(&l, 0x9fff) == &l.v[2]);
	ASSERT_TRUE(sd_vma_list_find(&l, 0xa000) == NULL);
	ASSERT_TRUE(sd_vma_list_find(&l, 0xffffffffff5fffffull) == NULL);
	ASSERT_TRUE(sd_vma_list_find(&l, 0xffffffffff600000ull) == &l.v[3]);
	ASSERT_TRUE(sd_vma_list_find(&l, 0xffffffffff600fffull) == &l.v[3]);
	ASSERT_TRUE(sd_vma_list_find(&l, 0xffffffffff601000ull) == NULL);
	ASSERT_TRUE(sd_vma_list_find(&l, UINT64_MAX) == NULL);
	sd_vma_list_release(&l);
}

static void test_vma_prot_str(void)
{
	char s[5];

	memset(s, 'Z', sizeof(s));
	sd_vma_prot_str(PROT_READ | PROT_WRITE, false, s);
	ASSERT_STREQ(s, "rw-p");
	sd_vma_prot_str(PROT_READ | PROT_EXEC, false, s);
	ASSERT_STREQ(s, "r-xp");
	sd_vma_prot_str(PROT_READ | PROT_WRITE | PROT_EXEC, true, s);
	ASSERT_STREQ(s, "rwxs");
	sd_vma_prot_str(PROT_NONE, false, s);
	ASSERT_STREQ(s, "---p");
	sd_vma_prot_str(PROT_NONE, true, s);
	ASSERT_STREQ(s, "---s");
	sd_vma_prot_str(PROT_WRITE, true, s);
	ASSERT_STREQ(s, "-w-s");
	sd_vma_prot_str(PROT_EXEC, false, s);
	ASSERT_STREQ(s, "--xp");
}

/* parse then print: the permissions of every maps line come back as they were */
static void test_vma_prot_round_trip(void)
{
	static const char *const perms[] = { "---p", "r--p", "-w-p", "--xp", "rw-p", "r-xp",
					     "-wxp", "rwxp", "---s", "r--s", "rw-s", "rwxs" };

	for (size_t i = 0; i < sizeof(perms) / sizeof(perms[0]); i++) {
		struct vma_list l = { 0 };
		char line[80], s[5];

		snprintf(line, sizeof(line), "1000-2000 %s 00000000 00:00 0\n", perms[i]);
		ASSERT_OK(sd_proc_parse_maps(line, &l));
		ASSERT_EQ(l.n, 1);
		sd_vma_prot_str(l.v[0].prot, l.v[0].shared, s);
		sd_vma_list_release(&l);
		ASSERT_STREQ(s, perms[i]);
	}
}

static const char stat_text[] =
	"1234 (a) b (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 "
	"12345678 345 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";

static void test_stat(void)
{
	char state = 0;
	uint64_t st = 0;

	ASSERT_OK(sd_proc_parse_stat(stat_text, &state, &st));
	ASSERT_EQ(state, 'S');
	ASSERT_EQ(st, 987654);

	/* a comm made to look like the fields that follow it */
	ASSERT_OK(sd_proc_parse_stat("42 () Z 9 9 () t 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 "
				  "18446744073709551615 5\n",
				  &state, &st));
	ASSERT_EQ(state, 't');
	ASSERT_EQ(st, 18446744073709551615ull);

	/* empty comm, spaces in comm, no newline at the end */
	ASSERT_OK(sd_proc_parse_stat("7 ( x  y ) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
				  &state, &st));
	ASSERT_EQ(state, 'R');
	ASSERT_EQ(st, 19);
	ASSERT_OK(sd_proc_parse_stat("7 () D 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 0 1",
				  &state, &st));
	ASSERT_EQ(state, 'D');
	ASSERT_EQ(st, 0);
}

/* Every truncation that loses field 22 is refused. */
static void test_stat_truncated(void)
{
	const char *p = strrchr(stat_text, ')');
	size_t f22;
	int field = 2;

	/* offset of field 22 */
	for (f22 = (size_t)(p - stat_text) + 1; field < 22; f22++)
		if (stat_text[f22] == ' ')
			field++;
	ASSERT_EQ(memcmp(stat_text + f22, "987654 ", 7), 0);
	for (size_t len = 0; len <= f22; len++) {
		char buf[sizeof(stat_text)];
		char state = 'Q';
		uint64_t st = 5;
		int r;

		memcpy(buf, stat_text, len);
		buf[len] = '\0';
		r = sd_proc_parse_stat(buf, &state, &st);
		if (r != -EBADMSG)
			fprintf(stderr, "  stat truncated to %zu: '%s'\n", len, buf);
		ASSERT_EQ(r, -EBADMSG);
		ASSERT_EQ(state, 'Q');
		ASSERT_EQ(st, 5);
	}
	ASSERT_EQ(sd_proc_parse_stat("1234 a S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
				  &(char){ 0 }, &(uint64_t){ 0 }),
		  -EBADMSG);
	ASSERT_EQ(sd_proc_parse_stat("1 (a)S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
				  &(char){ 0 }, &(uint64_t){ 0 }),
		  -EBADMSG);
	ASSERT_EQ(sd_proc_parse_stat("1 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x",
				  &(char){ 0 }, &(uint64_t){ 0 }),
		  -EBADMSG);
}

static void test_status_tgid(void)
{
	static const char status[] = "Name:\tcat\n"
				     "Umask:\t0022\n"
				     "State:\tS (sleeping)\n"
				     "Tgid:\t4321\n"
				     "Ngid:\t0\n"
				     "Pid:\t4322\n"
				     "PPid:\t1\n"
				     "TracerPid:\t0\n"
				     "NStgid:\t4321\t7\n"
				     "NSpid:\t4322\t8\n";
	pid_t t = 0;

	ASSERT_OK(sd_proc_parse_status_tgid(status, &t));
	ASSERT_EQ(t, 4321);
	/* NStgid alone is no Tgid */
	t = 5;
	ASSERT_EQ(sd_proc_parse_status_tgid("Name:\tx\nNStgid:\t12\n", &t), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_status_tgid("Name:\tx\nTgid:\n", &t), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_status_tgid("Name:\tx\nTgid:\tabc\n", &t), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_status_tgid("Name:\tx\nTgid:\t0\n", &t), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_status_tgid("Name:\tx\nTgid:\t-3\n", &t), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_status_tgid("", &t), -EBADMSG);
	ASSERT_EQ(t, 5);
	ASSERT_OK(sd_proc_parse_status_tgid("Name:\tx\nTgid:\t2147483647", &t));
	ASSERT_EQ(t, 2147483647);
}

static void test_boot_id(void)
{
	uint64_t hi = 1, lo = 2;

	ASSERT_OK(sd_proc_parse_boot_id("d3b07384-d113-4ec5-a6b3-1f7c8e9a0b1c\n", &hi, &lo));
	ASSERT_EQ(hi, 0xd3b07384d1134ec5ull);
	ASSERT_EQ(lo, 0xa6b31f7c8e9a0b1cull);
	ASSERT_OK(sd_proc_parse_boot_id("00000000-0000-0000-0000-000000000001", &hi, &lo));
	ASSERT_EQ(hi, 0);
	ASSERT_EQ(lo, 1);
	ASSERT_OK(sd_proc_parse_boot_id("ffffffff-ffff-ffff-ffff-ffffffffffff\n", &hi, &lo));
	ASSERT_EQ(hi, UINT64_MAX);
	ASSERT_EQ(lo, UINT64_MAX);

	hi = 1;
	lo = 2;
	/* 31 digits */
	ASSERT_EQ(sd_proc_parse_boot_id("d3b07384-d113-4ec5-a6b3-1f7c8e9a0b1\n", &hi, &lo), -EBADMSG);
	/* 33 digits */
	ASSERT_EQ(sd_proc_parse_boot_id("d3b07384-d113-4ec5-a6b3-1f7c8e9a0b1c0\n", &hi, &lo),
		  -EBADMSG);
	ASSERT_EQ(sd_proc_parse_boot_id("d3b07384-d113-4ec5-a6b3-1f7c8e9a0bg1\n", &hi, &lo), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_boot_id("d3b07384 d113-4ec5-a6b3-1f7c8e9a0b1c\n", &hi, &lo), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_boot_id("", &hi, &lo), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_boot_id("\n", &hi, &lo), -EBADMSG);
	ASSERT_EQ(hi, 1);
	ASSERT_EQ(lo, 2);
}

static void test_comm(void)
{
	char out[16];

	memset(out, 'Z', sizeof(out));
	sd_proc_parse_comm("cat\n", out);
	ASSERT_STREQ(out, "cat");
	sd_proc_parse_comm("no newline", out);
	ASSERT_STREQ(out, "no newline");
	sd_proc_parse_comm("123456789012345\n", out);
	ASSERT_STREQ(out, "123456789012345");
	sd_proc_parse_comm("12345678901234567890\n", out);
	ASSERT_STREQ(out, "123456789012345");
	{
		/* 16 characters: 15 kept, nothing written past the 16 bytes */
		struct {
			char out[16];
			char guard[4];
		} g;

		memset(&g, 'G', sizeof(g));
		sd_proc_parse_comm("1234567890123456\n", g.out);
		ASSERT_STREQ(g.out, "123456789012345");
		ASSERT_MEMEQ(g.guard, "GGGG", 4);
	}
	sd_proc_parse_comm("\n", out);
	ASSERT_STREQ(out, "");
	sd_proc_parse_comm("", out);
	ASSERT_STREQ(out, "");
	sd_proc_parse_comm("a b) (c\nrest", out);
	ASSERT_STREQ(out, "a b) (c");
}

static void test_stat_fields(void)
{
	uint64_t f[64] = { 0 };

	/* all 52 fields, as Linux 6.18 writes them, the comm made to mislead */
	static const char full[] =
		"12677 (c) 1 2 (at) R 12675 12675 1231 0 -1 4194304 106 0 0 0 0 0 0 0 20 0 1 0 "
		"62897 3133440 416 18446744073709551615 93960148488192 93960148508073 "
		"140734124198416 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 93960148524080 93960148525696 "
		"93960208814080 140734124202635 140734124202655 140734124202655 140734124204011 "
		"7\n";

	ASSERT_EQ(sd_proc_stat_fields(full, f, 53), 53);
	ASSERT_EQ(f[3], 'R');
	ASSERT_EQ(f[4], 12675);
	ASSERT_EQ(f[6], 1231);
	ASSERT_EQ(f[8], (uint64_t)-1);		/* tpgid -1 */
	ASSERT_EQ(f[22], 62897);
	ASSERT_EQ(f[25], 18446744073709551615ull);
	ASSERT_EQ(f[26], 93960148488192ull);
	ASSERT_EQ(f[45], 93960148524080ull);
	ASSERT_EQ(f[51], 140734124204011ull);
	ASSERT_EQ(f[52], 7);
	/* the sample of test_stat stops at field 43 */
	ASSERT_EQ(sd_proc_stat_fields(stat_text, f, 53), 44);
	ASSERT_EQ(f[22], 987654);
	/* fewer fields than asked: the count says so */
	ASSERT_EQ(sd_proc_stat_fields("1 (x) R 7 8", f, 53), 6);
	ASSERT_EQ(f[5], 8);
	/* @max bounds what is written */
	f[6] = 77;
	ASSERT_EQ(sd_proc_stat_fields(stat_text, f, 6), 6);
	ASSERT_EQ(f[6], 77);
	ASSERT_EQ(sd_proc_stat_fields("no parenthesis", f, 53), -EBADMSG);
	ASSERT_EQ(sd_proc_stat_fields("1 (x)", f, 53), -EBADMSG);
	ASSERT_EQ(sd_proc_stat_fields("1 (x) R 1 zz", f, 53), -EBADMSG);
}

static const char status_text[] =
	"Name:\tcat\nUmask:\t0027\nState:\tR (running)\nTgid:\t42\n"
	"Uid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\nGroups:\t4 24 27 \n";

static void test_status_ids(void)
{
	uint32_t ids[8] = { 0 }, um = 0;
	size_t n = 99;

	ASSERT_OK(sd_proc_parse_status_ids(status_text, "\nUid:", ids, 4, NULL));
	ASSERT_EQ(ids[0], 1000);
	ASSERT_EQ(ids[3], 1003);
	ASSERT_OK(sd_proc_parse_status_ids(status_text, "\nGroups:", ids, 8, &n));
	ASSERT_EQ(n, 3);
	ASSERT_EQ(ids[2], 27);
	/* no more than @max */
	ASSERT_OK(sd_proc_parse_status_ids(status_text, "\nGroups:", ids, 2, &n));
	ASSERT_EQ(n, 2);
	ASSERT_OK(sd_proc_parse_status_ids("x\nGroups:\n", "\nGroups:", ids, 8, &n));
	ASSERT_EQ(n, 0);
	ASSERT_EQ(sd_proc_parse_status_ids(status_text, "\nNoSuch:", ids, 8, &n), -EBADMSG);
	ASSERT_OK(sd_proc_parse_status_umask(status_text, &um));
	ASSERT_EQ(um, 027);
	ASSERT_EQ(sd_proc_parse_status_umask("Name:\tx\n", &um), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_status_umask("x\nUmask:\t\n", &um), -EBADMSG);
}

static void test_proc_path(void)
{
	char buf[PROC_PATH_MAX];

	ASSERT_STREQ(sd_proc_path(buf, 42, "stat"), "/proc/42/stat");
	ASSERT_STREQ(sd_proc_path(buf, 4194304, "task/%d/children", 4194303),
		     "/proc/4194304/task/4194303/children");
	ASSERT_STREQ(sd_proc_path(buf, 4194304, "map_files/%lx-%lx", 0xffffffffffffUL - 0xfff,
			       0xffffffffffffUL), "/proc/4194304/map_files/fffffffff000-ffffffffffff");
}

static void test_limit_soft(void)
{
	static const char limits[] =
		"Limit                     Soft Limit           Hard Limit           Units     \n"
		"Max stack size            8388608              unlimited            bytes     \n"
		"Max open files            1024                 524288               files     \n"
		"Max locked memory         unlimited            unlimited            bytes     \n";
	uint64_t v = 0;

	ASSERT_OK(sd_proc_parse_limit_soft(limits, "Max open files", &v));
	ASSERT_EQ(v, 1024);
	ASSERT_OK(sd_proc_parse_limit_soft(limits, "Max locked memory", &v));
	ASSERT_EQ(v, UINT64_MAX);
	ASSERT_EQ(sd_proc_parse_limit_soft(limits, "Max nice priority", &v), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_limit_soft("Max open files   x\n", "Max open files", &v), -EBADMSG);
}

static void test_fdinfo(void)
{
	uint64_t pos = 1;
	uint32_t flags = 2;

	/* a regular file opened O_RDWR | O_CLOEXEC | O_LARGEFILE, as the kernel prints it */
	ASSERT_OK(sd_proc_parse_fdinfo("pos:\t4096\nflags:\t02100002\nmnt_id:\t25\nino:\t131\n",
				    &pos, &flags));
	ASSERT_EQ(pos, 4096);
	ASSERT_EQ(flags, 02100002);
	/* a large offset, no newline at the end */
	ASSERT_OK(sd_proc_parse_fdinfo("pos:\t18446744073709551615\nflags:\t0100000", &pos, &flags));
	ASSERT_EQ(pos, UINT64_MAX);
	ASSERT_EQ(flags, 0100000);
	/* the lines that follow the flags in some kinds' fdinfo change nothing */
	ASSERT_OK(sd_proc_parse_fdinfo("pos:\t0\nflags:\t04002\nmnt_id:\t15\nino:\t1057\n"
				    "eventfd-count:                0\neventfd-id: 3\n",
				    &pos, &flags));
	ASSERT_EQ(pos, 0);
	ASSERT_EQ(flags, 04002);

	/* a field missing: refused, the outputs untouched */
	pos = 7;
	flags = 8;
	ASSERT_EQ(sd_proc_parse_fdinfo("pos:\t5\nmnt_id:\t25\n", &pos, &flags), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_fdinfo("flags:\t02\nmnt_id:\t25\n", &pos, &flags), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_fdinfo("", &pos, &flags), -EBADMSG);
	ASSERT_EQ(pos, 7);
	ASSERT_EQ(flags, 8);
}

static void test_anon_link(void)
{
	char name[PROC_ANON_NAME_MAX] = "untouched", longlink[256];

	ASSERT_TRUE(!sd_proc_parse_anon_link("/tmp/x", name));
	ASSERT_TRUE(!sd_proc_parse_anon_link("pipe:[1234]", name));
	ASSERT_TRUE(!sd_proc_parse_anon_link("socket:[99]", name));
	ASSERT_TRUE(!sd_proc_parse_anon_link("/anon_inode:[eventfd]", name));
	ASSERT_TRUE(!sd_proc_parse_anon_link("", name));
	ASSERT_STREQ(name, "untouched");

	ASSERT_TRUE(sd_proc_parse_anon_link("anon_inode:[eventfd]", name));
	ASSERT_STREQ(name, "eventfd");
	ASSERT_TRUE(sd_proc_parse_anon_link("anon_inode:[eventpoll]", name));
	ASSERT_STREQ(name, "eventpoll");
	/* inotify has no brackets */
	ASSERT_TRUE(sd_proc_parse_anon_link("anon_inode:inotify", name));
	ASSERT_STREQ(name, "inotify");
	ASSERT_TRUE(sd_proc_parse_anon_link("anon_inode:[io_uring]", name));
	ASSERT_STREQ(name, "io_uring");
	/* no closing bracket: up to the end */
	ASSERT_TRUE(sd_proc_parse_anon_link("anon_inode:[perf_event", name));
	ASSERT_STREQ(name, "perf_event");
	ASSERT_TRUE(sd_proc_parse_anon_link("anon_inode:", name));
	ASSERT_STREQ(name, "");
	ASSERT_TRUE(sd_proc_parse_anon_link("anon_inode:[]", name));
	ASSERT_STREQ(name, "");
	/* a long name is cut to fit */
	memset(longlink, 'x', sizeof(longlink) - 1);
	longlink[sizeof(longlink) - 1] = '\0';
	memcpy(longlink, "anon_inode:[", 12);
	ASSERT_TRUE(sd_proc_parse_anon_link(longlink, name));
	ASSERT_EQ(strlen(name), PROC_ANON_NAME_MAX - 1);
}

/* The paths of a removed cwd's directories, from its /proc link; forged links refused. */
static void test_removed_dir_path(void)
{
	char b[64];

	ASSERT_OK(sd_removed_dir_path("/tmp/a/b (deleted)", 0, b, sizeof(b)));
	ASSERT_STREQ(b, "/tmp/a/b");
	ASSERT_OK(sd_removed_dir_path("/tmp/a/b (deleted)", 1, b, sizeof(b)));
	ASSERT_STREQ(b, "/tmp/a");
	ASSERT_OK(sd_removed_dir_path("/tmp/a/b (deleted)", 3, b, sizeof(b)));
	ASSERT_STREQ(b, "/");
	ASSERT_OK(sd_removed_dir_path("/x y (deleted) (deleted)", 0, b, sizeof(b)));
	ASSERT_STREQ(b, "/x y (deleted)");
	ASSERT_EQ(sd_removed_dir_path("/tmp/a/b (deleted)", 4, b, sizeof(b)), -EINVAL);
	ASSERT_EQ(sd_removed_dir_path("/tmp/a/b", 0, b, sizeof(b)), -EINVAL);
	ASSERT_EQ(sd_removed_dir_path(" (deleted)", 0, b, sizeof(b)), -EINVAL);
	ASSERT_EQ(sd_removed_dir_path("/ (deleted)", 0, b, sizeof(b)), -EINVAL);
	ASSERT_EQ(sd_removed_dir_path("tmp/a (deleted)", 0, b, sizeof(b)), -EINVAL);
	ASSERT_EQ(sd_removed_dir_path("/tmp//a (deleted)", 0, b, sizeof(b)), -EINVAL);
	ASSERT_EQ(sd_removed_dir_path("/tmp/../etc (deleted)", 0, b, sizeof(b)), -EINVAL);
	ASSERT_EQ(sd_removed_dir_path("/tmp/./a (deleted)", 0, b, sizeof(b)), -EINVAL);
	ASSERT_EQ(sd_removed_dir_path("/tmp/a/ (deleted)", 0, b, sizeof(b)), -EINVAL);
	ASSERT_EQ(sd_removed_dir_path("/a-path-longer-than-the-buffer-given-to-it-for-its-name/x (deleted)", 0,
				   b, 16), -EINVAL);
}

int main(void)
{
	RUN(test_maps_realistic);
	RUN(test_maps_no_trailing_newline);
	RUN(test_maps_empty);
	RUN(test_maps_many);
	RUN(test_maps_malformed);
	RUN(test_vma_list_find);
	RUN(test_vma_prot_str);
	RUN(test_vma_prot_round_trip);
	RUN(test_stat);
	RUN(test_stat_truncated);
	RUN(test_stat_fields);
	RUN(test_status_ids);
	RUN(test_limit_soft);
	RUN(test_proc_path);
	RUN(test_status_tgid);
	RUN(test_boot_id);
	RUN(test_comm);
	RUN(test_fdinfo);
	RUN(test_anon_link);
	RUN(test_removed_dir_path);
	return unit_summary();
}
