/* SPDX-License-Identifier: MIT */
/*
 * A process tree whose members share memory. Driven over stdin/stdout one
 * line at a time (the root reads and answers):
 *
 *   pids     -> "pids R A B"
 *   round N  -> every member writes N into its slot of every shared
 *               memory it maps, then every member checks every slot it
 *               can see (each the N of every member: what the others
 *               wrote shows through its own mapping) and its private
 *               memory: "ok", or "bad WHO WHAT" naming the first thing
 *               that is not as it should be
 *   check N  -> the same checks, nothing written
 *   quit     -> every child killed and reaped, exit 0
 *
 * The tree: the root R, its children A and B, A's child G (three levels).
 * R talks to A and B over a command pipe each, A to G; every member
 * answers on one results pipe (one open file description). Set up before
 * it prints "ready PID" (PID the root's), by R before its forks unless
 * said:
 *   - "anon" 16 pages MAP_SHARED | MAP_ANONYMOUS, every page filled;
 *   - "zero" 4 pages of /dev/zero mapped MAP_SHARED, the fd closed;
 *   - "mfd" the memfd "shmtree" of 4 pages mapped shared, its fd kept
 *     (one description for all); B maps it again after its fork (pages 1
 *     and 2, at another address);
 *   - "del" DIR/st-PID.del, 2 pages, mapped shared, unlinked, closed;
 *   - "file" DIR/st-PID.map, 2 pages, mapped shared (a file with a name);
 *   - "part" 8 pages MAP_SHARED | MAP_ANONYMOUS, of which R unmaps the
 *     first 4 after its forks: A, G and B map all of it, R its back half;
 *     A writes its N at page 1 too, which A, G and B check;
 *   - "late" 2 pages MAP_SHARED | MAP_ANONYMOUS made by A before it forks
 *     G: A's and G's only;
 *   - "priv" 64 private pages of a pattern, the same in every member
 *     (copies on write after the forks, never written), and one private
 *     page each member writes its own letter into.
 * Slots: the N of member k (R 0, A 1, G 2, B 3) at page 2 of each
 * memory (page 6 of "part", page 0 of "late"), as a uint64_t at 8 * k.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
enum { R, A, G, B, NMEM };
static const char names[NMEM] = { 'R', 'A', 'G', 'B' };
static unsigned char *anon, *zero, *mfd, *mfd2, *del, *file, *part, *late, *priv, *own;
static int mfd_fd, res_r, res_w, cmd_w[NMEM], me;
static pid_t pid_of[NMEM];

struct cmd {
	char op; /* 'w' write and answer, 'c' check and answer */
	uint64_t n;
};

static uint64_t *slots(unsigned char *mem, int page)
{
	return (uint64_t *)(void *)(mem + (size_t)page * PG);
}

static void *map(size_t pages, int flags, int fd, off_t off)
{
	void *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, flags, fd, off);

	if (p == MAP_FAILED)
		exit(2);
	return p;
}

/* Every shared memory member @k maps, with the page of its slots. */
static int memories(int k, unsigned char **mem, int *page, const char **what)
{
	int n = 0;

#define ADD(m, p, w) (mem[n] = (m), page[n] = (p), what[n] = (w), n++)
	ADD(anon, 2, "anon");
	ADD(zero, 2, "zero");
	ADD(mfd, 2, "mfd");
	ADD(del, 1, "del");
	ADD(file, 1, "file");
	ADD(part, 6, "part");
	if (k == B)
		ADD(mfd2, 1, "mfd again");
	if (k == A || k == G)
		ADD(late, 0, "late");
#undef ADD
	return n;
}

static void write_mine(uint64_t n)
{
	unsigned char *mem[16];
	const char *what[16];
	int page[16], cnt = memories(me, mem, page, what);

	for (int i = 0; i < cnt; i++)
		if (mem[i] != mfd2)
			slots(mem[i], page[i])[me] = n;
	if (me == A)
		slots(part, 1)[0] = n;
	memset(own, names[me], PG);
}

/* The checks of this member: NULL, or what is wrong. */
static const char *check_mine(uint64_t n)
{
	static char why[64];
	unsigned char *mem[16];
	const char *what[16];
	int page[16], cnt = memories(me, mem, page, what);

	for (int i = 0; i < cnt; i++)
		for (int k = 0; k < NMEM; k++) {
			if (mem[i] == late && k != A && k != G)
				continue;
			if (slots(mem[i], page[i])[k] != n) {
				(void)snprintf(why, sizeof(why), "%s: slot of %c", what[i], names[k]);
				return why;
			}
		}
	if (me != R && slots(part, 1)[0] != n)
		return "part: A's first half";
	for (size_t i = 0; i < 64 * PG; i++)
		if (priv[i] != (unsigned char)(i * 7 + i / PG))
			return "private pattern";
	for (size_t i = 0; i < PG; i++)
		if (own[i] != names[me])
			return "own private page";
	if (memcmp(anon + 8 * PG, anon + 9 * PG, PG) || anon[8 * PG] != 'x')
		return "anon: its pages";
	return NULL;
}

static void answer(const char *why)
{
	char line[96];
	int len = why ? snprintf(line, sizeof(line), "bad %c %s\n", names[me], why)
		      : snprintf(line, sizeof(line), "ok %c\n", names[me]);

	(void)write(res_w, line, (size_t)len);
}

