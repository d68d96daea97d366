/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "array.h"
#include "fault.h"
#include "util.h"

/* write(2) with @off < 0, else pwrite(2) from @off on, until all of @buf is written. */
static int write_whole(int fd, const void *buf, size_t len, int64_t off)
{
	const char *p = buf;
	int r = sd_fault_check(FAULT_WRITE);

	if (r < 0)
		return r;
	while (len > 0) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

int sd_write_all(int fd, const void *buf, size_t len)
{
	return write_whole(fd, buf, len, -1);
}

int sd_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	return write_whole(fd, buf, len, (int64_t)off);
}

ssize_t sd_pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (done > 0)
				break;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int sd_read_file(int dirfd, const char *path, char **ret_buf, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	size_t cap = 0, len = 0;
	char *buf = NULL;

	if (!strncmp(path, "/proc/", 6) && fault_fails(FAULT_PROCREAD))
		return -errno;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		/* room for one more byte than the NUL, so that a read can say EOF */
		if (ARRAY_RESERVE(buf, cap, len + 2, 4096) < 0) {
			free(buf);
			return -ENOMEM;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			int r = -errno;

			if (r == -EINTR)
				continue;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

void sd_fmt_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		(void)snprintf(buf, size, "%" PRIu64 " B", bytes);
	else
		(void)snprintf(buf, size, "%.1f %s", v, units[u]);
}

void sd_fmt_duration(char *buf, size_t size, uint64_t us)
{
	if (us < 1000000)
		(void)snprintf(buf, size, "%.1f ms", us / 1e3);
	else
		(void)snprintf(buf, size, "%.2f s", us / 1e6);
}

bool sd_page_is_zero(const void *page, size_t page_size)
{
	const uint64_t *p = page;
	size_t n = page_size / sizeof(uint64_t);

	/* most pages that are not zero say so in their first words */
	if (p[0] | p[1] | p[n - 1])
		return false;
	for (size_t i = 0; i < n; i += 8) {
		if (p[i] | p[i + 1] | p[i + 2] | p[i + 3] | p[i + 4] | p[i + 5] | p[i + 6] |
		    p[i + 7])
			return false;
	}
	return true;
}

ssize_t sd_readlink_str(const char *path, char *buf, size_t size)
{
	ssize_t n;

	n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

const char *sd_root_advice(const char *what)
{
	if (geteuid() != 0)
		return strcmp(what, "restore") ? "run sdump as root" : "restore as root";
	return "sdump runs as root but lacks it here (a user namespace, or a bounding set without it): run it where root has every capability, on the host";
}
