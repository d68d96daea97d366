/* SPDX-License-Identifier: MIT */
/* The table of the files of an image directory, and reading and writing them by their row. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdump.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "ghost.pb-c.h"
#include "img_files.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "process.pb-c.h"
#include "stats.pb-c.h"
#include "tree.pb-c.h"

static const struct img_file_desc img_files[IMGF_COUNT] = {
	[IMGF_INVENTORY] = { .name = "inventory.img", .type = IMG_INVENTORY,
			     .layout = IMG_LAYOUT_RECORDS, .msg = &inventory__descriptor },
	[IMGF_MM] = { .name = "mm.img", .type = IMG_MM,
		      .layout = IMG_LAYOUT_RECORDS, .msg = &mm__descriptor },
	[IMGF_PAGEMAP] = { .name = "pagemap.img", .type = IMG_PAGEMAP,
			   .layout = IMG_LAYOUT_RECORDS, .msg = &pagemap_head__descriptor },
	[IMGF_PAGES] = { .name = "pages.img", .type = IMG_PAGES,
			 .layout = IMG_LAYOUT_FRAMES },
	[IMGF_STATS] = { .name = "stats.img", .type = IMG_STATS,
			 .layout = IMG_LAYOUT_RECORDS, .msg = &stats__descriptor },
	[IMGF_CORE] = { .name = "core-<tid>.img", .type = IMG_CORE,
			.layout = IMG_LAYOUT_RECORDS, .msg = &thread_core__descriptor,
			.per_thread = true },
	[IMGF_PROCESS] = { .name = "process.img", .type = IMG_PROCESS,
			   .layout = IMG_LAYOUT_RECORDS, .msg = &process__descriptor },
	[IMGF_FILES] = { .name = "files.img", .type = IMG_FILES,
			 .layout = IMG_LAYOUT_RECORDS, .msg = &files__descriptor },
	[IMGF_GHOSTS] = { .name = "ghosts.img", .type = IMG_GHOSTS,
			  .layout = IMG_LAYOUT_RECORDS, .msg = &ghost_head__descriptor },
	[IMGF_GHOST_DATA] = { .name = "ghost-data.img", .type = IMG_GHOST_DATA,
			      .layout = IMG_LAYOUT_FRAMES },
	[IMGF_TREE] = { .name = "tree.img", .type = IMG_TREE,
			.layout = IMG_LAYOUT_RECORDS, .msg = &tree__descriptor },
};

const struct img_file_desc *sd_imgfile(enum img_file f)
{
	assert((unsigned int)f < IMGF_COUNT && img_files[f].name);
	return &img_files[f];
}

const char *sd_imgfile_name(enum img_file f)
{
	return sd_imgfile(f)->name;
}

const char *sd_imgfile_name_tid(enum img_file f, pid_t tid, char buf[IMG_NAME_MAX])
{
	const char *name = sd_imgfile(f)->name, *at = strstr(name, "<tid>");

	if (!sd_imgfile(f)->per_thread || !at)
		(void)snprintf(buf, IMG_NAME_MAX, "%s", name);
	else
		(void)snprintf(buf, IMG_NAME_MAX, "%.*s%d%s", (int)(at - name), name, (int)tid,
			       at + strlen("<tid>"));
	return buf;
}

int sd_imgfile_lookup(const char *name, enum img_file *ret)
{
	for (unsigned int f = 0; f < IMGF_COUNT; f++) {
		const char *pat = img_files[f].name, *at;
		size_t pre, post, n = strlen(name), digits;

		if (!pat)
			continue;
		at = strstr(pat, "<tid>");
		if (!at) {
			if (!strcmp(pat, name)) {
				*ret = (enum img_file)f;
				return 0;
			}
			continue;
		}
		pre = (size_t)(at - pat);
		post = strlen(at + strlen("<tid>"));
		if (n <= pre + post || n - pre - post > 10 || strncmp(name, pat, pre) ||
		    strcmp(name + n - post, at + strlen("<tid>")))
			continue;
		digits = strspn(name + pre, "0123456789");
		if (digits != n - pre - post || name[pre] == '0')
			continue;
		*ret = (enum img_file)f;
		return 0;
	}
	return -ENOENT;
}

int sd_imgfile_write_one(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f, pid_t tid,
		      const ProtobufCMessage *msg, uint64_t *ret_size)
{
	char name[IMG_NAME_MAX];

	assert(sd_imgfile(f)->layout == IMG_LAYOUT_RECORDS);
	return sd_img_write_one(ctx, dir, sd_imgfile_name_tid(f, tid, name), sd_imgfile(f)->type, msg,
			     ret_size);
}

int sd_imgfile_read_one(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f, pid_t tid,
		     ProtobufCMessage **ret_msg)
{
	char name[IMG_NAME_MAX];

	assert(sd_imgfile(f)->layout == IMG_LAYOUT_RECORDS);
	return sd_img_read_one(ctx, dir, sd_imgfile_name_tid(f, tid, name), sd_imgfile(f)->type,
			    sd_imgfile(f)->msg, ret_msg);
}

int sd_imgfile_rec_commit(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f,
		       struct img_rec_writer *w, uint64_t *ret_size)
{
	assert(sd_imgfile(f)->layout == IMG_LAYOUT_RECORDS && !sd_imgfile(f)->per_thread);
	return sd_img_rec_commit(ctx, dir, sd_imgfile_name(f), sd_imgfile(f)->type, w, ret_size);
}

int sd_imgfile_rec_open(struct sdump_ctx *ctx, struct img_dir *dir, enum img_file f,
		     struct img_rec_reader *ret_reader)
{
	assert(sd_imgfile(f)->layout == IMG_LAYOUT_RECORDS && !sd_imgfile(f)->per_thread);
	return sd_img_rec_open(ctx, dir, sd_imgfile_name(f), sd_imgfile(f)->type, ret_reader);
}
