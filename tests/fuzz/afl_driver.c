/* SPDX-License-Identifier: MIT */
/*
 * AFL++ entry point for the libFuzzer-style harness fuzz_image.c: built with
 * afl-clang-fast, it reads each input from AFL's shared-memory test case
 * (persistent mode, many inputs per process), or from the files named on
 * the command line (replaying a corpus or a crash).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

static int run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return 1;
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	(void)close(fd);
	if (n != st.st_size) {
		(void)fprintf(stderr, "%s: short read\n", path);
		free(buf);
		return 1;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		int r = 0;

		LLVMFuzzerInitialize(&argc, &argv);
		for (int i = 1; i < argc; i++)
			r |= run_file(argv[i]);
		return r;
	}
#ifdef __AFL_FUZZ_TESTCASE_LEN
	{
		const uint8_t *buf;

		/*
		 * Each process of the fork server makes its own base image (and
		 * removes it at exit): made before the fork, the first child to
		 * end would remove it under the next ones
		 */
		__AFL_INIT();
		LLVMFuzzerInitialize(&argc, &argv);
		buf = __AFL_FUZZ_TESTCASE_BUF;
		while (__AFL_LOOP(10000))
			LLVMFuzzerTestOneInput(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
	}
	return 0;
#else
	(void)fprintf(stderr, "usage: %s <input>...   (built without AFL++: no fuzzing mode)\n", argv[0]);
	return 2;
#endif
}
