/* SPDX-License-Identifier: MIT */
/*
 * A process and its child holding the two ends of unix sockets, each with
 * state a restore of the tree must give back. The parent is driven over
 * stdin/stdout one line at a time (the child over a pipe pair from it):
 *
 *   check  -> both check every socket from inside, as they see it: "ok",
 *             or "bad: " and what differs (they read the queues: once,
 *             after a restore)
 *   exit   -> the child exits, then the parent (0)
 *
 * Before it prints "ready PID" it sets up (--dir DIR):
 *   socketpairs of the three types made before the fork, the parent
 *   holding one end and the child the other: the stream's ends sent each
 *   other "from parent" and 70000 bytes of a pattern (not read), the
 *   datagram's "dg parent", "" and "dg child", the seqpacket's "sq one",
 *   "sq two", then the parent shut its writing down;
 *   a listener of the parent bound to DIR/st-PID.sock, backlog 5, to
 *   which the child connected "cli" (accepted by the parent as "acc",
 *   cli sent "ping" and acc "pong", not read) and "wait" (not accepted);
 *   a datagram socket of the child bound to "@sdump-st-PID", to which the
 *   parent sent "to child" from an unbound one.
 * check: each end reads what was queued for it, the peer credentials
 * (SO_PEERCRED) name the process that made the pair, listened or
 * connected, the waiting connection is accepted, and a new message goes
 * each way on the stream pair and the accepted connection.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG 70000

static char bad[1024];
static pid_t parent, child;
static int st[2], dg[2], sq[2], lis = -1, acc = -1, cli = -1, wt = -1, ab = -1, req[2], rep[2];
static struct sockaddr_un lis_addr, ab_addr;

static void fail(const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(bad);

	if (n)
		n += (size_t)snprintf(bad + n, sizeof(bad) - n, "; ");
	va_start(ap, fmt);
	if (n < sizeof(bad))
		vsnprintf(bad + n, sizeof(bad) - n, fmt, ap);
	va_end(ap);
}

static void die(const char *what)
{
	fprintf(stderr, "socktreetarget: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void send_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);

		if (n <= 0)
			die("send");
		done += (size_t)n;
	}
}

/* One message (or up to @len bytes of a stream) within 5 s; -1 if none. */
static ssize_t recv_within(int fd, void *buf, size_t len, bool all)
{
	size_t done = 0;

	do {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			return -1;
		n = recv(fd, (char *)buf + done, len - done, MSG_DONTWAIT);
		if (n < 0)
			return -1;
		if (n == 0 || !all)
			return (ssize_t)done + n;
		done += (size_t)n;
	} while (done < len);
	return (ssize_t)done;
}

/* The next message (a stream: its next strlen(@want) bytes) is @want. */
static void expect(int fd, const char *what, const char *want)
{
	char buf[256];
	int type = 0;
	socklen_t tl = sizeof(type);
	bool stream = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM;
	ssize_t n = recv_within(fd, buf, stream ? strlen(want) : sizeof(buf), stream);

	if (n != (ssize_t)strlen(want) || memcmp(buf, want, (size_t)n))
		fail("%s read %zd bytes, not '%s'", what, n, want);
}

static void expect_peer(int fd, const char *what, pid_t want)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || uc.pid != want)
		fail("%s's SO_PEERCRED is pid %d, not %d", what, (int)uc.pid, (int)want);
}

static void pattern(char *buf, size_t len, int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + (i * 7 + (size_t)seed) % 26);
}

static void expect_big(int fd, const char *what, int seed)
{
	static char want[BIG], got[BIG];

	pattern(want, BIG, seed);
	if (recv_within(fd, got, BIG, true) != BIG || memcmp(want, got, BIG))
		fail("%s did not read the %d bytes of its pattern", what, BIG);
}

static void check_child(void)
{
	char end[8];

	expect(st[1], "the child's stream end", "from parent");
	expect_big(st[1], "the child's stream end", 1);
	expect_peer(st[1], "the child's stream end", parent);
	expect(dg[1], "the child's datagram end", "dg parent");
	expect(dg[1], "the child's datagram end", "");
	expect(sq[1], "the child's seqpacket end", "sq one");
	expect(sq[1], "the child's seqpacket end", "sq two");
	if (recv_within(sq[1], end, sizeof(end), false) != 0)
		fail("the child's seqpacket end sees no end after the two messages");
	expect(cli, "cli", "pong");
	expect_peer(cli, "cli", parent);
	expect(ab, "the child's named datagram socket", "to child");
	send_all(st[1], "child again", 11);
	send_all(cli, "cli again", 9);
}

