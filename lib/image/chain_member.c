/* SPDX-License-Identifier: MIT */
/*
 * What a member of a process tree shares with the others, read from the
 * member that saves it (see chain.h): the tree image above the member's
 * pass (tree.img), and each other member's chain, opened once, on first
 * use. A part of a shmem object is saved by the first member of tree.img
 * that maps it; a deleted file by the member its GhostFile names. A chain
 * opened here reads no further member's (in_tree): what it saves is its
 * own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#include "chain.h"
#include "ctx.h"
#include "ptree.h"
#include "tree_img.h"
#include "util.h"

struct chain_tree {
	struct proc_tree tree;
	struct chain **m;	/* by index of tree.m, NULL until opened */
	bool failed;		/* no tree.img above the pass */
};

void sd_chain_tree_release(struct chain *c)
{
	struct chain_tree *t = c->tree;

	if (!t)
		return;
	for (size_t i = 0; t->m && i < t->tree.n; i++)
		if (t->m[i]) {
			sd_chain_release(t->m[i]);
			free(t->m[i]);
		}
	free(t->m);
	sd_tree_release(&t->tree);
	free(t);
	c->tree = NULL;
}

/* The tree of @c's pass, read once: NULL if there is none (lenient, or an error said). */
static struct chain_tree *tree_of(struct sdump_ctx *ctx, struct chain *c, int *ret)
{
	char top[PATH_MAX];
	struct chain_tree *t = c->tree;

	*ret = 0;
	if (t)
		return t->failed ? NULL : t;
	t = calloc(1, sizeof(*t));
	if (!t) {
		*ret = sd_err(ctx, -ENOMEM, "cannot read the image");
		return NULL;
	}
	c->tree = t;
	(void)snprintf(top, sizeof(top), "%s/..", c->p[0].dir.path);
	if (c->in_tree || !sd_treeimg_present(top) || sd_treeimg_read(ctx, top, &t->tree) < 0) {
		t->failed = true;
		*ret = sd_errx(ctx, -EBADMSG,
			       "image '%s' is corrupt: it shares memory with another member of a tree, and is in none",
			       c->p[0].dir.path);
		return NULL;
	}
	t->m = calloc(t->tree.n ? t->tree.n : 1, sizeof(*t->m));
	if (!t->m) {
		t->failed = true;
		*ret = sd_err(ctx, -ENOMEM, "cannot read the image");
		return NULL;
	}
	return t;
}

/* The chain of member @i of @t, opened once. */
static int member_chain(struct sdump_ctx *ctx, struct chain *c, struct chain_tree *t, size_t i,
			struct chain **ret)
{
	char dir[PATH_MAX], name[TREE_DIR_NAME_MAX];
	int r;

	if (!t->m[i]) {
		t->m[i] = calloc(1, sizeof(*t->m[i]));
		if (!t->m[i])
			return sd_err(ctx, -ENOMEM, "cannot read the image");
		t->m[i]->file_fd = -1;
		(void)snprintf(dir, sizeof(dir), "%s/../%s", c->p[0].dir.path,
			       sd_tree_dir_name(t->tree.m[i].pid, name));
		r = sd_chain_open(ctx, dir, t->m[i]);
		if (r < 0) {
			free(t->m[i]);
			t->m[i] = NULL;
			return r;
		}
		t->m[i]->in_tree = true;
	}
	*ret = t->m[i];
	return 0;
}

int sd_chain_member_page(struct sdump_ctx *ctx, struct chain *c, const struct vma *v, uint64_t page,
		      uint8_t *out, size_t psz, bool lenient)
{
	uint64_t off = v->pgoff + (page - v->start);
	struct chain_tree *t;
	int r;

	memset(out, 0, psz);
	t = c->in_tree ? NULL : tree_of(ctx, c, &r);
	if (!t)
		return lenient || c->in_tree ? 0 : r;
	/* the first member that maps this part of the object saves it */
	for (size_t i = 0; i < t->tree.n; i++) {
		struct chain *m;

		if (t->tree.m[i].zombie)
			continue;
		if (t->tree.m[i].pid == c->p[0].meta.pid)
			return 0; /* this pass is the first: what it does not have is zeros */
		r = member_chain(ctx, c, t, i, &m);
		if (r < 0)
			return lenient ? 0 : r;
		for (size_t k = 0; k < m->p[0].vmas.n; k++) {
			const struct vma *w = &m->p[0].vmas.v[k];

			if (sd_vma_same_shmem(w, v) && off >= w->pgoff && off - w->pgoff < w->end - w->start)
				return sd_chain_read_range(ctx, m, w->start + (off - w->pgoff), out, psz, lenient);
		}
	}
	return 0;
}

int sd_chain_member_ghost(struct sdump_ctx *ctx, struct chain *c, const struct ghost_file *f,
		       uint64_t off, uint8_t *out, size_t psz, bool lenient)
{
	struct chain_tree *t;
	struct chain *m;
	long i;
	int r;

	memset(out, 0, psz);
	t = c->in_tree ? NULL : tree_of(ctx, c, &r);
	if (!t)
		return lenient || c->in_tree ? 0 : r;
	i = sd_tree_find(&t->tree, f->shared_pid);
	r = i < 0 ? -EBADMSG : member_chain(ctx, c, t, (size_t)i, &m);
	if (r == 0 && !m->p[0].ghosts_read) {
		r = sd_ghost_set_read(ctx, &m->p[0].dir, &m->p[0].ghosts);
		m->p[0].ghosts_read = r == 0;
	}
	for (size_t k = 0; r == 0 && k < m->p[0].ghosts.n; k++) {
		const struct ghost_file *g = &m->p[0].ghosts.f[k];

		if (!g->shared_pid && g->ino == f->ino && g->dev_major == f->dev_major && g->dev_minor == f->dev_minor)
			return sd_ghost_read_at(ctx, &m->p[0].ghosts, g, off, out, psz);
	}
	if (lenient)
		return 0;
	return r < 0 && r != -EBADMSG ? r
				      : sd_errx(ctx, -EBADMSG,
						"image '%s' is corrupt: the deleted file '%s' is saved by pid %d of its tree, which does not have it",
						c->p[0].dir.path, f->path, f->shared_pid);
}
