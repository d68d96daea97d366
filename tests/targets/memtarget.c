/* SPDX-License-Identifier: MIT */
/*
 * A target that owns memory of every kind a pass must handle, and is driven
 * over stdin/stdout one line at a time:
 *
 *   regions                 -> "region NAME ADDR LEN" lines, then "end"
 *   save NAME PATH          -> writes the region's current contents to PATH; "ok"
 *   dirty NAME PERMILLE SEED -> rewrites that share of the region's pages; "ok N"
 *   mmap NAME PAGES         -> a new anonymous region, filled; "ok"
 *   munmap NAME             -> "ok"
 *   mremap NAME             -> moves the region elsewhere; "ok"
 *   grow NAME PAGES         -> the region grows by PAGES (in place if it can), filled; "ok"
 *   mprotect NAME r|rw      -> "ok"
 *   fork                    -> a copy of us that shares our pages copy-on-write but is
 *                              not our child (forked twice: we stay one process, not a
 *                              tree), and not our shared memory ("shmem" unmapped in
 *                              it); it ends when we do; "ok"
 *   closefrom N             -> closes every fd >= N (as daemons do); "ok"
 *   stall                   -> "ok US": the longest gap the ticker thread saw since the last "stall"
 *   sum                     -> "ok HEX": a checksum of every region's contents, names and places
 *   ticks                   -> "ok N": how many times the ticker thread woke up so far
 *   guard NAME PAGE         -> a guard page (MADV_GUARD_INSTALL) at that page of the
 *                              region: "ok", or "error ERRNO" where the kernel refuses
 *                              (after it, "sum" faults on the page: not for this region)
 *   catch                   -> a handler for SIGURG, SIGWINCH and SIGCHLD (signals
 *                              ignored by default, as a batch of injected calls wants
 *                              one of them free); "ok"
 *   exit                    -> exits 0
 *
 * The ticker thread (--ticker) timestamps every 100 us: a gap much longer
 * than that is time the process was frozen.
 *
 * It prints "ready PID" once everything is mapped and written. Options:
 *   --mib N      size of the big anonymous region (default 16)
 *   --threads N  extra threads, each with its own 1 MiB region (default 0)
 *   --dir DIR    where to create its data file (default $TMPDIR or /tmp)
 *   --fill mix|heap  what its pages hold (default mix; see fill_mix(), fill_heap())
 *   --tree N     a process tree of N members (the benchmark's tree): before its
 *                setup the root forks N-1 children, each a memtarget of its own
 *                (its own regions of the same sizes, filled with other seeds, no
 *                ticker) driven by the root over a pair of pipes; the root
 *                forwards "dirty" to every child and answers the sum of their
 *                counts and its own; "ready" comes once all are set up; at its
 *                exit the root closes their pipes (they exit) and reaps them
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define MAX_REGIONS 64

struct region {
	char name[32];
	uint8_t *addr;
	size_t len;
	uint8_t *shadow; /* a copy for regions the target itself cannot read */
};

static struct region regions[MAX_REGIONS];
static int nregions;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t quit_cond = PTHREAD_COND_INITIALIZER;
static int quitting;
static char datapath[4096];
static uint64_t member_seed; /* --tree: 0 in the root, other for each child: other pages */

