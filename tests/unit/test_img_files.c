/* SPDX-License-Identifier: MIT */
/* The table of image files: the names and types images have always had, and the names built from it. */
#include <limits.h>
#include <string.h>

#include "img_files.h"
#include "unit.h"

/* What an image directory has held since format version 1: these must not change. */
static const struct {
	enum img_file f;
	const char *name;
	enum img_type type;
} want[] = {
	{ IMGF_INVENTORY, "inventory.img", IMG_INVENTORY },
	{ IMGF_MM, "mm.img", IMG_MM },
	{ IMGF_PAGEMAP, "pagemap.img", IMG_PAGEMAP },
	{ IMGF_PAGES, "pages.img", IMG_PAGES },
	{ IMGF_STATS, "stats.img", IMG_STATS },
	{ IMGF_CORE, "core-<tid>.img", IMG_CORE },
	{ IMGF_PROCESS, "process.img", IMG_PROCESS },
	{ IMGF_FILES, "files.img", IMG_FILES },
	{ IMGF_GHOSTS, "ghosts.img", IMG_GHOSTS },
	{ IMGF_TREE, "tree.img", IMG_TREE },
	{ IMGF_GHOST_DATA, "ghost-data.img", IMG_GHOST_DATA },
};

static void test_names_and_types(void)
{
	ASSERT_EQ(sizeof(want) / sizeof(want[0]), IMGF_COUNT);
	for (size_t i = 0; i < IMGF_COUNT; i++) {
		const struct img_file_desc *d = sd_imgfile(want[i].f);

		ASSERT_STREQ(d->name, want[i].name);
		ASSERT_STREQ(sd_imgfile_name(want[i].f), want[i].name);
		ASSERT_EQ(d->type, want[i].type);
	}
}

/* No two files share a name or a header type; every row is filled in. */
static void test_rows(void)
{
	for (int i = 0; i < IMGF_COUNT; i++) {
		const struct img_file_desc *d = sd_imgfile((enum img_file)i);
		size_t len = strlen(d->name);

		ASSERT_TRUE(len > 4 && !strcmp(d->name + len - 4, ".img"));
		ASSERT_TRUE(len < IMG_NAME_MAX);
		ASSERT_EQ(d->per_thread, strstr(d->name, "<tid>") != NULL);
		ASSERT_TRUE(d->layout == IMG_LAYOUT_RECORDS || d->layout == IMG_LAYOUT_FRAMES);
		/* a record file says what its records are; pages.img has none */
		ASSERT_EQ(d->msg != NULL, d->layout == IMG_LAYOUT_RECORDS);
		for (int k = 0; k < i; k++) {
			ASSERT_TRUE(strcmp(d->name, sd_imgfile((enum img_file)k)->name) != 0);
			ASSERT_TRUE(d->type != sd_imgfile((enum img_file)k)->type);
		}
	}
	ASSERT_TRUE(sd_imgfile(IMGF_PAGES)->layout == IMG_LAYOUT_FRAMES);
	ASSERT_TRUE(sd_imgfile(IMGF_PAGES)->msg == NULL);
	ASSERT_TRUE(sd_imgfile(IMGF_GHOST_DATA)->layout == IMG_LAYOUT_FRAMES);
}

static void test_name_tid(void)
{
	char buf[IMG_NAME_MAX];

	memset(buf, 'Z', sizeof(buf));
	ASSERT_TRUE(sd_imgfile_name_tid(IMGF_CORE, 4242, buf) == buf);
	ASSERT_STREQ(buf, "core-4242.img");
	ASSERT_STREQ(sd_imgfile_name_tid(IMGF_CORE, 1, buf), "core-1.img");
	/* the longest: every pid fits */
	ASSERT_STREQ(sd_imgfile_name_tid(IMGF_CORE, INT_MAX, buf), "core-2147483647.img");
	/* a file of one per directory: its name, whatever the tid */
	ASSERT_STREQ(sd_imgfile_name_tid(IMGF_MM, 4242, buf), "mm.img");
	ASSERT_STREQ(sd_imgfile_name_tid(IMGF_INVENTORY, 0, buf), "inventory.img");
	ASSERT_STREQ(sd_imgfile_name_tid(IMGF_PAGES, 0, buf), "pages.img");
	/* each per-thread name is its pattern with the tid in place of "<tid>" */
	for (int i = 0; i < IMGF_COUNT; i++) {
		const struct img_file_desc *d = sd_imgfile((enum img_file)i);
		const char *at = strstr(d->name, "<tid>");
		char want_name[IMG_NAME_MAX];

		if (!d->per_thread)
			continue;
		snprintf(want_name, sizeof(want_name), "%.*s99%s", (int)(at - d->name), d->name,
			 at + 5);
		ASSERT_STREQ(sd_imgfile_name_tid((enum img_file)i, 99, buf), want_name);
	}
}

int main(void)
{
	RUN(test_names_and_types);
	RUN(test_rows);
	RUN(test_name_tid);
	return unit_summary();
}
