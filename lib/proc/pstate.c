/* The process-state data model: what its structures own, and the names of fd kinds. */
#include <stdlib.h>

#include "pstate.h"
#include "util.h"

const char *fd_kind_name(enum fd_kind k)
{
	switch (k) {
	case FDK_FILE: return "file";
	case FDK_DIR: return "dir";
	case FDK_CHR: return "chr";
	case FDK_PIPE: return "pipe";
	case FDK_FIFO: return "fifo";
	case FDK_TTY: return "tty";
	}
	return "?";
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