static void check_parent(void)
{
	int w;

	expect(st[0], "the parent's stream end", "from child");
	expect_big(st[0], "the parent's stream end", 2);
	expect(dg[0], "the parent's datagram end", "dg child");
	expect(sq[0], "the parent's seqpacket end", "sq child");
	expect(acc, "acc", "ping");
	expect_peer(acc, "acc", child);
	w = accept(lis, NULL, NULL);
	if (w < 0)
		fail("the waiting connection cannot be accepted: %s", strerror(errno));
	else
		expect_peer(w, "the accepted waiting connection", child);
	if (w >= 0)
		close(w);
}

static void child_main(void)
{
	char c;

	close(st[0]);
	close(dg[0]);
	close(sq[0]);
	close(req[1]);
	close(rep[0]);
	cli = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	wt = socket(AF_UNIX, SOCK_STREAM, 0);
	ab = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (cli < 0 || wt < 0 || ab < 0 || bind(ab, (struct sockaddr *)&ab_addr, sizeof(ab_addr)) < 0)
		die("child sockets");
	if (connect(cli, (struct sockaddr *)&lis_addr, sizeof(lis_addr)) < 0 ||
	    connect(wt, (struct sockaddr *)&lis_addr, sizeof(lis_addr)) < 0)
		die("connect");
	send_all(cli, "ping", 4);
	{
		static char big[BIG];

		pattern(big, BIG, 2);
		send_all(st[1], "from child", 10);
		send_all(st[1], big, BIG);
	}
	send_all(dg[1], "dg child", 8);
	send_all(sq[1], "sq child", 8);
	if (write(rep[1], "r", 1) != 1)
		die("write");
	while (read(req[0], &c, 1) == 1) {
		if (c == 'q')
			break;
		bad[0] = '\0';
		check_child();
		if (write(rep[1], bad[0] ? bad : "ok", bad[0] ? strlen(bad) + 1 : 3) < 0)
			die("write");
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	const char *dir = "/tmp";
	char line[256], c;

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--dir"))
			dir = argv[i + 1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	parent = getpid();
	lis_addr.sun_family = ab_addr.sun_family = AF_UNIX;
	snprintf(lis_addr.sun_path, sizeof(lis_addr.sun_path), "%s/st-%d.sock", dir, (int)parent);
	snprintf(ab_addr.sun_path + 1, sizeof(ab_addr.sun_path) - 1, "sdump-st-%d", (int)parent);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq) < 0 || pipe(req) < 0 || pipe(rep) < 0)
		die("socketpair");
	lis = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(lis_addr.sun_path);
	if (lis < 0 || bind(lis, (struct sockaddr *)&lis_addr, sizeof(lis_addr)) < 0 || listen(lis, 5) < 0)
		die("listener");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0)
		child_main();
	close(st[1]);
	close(dg[1]);
	close(sq[1]);
	close(req[0]);
	close(rep[1]);
	if (read(rep[0], &c, 1) != 1)
		die("the child did not start");
	acc = accept(lis, NULL, NULL);
	if (acc < 0)
		die("accept");
	send_all(acc, "pong", 4);
	{
		static char big[BIG];
		int tx = socket(AF_UNIX, SOCK_DGRAM, 0);

		pattern(big, BIG, 1);
		send_all(st[0], "from parent", 11);
		send_all(st[0], big, BIG);
		if (tx < 0 || sendto(tx, "to child", 8, 0, (struct sockaddr *)&ab_addr, sizeof(ab_addr)) != 8)
			die("sendto");
		close(tx);
	}
	send_all(dg[0], "dg parent", 9);
	if (send(dg[0], "", 0, 0) != 0)
		die("send");
	send_all(sq[0], "sq one", 6);
	send_all(sq[0], "sq two", 6);
	shutdown(sq[0], SHUT_WR);
	printf("ready %d\n", (int)parent);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "check")) {
			char cb[1100] = { 0 };
			ssize_t n;

			bad[0] = '\0';
			check_parent();
			if (write(req[1], "c", 1) != 1 || (n = read(rep[0], cb, sizeof(cb) - 1)) <= 0)
				fail("the child does not answer");
			else if (strcmp(cb, "ok"))
				fail("child: %s", cb);
			else {
				expect(st[0], "the parent's stream end after the check", "child again");
				expect(acc, "acc after the check", "cli again");
			}
			printf("%s%s\n", bad[0] ? "bad: " : "ok", bad);
		} else if (!strcmp(line, "exit")) {
			break;
		} else {
			printf("unknown command '%s'\n", line);
		}
	}
	if (write(req[1], "q", 1) == 1)
		(void)waitpid(child, NULL, 0);
	unlink(lis_addr.sun_path);
	return 0;
}
