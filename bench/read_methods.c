/* SPDX-License-Identifier: MIT */
/*
 * Which way of copying a process's memory is faster: process_vm_readv or
 * pread on /proc/PID/mem, at a given chunk size. It maps and fills a
 * buffer in a child, then reads it from the parent both ways, alternating,
 * and prints MiB/s of each (best of a few rounds).
 *
 *   read_methods [MiB] [chunk KiB]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 1024;
	size_t chunk = (argc > 2 ? strtoul(argv[2], NULL, 0) : 1024) << 10;
	size_t len = mib << 20;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *buf = malloc(chunk), path[64];
	double best_v = 1e9, best_m = 1e9;
	int pipefd[2], fd;
	pid_t pid;

	if (mem == MAP_FAILED || !buf || pipe(pipefd) < 0)
		return 1;
	memset(mem, 0x5a, len);
	pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		(void)read(pipefd[0], buf, 1); /* until the parent is done */
		_exit(0);
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return perror("open"), 1;
	/* the child's pages are the parent's until written: both read the same frames */
	for (int round = 0; round < 5; round++) {
		double t = now();

		for (size_t off = 0; off < len; off += chunk) {
			struct iovec l = { buf, chunk }, r = { mem + off, chunk };

			if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)chunk)
				return perror("process_vm_readv"), 1;
		}
		t = now() - t;
		if (t < best_v)
			best_v = t;
		t = now();
		for (size_t off = 0; off < len; off += chunk)
			if (pread(fd, buf, chunk, (off_t)(uintptr_t)(mem + off)) != (ssize_t)chunk)
				return perror("pread"), 1;
		t = now() - t;
		if (t < best_m)
			best_m = t;
	}
	printf("%zu MiB in %zu KiB chunks: process_vm_readv %.0f MiB/s, /proc/PID/mem %.0f MiB/s (ratio %.2f)\n",
	       mib, chunk >> 10, mib / best_v, mib / best_m, best_m / best_v);
	/* scattered single pages, 512 of them per process_vm_readv */
	if (chunk == 4096) {
		struct iovec r[512], l;
		char *big = malloc(512 * 4096);
		double best_b = 1e9;

		for (int round = 0; round < 5; round++) {
			double t = now();

			for (size_t off = 0; off < len; off += 512 * 4096) {
				for (int i = 0; i < 512; i++)
					r[i] = (struct iovec){ mem + off + (size_t)i * 4096, 4096 };
				l = (struct iovec){ big, 512 * 4096 };
				if (process_vm_readv(pid, &l, 1, r, 512, 0) != 512 * 4096)
					return perror("process_vm_readv"), 1;
			}
			t = now() - t;
			if (t < best_b)
				best_b = t;
		}
		printf("%zu MiB as single pages, 512 per process_vm_readv: %.0f MiB/s\n", mib, mib / best_b);
	}
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
	return 0;
}