static void die(const char *what)
{
	fprintf(stderr, "memtarget: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int fill_heap_like; /* --fill heap */

/*
 * --fill mix (the default): a quarter each of small integers, pointers, one
 * constant text and random words, each word drawn on its own. zstd -1 makes
 * it 54 % of its size: harder than any real heap measured (bench/README.md).
 */
static void fill_mix(uint8_t *p, uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull | 1;
	uint64_t *w = (uint64_t *)p;

	for (int i = 0; i < PAGE / 8; i++) {
		uint64_t r = rnd(&s);

		switch (r & 3) {
		case 0: w[i] = r >> 56; break;
		case 1: w[i] = 0x00007f0000000000ull | ((r >> 20) & 0xffffff8); break;
		case 2: memcpy(&w[i], "sdumpdat", 8); break;
		default: w[i] = r; break;
		}
	}
}

/*
 * --fill heap: objects back to back, as a heap holds them, with the word
 * statistics of real heaps (the median of six programs' heaps measured in
 * bench/README.md: about 11 % zero words, 19 % small integers, 16 % text,
 * 33 % pointers, 4 % other 32-bit values, 17 % high-entropy words). Each
 * object is one of the layouts below, a letter per word: C its type (a
 * constant per layout), S a small integer, P a pointer into the 2 MiB
 * around the page (18 random bits), T a word of text from 32, I a random
 * 32-bit value, D a random double, R a random 64-bit word (hashes), Z zero.
 */
static const char *const layouts[] = {
	"RPRP",	    /* hash table entry: hash, key, hash, value */
	"CSPSDPRZ", /* an object: type, refcount, fields */
	"CSTTT",    /* a short string */
	"CSPPZ",    /* a list */
	"SZ",	    /* a malloc chunk header */
	"CSIT",	    /* a record */
	"RTZ",
};

static const char text_words[32][8] = {
	"alpha\0\0\0", "bravo\0\0\0", "charlie\0", "delta\0\0\0", "echo\0\0\0\0", "foxtrot\0",
	"golf\0\0\0\0", "hotel\0\0\0", "india\0\0\0", "juliet\0\0", "kilo\0\0\0\0", "lima\0\0\0\0",
	"mike\0\0\0\0", "november", "oscar\0\0\0", "papa\0\0\0\0", "quebec\0\0", "romeo\0\0\0",
	"sierra\0\0", "tango\0\0\0", "uniform\0", "victor\0\0", "whiskey\0", "xray\0\0\0\0",
	"yankee\0\0", "zulu\0\0\0\0", "/usr/lib", "/tmp/sd/", "https://", "example.",
	"@mail.co", "<div cla",
};

static void fill_heap(uint8_t *p, uint64_t seed)
{
	const size_t nl = sizeof(layouts) / sizeof(layouts[0]);
	uint64_t s = seed * 0x9e3779b97f4a7c15ull | 1;
	uint64_t base = 0x00007f3a00000000ull + ((seed * PAGE) & 0xfffff000ull);
	uint64_t *w = (uint64_t *)p;
	int i = 0;

	while (i < PAGE / 8) {
		size_t k = rnd(&s) % nl;

		for (const char *l = layouts[k]; *l && i < PAGE / 8; l++, i++) {
			uint64_t v = rnd(&s);
			double d;

			switch (*l) {
			case 'C': w[i] = 0x000055d4a8c01000ull + k * 0x140; break;
			case 'S': w[i] = v >> 57; break;
			case 'P': w[i] = base + ((v >> 40) & 0x1ffff8) - 0x100000; break;
			case 'T': memcpy(&w[i], text_words[v & 31], 8); break;
			case 'I': w[i] = v >> 32; break;
			case 'D':
				d = (double)(v >> 11) / (double)(1ull << 53) * 100;
				memcpy(&w[i], &d, 8);
				break;
			case 'R': w[i] = v; break;
			default: w[i] = 0; break;
			}
		}
	}
}

static void fill_page(uint8_t *p, uint64_t seed)
{
	seed ^= member_seed;
	if (fill_heap_like)
		fill_heap(p, seed);
	else
		fill_mix(p, seed);
}

static struct region *add_region(const char *name, void *addr, size_t len)
{
	struct region *r = &regions[nregions++];

	snprintf(r->name, sizeof(r->name), "%.31s", name);
	r->addr = addr;
	r->len = len;
	return r;
}

static void *map_anon(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	/* count pages one by one, as the tests do: no transparent huge pages */
	(void)madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static void *thread_main(void *arg)
{
	long idx = (long)arg;
	char name[32];
	uint8_t *p = map_anon(1 << 20, MAP_PRIVATE);

	for (size_t i = 0; i < (1 << 20) / PAGE; i++)
		fill_page(p + i * PAGE, 1000000 + (uint64_t)idx * 1000 + i);
	snprintf(name, sizeof(name), "thread%ld", idx);
	pthread_mutex_lock(&lock);
	add_region(name, p, 1 << 20);
	pthread_cond_broadcast(&quit_cond);
	while (!quitting)
		pthread_cond_wait(&quit_cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static struct region *find(const char *name)
{
	for (int i = 0; i < nregions; i++)
		if (!strcmp(regions[i].name, name))
			return &regions[i];
	return NULL;
}

static void setup(size_t mib, const char *dir)
{
	char *path = datapath;
	uint8_t *p;
	int fd;

	p = map_anon(mib << 20, MAP_PRIVATE);
	for (size_t i = 0; i < (mib << 20) / PAGE; i++)
		fill_page(p + i * PAGE, i);
	add_region("anon", p, mib << 20);

	p = map_anon(64 * PAGE, MAP_PRIVATE);
	for (size_t i = 0; i < 64; i += 3)
		fill_page(p + i * PAGE, 5000 + i);
	add_region("sparse", p, 64 * PAGE);

	p = map_anon(16 * PAGE, MAP_PRIVATE);
	for (size_t i = 0; i < 16; i++)
		p[i * PAGE] = 0; /* present, all zeros */
	add_region("zeroed", p, 16 * PAGE);

	p = map_anon(16 * PAGE, MAP_PRIVATE);
	for (size_t i = 0; i < 16; i++)
		fill_page(p + i * PAGE, 6000 + i);
	if (mprotect(p, 16 * PAGE, PROT_READ) < 0)
		die("mprotect");
	add_region("ro", p, 16 * PAGE);

	p = map_anon(16 * PAGE, MAP_PRIVATE);
	for (size_t i = 0; i < 16; i++)
		fill_page(p + i * PAGE, 7000 + i);
	{
		struct region *r = add_region("none", p, 16 * PAGE);

		r->shadow = malloc(16 * PAGE);
		memcpy(r->shadow, p, 16 * PAGE);
	}
	if (mprotect(p, 16 * PAGE, PROT_NONE) < 0)
		die("mprotect");

	/* a data file: 32 pages, mapped private (8 pages copied on write) and shared */
	snprintf(path, sizeof(datapath), "%s/memtarget-%d.dat", dir, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open data file");
	p = malloc(32 * PAGE);
	for (size_t i = 0; i < 32; i++)
		fill_page(p + i * PAGE, 8000 + i);
	if (write(fd, p, 32 * PAGE) != 32 * PAGE)
		die("write data file");
	free(p);
	p = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap file");
	for (size_t i = 0; i < 8; i++)
		fill_page(p + i * PAGE, 9000 + i);
	for (size_t i = 8; i < 20; i++)
		(void)*(volatile uint8_t *)(p + i * PAGE); /* present, still the file's pages */
	add_region("filepriv", p, 32 * PAGE);
	p = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap file shared");
	fill_page(p + 31 * PAGE, 9500);
	add_region("fileshared", p, 32 * PAGE);
	close(fd);
	/* the file stays, deleted only at exit: a (deleted) path is another case */

	p = map_anon(16 * PAGE, MAP_SHARED);
	for (size_t i = 0; i < 16; i += 2)
		fill_page(p + i * PAGE, 10000 + i);
	add_region("shmem", p, 16 * PAGE);

	p = malloc(1 << 20);
	for (size_t i = 0; i < (1 << 20) / PAGE; i++)
		fill_page(p + i * PAGE, 11000 + i);
	add_region("heap", p, 1 << 20);
}

static volatile long max_gap_us;
static volatile long ticks;

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void *ticker_main(void *arg)
{
	struct timespec d = { 0, 100000 };
	long last = now_us();

	(void)arg;
	for (;;) {
		long t;

		nanosleep(&d, NULL);
		t = now_us();
		ticks++;
		if (t - last > max_gap_us)
			max_gap_us = t - last;
		last = t;
	}
	return NULL;
}

static int do_mmap(const char *name, size_t pages)
{
	uint8_t *p;
	struct region *r;

	if (find(name) || nregions >= MAX_REGIONS)
		return -1;
	p = map_anon(pages * PAGE, MAP_PRIVATE);
	for (size_t i = 0; i < pages; i++)
		fill_page(p + i * PAGE, 20000 + (uint64_t)nregions * 1000 + i);
	pthread_mutex_lock(&lock);
	r = add_region(name, p, pages * PAGE);
	(void)r;
	pthread_mutex_unlock(&lock);
	return 0;
}

static int do_munmap(const char *name)
{
	struct region *r = find(name);

	if (!r || munmap(r->addr, r->len) < 0)
		return -1;
	pthread_mutex_lock(&lock);
	*r = regions[--nregions];
	pthread_mutex_unlock(&lock);
	return 0;
}

static int do_mremap(const char *name)
{
	struct region *r = find(name);
	void *to, *p;

	if (!r)
		return -1;
	/* a fresh spot, then move there (the old range is unmapped by the move) */
	to = mmap(NULL, r->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED)
		return -1;
	p = mremap(r->addr, r->len, r->len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (p == MAP_FAILED)
		return -1;
	r->addr = p;
	return 0;
}

static int do_grow(const char *name, size_t pages)
{
	struct region *r = find(name);
	uint8_t *p;

	if (!r)
		return -1;
	p = mremap(r->addr, r->len, r->len + pages * PAGE, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return -1;
	for (size_t i = 0; i < pages; i++)
		fill_page(p + r->len + i * PAGE, 30000 + i);
	r->addr = p;
	r->len += pages * PAGE;
	return 0;
}

static int save(const char *name, const char *path)
{
	struct region *r = find(name);
	int fd;

	if (!r)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, r->shadow ? r->shadow : r->addr, r->len) != (ssize_t)r->len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* FNV-1a over every region: its name, address, length and bytes. */
static uint64_t sum_regions(void)
{
	uint64_t h = 0xcbf29ce484222325ull;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < nregions; i++) {
		const struct region *r = &regions[i];
		const uint8_t *p = r->shadow ? r->shadow : r->addr;
		uint64_t hdr[2] = { (uint64_t)(uintptr_t)r->addr, r->len };

		for (const char *c = r->name; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		for (size_t k = 0; k < sizeof(hdr); k++)
			h = (h ^ ((const uint8_t *)hdr)[k]) * 0x100000001b3ull;
		/* 8 bytes a step: fast enough for a few hundred MiB */
		for (size_t k = 0; k + 8 <= r->len; k += 8) {
			uint64_t w;

			memcpy(&w, p + k, 8);
			h = (h ^ w) * 0x100000001b3ull;
		}
	}
	pthread_mutex_unlock(&lock);
	return h;
}

static long dirty(const char *name, long permille, uint64_t seed)
{
	struct region *r = find(name);
	size_t pages;
	long n = 0;
	uint64_t s = seed | 1;

	if (!r || r->shadow)
		return -1;
	pages = r->len / PAGE;
	for (size_t i = 0; i < pages; i++) {
		if ((long)(rnd(&s) % 1000) < permille) {
			fill_page(r->addr + i * PAGE, rnd(&s));
			n++;
		}
	}
	return n;
}

/*
 * A process that shares our pages copy-on-write, as a child would, and is
 * not one: forked twice, the middle one gone, so that we stay a process of
 * our own (trees are the t08x tests' targets). It waits on a pidfd of us
 * and ends when we do.
 */
/* --tree: the root's pipes to its children, and the seed offset of this member's fill */
static struct child {
	pid_t pid;
	FILE *cmd, *reply;
} kids[64];
static int nkids;

/*
 * The root forks n-1 children before its own setup; each child gets the
 * command pipe as stdin and its reply pipe as stdout and goes on as a
 * memtarget of its own. Returns in the root and in every child.
 */
static void make_tree(int n)
{
	for (int k = 1; k < n && k <= 64; k++) {
		int c[2], r[2];
		pid_t pid;

		if (pipe2(c, O_CLOEXEC) < 0 || pipe2(r, O_CLOEXEC) < 0)
			die("pipe");
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			for (int j = 0; j < nkids; j++) {
				fclose(kids[j].cmd);
				fclose(kids[j].reply);
			}
			nkids = 0;
			if (dup2(c[0], 0) < 0 || dup2(r[1], 1) < 0)
				die("dup2");
			close(c[0]), close(c[1]), close(r[0]), close(r[1]);
			member_seed = (uint64_t)k << 32;
			return;
		}
		close(c[0]), close(r[1]);
		kids[nkids].pid = pid;
		kids[nkids].cmd = fdopen(c[1], "w");
		kids[nkids].reply = fdopen(r[0], "r");
		if (!kids[nkids].cmd || !kids[nkids].reply)
			die("fdopen");
		setvbuf(kids[nkids].cmd, NULL, _IOLBF, 0);
		nkids++;
	}
}

/* A line to every child, and the number each answers ("ok N", "ready PID") summed; -1 if one does not. */
static long tree_ask(const char *line)
{
	long sum = 0;

	for (int j = 0; j < nkids; j++)
		if (line)
			fprintf(kids[j].cmd, "%s\n", line);
	for (int j = 0; j < nkids; j++) {
		char buf[256], word[32];
		long v;

		if (!fgets(buf, sizeof(buf), kids[j].reply) || sscanf(buf, "%31s %ld", word, &v) != 2 ||
		    (strcmp(word, "ok") && strcmp(word, "ready")))
			return -1;
		sum += v;
	}
	return sum;
}

static void end_tree(void)
{
	for (int j = 0; j < nkids; j++) {
		fclose(kids[j].cmd);
		fclose(kids[j].reply);
		while (waitpid(kids[j].pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
}

static int do_fork(void)
{
	pid_t me = getpid(), c = fork();
	int status;

	if (c < 0)
		return -1;
	if (c == 0) {
		if (fork() == 0) {
			int pfd = (int)syscall(SYS_pidfd_open, me, 0);
			struct region *shm = find("shmem");

			/* our shared memory is ours alone: a copy that shares it is refused */
			if (shm)
				(void)munmap(shm->addr, shm->len);
			struct pollfd pf = { .fd = pfd, .events = POLLIN };

			while (pfd >= 0 && poll(&pf, 1, -1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		_exit(0);
	}
	while (waitpid(c, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* A handler for each signal a batch of injected calls may end on. */
static int catch_ignored(void)
{
	static const int sigs[] = { SIGURG, SIGWINCH, SIGCHLD };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	size_t mib = 16;
	long nthreads = 0;
	int ticker = 0, tree = 1;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	pthread_t th[64];
	char line[4096];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			nthreads = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--tree") && i + 1 < argc)
			tree = (int)strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ticker"))
			ticker = 1;
		else if (!strcmp(argv[i], "--fill") && i + 1 < argc && !strcmp(argv[i + 1], "heap"))
			fill_heap_like = 1, i++;
		else if (!strcmp(argv[i], "--fill") && i + 1 < argc && !strcmp(argv[i + 1], "mix"))
			fill_heap_like = 0, i++;
		else {
			fprintf(stderr, "memtarget: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (nthreads > 64)
		nthreads = 64;
	setvbuf(stdout, NULL, _IOLBF, 0);
	make_tree(tree);
	if (member_seed)
		ticker = 0;
	setup(mib, dir);
	for (long i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, thread_main, (void *)i);
	pthread_mutex_lock(&lock);
	while (nregions < 9 + nthreads)
		pthread_cond_wait(&quit_cond, &lock);
	pthread_mutex_unlock(&lock);
	if (ticker) {
		pthread_t t;

		pthread_create(&t, NULL, ticker_main, NULL);
		pthread_detach(t);
	}
	if (tree_ask(NULL) < 0)
		die("a child of the tree did not start");
	printf("ready %d\n", getpid());

	while (fgets(line, sizeof(line), stdin)) {
		char a[4096], b[4096];
		long pm;
		unsigned long long seed;

		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "regions")) {
			pthread_mutex_lock(&lock);
			for (int i = 0; i < nregions; i++)
				printf("region %s 0x%lx %zu\n", regions[i].name,
				       (unsigned long)regions[i].addr, regions[i].len);
			pthread_mutex_unlock(&lock);
			printf("end\n");
		} else if (sscanf(line, "save %31s %4095s", a, b) == 2) {
			printf(save(a, b) == 0 ? "ok\n" : "error\n");
		} else if (sscanf(line, "dirty %31s %ld %llu", a, &pm, &seed) == 3) {
			long n = dirty(a, pm, seed), k = nkids ? tree_ask(line) : 0;

			printf("ok %ld\n", n < 0 || k < 0 ? -1 : n + k);
		} else if (sscanf(line, "mmap %31s %ld", a, &pm) == 2) {
			printf(do_mmap(a, (size_t)pm) == 0 ? "ok\n" : "error\n");
		} else if (sscanf(line, "munmap %31s", a) == 1) {
			printf(do_munmap(a) == 0 ? "ok\n" : "error\n");
		} else if (sscanf(line, "grow %31s %ld", a, &pm) == 2) {
			printf(do_grow(a, (size_t)pm) == 0 ? "ok\n" : "error\n");
		} else if (sscanf(line, "mremap %31s", a) == 1) {
			printf(do_mremap(a) == 0 ? "ok\n" : "error\n");
		} else if (sscanf(line, "mprotect %31s %4095s", a, b) == 2) {
			struct region *r = find(a);

			printf(r && mprotect(r->addr, r->len, strcmp(b, "rw") ? PROT_READ : PROT_READ | PROT_WRITE) == 0 ? "ok\n" : "error\n");
		} else if (!strcmp(line, "fork")) {
			printf(do_fork() == 0 ? "ok\n" : "error\n");
		} else if (sscanf(line, "closefrom %ld", &pm) == 1) {
			for (long fd = pm; fd < 65536; fd++)
				close((int)fd);
			printf("ok\n");
		} else if (!strcmp(line, "stall")) {
			printf("ok %ld\n", max_gap_us);
			max_gap_us = 0;
		} else if (!strcmp(line, "sum")) {
			printf("ok %016llx\n", (unsigned long long)sum_regions());
		} else if (!strcmp(line, "ticks")) {
			printf("ok %ld\n", ticks);
		} else if (sscanf(line, "guard %31s %ld", a, &pm) == 2) {
			struct region *r = find(a);

			if (!r || pm < 0 || (size_t)pm >= r->len / PAGE)
				printf("error no such page\n");
			else if (madvise(r->addr + (size_t)pm * PAGE, PAGE, 102 /* MADV_GUARD_INSTALL */) < 0)
				printf("error %d\n", errno);
			else
				printf("ok\n");
		} else if (!strcmp(line, "catch")) {
			printf(catch_ignored() == 0 ? "ok\n" : "error\n");
		} else if (!strcmp(line, "exit")) {
			break;
		} else {
			printf("error unknown command\n");
		}
	}
	pthread_mutex_lock(&lock);
	quitting = 1;
	pthread_cond_broadcast(&quit_cond);
	pthread_mutex_unlock(&lock);
	for (long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	end_tree();
	unlink(datapath);
	return 0;
}
