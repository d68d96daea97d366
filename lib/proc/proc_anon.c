/* SPDX-License-Identifier: MIT */
/*
 * The fdinfo of anonymous-inode fds, parsed: pure, fed a buffer. The
 * formats are those of the kernel's show_fdinfo of each kind
 * (fs/eventfd.c, ...), as 6.18 prints them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pstate_anon.h"

void sd_fd_anon_release(struct fd_anon_state *a)
{
	free(a->watches);
	a->watches = NULL;
	a->nwatches = 0;
	for (size_t i = 0; i < a->ninotify; i++)
		free(a->inotify[i].path);
	free(a->inotify);
	a->inotify = NULL;
	a->ninotify = 0;
	for (size_t i = 0; i < a->nfanotify; i++)
		free(a->fanotify[i].obj.path);
	free(a->fanotify);
	a->fanotify = NULL;
	a->nfanotify = 0;
}

/* The text after "\n@key" (or @key at the very start) in @info, NULL if none. */
static const char *field(const char *info, const char *key)
{
	size_t n = strlen(key);
	const char *p;

	if (!strncmp(info, key, n))
		return info + n;
	for (p = info; (p = strchr(p, '\n')); p++)
		if (!strncmp(p + 1, key, n))
			return p + 1 + n;
	return NULL;
}

/* An unsigned number in @base at @s, spaces before it skipped; -EBADMSG if none. */
static int number(const char *s, int base, uint64_t *ret)
{
	char *end;

	if (!s)
		return -EBADMSG;
	s += strspn(s, " \t");
	if (!*s || strchr("-+", *s))
		return -EBADMSG;
	errno = 0;
	*ret = strtoull(s, &end, base);
	if (end == s || errno || (*end && !strchr(" \t\n),", *end)))
		return -EBADMSG;
	return 0;
}

int sd_proc_parse_eventfd(const char *info, struct fd_anon_state *ret)
{
	const char *s = field(info, "eventfd-semaphore:");
	uint64_t count, sem;

	if (number(field(info, "eventfd-count:"), 16, &count) < 0 || count > EVENTFD_COUNT_MAX)
		return -EBADMSG;
	if (!s)
		return -ENODATA;
	if (number(s, 10, &sem) < 0 || sem > 1)
		return -EBADMSG;
	ret->efd_count = count;
	ret->efd_semaphore = sem;
	return 0;
}

int sd_proc_parse_signalfd(const char *info, struct fd_anon_state *ret)
{
	return number(field(info, "sigmask:"), 16, &ret->sigmask);
}

/* "(SEC, NSEC)" at @s, as nanoseconds; -EBADMSG if malformed or beyond 2^64 ns. */
static int timespec_ns(const char *s, uint64_t *ret)
{
	uint64_t sec, nsec;

	if (!s)
		return -EBADMSG;
	s += strspn(s, " \t");
	if (*s++ != '(' || number(s, 10, &sec) < 0)
		return -EBADMSG;
	s = strchr(s, ',');
	if (!s || number(s + 1, 10, &nsec) < 0 || nsec >= 1000000000u ||
	    sec > (UINT64_MAX - nsec) / 1000000000u)
		return -EBADMSG;
	*ret = sec * 1000000000u + nsec;
	return 0;
}

int sd_proc_parse_timerfd(const char *info, struct timerfd_state *ret)
{
	uint64_t clockid, flags;
	struct timerfd_state t;

	if (number(field(info, "clockid:"), 10, &clockid) < 0 || clockid > 15 ||
	    number(field(info, "ticks:"), 10, &t.ticks) < 0 ||
	    number(field(info, "settime flags:"), 8, &flags) < 0 || flags > UINT32_MAX ||
	    timespec_ns(field(info, "it_value:"), &t.value_ns) < 0 ||
	    timespec_ns(field(info, "it_interval:"), &t.interval_ns) < 0)
		return -EBADMSG;
	t.clockid = (int)clockid;
	t.settime_flags = (uint32_t)flags;
	*ret = t;
	return 0;
}

/* The number after @key within the line @line (up to its newline), in @base. */
static int line_number(const char *line, const char *key, int base, uint64_t *ret)
{
	size_t len = strcspn(line, "\n");
	const char *k = strstr(line, key);

	if (!k || k + strlen(key) > line + len)
		return -EBADMSG;
	return number(k + strlen(key), base, ret);
}

