/* SPDX-License-Identifier: MIT */
/*
 * Warms the machine's memory before a timed run: maps MiB (default 1024)
 * of anonymous memory, writes every page, and gives it back. On a VM whose
 * host takes free memory back (free page reporting, a balloon), the first
 * write to such memory costs a fault on the host per page: run right
 * before a command, this makes the command find memory the host backs, as
 * on a machine that does not reclaim. Prints "warm MIB MS".
 *
 *   warm [MiB]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 1024, len = mib << 20;
	struct timespec a, b;
	char *p;

	clock_gettime(CLOCK_MONOTONIC, &a);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mib == 0 || p == MAP_FAILED) {
		perror("warm: mmap");
		return 1;
	}
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	munmap(p, len);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("warm %zu %.0f\n", mib, (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
	return 0;
}
