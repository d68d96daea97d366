/* SPDX-License-Identifier: MIT */
/*
 * Unix socket names a restore must keep (t165): run in DIR (--dir), it
 * binds with relative names from DIR/sub: a stream listener "rel.sock"
 * with a client connected, accepted and a message queued, a datagram
 * socket "reld.sock" (mode 0604) with datagrams queued from a sender
 * bound to DIR/gone.sock (absolute), one bound to "gone2.sock"
 * (relative), both closed since (their files left, as a program that
 * does not unlink them leaves them), and from a live sender of its own
 * bound to "tx.sock"; its working directory stays DIR/sub. "check" after a restore:
 * getsockname gives the relative names, the datagrams come with their
 * senders' names in order, the queued message reads, a new client
 * connects to DIR/sub/rel.sock and is accepted, a datagram sent to
 * DIR/sub/reld.sock arrives; the files of the gone senders are there,
 * untouched (same inode).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[256], sub[300], bad[512];
static int lis, cli, acc, dg, tx;
static ino_t gone_ino[2];

static bool fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(bad, sizeof(bad), fmt, ap);
	va_end(ap);
	return false;
}

static socklen_t addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	(void)snprintf(a->sun_path, sizeof(a->sun_path), "%s", name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
}

static int sock(int type, const char *name)
{
	struct sockaddr_un a;
	socklen_t l = addr(&a, name);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, l) < 0) {
		perror(name);
		exit(1);
	}
	return fd;
}

static void to(int fd, const char *name, const char *msg)
{
	struct sockaddr_un a;
	socklen_t l = addr(&a, name);

	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, l) != (ssize_t)strlen(msg)) {
		perror("sendto");
		exit(1);
	}
}

static void setup(void)
{
	struct sockaddr_un a;
	char p[400];
	struct stat st;
	int g;

	(void)snprintf(sub, sizeof(sub), "%s/sub", dir);
	if (mkdir(sub, 0755) < 0 || chdir(sub) < 0) {
		perror(sub);
		exit(1);
	}
	lis = sock(SOCK_STREAM, "rel.sock");
	if (listen(lis, 4) < 0)
		exit(1);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	if (cli < 0 || connect(cli, (struct sockaddr *)&a, addr(&a, "rel.sock")) < 0 ||
	    (acc = accept(lis, NULL, NULL)) < 0 || write(cli, "queued", 6) != 6)
		exit(1);
	dg = sock(SOCK_DGRAM, "reld.sock");
	if (chmod("reld.sock", 0604) < 0)
		exit(1);
	(void)snprintf(p, sizeof(p), "%s/gone.sock", dir);
	g = sock(SOCK_DGRAM, p);
	to(g, "reld.sock", "one");
	close(g);
	g = sock(SOCK_DGRAM, "gone2.sock");
	to(g, "reld.sock", "two");
	close(g);
	tx = sock(SOCK_DGRAM, "tx.sock");
	to(tx, "reld.sock", "three");
	if (stat(p, &st) < 0)
		exit(1);
	gone_ino[0] = st.st_ino;
	if (stat("gone2.sock", &st) < 0)
		exit(1);
	gone_ino[1] = st.st_ino;
}

/* The kernel gives a path name with its NUL, counted. */
static bool name_is(int fd, const char *want, bool peer)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);

	if ((peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l)) < 0)
		return fail("getsockname: %s", strerror(errno));
	if (l != offsetof(struct sockaddr_un, sun_path) + strlen(want) + 1 || strcmp(a.sun_path, want))
		return fail("a name is '%.*s', not '%s'", (int)(l - offsetof(struct sockaddr_un, sun_path)),
			    a.sun_path, want);
	return true;
}

static bool dgram_from(const char *msg, const char *from)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);
	char buf[32];
	ssize_t n = recvfrom(dg, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&a, &l);

	if (n != (ssize_t)strlen(msg) || memcmp(buf, msg, (size_t)n))
		return fail("reld.sock does not read '%s' (%zd)", msg, n);
	if (l != offsetof(struct sockaddr_un, sun_path) + strlen(from) + 1 || strcmp(a.sun_path, from))
		return fail("'%s' is from '%.*s', not '%s'", msg, (int)(l - offsetof(struct sockaddr_un, sun_path)),
			    a.sun_path, from);
	return true;
}

static bool check(void)
{
	char p[400], q[400], buf[16];
	struct sockaddr_un a;
	struct stat st;
	int c, n;

	(void)snprintf(p, sizeof(p), "%s/gone.sock", dir);
	if (!name_is(lis, "rel.sock", false) || !name_is(acc, "rel.sock", false) || !name_is(cli, "rel.sock", true) ||
	    !name_is(dg, "reld.sock", false) || !name_is(tx, "tx.sock", false))
		return false;
	if (!dgram_from("one", p) || !dgram_from("two", "gone2.sock") || !dgram_from("three", "tx.sock"))
		return false;
	if (read(acc, buf, sizeof(buf)) != 6 || memcmp(buf, "queued", 6))
		return fail("the accepted socket does not read 'queued'");
	(void)snprintf(q, sizeof(q), "%s/gone2.sock", sub);
	if (stat(p, &st) < 0 || st.st_ino != gone_ino[0] || stat(q, &st) < 0 || st.st_ino != gone_ino[1])
		return fail("the files of the senders that had gone changed");
	(void)snprintf(q, sizeof(q), "%s/reld.sock", sub);
	if (stat(q, &st) < 0 || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0604)
		return fail("%s is not a socket of mode 0604", q);
	(void)snprintf(q, sizeof(q), "%s/rel.sock", sub);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, addr(&a, q)) < 0 || (n = accept(lis, NULL, NULL)) < 0)
		return fail("cannot connect to %s: %s", q, strerror(errno));
	close(n);
	close(c);
	(void)snprintf(q, sizeof(q), "%s/reld.sock", sub);
	to(tx, q, "four");
	return dgram_from("four", "tx.sock");
}

int main(int argc, char **argv)
{
	char line[64];

	if (argc == 3 && !strcmp(argv[1], "--dir"))
		(void)snprintf(dir, sizeof(dir), "%s", argv[2]);
	else
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "check"))
			printf("%s%s\n", check() ? "ok" : "bad: ", bad);
		else if (!strcmp(line, "exit"))
			return 0;
		else
			printf("unknown command '%s'\n", line);
	}
	return 0;
}
