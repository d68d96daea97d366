/* SPDX-License-Identifier: MIT */
/*
 * The receiver's side of a migration's stream under a fuzzer: the input
 * is what a hostile sender sends, byte for byte, over a socket. It goes
 * through the framing (sd_mig_recv_msg: the header, its magic, type and
 * length) and, as sdump receive does, the HELLO, then passes of files
 * (sd_mig_recv_files: each name one an image has, each file new, its
 * announced size) into a directory of its own, removed after each input.
 * Whatever arrives, the receiver returns an error line or takes it: never
 * a crash, a leak, a write outside the directory or a wait longer than
 * its idle timeout (the input ends with the connection's end).
 *
 * Linked with libFuzzer (LLVMFuzzerTestOneInput) or, through afl_driver.c,
 * with AFL++. Seeds: a valid stream of one pass (-seed DIR writes it).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#include "ctx.h"
#include "util.h"
#include "mig_net.h"
#include "mig_pass.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sdump_ctx *ctx;
static char base[256];

static void quiet_log(void *userdata, enum sdump_log_level level, const char *msg)
{
	(void)userdata;
	(void)level;
	(void)msg;
}

struct feed {
	int fd;
	const uint8_t *data;
	size_t size;
};

/* The hostile sender: the input, then the end of its side; it reads what the receiver says. */
static void *feeder(void *arg)
{
	struct feed *f = arg;
	uint8_t sink[4096];

	(void)sd_write_all(f->fd, f->data, f->size);
	(void)shutdown(f->fd, SHUT_WR);
	while (read(f->fd, sink, sizeof(sink)) > 0)
		;
	return NULL;
}

static size_t frame(uint8_t *out, enum mig_msg type, const void *payload, size_t len)
{
	put_le32(out, MIG_MAGIC);
	put_le16(out + 4, (uint16_t)type);
	put_le16(out + 6, 0);
	put_le64(out + 8, len);
	if (len)
		memcpy(out + 16, payload, len);
	return 16 + len;
}

/* A valid stream: HELLO, pass 1 with one small file, PASS_END; into @dir/stream-1. */
static void write_seed(const char *dir)
{
	uint8_t buf[1024], p[256];
	size_t n = 0;
	char path[512];
	const char body[] = "not an image, but a file of a pass";
	FILE *f;

	put_le32(p, MIG_PROTO_VERSION);
	put_le32(p + 4, (uint32_t)sysconf(_SC_PAGESIZE));
	n += frame(buf + n, MIG_HELLO, p, 8);
	put_le32(p, 1);
	put_le32(p + 4, 0);
	n += frame(buf + n, MIG_PASS, p, 8);
	put_le64(p, sizeof(body) - 1);
	memcpy(p + 8, "stats.img", 9);
	n += frame(buf + n, MIG_FILE, p, 17);
	memcpy(buf + n, body, sizeof(body) - 1);
	n += sizeof(body) - 1;
	n += frame(buf + n, MIG_PASS_END, NULL, 0);
	(void)snprintf(path, sizeof(path), "%s/stream-1", dir);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	for (int i = 1; i + 1 < *argc; i++)
		if (!strcmp((*argv)[i], "-seed")) {
			write_seed((*argv)[i + 1]);
			exit(0);
		}
	if (sdump_ctx_new(&ctx) < 0)
		abort();
	if (!getenv("SDUMP_FUZZ_VERBOSE"))
		sdump_ctx_set_log(ctx, quiet_log, NULL);
	(void)snprintf(base, sizeof(base), "%s/sdump-fuzz-stream-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(base))
		abort();
	return 0;
}

/* sdump receive's loop over the stream, up to the process (the files of each pass, no verify). */
static void receive(struct mig_conn *c)
{
	uint8_t msg[MIG_MSG_MAX];
	enum mig_msg type;
	size_t len;
	char part[300];
	uint64_t bytes;

	if (sd_mig_expect(c, MIG_HELLO, msg, &len) < 0 || len < 8)
		return;
	for (unsigned int n = 1; n <= 4; n++) {
		int fd, r;

		if (sd_mig_recv_msg(c, &type, msg, &len) < 0 || type != MIG_PASS || len < 8)
			return;
		struct mig_unsynced u = { 0 };
		char prev[16];

		(void)snprintf(part, sizeof(part), "%s/p%u", base, n);
		(void)snprintf(prev, sizeof(prev), "p%u", n - 1);
		if (mkdir(part, 0700) < 0)
			abort();
		fd = open(part, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			abort();
		/* a tree member's parent link names the pass before, as the receiver's do */
		r = sd_mig_recv_files(c, fd, part, n > 1 ? prev : NULL, &u, &bytes);
		sd_mig_sync_drop(&u);
		close(fd);
		sd_mig_remove_pass(part);
		if (r < 0)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mig_conn c = { .ctx = ctx, .fd = -1, .idle_ms = 5000 };
	struct feed f = { .data = data, .size = size };
	pthread_t th;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	c.fd = sv[0];
	f.fd = sv[1];
	(void)snprintf(c.peer, sizeof(c.peer), "fuzz");
	if (pthread_create(&th, NULL, feeder, &f) != 0)
		abort();
	receive(&c);
	sdump_ctx_clear_error(ctx);
	(void)shutdown(sv[0], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	/* nothing outside the pass directories, and those gone */
	if (rmdir(base) < 0 || mkdir(base, 0700) < 0)
		abort();
	return 0;
}
