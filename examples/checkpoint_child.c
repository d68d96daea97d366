/* SPDX-License-Identifier: MIT */
/*
 * Checkpoint a child process and bring it back, through libsdump.
 *
 * The child counts, writing its count into a file. The parent takes a
 * pre-dump while it runs, then the final dump (which ends the child), and
 * restores it: the restored child, with the same pid, goes on counting
 * from where the dump stopped it.
 *
 *   cc checkpoint_child.c $(pkg-config --cflags --libs sdump) -o checkpoint_child
 *   ./checkpoint_child DIR        (as root, or with CAP_CHECKPOINT_RESTORE)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sdump.h>

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The child: counts forever, its count in the first 8 bytes of @path. */
static void count(const char *path)
{
	uint64_t n = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int null = open("/dev/null", O_RDWR);

	if (fd < 0 || null < 0)
		_exit(1);
	/* nothing shared with the parent: a checkpoint holds one process */
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	for (;;) {
		n++;
		if (pwrite(fd, &n, sizeof(n), 0) != sizeof(n))
			_exit(1);
		sleep_ms(2);
	}
}

static uint64_t read_count(const char *path)
{
	uint64_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (pread(fd, &n, sizeof(n), 0) != sizeof(n))
			n = 0;
		close(fd);
	}
	return n;
}

static int fail(struct sdump_ctx *ctx, const char *what)
{
	fprintf(stderr, "checkpoint_child: %s: %s\n", what,
		sdump_ctx_last_error(ctx) ? sdump_ctx_last_error(ctx) : "failed");
	return 1;
}

int main(int argc, char **argv)
{
	char pre[4096], fin[4096], counter[4096];
	struct sdump_dump_opts d = { 0 };
	struct sdump_restore_opts ro = { 0 };
	struct sdump_stats st;
	struct sdump_ctx *ctx;
	uint64_t at_dump, later;
	pid_t pid;
	int status;

	if (argc != 2) {
		fprintf(stderr, "usage: checkpoint_child DIR\n");
		return 2;
	}
	snprintf(pre, sizeof(pre), "%s/1", argv[1]);
	snprintf(fin, sizeof(fin), "%s/2", argv[1]);
	snprintf(counter, sizeof(counter), "%s/count", argv[1]);
	if (sdump_ctx_new(&ctx) < 0)
		return 1;

	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		count(counter);
	while (read_count(counter) < 10)
		sleep_ms(5);

	/* a first pass while it runs, then the final one on top of it */
	d.pid = pid;
	d.dir = pre;
	d.track = SDUMP_TRACK_AUTO;
	if (sdump_pre_dump(ctx, &d, &st) < 0)
		return fail(ctx, "pre-dump");
	printf("pre-dump: %llu pages, frozen %llu us\n", (unsigned long long)st.pages_written,
	       (unsigned long long)st.freeze_us);
	d.dir = fin;
	d.parent = pre;
	if (sdump_dump(ctx, &d, &st) < 0)
		return fail(ctx, "dump");
	/*
	 * The dump killed it. As its tracer the library reaped it already when
	 * we are its parent (ECHILD); else its zombie is ours to reap, so that
	 * its pid is free again for the restore.
	 */
	if (waitpid(pid, &status, 0) != pid && errno != ECHILD) {
		perror("waitpid");
		return 1;
	}
	at_dump = read_count(counter);
	printf("dump: %llu pages, frozen %llu us; the child had counted to %llu\n",
	       (unsigned long long)st.pages_written, (unsigned long long)st.freeze_us,
	       (unsigned long long)at_dump);

	ro.dir = fin;
	ro.detach = true;
	if (sdump_restore(ctx, &ro, NULL) < 0)
		return fail(ctx, "restore");
	for (int i = 0; i < 200 && (later = read_count(counter)) < at_dump + 10; i++)
		sleep_ms(10);
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "checkpoint_child: the restored pid %d is not our child\n", (int)pid);
		return 1;
	}
	if (later < at_dump + 10) {
		fprintf(stderr, "checkpoint_child: the restored child did not count on (%llu, then %llu)\n",
			(unsigned long long)at_dump, (unsigned long long)later);
		return 1;
	}
	printf("restore: pid %d counted on from %llu to %llu\n", (int)pid,
	       (unsigned long long)at_dump, (unsigned long long)later);
	sdump_ctx_free(ctx);
	return 0;
}
