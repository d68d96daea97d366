/* SPDX-License-Identifier: MIT */
/*
 * A target whose private mappings are of shmem objects, each object also
 * mapped shared: which pages are the mapping's own copies (written after
 * it was made: copy-on-write) and which are still the object's, which a
 * restore must keep apart. Three objects of 8 pages, page k holding 'A' + k:
 *
 *   zero:  shared anonymous memory opened through /proc/self/map_files
 *          (as zdtm's shmemfd-priv does), the fd closed once it is mapped;
 *   memfd: a memfd, its fd kept open;
 *   shm:   a file of /dev/shm, unlinked, its fd kept open.
 *
 * Each is mapped shared whole ("S") and privately from its page 1 on ("P",
 * 6 pages: P's page i is the object's page i + 1). Before "ready PID": P's
 * page 0 written 'p' (its own copy), P's page 1 read (the object's page,
 * present). Commands, one line each, one reply line:
 *
 *   touch -> P's page 2 written 'q', the object's page 4 written 'n'
 *            through S (between a pre-dump and a dump); "ok"
 *   check -> (once, after a restore) "ok", or "bad WHAT": P keeps 'p' and (after touch) 'q', its
 *            pages it never wrote read the object's ('n' after touch),
 *            S never sees P's copies; then a write to the object through
 *            S (page 5) and through its fd (page 6) shows in P
 *   exit  -> exits 0
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
#define NPAGES 8
#define NPRIV 6

struct obj {
	const char *name;
	int fd;		/* -1: closed once mapped */
	char *s, *p;
};

static struct obj objs[3] = { { "zero", -1, 0, 0 }, { "memfd", -1, 0, 0 }, { "shm", -1, 0, 0 } };
static bool touched;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int make_fd(struct obj *o)
{
	char path[128];
	int fd;

	if (!strcmp(o->name, "zero")) {
		o->s = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (o->s == MAP_FAILED)
			die("mmap shared anonymous");
		(void)snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)o->s,
			       (unsigned long)o->s + NPAGES * PAGE);
		return open(path, O_RDWR);
	}
	if (!strcmp(o->name, "memfd"))
		fd = memfd_create("privtarget", MFD_CLOEXEC);
	else {
		(void)snprintf(path, sizeof(path), "/dev/shm/privtarget-%d", (int)getpid());
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 && unlink(path) < 0)
			die("unlink");
	}
	if (fd >= 0 && ftruncate(fd, NPAGES * PAGE) < 0)
		die("ftruncate");
	return fd;
}

static void setup(struct obj *o)
{
	volatile char c;
	int fd = make_fd(o);

	if (fd < 0)
		die(o->name);
	if (!o->s)
		o->s = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (o->s == MAP_FAILED)
		die("mmap shared");
	for (int k = 0; k < NPAGES; k++)
		memset(o->s + k * PAGE, 'A' + k, PAGE);
	o->p = mmap(NULL, NPRIV * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PAGE);
	if (o->p == MAP_FAILED)
		die("mmap private");
	memset(o->p, 'p', PAGE);
	c = o->p[PAGE];
	(void)c;
	if (!strcmp(o->name, "zero"))
		close(fd);
	else
		o->fd = fd;
}

/* P's page @i reads @want throughout; else the reply names it. */
static bool page_is(const struct obj *o, int i, char want, char *why, size_t size)
{
	for (int b = 0; b < PAGE; b++) {
		if (o->p[i * PAGE + b] != want) {
			(void)snprintf(why, size, "bad %s: private page %d reads '%c' at %d, not '%c'", o->name,
				       i, o->p[i * PAGE + b], b, want);
			return false;
		}
	}
	return true;
}

static bool check(struct obj *o, char *why, size_t size)
{
	for (int i = 0; i < NPRIV; i++) {
		char want = (char)('A' + i + 1);

		if (i == 0)
			want = 'p';
		else if (i == 2 && touched)
			want = 'q';
		else if (i == 3 && touched)
			want = 'n';
		if (!page_is(o, i, want, why, size))
			return false;
	}
	if (o->s[PAGE] != 'B' || o->s[3 * PAGE] != 'D') {
		(void)snprintf(why, size, "bad %s: the shared mapping sees the private copies", o->name);
		return false;
	}
	/* the object's later writes: through the shared mapping, through the fd */
	memset(o->s + 5 * PAGE, 'w', PAGE);
	if (!page_is(o, 4, 'w', why, size))
		return false;
	if (o->fd >= 0) {
		char buf[PAGE];

		memset(buf, 'f', sizeof(buf));
		if (pwrite(o->fd, buf, sizeof(buf), 6 * PAGE) != (ssize_t)sizeof(buf)) {
			(void)snprintf(why, size, "bad %s: pwrite failed", o->name);
			return false;
		}
		if (!page_is(o, 5, 'f', why, size))
			return false;
	}
	return true;
}

int main(void)
{
	char line[256], why[160];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < 3; i++)
		setup(&objs[i]);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "touch")) {
			for (int i = 0; i < 3; i++) {
				memset(objs[i].p + 2 * PAGE, 'q', PAGE);
				memset(objs[i].s + 4 * PAGE, 'n', PAGE);
			}
			touched = true;
			printf("ok\n");
		} else if (!strcmp(line, "check")) {
			bool ok = true;

			for (int i = 0; i < 3 && ok; i++)
				ok = check(&objs[i], why, sizeof(why));
			printf("%s\n", ok ? "ok" : why);
		} else if (!strcmp(line, "exit")) {
			return 0;
		} else {
			printf("err unknown command\n");
		}
	}
	return 0;
}
