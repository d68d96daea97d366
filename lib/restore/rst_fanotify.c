/* SPDX-License-Identifier: MIT */
/*
 * Restore step 4: a fanotify group, made in the new process with the
 * flags and event flags it was made with, its marks added from here on a
 * copy of it (pidfd_getfd(): the same group), each inode's by its path
 * once the path is seen to be that inode still, each mount's and file
 * system's by the path of one; the new group's fdinfo must then show what
 * the dump saw.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sdump.h"
#define LOG_PREFIX "restore: "
#include "ctx.h"
#include "procfs.h"
#include "pstate.h"
#include "restore.h"
#include "rst_fd_anon.h"
#include "util.h"

static int add_mark(struct rst *r, const struct fd_state *d, int fd, const struct fanotify_mark_state *m)
{
	static const unsigned int type_flag[] = { [FANM_INODE] = FAN_MARK_DONT_FOLLOW,
						  [FANM_MOUNT] = FAN_MARK_MOUNT,
						  [FANM_FS] = FAN_MARK_FILESYSTEM };
	unsigned int flags = FAN_MARK_ADD | type_flag[m->type] | m->mflags;
	struct stat st;

	if (m->type == FANM_INODE &&
	    (lstat(m->obj.path, &st) < 0 || st.st_ino != m->obj.ino ||
	     ((uint64_t)major(st.st_dev) << 32 | minor(st.st_dev)) != m->obj.dev))
		return sd_errx(r->ctx, -ESTALE,
			       "cannot restore pid %d: '%s', which fanotify group %d marks, is another file now or gone",
			       r->pid, m->obj.path, d->fd);
	if ((m->mask && fanotify_mark(fd, flags, m->mask, AT_FDCWD, m->obj.path) < 0) ||
	    (m->ignored_mask &&
	     fanotify_mark(fd, flags | FAN_MARK_IGNORED_MASK, m->ignored_mask, AT_FDCWD, m->obj.path) < 0))
		return sd_err(r->ctx, -errno, "cannot restore pid %d: cannot mark '%s' again (fanotify group %d)",
			      r->pid, m->obj.path, d->fd);
	return 0;
}

static int cmp_mark(const void *pa, const void *pb)
{
	const struct fanotify_mark_state *a = pa, *b = pb;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->obj.dev != b->obj.dev)
		return a->obj.dev < b->obj.dev ? -1 : 1;
	if (a->obj.ino != b->obj.ino)
		return a->obj.ino < b->obj.ino ? -1 : 1;
	return a->mnt_id < b->mnt_id ? -1 : a->mnt_id > b->mnt_id;
}

static bool mark_same(const struct fanotify_mark_state *a, const struct fanotify_mark_state *b)
{
	return !cmp_mark(a, b) && a->mflags == b->mflags && a->mask == b->mask &&
	       a->ignored_mask == b->ignored_mask;
}

/* What the new group's fdinfo shows: the image's flags and marks (in any order). */
static int check_marks(struct rst *r, const struct fd_state *d, int fd)
{
	_cleanup_free_ char *info = NULL;
	_cleanup_free_ struct fanotify_mark_state *want = NULL;
	struct fd_anon_state got = { 0 };
	char path[PROC_PATH_MAX];
	size_t n = d->anon.nfanotify, i = 0;
	int e;

	e = sd_read_file(AT_FDCWD, sd_proc_path(path, getpid(), "fdinfo/%d", fd), &info, NULL);
	if (e == 0)
		e = sd_proc_parse_fanotify(info, &got);
	if (e < 0)
		return sd_err(r->ctx, e, "cannot read '%s'", path);
	want = malloc((n ? n : 1) * sizeof(*want));
	if (!want) {
		sd_fd_anon_release(&got);
		return -ENOMEM;
	}
	if (n)
		memcpy(want, d->anon.fanotify, n * sizeof(*want));
	qsort(want, n, sizeof(*want), cmp_mark);
	if (got.nfanotify)
		qsort(got.fanotify, got.nfanotify, sizeof(*got.fanotify), cmp_mark);
	while (i < n && i < got.nfanotify && mark_same(&want[i], &got.fanotify[i]))
		i++;
	if (got.fan_flags != d->anon.fan_flags || got.fan_event_flags != d->anon.fan_event_flags ||
	    i < n || i < got.nfanotify)
		e = sd_errx(r->ctx, -EOPNOTSUPP,
			    "cannot restore pid %d: fanotify group %d came back with flags %#x, event flags %#x and %zu marks, not %#x, %#x and %zu, or its mark of '%s' differs",
			    r->pid, d->fd, got.fan_flags, got.fan_event_flags, got.nfanotify, d->anon.fan_flags,
			    d->anon.fan_event_flags, n, i < n ? want[i].obj.path : "?");
	/* the paths are the image's: only the array is ours */
	free(got.fanotify);
	return e;
}

int sd_rst_fanotify_open(struct rst *r, size_t i, long *ret_tmp)
{
	const struct fd_state *d = &r->fs.fds[i];
	int copy, e;
	long tmp;

	e = sd_rst_call(r, SYS_fanotify_init, d->anon.fan_flags, d->anon.fan_event_flags, 0, 0, 0, 0, &tmp);
	if (e < 0)
		return e;
	copy = sd_rst_take_fd(r, tmp);
	if (copy < 0)
		e = sd_err(r->ctx, copy, "cannot take the new fanotify group %d of pid %d", d->fd, r->pid);
	/* the group lists its newest mark first: the last of fdinfo's is added first */
	for (size_t k = d->anon.nfanotify; e == 0 && k-- > 0;)
		e = add_mark(r, d, copy, &d->anon.fanotify[k]);
	if (e == 0)
		e = check_marks(r, d, copy);
	if (copy >= 0)
		(void)close(copy);
	if (e < 0) {
		(void)sd_rst_call(r, SYS_close, tmp, 0, 0, 0, 0, 0, NULL);
		return e;
	}
	*ret_tmp = tmp;
	return 0;
}
