/* The process-state data model: what its structures own, and the names of fd kinds. */
#include <stdlib.h>

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

const char *fd_kind_name(enum fd_kind k)
{
	if ((unsigned int)k > FDK_MAX || !fd_kind_names[k])
		return "?";
	return fd_kind_names[k];
}

void process_state_release(struct process_state *ps)
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

void files_state_release(struct files_state *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->fds[i].path);
		free(fs->fds[i].pipe_data);
	}
	zfree(&fs->fds);
	fs->n = 0;
}
