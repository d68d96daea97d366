/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "array.h"
#include "proc.h"
#include "util.h"

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool has_suffix(const char *s, const char *x)
{
	size_t ls = strlen(s), lx = strlen(x);

	return ls >= lx && !strcmp(s + ls - lx, x);
}

static enum vma_kind classify(const struct vma *v)
{
	const char *p = v->path;

	if (p && p[0] == '[') {
		if (!strcmp(p, "[vdso]"))
			return VK_VDSO;
		if (has_prefix(p, "[vvar"))
			return VK_VVAR;
		if (!strcmp(p, "[vsyscall]"))
			return VK_VSYSCALL;
		/* [heap], [stack], [anon:name], [anon_shmem:name] */
		if (v->shared)
			return VK_SHMEM;
		return VK_ANON;
	}
	if (!p)
		return v->shared ? VK_SHMEM : VK_ANON;
	/*
	 * MAP_SHARED|MAP_ANONYMOUS shows as "/dev/zero (deleted)", SysV shm as
	 * "/SYSV<key> (deleted)": shmem, whose contents exist nowhere but in
	 * memory, and which no fd can reach.
	 */
	if (v->shared && (has_prefix(p, "/dev/zero") || has_prefix(p, "/SYSV")))
		return VK_SHMEM;
	/*
	 * A mapping of a memfd, shared or private, is one of a deleted file:
	 * the final dump saves the memfd's contents once, as of any deleted
	 * file, and the restore maps one new memfd wherever the process
	 * mapped or held the old one, so that they still share its pages.
	 */
	return v->shared ? VK_FILE_SHARED : VK_FILE;
}

static int parse_line(const char *line, size_t len, struct vma *ret)
{
	struct vma v = { 0 };
	char perms[5];
	uint64_t start, end, pgoff, ino;
	unsigned int maj, min;
	int n = 0;

	/* sscanf stops at the line's end: the line is NUL-terminated by the caller */
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 "%n", &start,
		   &end, perms, &pgoff, &maj, &min, &ino, &n) != 7)
		return -EBADMSG;
	if (start >= end || (start & 0xfff) || (end & 0xfff) || strlen(perms) != 4)
		return -EBADMSG;
	v.start = start;
	v.end = end;
	v.pgoff = pgoff;
	v.dev_major = maj;
	v.dev_minor = min;
	v.ino = ino;
	v.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		 (perms[2] == 'x' ? PROT_EXEC : 0);
	if (perms[3] != 's' && perms[3] != 'p')
		return -EBADMSG;
	v.shared = perms[3] == 's';
	while ((size_t)n < len && line[n] == ' ')
		n++;
	if ((size_t)n < len) {
		v.path = strndup(line + n, len - (size_t)n);
		if (!v.path)
			return -ENOMEM;
	}
	v.kind = classify(&v);
	v.deleted = (v.kind == VK_FILE || v.kind == VK_FILE_SHARED) &&
		    has_suffix(v.path, " (deleted)");
	*ret = v;
	return 0;
}

int sd_proc_parse_maps(const char *buf, struct vma_list *ret_list)
{
	struct vma_list l = { 0 };
	const char *p = buf;
	char *line = NULL;
	int r = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		struct vma v;

		if (len == 0)
			goto next;
		free(line);
		line = strndup(p, len);
		if (!line) {
			r = -ENOMEM;
			break;
		}
		r = parse_line(line, len, &v);
		if (r < 0)
			break;
		if (l.n > 0 && v.start < l.v[l.n - 1].end) {
			free(v.path);
			r = -EBADMSG;
			break;
		}
		r = ARRAY_RESERVE(l.v, l.cap, l.n + 1, 64);
		if (r < 0) {
			free(v.path);
			break;
		}
		l.v[l.n++] = v;
next:
		p += len;
		if (*p == '\n')
			p++;
	}
	free(line);
	if (r < 0) {
		sd_vma_list_release(&l);
		return r;
	}
	*ret_list = l;
	return 0;
}

void sd_vma_list_release(struct vma_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].guards);
	}
	zfree(&l->v);
	l->n = l->cap = 0;
}

const struct vma *sd_vma_list_find(const struct vma_list *l, uint64_t addr)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < l->v[mid].start)
			hi = mid;
		else if (addr >= l->v[mid].end)
			lo = mid + 1;
		else
			return &l->v[mid];
	}
	return NULL;
}

void sd_vma_prot_str(uint32_t prot, bool shared, char out[5])
{
	out[0] = (prot & PROT_READ) ? 'r' : '-';
	out[1] = (prot & PROT_WRITE) ? 'w' : '-';
	out[2] = (prot & PROT_EXEC) ? 'x' : '-';
	out[3] = shared ? 's' : 'p';
	out[4] = '\0';
}

