/* SPDX-License-Identifier: MIT */
/*
 * A target that is a process tree. Driven over stdin/stdout one line at a
 * time (the root reads and answers; its children inherit both):
 *
 *   pids  -> "pids R A B C S Z1 Z2": the root's children's pids
 *   check -> every member checks itself (below), the root last; "ok", or
 *            "bad WHAT" naming the first thing that is not as it was
 *   quit  -> every child killed and reaped, exit 0
 *
 * Set up before it prints "ready PID" (PID the root's):
 *   - the root R calls setsid() (its own session, as a daemon);
 *   - "log" DIR/tt-PID.log opened by R, 10 bytes written, before any fork:
 *     its open file description (and offset) is shared by every member;
 *   - A: its own group (setpgid(0, 0) after the fork), reads a pipe from R
 *     holding "to-A" (written by R, not yet read); A forks G (three levels),
 *     with a pipe from A holding "to-G";
 *   - B: setsid() after its fork; its child BB is in B's session;
 *   - C: joins A's group (setpgid(0, A)), a sibling's;
 *   - S: its own group (a group of R's session, so not orphaned: the
 *     kernel discards SIGTSTP there), stops itself (SIGTSTP): it is in a
 *     job-control stop, and is to be
 *     so after a restore, by that signal (R's wait says which); "check"
 *     continues it (SIGCONT) first;
 *   - Z1 exits with status 7, Z2 is killed by SIGKILL: zombies R keeps
 *     until "check" reaps them (and checks their status);
 *   - each child answers on a results pipe shared by all (one open file
 *     description): R sends it 'c' on its own command pipe, it writes one
 *     line, "ok X" or "bad X what".
 *
 * Checks: each member its parent, session and group; A and G the bytes of
 * their pipe; each child writes one byte X to the log through the shared
 * description, R writes "R" last, and then the log must be the 10 bytes,
 * the children's bytes and "R", one after the other (one offset).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { A, G, B, BB, C, S, NKIDS };
static const char names[NKIDS] = { 'A', 'G', 'B', 'b', 'C', 'S' };
static pid_t pid_of[NKIDS], root, z1, z2;
/* cmd_w: R's to A, B, C, S; A's to G and B's to BB (fwd: where a child passes 'c' on) */
static int cmd_w[NKIDS], res_r, res_w, logfd, fwd = -1;

static void bad(char who, const char *what)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "bad %c %s\n", who, what);

	(void)write(res_w, line, (size_t)n);
}

static bool expect_pipe(int fd, const char *want)
{
	char buf[32] = { 0 };
	size_t len = strlen(want);

	return read(fd, buf, len) == (ssize_t)len && memcmp(buf, want, len) == 0;
}

/* A child's life: wait for 'c', check, answer; @data its pipe to read, or -1. */
static void child_loop(int k, int cmd_r, int data, const char *want, pid_t ppid, pid_t sid,
		       pid_t pgid)
{
	char c, who = names[k];

	for (;;) {
		if (read(cmd_r, &c, 1) != 1)
			_exit(1);
		if (getppid() != ppid)
			bad(who, "parent");
		else if (getsid(0) != sid)
			bad(who, "session");
		else if (getpgid(0) != pgid)
			bad(who, "group");
		else if (data >= 0 && !expect_pipe(data, want))
			bad(who, "pipe bytes");
		else if (write(logfd, &who, 1) != 1)
			bad(who, "log write");
		else {
			char line[8] = { 'o', 'k', ' ', who, '\n' };

			(void)write(res_w, line, 5);
		}
		if (fwd >= 0)
			(void)write(fwd, "c", 1);
	}
}

/* fork() with a command pipe; the child runs @fn. */
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
		return 0;
	}
	(void)close(p[0]);
	cmd_w[k] = p[1];
	pid_of[k] = c;
	return c;
}

static void wait_up(int n)
{
	char buf[8];

	for (int i = 0; i < n; i++)
		if (read(res_r, buf, 3) != 3)
			exit(3);
}

/* One result line into @buf: whether it is "ok". */
static bool read_result(char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size && read(res_r, buf + n, 1) == 1 && buf[n] != '\n')
		n++;
	buf[n] = '\0';
	return !strncmp(buf, "ok ", 3);
}

static bool is_state(pid_t p, char want)
{
	char path[64], buf[512], *s;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", p);
	f = fopen(path, "r");
	if (!f)
		return false;
	s = fgets(buf, sizeof(buf), f);
	(void)fclose(f);
	s = s ? strrchr(buf, ')') : NULL;
	return s && s[1] == ' ' && s[2] == want;
}

