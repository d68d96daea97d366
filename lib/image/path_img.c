/* SPDX-License-Identifier: MIT */
/* The fds opened again by path, or made again at it, in files.img (path_img.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sdump.h"
#include "path_img.h"
#include "util.h"

_Static_assert((int)FDK_NODE == (int)FD_KIND__FD_NODE, "FdKind FD_NODE");
_Static_assert((int)FDK_PATH == (int)FD_KIND__FD_PATH, "FdKind FD_PATH");
_Static_assert((int)FDK_BLK == (int)FD_KIND__FD_BLK, "FdKind FD_BLK");
_Static_assert((int)FDK_NS == (int)FD_KIND__FD_NS, "FdKind FD_NS");

void sd_pathimg_to_pb(const struct fd_state *d, Fd *out)
{
	out->link_target = d->link_target;
	out->has_node_owner = d->has_node_owner;
	out->node_owner = (uint64_t)d->node_uid << 32 | d->node_gid;
	out->ns = d->kind == FDK_NS ? (char *)d->ns : NULL;
	out->has_proc_start = d->has_proc_start;
	out->proc_start = d->proc_start;
}

/* The names under /proc/PID/ns a namespace fd may be of. */
static bool ns_name_known(const char *ns)
{
	static const char *const names[] = { "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
					     "time", "time_for_children", "user", "uts" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(ns, names[i]))
			return true;
	return false;
}

int sd_pathimg_from_pb(const Fd *in, struct fd_state *d)
{
	unsigned int type = in->mode & S_IFMT;
	bool node = in->kind == FD_KIND__FD_NODE;

	/* a node is a FIFO, a device or a symlink, and has its owner; only a symlink its target */
	if (node != in->has_node_owner ||
	    (node && type != S_IFIFO && type != S_IFCHR && type != S_IFBLK && type != S_IFLNK) ||
	    (in->link_target && !(node && type == S_IFLNK) && in->kind != FD_KIND__FD_FILE) ||
	    (node && type == S_IFLNK && !in->link_target))
		return -EBADMSG;
	if ((in->kind == FD_KIND__FD_NS) != (in->ns != NULL) || (in->ns && !ns_name_known(in->ns)))
		return -EBADMSG;
	if (in->has_proc_start && ((in->kind != FD_KIND__FD_FILE && in->kind != FD_KIND__FD_DIR)))
		return -EBADMSG;
	if (in->link_target) {
		d->link_target = strdup(in->link_target);
		if (!d->link_target)
			return -ENOMEM;
	}
	d->has_node_owner = in->has_node_owner;
	d->node_uid = (uint32_t)(in->node_owner >> 32);
	d->node_gid = (uint32_t)in->node_owner;
	if (in->ns)
		(void)snprintf(d->ns, sizeof(d->ns), "%s", in->ns);
	d->has_proc_start = in->has_proc_start;
	d->proc_start = in->proc_start;
	return 0;
}
