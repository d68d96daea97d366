/* SPDX-License-Identifier: MIT */
/* sdump show of a process tree's image: tree.img, and every member's pass read and verified. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#define LOG_PREFIX "show: "
#include "ctx.h"
#include "info_tree.h"
#include "tree_img.h"
#include "util.h"

int sd_info_load_tree(struct sdump_ctx *ctx, const char *dir, struct sdump_image_info **ret_info)
{
	struct proc_tree t = { 0 };
	struct sdump_image_info *root = NULL;
	struct sdump_tree_member_info *mi = NULL;
	int r;

	r = sd_treeimg_read(ctx, dir, &t);
	if (r < 0)
		return r;
	mi = calloc(t.n, sizeof(*mi));
	if (!mi) {
		r = sd_err(ctx, -ENOMEM, "cannot load image '%s'", dir);
		goto out;
	}
	for (size_t i = 0; i < t.n; i++) {
		const struct tree_member *m = &t.m[i];
		struct sdump_tree_member_info *o = &mi[i];
		struct sdump_image_info *pass = NULL;
		char path[PATH_MAX], name[TREE_DIR_NAME_MAX];

		o->pid = m->pid;
		o->ppid = m->ppid;
		o->pgid = m->pgid;
		o->sid = m->sid;
		o->zombie = m->zombie;
		o->exit_status = m->exit_status;
		o->stopped = m->stopped;
		(void)snprintf(o->comm, sizeof(o->comm), "%s", m->comm);
		if (m->zombie)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, sd_tree_dir_name(m->pid, name)) >= (int)sizeof(path)) {
			r = sd_errx(ctx, -ENAMETOOLONG, "image directory '%s': name too long", dir);
			goto out;
		}
		r = sd_info_load_pass(ctx, path, &pass);
		if (r < 0)
			goto out;
		if (pass->pid != m->pid) {
			r = sd_errx(ctx, -EBADMSG, "image '%s' is corrupt: it holds pid %d, not %d", path,
				    (int)pass->pid, (int)m->pid);
			sdump_image_info_free(pass);
			goto out;
		}
		o->dir = strdup(path);
		(void)snprintf(o->comm, sizeof(o->comm), "%s", pass->comm);
		o->stats = pass->stats;
		if (i == 0)
			root = pass;
		else
			sdump_image_info_free(pass);
		if (!o->dir) {
			r = sd_err(ctx, -ENOMEM, "cannot load image '%s'", dir);
			goto out;
		}
	}
	root->tree = mi;
	root->tree_len = t.n;
	mi = NULL;
	*ret_info = root;
	root = NULL;
out:
	if (mi)
		for (size_t i = 0; i < t.n; i++)
			free(mi[i].dir);
	free(mi);
	sdump_image_info_free(root);
	sd_tree_release(&t);
	return r;
}
