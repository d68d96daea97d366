/*
 * The process-state data model: what its structures own, the names of fd
 * kinds, the paths of removed directories.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pstate.h"
#include "util.h"

static const char *const fd_kind_names[FDK_MAX + 1] = {
	[FDK_FILE] = "file",
	[FDK_DIR] = "dir",
	[FDK_CHR] = "chr",
	[FDK_PIPE] = "pipe",
	[FDK_FIFO] = "fifo",
	[FDK_TTY] = "tty",
};

const char *sd_fd_kind_name(enum fd_kind k)
{
	if ((unsigned int)k > FDK_MAX || !fd_kind_names[k])
		return "?";
	return fd_kind_names[k];
}

void sd_process_state_release(struct process_state *ps)
{
	for (size_t i = 0; i < ps->nthreads; i++) {
		free(ps->threads[i].xsave);
		free(ps->threads[i].pending);
	}
	zfree(&ps->threads);
	zfree(&ps->shared);
	zfree(&ps->mm.auxv);
	ps->nthreads = 0;
}

void sd_files_state_release(struct files_state *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->fds[i].path);
		free(fs->fds[i].pipe_data);
	}
	zfree(&fs->fds);
	fs->n = 0;
}

int sd_removed_dir_path(const char *link, size_t level, char *buf, size_t size)
{
	static const char suffix[] = " (deleted)";
	size_t len = strlen(link), k = 0;
	char *p;

	if (len <= sizeof(suffix) - 1 || strcmp(link + len - (sizeof(suffix) - 1), suffix) ||
	    link[0] != '/' || len - (sizeof(suffix) - 1) >= size)
		return -EINVAL;
	len -= sizeof(suffix) - 1;
	memcpy(buf, link, len);
	buf[len] = '\0';
	/* absolute, no empty, "." or ".." component: each level is one name less */
	for (p = buf; *p; k++) {
		size_t n = strcspn(p + 1, "/");

		if (n == 0 || (n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
			return -EINVAL;
		p += n + 1;
	}
	if (level > k)
		return -EINVAL;
	for (size_t i = 0; i < level; i++)
		*strrchr(buf, '/') = '\0';
	if (!buf[0])
		(void)snprintf(buf, size, "/");
	return 0;
}
