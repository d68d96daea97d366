/* SPDX-License-Identifier: MIT */
/*
 * A target that attaches System V shared memory segments, driven over
 * stdin/stdout one line at a time:
 *
 *   facts  -> "ok KEYED PRIV GONE": the three segments' ids
 *   check  -> each segment's contents, key, mode, size and attach count
 *             (shmctl IPC_STAT) as set up, and, with --child, the word the
 *             child last wrote into "keyed" seen here: "ok" or "bad: ..."
 *   poke N -> the child writes N into "keyed" (--child); "ok" once this
 *             process sees it
 *   exit   -> exits 0
 *
 * The segments: "keyed" (key from --key, mode 0640, 10000 bytes: not a
 * page multiple, attached read-write, a pattern in it), "priv"
 * (IPC_PRIVATE, 0600, attached read-only, another pattern), "gone" (key
 * IPC_PRIVATE, attached, then removed with IPC_RMID: SHM_DEST). With
 * --child a child (forked after the attaches: every segment attached
 * twice) writes what the parent asks into "keyed", over a pipe.
 * It prints "ready PID" once everything is attached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEYED_SIZE 10000
#define PAGE 4096

static int keyed, priv, gone;
static unsigned char *pk, *pp, *pg;
static int child_in = -1;
static unsigned int nattch = 1;

static void die(const char *what)
{
	fprintf(stderr, "sysvtarget: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + seed);
}

static const char *check_seg(int id, const unsigned char *p, size_t len, unsigned int seed, key_t key,
			     unsigned int mode, unsigned long attached)
{
	static char why[160];
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) < 0) {
		snprintf(why, sizeof(why), "shmctl(%d): %s", id, strerror(errno));
		return why;
	}
	if (ds.shm_perm.__key != key || (ds.shm_perm.mode & 01777) != mode || ds.shm_segsz != len ||
	    ds.shm_nattch != attached) {
		snprintf(why, sizeof(why), "segment %d: key 0x%x mode %o size %zu nattch %lu", id,
			 (unsigned int)ds.shm_perm.__key, ds.shm_perm.mode & 01777, (size_t)ds.shm_segsz,
			 (unsigned long)ds.shm_nattch);
		return why;
	}
	for (size_t i = 0; i < len; i++)
		if (p[i] != (unsigned char)(i * 7 + seed) && !(p == pk && i < 4)) {
			snprintf(why, sizeof(why), "segment %d: byte %zu differs", id, i);
			return why;
		}
	return NULL;
}

int main(int argc, char **argv)
{
	key_t key = 0x5d0c0001;
	char line[128];
	int kid = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = (key_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--child"))
			kid = 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	keyed = shmget(key, KEYED_SIZE, IPC_CREAT | IPC_EXCL | 0640);
	priv = shmget(IPC_PRIVATE, 3 * PAGE, IPC_CREAT | 0600);
	gone = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
	if (keyed < 0 || priv < 0 || gone < 0)
		die("shmget");
	pk = shmat(keyed, NULL, 0);
	pp = shmat(priv, NULL, 0);
	pg = shmat(gone, NULL, 0);
	if (pk == (void *)-1 || pp == (void *)-1 || pg == (void *)-1)
		die("shmat");
	fill(pk, KEYED_SIZE, 1);
	fill(pp, 3 * PAGE, 2);
	fill(pg, PAGE, 3);
	/* "priv" read-only from here: attached again so */
	if (shmdt(pp) < 0 || (pp = shmat(priv, NULL, SHM_RDONLY)) == (void *)-1)
		die("shmat read-only");
	if (shmctl(gone, IPC_RMID, NULL) < 0)
		die("IPC_RMID");
	if (kid) {
		int p[2];
		pid_t c;

		if (pipe(p) < 0 || (c = fork()) < 0)
			die("fork");
		if (c == 0) {
			unsigned int v;
			FILE *in;

			close(p[1]);
			in = fdopen(p[0], "r");
			while (in && fscanf(in, "%u", &v) == 1)
				memcpy(pk, &v, sizeof(v));
			_exit(0);
		}
		close(p[0]);
		child_in = p[1];
		nattch = 2;
	}
	printf("ready %d\n", getpid());
	while (fgets(line, sizeof(line), stdin)) {
		unsigned int v;

		if (!strcmp(line, "facts\n")) {
			printf("ok %d %d %d\n", keyed, priv, gone);
		} else if (!strcmp(line, "check\n")) {
			const char *why = check_seg(keyed, pk, KEYED_SIZE, 1, key, 0640, nattch);

			if (!why)
				why = check_seg(priv, pp, 3 * PAGE, 2, IPC_PRIVATE, 0600, nattch);
			if (!why)
				why = check_seg(gone, pg, PAGE, 3, IPC_PRIVATE, 01600, nattch);
			printf(why ? "bad: %s\n" : "ok\n", why);
		} else if (sscanf(line, "poke %u", &v) == 1 && child_in >= 0) {
			char b[16];
			int n = snprintf(b, sizeof(b), "%u\n", v);

			if (write(child_in, b, (size_t)n) != n)
				die("poke");
			for (int i = 0; i < 5000 && memcmp(pk, &v, sizeof(v)); i++)
				usleep(1000);
			printf(memcmp(pk, &v, sizeof(v)) ? "bad: the child's write not seen\n" : "ok\n");
		} else if (!strcmp(line, "exit\n")) {
			if (child_in >= 0) {
				close(child_in);
				(void)wait(NULL);
			}
			shmdt(pk);
			shmctl(keyed, IPC_RMID, NULL);
			shmctl(priv, IPC_RMID, NULL);
			return 0;
		} else {
			printf("bad command\n");
		}
	}
	return 0;
}
