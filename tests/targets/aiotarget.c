/* SPDX-License-Identifier: MIT */
/*
 * A target holding an aio context (io_setup of 32 events), whose ring the
 * kernel maps into it ("/[aio] (deleted)"), for the dump's refusal. It
 * prints "ready PID", then answers one line per command:
 *
 *   check -> "ok" once a read of 5 bytes of a pipe submitted with io_submit
 *            completes through io_getevents; else "bad WHAT"
 *   exit  -> exits 0
 */
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static aio_context_t ctx;

static const char *check(void)
{
	struct iocb cb = { 0 }, *cbs[1] = { &cb };
	struct io_event ev;
	struct timespec ts = { 5, 0 };
	char buf[8] = "";
	int p[2];
	const char *why = NULL;

	if (pipe(p) < 0)
		return "bad pipe";
	if (write(p[1], "hello", 5) != 5)
		why = "bad write";
	cb.aio_fildes = (uint32_t)p[0];
	cb.aio_lio_opcode = IOCB_CMD_PREAD;
	cb.aio_buf = (uint64_t)(uintptr_t)buf;
	cb.aio_nbytes = 5;
	if (!why && syscall(SYS_io_submit, ctx, 1, cbs) != 1)
		why = "bad io_submit";
	if (!why && syscall(SYS_io_getevents, ctx, 1, 1, &ev, &ts) != 1)
		why = "bad io_getevents";
	if (!why && (ev.res != 5 || memcmp(buf, "hello", 5)))
		why = "bad event";
	close(p[0]);
	close(p[1]);
	return why ? why : "ok";
}

int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (syscall(SYS_io_setup, 32, &ctx) < 0) {
		perror("io_setup");
		return 1;
	}
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "check"))
			printf("%s\n", check());
		else if (!strcmp(line, "exit"))
			return 0;
		else
			printf("err unknown command\n");
	}
	return 0;
}
