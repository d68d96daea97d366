/* SPDX-License-Identifier: MIT */
/*
 * Unix sockets whose other side has gone (t166), in DIR (--dir):
 *   "dg": a datagram socket bound to DIR/a.sock connected to one bound to
 *         DIR/b.sock, which sent "hi" and closed;
 *   "acc": a connection accepted from a listener on DIR/l.sock (kept),
 *         whose client wrote "bye" and closed;
 *   "orph": one accepted from a listener on DIR/m.sock closed since, its
 *         file removed, the client (kept) wrote "hey";
 *   "orph2": one accepted from a listener on DIR/n.sock closed since, its
 *         file left, the client wrote "yo" and closed.
 * "check" after a restore: every name, byte, end of file and peer, and
 * what a send to a closed peer gives, as before.
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

static char dir[64], bad[512];
static int dg, lis, acc, orph, orph_cli, orph2;
static ino_t n_ino;

static bool fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(bad, sizeof(bad), fmt, ap);
	va_end(ap);
	return false;
}

static socklen_t addr(struct sockaddr_un *a, const char *base)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	(void)snprintf(a->sun_path, sizeof(a->sun_path), "%.63s/%.40s", dir, base);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path));
}

static int sock(int type, const char *base)
{
	struct sockaddr_un a;
	socklen_t l = addr(&a, base);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, l) < 0)
		exit(1);
	return fd;
}

static int dial(const char *base)
{
	struct sockaddr_un a;
	socklen_t l = addr(&a, base);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, l) < 0)
		exit(1);
	return fd;
}

static int listener(const char *base)
{
	int fd = sock(SOCK_STREAM, base);

	if (listen(fd, 4) < 0)
		exit(1);
	return fd;
}

static void setup(void)
{
	struct sockaddr_un a;
	struct stat st;
	int b, c, m, n;

	dg = sock(SOCK_DGRAM, "a.sock");
	b = sock(SOCK_DGRAM, "b.sock");
	if (connect(dg, (struct sockaddr *)&a, addr(&a, "b.sock")) < 0 ||
	    connect(b, (struct sockaddr *)&a, addr(&a, "a.sock")) < 0 || send(b, "hi", 2, 0) != 2)
		exit(1);
	close(b);
	lis = listener("l.sock");
	c = dial("l.sock");
	if ((acc = accept(lis, NULL, NULL)) < 0 || write(c, "bye", 3) != 3)
		exit(1);
	close(c);
	m = listener("m.sock");
	orph_cli = dial("m.sock");
	if ((orph = accept(m, NULL, NULL)) < 0 || write(orph_cli, "hey", 3) != 3)
		exit(1);
	close(m);
	if (unlink(addr(&a, "m.sock") ? a.sun_path : "") < 0)
		exit(1);
	n = listener("n.sock");
	c = dial("n.sock");
	if ((orph2 = accept(n, NULL, NULL)) < 0 || write(c, "yo", 2) != 2)
		exit(1);
	close(c);
	close(n);
	if (stat(addr(&a, "n.sock") ? a.sun_path : "", &st) < 0)
		exit(1);
	n_ino = st.st_ino;
}

/* The kernel gives a path name with its NUL, counted. */
static bool name_is(int fd, const char *base, bool peer)
{
	struct sockaddr_un a, want;
	socklen_t l = sizeof(a), wl = addr(&want, base) + 1;

	if ((peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l)) < 0)
		return fail("get%sname: %s", peer ? "peer" : "sock", strerror(errno));
	if (l != wl || strcmp(a.sun_path, want.sun_path))
		return fail("a %sname is '%s', not '%s'", peer ? "peer " : "", a.sun_path, want.sun_path);
	return true;
}

static bool reads(int fd, const char *want, bool then_eof)
{
	char buf[16];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n != (ssize_t)strlen(want) || memcmp(buf, want, (size_t)n))
		return fail("fd %d does not read '%s' (%zd)", fd, want, n);
	if (then_eof && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) != 0)
		return fail("fd %d does not read the end after '%s'", fd, want);
	return true;
}

static bool check(void)
{
	struct sockaddr_un a, want;
	socklen_t l = sizeof(a), wl = addr(&want, "b.sock") + 1;
	struct stat st;
	char buf[8];
	int c, x;

	if (!name_is(dg, "a.sock", false) || !name_is(dg, "b.sock", true) || !name_is(acc, "l.sock", false) ||
	    !name_is(orph, "m.sock", false) || !name_is(orph_cli, "m.sock", true) || !name_is(orph2, "n.sock", false))
		return false;
	if (recvfrom(dg, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&a, &l) != 2 || memcmp(buf, "hi", 2) ||
	    l != wl || strcmp(a.sun_path, want.sun_path))
		return fail("a.sock does not read 'hi' from b.sock");
	if (send(dg, "x", 1, MSG_DONTWAIT) != -1 || errno != ECONNREFUSED)
		return fail("a send to the closed peer gives %s, not ECONNREFUSED", strerror(errno));
	if (!reads(acc, "bye", true) || !reads(orph, "hey", false) || !reads(orph2, "yo", true))
		return false;
	if (write(orph, "back", 4) != 4 || !reads(orph_cli, "back", false))
		return false;
	if (stat(addr(&a, "m.sock") ? a.sun_path : "", &st) == 0)
		return fail("m.sock, removed, is back");
	if (stat(addr(&a, "n.sock") ? a.sun_path : "", &st) < 0 || st.st_ino != n_ino)
		return fail("n.sock, left by its listener, changed");
	c = dial("l.sock");
	x = accept(lis, NULL, NULL);
	if (x < 0)
		return fail("l.sock does not accept");
	close(x);
	close(c);
	return true;
}

int main(int argc, char **argv)
{
	char line[64];

	if (argc != 3 || strcmp(argv[1], "--dir"))
		return 2;
	(void)snprintf(dir, sizeof(dir), "%.63s", argv[2]);
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