/*
 * "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x"
 * (fs/eventpoll.c ep_show_fdinfo), one line per watch.
 */
int sd_proc_parse_epoll(const char *info, struct epoll_watch **ret, size_t *ret_n)
{
	struct epoll_watch *w = NULL;
	size_t n = 0, cap = 0;
	const char *l;

	for (l = field(info, "tfd:"); l; l = field(l, "tfd:")) {
		uint64_t tfd, events, data;

		if (number(l, 10, &tfd) < 0 || tfd > INT32_MAX ||
		    line_number(l, " events:", 16, &events) < 0 || events > UINT32_MAX ||
		    line_number(l, " data:", 16, &data) < 0) {
			free(w);
			return -EBADMSG;
		}
		if (n == cap) {
			struct epoll_watch *nw = realloc(w, (cap = cap ? 2 * cap : 8) * sizeof(*w));

			if (!nw) {
				free(w);
				return -ENOMEM;
			}
			w = nw;
		}
		w[n++] = (struct epoll_watch){ .tfd = (int)tfd, .events = (uint32_t)events, .data = data,
					       .fd = (int)tfd };
	}
	*ret = w;
	*ret_n = n;
	return 0;
}

static int cmp_wd(const void *a, const void *b)
{
	const struct inotify_watch *x = a, *y = b;

	return x->wd < y->wd ? -1 : x->wd > y->wd;
}

/* @n bytes of hex at @s (up to the end of its line) into @out. */
static int hex_bytes(const char *s, uint32_t n, uint8_t *out)
{
	for (uint32_t i = 0; i < n; i++) {
		unsigned int v = 0;

		for (int k = 0; k < 2; k++, s++) {
			if (*s >= '0' && *s <= '9')
				v = v * 16 + (unsigned int)(*s - '0');
			else if (*s >= 'a' && *s <= 'f')
				v = v * 16 + (unsigned int)(*s - 'a' + 10);
			else
				return -EBADMSG;
		}
		out[i] = (uint8_t)v;
	}
	return *s && !strchr(" \t\n", *s) ? -EBADMSG : 0;
}

/*
 * The inode of a mark line, "ino:%lx sdev:%x ... fhandle-bytes:%x
 * fhandle-type:%x f_handle:%s" (fs/notify/fdinfo.c), all in hex; sdev is
 * the kernel's dev_t (major << 20 | minor).
 */
static int inode_part(const char *l, struct inotify_watch *w)
{
	uint64_t ino, sdev, bytes, type;
	const char *h = strstr(l, " f_handle:");

	if (line_number(l, "ino:", 16, &ino) < 0 || line_number(l, " sdev:", 16, &sdev) < 0 ||
	    sdev > UINT32_MAX || line_number(l, " fhandle-bytes:", 16, &bytes) < 0 ||
	    bytes > INOTIFY_HANDLE_MAX || line_number(l, " fhandle-type:", 16, &type) < 0 ||
	    type > INT32_MAX || !h || h > l + strcspn(l, "\n"))
		return -EBADMSG;
	w->ino = ino;
	w->dev = (sdev >> 20) << 32 | (sdev & 0xfffff);
	w->handle_type = (int)type;
	w->handle_bytes = (uint32_t)bytes;
	return hex_bytes(h + strlen(" f_handle:"), w->handle_bytes, w->handle);
}

/* "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x" and the handle. */
static int inotify_line(const char *l, struct inotify_watch *w)
{
	const char *ino = strstr(l, " ino:");
	uint64_t wd, mask, ign;

	if (!ino || ino > l + strcspn(l, "\n") || line_number(l, "wd:", 16, &wd) < 0 || wd < 1 || wd > INT32_MAX ||
	    line_number(l, " mask:", 16, &mask) < 0 || mask > UINT32_MAX ||
	    line_number(l, " ignored_mask:", 16, &ign) < 0)
		return -EBADMSG;
	*w = (struct inotify_watch){ .wd = (int)wd, .mask = (uint32_t)mask };
	/* inotify has no ignored mask: a line with one is no inotify's */
	if (ign)
		return -EBADMSG;
	return inode_part(ino + 1, w);
}