int sd_proc_stat_fields(const char *buf, uint64_t *f, int max)
{
	const char *p = strrchr(buf, ')');
	int i = 3;

	if (!p || p[1] != ' ' || !p[2])
		return -EBADMSG;
	p += 2;
	while (*p && *p != '\n' && i < max) {
		char *end;

		if (i == 3) {
			f[i] = (uint64_t)(unsigned char)*p;
			end = (char *)p + 1;
		} else if (*p == '-') {
			f[i] = (uint64_t)strtoll(p, &end, 10);
		} else {
			f[i] = strtoull(p, &end, 10);
		}
		if (end == p)
			return -EBADMSG;
		i++;
		p = end;
		while (*p == ' ')
			p++;
	}
	return i;
}

int sd_proc_parse_stat(const char *buf, char *ret_state, uint64_t *ret_start_time)
{
	uint64_t f[23];
	int n = sd_proc_stat_fields(buf, f, 23);

	if (n < 23)
		return -EBADMSG;
	*ret_state = (char)f[3];
	*ret_start_time = f[22];
	return 0;
}

void sd_proc_parse_comm(const char *buf, char out[16])
{
	size_t n = strcspn(buf, "\n");

	if (n > 15)
		n = 15;
	memcpy(out, buf, n);
	out[n] = '\0';
}

int sd_proc_parse_status_tgid(const char *buf, pid_t *ret_tgid)
{
	const char *p = strstr(buf, "\nTgid:");
	long v;
	char *end;

	if (!p)
		return -EBADMSG;
	v = strtol(p + 6, &end, 10);
	if (end == p + 6 || v <= 0)
		return -EBADMSG;
	*ret_tgid = (pid_t)v;
	return 0;
}

int sd_proc_parse_fdinfo(const char *buf, uint64_t *ret_pos, uint32_t *ret_flags)
{
	const char *p = strstr(buf, "pos:"), *f = strstr(buf, "flags:");

	if (!p || !f)
		return -EBADMSG;
	*ret_pos = strtoull(p + 4, NULL, 10);
	*ret_flags = (uint32_t)strtoul(f + 6, NULL, 8);
	return 0;
}

bool sd_proc_parse_anon_link(const char *link, char ret_name[PROC_ANON_NAME_MAX])
{
	const char *a;

	if (!has_prefix(link, "anon_inode:"))
		return false;
	a = link + strlen("anon_inode:");
	a += a[0] == '[';
	(void)snprintf(ret_name, PROC_ANON_NAME_MAX, "%.*s", (int)strcspn(a, "]"), a);
	return true;
}

int sd_proc_parse_boot_id(const char *buf, uint64_t *ret_hi, uint64_t *ret_lo)
{
	uint64_t v[2] = { 0, 0 };
	int digits = 0;

	for (const char *p = buf; *p && *p != '\n'; p++) {
		int d;

		if (*p == '-')
			continue;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			return -EBADMSG;
		if (digits >= 32)
			return -EBADMSG;
		v[digits / 16] = v[digits / 16] << 4 | (uint64_t)d;
		digits++;
	}
	if (digits != 32)
		return -EBADMSG;
	*ret_hi = v[0];
	*ret_lo = v[1];
	return 0;
}

int sd_proc_parse_status_ids(const char *buf, const char *key, uint32_t *out, size_t max,
			  size_t *ret_n)
{
	const char *p = strstr(buf, key);
	size_t n = 0;

	if (!p)
		return -EBADMSG;
	p += strlen(key);
	while (n < max) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p)
			break;
		out[n++] = (uint32_t)v;
		p = end;
	}
	if (ret_n)
		*ret_n = n;
	return 0;
}

int sd_proc_parse_status_umask(const char *buf, uint32_t *ret_umask)
{
	const char *p = strstr(buf, "\nUmask:");
	unsigned long v;
	char *end;

	if (!p)
		return -EBADMSG;
	v = strtoul(p + 7, &end, 8);
	if (end == p + 7)
		return -EBADMSG;
	*ret_umask = (uint32_t)v;
	return 0;
}

int sd_proc_parse_status_kb(const char *buf, const char *key, uint64_t *ret_kb)
{
	size_t klen = strlen(key);
	const char *p = buf;
	unsigned long long v;
	char *end;

	for (;;) {
		p = strstr(p, key);
		if (!p)
			return -EBADMSG;
		if ((p == buf || p[-1] == '\n') && p[klen] == ':')
			break;
		p += klen;
	}
	errno = 0;
	v = strtoull(p + klen + 1, &end, 10);
	if (errno || end == p + klen + 1 || strncmp(end, " kB", 3))
		return -EBADMSG;
	*ret_kb = v;
	return 0;
}

int sd_proc_parse_limit_soft(const char *buf, const char *name, uint64_t *ret_soft)
{
	const char *p = strstr(buf, name);
	unsigned long long v;
	char *end;

	if (!p)
		return -EBADMSG;
	p += strlen(name);
	while (*p == ' ')
		p++;
	if (!strncmp(p, "unlimited", 9)) {
		*ret_soft = UINT64_MAX;
		return 0;
	}
	v = strtoull(p, &end, 10);
	if (end == p)
		return -EBADMSG;
	*ret_soft = v;
	return 0;
}