/* A child's life: each command done, answered, passed on to its own child. */
static void child_loop(int cmd_r, int fwd)
{
	struct cmd c;

	for (;;) {
		if (read(cmd_r, &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(1);
		if (c.op == 'w')
			write_mine(c.n);
		answer(c.op == 'w' ? NULL : check_mine(c.n));
		if (fwd >= 0 && write(fwd, &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(1);
	}
}

static pid_t spawn(int k, int *ret_cmd_r)
{
	int p[2];
	pid_t c;

	if (pipe(p) < 0)
		exit(2);
	c = fork();
	if (c < 0)
		exit(2);
	if (c == 0) {
		(void)close(p[1]);
		*ret_cmd_r = p[0];
		me = k;
		return 0;
	}
	(void)close(p[0]);
	cmd_w[k] = p[1];
	pid_of[k] = c;
	return c;
}

/* One result line: NULL if "ok", else the line. */
static const char *read_result(void)
{
	static char buf[96];
	size_t n = 0;

	while (n + 1 < sizeof(buf) && read(res_r, buf + n, 1) == 1 && buf[n] != '\n')
		n++;
	buf[n] = '\0';
	return strncmp(buf, "ok ", 3) ? buf : NULL;
}

/* @c done by every member, R first; the first complaint, or NULL. */
static const char *all(char op, uint64_t n)
{
	struct cmd c = { .op = op, .n = n };
	const char *why = NULL, *r;

	if (op == 'w')
		write_mine(n);
	else
		why = check_mine(n);
	if (why) {
		static char line[96];

		(void)snprintf(line, sizeof(line), "R %s", why);
		why = line;
	}
	if (write(cmd_w[A], &c, sizeof(c)) != (ssize_t)sizeof(c) ||
	    write(cmd_w[B], &c, sizeof(c)) != (ssize_t)sizeof(c))
		return "command pipe";
	for (int i = 0; i < 3; i++) {
		r = read_result();
		if (r && !why)
			why = r;
	}
	return why;
}

static void make_tree(void)
{
	int cmd_r, rp[2];

	if (pipe(rp) < 0)
		exit(2);
	res_r = rp[0];
	res_w = rp[1];
	if (spawn(A, &cmd_r) == 0) {
		int gcmd;

		(void)close(res_r);
		late = map(2, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (spawn(G, &gcmd) == 0) {
			(void)close(cmd_r);
			own = map(1, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			(void)write(res_w, "up\n", 3);
			child_loop(gcmd, -1);
		}
		own = map(1, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		(void)write(res_w, "up\n", 3);
		child_loop(cmd_r, cmd_w[G]);
	}
	if (spawn(B, &cmd_r) == 0) {
		(void)close(res_r);
		mfd2 = map(2, MAP_SHARED, mfd_fd, PG);
		own = map(1, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		(void)write(res_w, "up\n", 3);
		child_loop(cmd_r, -1);
	}
	for (int i = 0; i < 3; i++) {
		char buf[3];

		if (read(res_r, buf, 3) != 3)
			exit(3);
	}
	/* R keeps the back half: its slots at page 6 are still where they were */
	if (munmap(part, 4 * PG) < 0)
		exit(2);
	own = map(1, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char line[256], path[4096];
	int fd;

	(void)signal(SIGCHLD, SIG_DFL);
	anon = map(16, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 16; i++)
		memset(anon + (size_t)i * PG, i == 8 || i == 9 ? 'x' : 'a' + i, PG);
	memset(anon + 2 * PG, 0, PG);
	fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 2;
	zero = map(4, MAP_SHARED, fd, 0);
	(void)close(fd);
	mfd_fd = memfd_create("shmtree", MFD_CLOEXEC);
	if (mfd_fd < 0 || ftruncate(mfd_fd, 4 * PG) < 0)
		return 2;
	mfd = map(4, MAP_SHARED, mfd_fd, 0);
	(void)snprintf(path, sizeof(path), "%s/st-%d.del", dir, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 2 * PG) < 0)
		return 2;
	del = map(2, MAP_SHARED, fd, 0);
	(void)close(fd);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/st-%d.map", dir, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 2 * PG) < 0)
		return 2;
	file = map(2, MAP_SHARED, fd, 0);
	(void)close(fd);
	part = map(8, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	priv = map(64, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < 64 * PG; i++)
		priv[i] = (unsigned char)(i * 7 + i / PG);
	me = R;
	pid_of[R] = getpid();
	make_tree();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long long n;
		const char *why;

		if (!strncmp(line, "pids", 4)) {
			printf("pids %d %d %d\n", (int)pid_of[R], (int)pid_of[A], (int)pid_of[B]);
		} else if (sscanf(line, "round %llu", &n) == 1) {
			why = all('w', n);
			if (!why)
				why = all('c', n);
			printf(why ? "bad %s\n" : "ok\n", why);
		} else if (sscanf(line, "check %llu", &n) == 1) {
			why = all('c', n);
			printf(why ? "bad %s\n" : "ok\n", why);
		} else if (!strncmp(line, "quit", 4)) {
			(void)kill(pid_of[A], SIGKILL);
			(void)kill(pid_of[B], SIGKILL);
			while (wait(NULL) > 0)
				;
			(void)unlink(path);
			return 0;
		}
	}
	return 0;
}