static void make_tree(void)
{
	int cmd_r, d[2], rp[2];

	if (pipe(rp) < 0)
		exit(2);
	res_r = rp[0];
	res_w = rp[1];
	/* A, with its pipe from R and its child G */
	if (pipe(d) < 0)
		exit(2);
	if (spawn(A, &cmd_r) == 0) {
		int g[2], gcmd;

		(void)close(d[1]);
		(void)close(res_r);
		(void)setpgid(0, 0);
		if (pipe(g) < 0)
			_exit(2);
		if (spawn(G, &gcmd) == 0) {
			(void)close(g[1]);
			(void)write(res_w, "up\n", 3);
			child_loop(G, gcmd, g[0], "to-G", getppid(), root, getpgid(0));
		}
		(void)close(g[0]);
		(void)write(g[1], "to-G", 4);
		(void)write(res_w, "up\n", 3);
		fwd = cmd_w[G];
		child_loop(A, cmd_r, d[0], "to-A", root, root, getpid());
	}
	/* as a shell does: both sides, so that C below finds the group there */
	(void)setpgid(pid_of[A], pid_of[A]);
	(void)close(d[0]);
	(void)write(d[1], "to-A", 4);
	/* B, a session of its own, and BB in it */
	if (spawn(B, &cmd_r) == 0) {
		int bcmd;

		(void)close(res_r);
		(void)setsid();
		if (spawn(BB, &bcmd) == 0) {
			(void)close(cmd_r);
			(void)write(res_w, "up\n", 3);
			child_loop(BB, bcmd, -1, NULL, getppid(), getppid(), getppid());
		}
		(void)write(res_w, "up\n", 3);
		fwd = cmd_w[BB];
		child_loop(B, cmd_r, -1, NULL, root, getpid(), getpid());
	}
	/* C in A's group */
	if (spawn(C, &cmd_r) == 0) {
		(void)close(res_r);
		(void)setpgid(0, pid_of[A]);
		(void)write(res_w, "up\n", 3);
		child_loop(C, cmd_r, -1, NULL, root, root, pid_of[A]);
	}
	/* S stops itself */
	if (spawn(S, &cmd_r) == 0) {
		(void)close(res_r);
		(void)setpgid(0, 0);
		(void)write(res_w, "up\n", 3);
		(void)raise(SIGTSTP);
		child_loop(S, cmd_r, -1, NULL, root, root, getpid());
	}
	wait_up(6);
	z1 = fork();
	if (z1 == 0)
		_exit(7);
	z2 = fork();
	if (z2 == 0) {
		(void)raise(SIGKILL); /* the signal a restore cannot set an action for */
		_exit(1);
	}
	while (!is_state(z1, 'Z') || !is_state(z2, 'Z') || !is_state(pid_of[S], 'T'))
		(void)usleep(1000);
}

int main(int argc, char **argv)
{
	char line[256], path[4096];
	const char *dir = argc > 1 ? argv[1] : "/tmp";

	(void)signal(SIGCHLD, SIG_DFL);
	(void)setsid();
	root = getpid();
	(void)snprintf(path, sizeof(path), "%s/tt-%d.log", dir, (int)root);
	logfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0 || write(logfd, "0123456789", 10) != 10)
		return 2;
	make_tree();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)root);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "pids", 4)) {
			printf("pids %d %d %d %d %d %d %d\n", (int)root, (int)pid_of[A], (int)pid_of[B],
			       (int)pid_of[C], (int)pid_of[S], (int)z1, (int)z2);
		} else if (!strncmp(line, "check", 5)) {
			/* each with how many answer for it (A for G, B for BB too) */
			const int kids[] = { A, B, C, S }, nres[] = { 2, 2, 1, 1 };
			static char buf[64];
			char want[32], got[32] = { 0 };
			int st1 = 0, st2 = 0, n = 0;
			const char *why = NULL;

			if (getsid(0) != root || getpgid(0) != root)
				why = "root session";
			if (!why && (waitpid(z1, &st1, WNOHANG) != z1 || !WIFEXITED(st1) || WEXITSTATUS(st1) != 7))
				why = "zombie 1";
			if (!why && (waitpid(z2, &st2, WNOHANG) != z2 || !WIFSIGNALED(st2) || WTERMSIG(st2) != SIGKILL))
				why = "zombie 2";
			if (!why && !is_state(pid_of[S], 'T'))
				why = "not stopped";
			if (!why && (waitpid(pid_of[S], &st1, WUNTRACED | WNOHANG) != pid_of[S] || !WIFSTOPPED(st1) ||
				     WSTOPSIG(st1) != SIGTSTP))
				why = "not stopped by SIGTSTP";
			(void)kill(pid_of[S], SIGCONT);
			for (size_t k = 0; !why && k < sizeof(kids) / sizeof(kids[0]); k++) {
				if (write(cmd_w[kids[k]], "c", 1) != 1)
					why = "command pipe";
				for (int m = 0; !why && m < nres[k]; m++) {
					if (!read_result(buf, sizeof(buf)))
						why = buf;
					want[n++] = buf[3];
				}
			}
			if (!why && write(logfd, "R", 1) != 1)
				why = "log write";
			want[n++] = 'R';
			if (!why && (pread(logfd, got, (size_t)n + 10, 0) != n + 10 || memcmp(got, "0123456789", 10) ||
				     memcmp(got + 10, want, (size_t)n)))
				why = "one log offset";
			printf(why ? "bad %s\n" : "ok\n", why);
		} else if (!strncmp(line, "quit", 4)) {
			for (int k = 0; k < NKIDS; k++)
				if (pid_of[k] > 0 && k != G && k != BB)
					(void)kill(pid_of[k], SIGKILL);
			while (wait(NULL) > 0)
				;
			(void)unlink(path);
			return 0;
		}
	}
	return 0;
}
