/* SPDX-License-Identifier: MIT */
/*
 * A tree of three members (root, its child, the child's child) sharing
 * private pages copy-on-write: a heap of --mib MiB (default 16), page i
 * filled with (i * 7) & 0xff, written before the forks. The root reads
 * commands, one line each, and passes them down the tree over pipes:
 *
 *   pids  -> "pids ROOT CHILD GRANDCHILD"
 *   touch -> after the forks, the root adds 2 to pages i % 4 in {0, 2},
 *            the child adds 1 to pages i % 4 in {0, 1} (pages 0 mod 4
 *            written by both), the grandchild writes none; "ok"
 *   check -> "ok", or "bad WHO: WHAT": each member's every page holds
 *            what it wrote, or what the heap held before the forks
 *   exit  -> every member exits 0
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static uint8_t *heap;
static size_t npages;
static int level;	/* 0 root, 1 child, 2 grandchild */
static bool touched;
static FILE *down_w, *down_r; /* to and from the member below; NULL at the bottom */

/* What member @lvl adds to page @i when it touches. */
static uint8_t delta(int lvl, size_t i)
{
	if (lvl == 0 && (i % 4 == 0 || i % 4 == 2))
		return 2;
	if (lvl == 1 && (i % 4 == 0 || i % 4 == 1))
		return 1;
	return 0;
}

static void touch(void)
{
	for (size_t i = 0; i < npages; i++) {
		uint8_t d = delta(level, i);

		if (d) {
			heap[i * PAGE] = (uint8_t)(heap[i * PAGE] + d);
			heap[i * PAGE + PAGE - 1] = (uint8_t)(heap[i * PAGE + PAGE - 1] + d);
		}
	}
	touched = true;
}

static void check(char *out, size_t size)
{
	static const char *const who[] = { "root", "child", "grandchild" };

	for (size_t i = 0; i < npages; i++) {
		uint8_t want = (uint8_t)(i * 7 + (touched ? delta(level, i) : 0));

		for (size_t b = 0; b < PAGE; b++) {
			uint8_t w = (b == 0 || b == PAGE - 1) ? want : (uint8_t)(i * 7);

			if (heap[i * PAGE + b] != w) {
				(void)snprintf(out, size, "bad %s: page %zu byte %zu is %u, not %u", who[level], i,
					       b, heap[i * PAGE + b], w);
				return;
			}
		}
	}
	(void)snprintf(out, size, "ok");
}

/* Run the command @cmd here and below; the reply in @out. */
static bool command(const char *cmd, char *out, size_t size)
{
	char below[256] = "ok";

	if (down_w) {
		if (fprintf(down_w, "%s\n", cmd) < 0 || fflush(down_w) ||
		    (strcmp(cmd, "exit") && !fgets(below, sizeof(below), down_r)))
			(void)snprintf(below, sizeof(below), "bad the member below does not answer");
		below[strcspn(below, "\n")] = '\0';
	}
	if (!strcmp(cmd, "exit")) {
		if (down_w)
			(void)wait(NULL);
		return false;
	}
	if (!strcmp(cmd, "touch")) {
		touch();
		(void)snprintf(out, size, "%s", below);
	} else if (!strcmp(cmd, "check")) {
		check(out, size);
		if (!strcmp(out, "ok"))
			(void)snprintf(out, size, "%s", below);
	} else if (!strcmp(cmd, "pids")) {
		if (down_w)
			(void)snprintf(out, size, "%d %s", (int)getpid(), below);
		else
			(void)snprintf(out, size, "%d", (int)getpid());
	} else {
		(void)snprintf(out, size, "err unknown command");
	}
	return true;
}

/* Commands from @in, replies to @out, until "exit" or the end. */
static void serve(FILE *in, FILE *out, bool root)
{
	char line[256], reply[512];

	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		if (!command(line, reply, sizeof(reply)))
			return;
		if (root && !strcmp(line, "pids"))
			(void)fprintf(out, "pids %s\n", reply);
		else
			(void)fprintf(out, "%s\n", reply);
		(void)fflush(out);
	}
}

/* Fork the member below this one, joined by two pipes; the child goes on as it. */
static bool fork_below(void)
{
	int down[2], up[2];
	pid_t pid;

	if (pipe(down) < 0 || pipe(up) < 0) {
		perror("pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		if (down_w) {
			fclose(down_w);
			fclose(down_r);
			down_w = down_r = NULL;
		}
		level++;
		if (level < 2)
			(void)fork_below();
		serve(fdopen(down[0], "r"), fdopen(up[1], "w"), false);
		exit(0);
	}
	close(down[0]);
	close(up[1]);
	down_w = fdopen(down[1], "w");
	down_r = fdopen(up[0], "r");
	return true;
}

int main(int argc, char **argv)
{
	size_t mib = 16;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc) {
			mib = strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: cowtree [--mib N]\n");
			return 2;
		}
	}
	npages = mib * 1024 * 1024 / PAGE;
	heap = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t i = 0; i < npages; i++)
		memset(heap + i * PAGE, (int)((i * 7) & 0xff), PAGE);
	(void)fork_below();
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	serve(stdin, stdout, true);
	return 0;
}