int sd_proc_parse_inotify(const char *info, struct inotify_watch **ret, size_t *ret_n)
{
	struct inotify_watch *w = NULL;
	size_t n = 0, cap = 0;
	const char *l;

	for (l = field(info, "inotify wd:"); l; l = field(l, "inotify wd:")) {
		if (n == cap) {
			struct inotify_watch *nw = realloc(w, (cap = cap ? 2 * cap : 8) * sizeof(*w));

			if (!nw) {
				free(w);
				return -ENOMEM;
			}
			w = nw;
		}
		/* back to "wd:" for inotify_line() */
		if (inotify_line(l - 3, &w[n]) < 0) {
			free(w);
			return -EBADMSG;
		}
		n++;
	}
	if (n)
		qsort(w, n, sizeof(*w), cmp_wd);
	for (size_t i = 1; i < n; i++) {
		if (w[i].wd == w[i - 1].wd) {
			free(w);
			return -EBADMSG;
		}
	}
	*ret = w;
	*ret_n = n;
	return 0;
}

int sd_proc_parse_pidfd(const char *info, int *ret_pid)
{
	const char *s = field(info, "Pid:");
	uint64_t pid;

	if (!s)
		return -EBADMSG;
	s += strspn(s, " \t");
	if (!strncmp(s, "-1", 2) && (!s[2] || s[2] == '\n')) {
		*ret_pid = -1;
		return 0;
	}
	if (number(s, 10, &pid) < 0 || pid < 1 || pid > INT32_MAX)
		return -EBADMSG;
	*ret_pid = (int)pid;
	return 0;
}

/*
 * "fanotify flags:%x event-flags:%x", then per mark "fanotify ino:%lx
 * sdev:%x mflags:%x mask:%x ignored_mask:%x fhandle-bytes:... f_handle:..",
 * "fanotify mnt_id:%x mflags:.." or "fanotify sdev:%x mflags:.."
 * (fs/notify/fdinfo.c), all in hex.
 */
static int fanotify_line(const char *l, struct fanotify_mark_state *m)
{
	uint64_t v, mflags, mask, ign, sdev = 0;

	*m = (struct fanotify_mark_state){ .mnt_id = -1 };
	if (line_number(l, "mflags:", 16, &mflags) < 0 || mflags > UINT32_MAX ||
	    line_number(l, " mask:", 16, &mask) < 0 || line_number(l, " ignored_mask:", 16, &ign) < 0)
		return -EBADMSG;
	m->mflags = (uint32_t)mflags;
	m->mask = mask;
	m->ignored_mask = ign;
	if (!strncmp(l, "ino:", 4)) {
		m->type = FANM_INODE;
		return inode_part(l, &m->obj);
	}
	if (!strncmp(l, "mnt_id:", 7)) {
		if (number(l + 7, 16, &v) < 0 || v > INT32_MAX)
			return -EBADMSG;
		m->type = FANM_MOUNT;
		m->mnt_id = (int)v;
		return 0;
	}
	if (!strncmp(l, "sdev:", 5) && number(l + 5, 16, &sdev) == 0 && sdev <= UINT32_MAX) {
		m->type = FANM_FS;
		m->obj.dev = (sdev >> 20) << 32 | (sdev & 0xfffff);
		return 0;
	}
	return -EBADMSG;
}

int sd_proc_parse_fanotify(const char *info, struct fd_anon_state *ret)
{
	const char *f = field(info, "fanotify flags:"), *l;
	struct fanotify_mark_state *m = NULL;
	size_t n = 0, cap = 0;
	uint64_t flags, ev;

	if (number(f, 16, &flags) < 0 || flags > UINT32_MAX ||
	    line_number(f, " event-flags:", 16, &ev) < 0 || ev > UINT32_MAX)
		return -EBADMSG;
	for (l = field(info, "fanotify "); l; l = field(l, "fanotify ")) {
		if (!strncmp(l, "flags:", 6))
			continue;
		if (n == cap) {
			struct fanotify_mark_state *nm = realloc(m, (cap = cap ? 2 * cap : 8) * sizeof(*m));

			if (!nm) {
				free(m);
				return -ENOMEM;
			}
			m = nm;
		}
		if (fanotify_line(l, &m[n]) < 0) {
			free(m);
			return -EBADMSG;
		}
		n++;
	}
	ret->fan_flags = (uint32_t)flags;
	ret->fan_event_flags = (uint32_t)ev;
	ret->fanotify = m;
	ret->nfanotify = n;
	return 0;
}
