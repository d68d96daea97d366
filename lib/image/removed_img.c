/* SPDX-License-Identifier: MIT */
/*
 * Removed directories in the image: those of a removed cwd or root
 * (Process.cwd_removed, root_removed) and, on an fd of a removed
 * directory, which of those it is or the parents removed with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "removed_img.h"

/* A removed cwd's or root's directories, to their records (@msg and @ptr hold REMOVED_DIRS_MAX). */
void sd_removedimg_encode(const struct removed_dir *d, size_t n, RemovedDir *msg, RemovedDir **ptr)
{
	for (size_t i = 0; i < n && i < REMOVED_DIRS_MAX; i++) {
		removed_dir__init(&msg[i]);
		msg[i].mode = d[i].mode;
		msg[i].uid = d[i].uid;
		msg[i].gid = d[i].gid;
		ptr[i] = &msg[i];
	}
}

/*
 * And back; -EBADMSG for more than an image may hold, a mode with more
 * than permission bits, or a @link that does not name that many removed
 * directories.
 */
int sd_removedimg_decode(RemovedDir *const *msg, size_t n, const char *link,
			       struct removed_dir *d, size_t *ret_n)
{
	char path[4096];

	if (n > REMOVED_DIRS_MAX || (n && sd_removed_dir_path(link, n, path, sizeof(path)) < 0))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (msg[i]->mode & ~07777u)
			return -EBADMSG;
		d[i] = (struct removed_dir){ msg[i]->mode, msg[i]->uid, msg[i]->gid };
	}
	*ret_n = n;
	return 0;
}

void sd_removedimg_fd_to_pb(const struct fd_state *d, Fd *fd)
{
	fd->has_removed_cwd_level = d->removed_of == REMOVED_OF_CWD;
	fd->has_removed_root_level = d->removed_of == REMOVED_OF_ROOT;
	fd->removed_cwd_level = fd->removed_root_level = d->removed_level;
	fd->n_removed_parents = d->nremoved_parents * 3;
	fd->removed_parents = d->removed_parents;
}

int sd_removedimg_fd_from_pb(const Fd *s, struct fd_state *d)
{
	char path[4096];
	size_t n = s->n_removed_parents / 3;

	if ((s->has_removed_cwd_level || s->has_removed_root_level || n) &&
	    (s->kind != FD_KIND__FD_GHOST || !S_ISDIR(s->mode)))
		return -EBADMSG;
	if ((s->has_removed_cwd_level + s->has_removed_root_level + !!n) > 1 || s->n_removed_parents % 3 ||
	    n >= REMOVED_DIRS_MAX || (n && sd_removed_dir_path(s->path, n, path, sizeof(path)) < 0) ||
	    (s->has_removed_cwd_level && s->removed_cwd_level >= REMOVED_DIRS_MAX) ||
	    (s->has_removed_root_level && s->removed_root_level >= REMOVED_DIRS_MAX))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (s->removed_parents[3 * i] & ~07777u)
			return -EBADMSG;
	d->removed_of = s->has_removed_cwd_level ? REMOVED_OF_CWD : s->has_removed_root_level ? REMOVED_OF_ROOT : 0;
	d->removed_level = s->has_removed_cwd_level ? s->removed_cwd_level : s->removed_root_level;
	if (!n)
		return 0;
	d->removed_parents = malloc(n * 3 * sizeof(uint32_t));
	if (!d->removed_parents)
		return -ENOMEM;
	memcpy(d->removed_parents, s->removed_parents, n * 3 * sizeof(uint32_t));
	d->nremoved_parents = n;
	return 0;
}
