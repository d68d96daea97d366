/* SPDX-License-Identifier: MIT */
/*
 * Image directories created, committed and aborted, and record files
 * written, read back and damaged, through real files in a temporary
 * directory. No /proc, no root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdump.h"
#include "image.h"
#include "pagemap.pb-c.h"
#include "unit_files.h"

static struct sdump_ctx *ctx;

static void test_dir_create(void)
{
	struct img_dir dir = { .dirfd = -1 }, d2 = { .dirfd = 77 };
	char p[512], f[600];
	int fd = -1;

	/* not empty: refused, and left alone */
	path_of(p, sizeof(p), "full");
	ASSERT_OK(mkdir(p, 0755));
	snprintf(f, sizeof(f), "%s/keep", p);
	fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_EQ(sd_img_dir_create(ctx, p, &d2), -EEXIST);
	ASSERT_EQ(d2.dirfd, 77);
	ASSERT_TRUE(sdump_ctx_last_error(ctx) != NULL);
	sdump_ctx_clear_error(ctx);
	ASSERT_TRUE(exists("full/keep"));

	/* a file where the directory should be */
	ASSERT_TRUE(sd_img_dir_create(ctx, f, &d2) < 0);
	ASSERT_EQ(d2.dirfd, 77);
	sdump_ctx_clear_error(ctx);
	ASSERT_TRUE(exists("full/keep"));

	/* existing and empty: taken; abort removes our files but not the directory */
	path_of(p, sizeof(p), "mine");
	ASSERT_OK(mkdir(p, 0755));
	ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
	ASSERT_TRUE(!dir.created);
	ASSERT_OK(sd_img_file_create(ctx, &dir, "inventory.img", &fd));
	ASSERT_EQ(write(fd, "x", 1), 1);
	ASSERT_OK(sd_img_file_commit(ctx, &dir, "inventory.img", fd));
	close(fd);
	ASSERT_OK(sd_img_file_create(ctx, &dir, "mm.img", &fd));
	close(fd);
	ASSERT_TRUE(exists("mine/inventory.img"));
	ASSERT_TRUE(exists("mine/mm.img.tmp"));
	/* a second pass into the same directory is refused now */
	ASSERT_EQ(sd_img_dir_create(ctx, p, &d2), -EEXIST);
	sdump_ctx_clear_error(ctx);
	sd_img_dir_abort(ctx, &dir);
	sd_img_dir_release(&dir);
	ASSERT_TRUE(exists("mine"));
	ASSERT_TRUE(!exists("mine/inventory.img"));
	ASSERT_TRUE(!exists("mine/mm.img.tmp"));
	/* ... and it is empty again: usable */
	ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
	sd_img_dir_abort(ctx, &dir);
	sd_img_dir_release(&dir);
	ASSERT_TRUE(exists("mine"));
}

/* Record files on disk: commit, open, read back; damaged ones refused. */
static void test_rec_files(void)
{
	struct img_dir dir = { .dirfd = -1 }, rdir = { .dirfd = 77 };
	struct img_rec_writer w = { 0 };
	struct img_rec_reader rd = { 0 };
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	ProtobufCMessage *m = NULL;
	uint64_t size = 0, size1 = 0;
	struct stat st;
	char p[512];

	path_of(p, sizeof(p), "recs");
	ASSERT_OK(sd_img_dir_create(ctx, p, &dir));
	/* not an image yet */
	ASSERT_EQ(sd_img_dir_open(ctx, p, &rdir), -ENOENT);
	ASSERT_EQ(rdir.dirfd, 77);
	sdump_ctx_clear_error(ctx);

	for (int i = 0; i < 50; i++) {
		pe.vaddr = 0x400000 + (uint64_t)i * 0x3000;
		pe.nr_pages = (uint64_t)i + 1;
		pe.kind = PAGES_KIND__PAGES_PARENT;
		ASSERT_OK(sd_img_rec_add(&w, &pe.base));
	}
	ASSERT_OK(sd_img_rec_commit(ctx, &dir, "pagemap.img", IMG_PAGEMAP, &w, &size));
	sd_img_rec_writer_release(&w);
	path_of(p, sizeof(p), "recs/pagemap.img");
	ASSERT_OK(stat(p, &st));
	ASSERT_EQ(st.st_size, size);
	ASSERT_EQ(st.st_mode & 0777, 0600);
	ASSERT_TRUE(!exists("recs/pagemap.img.tmp"));

	ASSERT_OK(sd_img_rec_open(ctx, &dir, "pagemap.img", IMG_PAGEMAP, &rd));
	for (int i = 0; i < 50; i++) {
		PagemapEntry *e;

		ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), 1);
		e = (PagemapEntry *)m;
		ASSERT_EQ(e->vaddr, 0x400000 + (uint64_t)i * 0x3000);
		ASSERT_EQ(e->nr_pages, i + 1);
		ASSERT_EQ(e->kind, PAGES_KIND__PAGES_PARENT);
		ASSERT_TRUE(!e->has_off);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), 0);
	sd_img_rec_reader_release(&rd);
	/* the wrong type */
	ASSERT_EQ(sd_img_rec_open(ctx, &dir, "pagemap.img", IMG_MM, &rd), -EBADMSG);
	sdump_ctx_clear_error(ctx);
	/* more than one record where one is expected */
	ASSERT_EQ(sd_img_read_one(ctx, &dir, "pagemap.img", IMG_PAGEMAP, &pagemap_entry__descriptor,
			       &m), -EBADMSG);
	sdump_ctx_clear_error(ctx);
	/* a byte flipped, or truncated */
	flip_byte("recs/pagemap.img", size / 2);
	ASSERT_EQ(sd_img_rec_open(ctx, &dir, "pagemap.img", IMG_PAGEMAP, &rd), -EBADMSG);
	ASSERT_TRUE(sdump_ctx_last_error(ctx) != NULL);
	sdump_ctx_clear_error(ctx);
	flip_byte("recs/pagemap.img", size / 2);
	set_size("recs/pagemap.img", size - 1);
	ASSERT_EQ(sd_img_rec_open(ctx, &dir, "pagemap.img", IMG_PAGEMAP, &rd), -EBADMSG);
	set_size("recs/pagemap.img", 0);
	ASSERT_EQ(sd_img_rec_open(ctx, &dir, "pagemap.img", IMG_PAGEMAP, &rd), -EBADMSG);
	ASSERT_EQ(sd_img_rec_open(ctx, &dir, "nothere.img", IMG_PAGEMAP, &rd), -ENOENT);
	sdump_ctx_clear_error(ctx);

	/* one record */
	pe.vaddr = 0x7000;
	pe.nr_pages = 3;
	pe.kind = PAGES_KIND__PAGES_DATA;
	pe.has_off = true;
	pe.off = 0x123000;
	ASSERT_OK(sd_img_write_one(ctx, &dir, "inventory.img", IMG_INVENTORY, &pe.base, &size1));
	ASSERT_TRUE(size1 > 0);
	m = NULL;
	ASSERT_OK(sd_img_read_one(ctx, &dir, "inventory.img", IMG_INVENTORY,
			       &pagemap_entry__descriptor, &m));
	ASSERT_EQ(((PagemapEntry *)m)->vaddr, 0x7000);
	ASSERT_EQ(((PagemapEntry *)m)->off, 0x123000);
	protobuf_c_message_free_unpacked(m, NULL);
	/* an image now */
	path_of(p, sizeof(p), "recs");
	ASSERT_OK(sd_img_dir_open(ctx, p, &rdir));
	ASSERT_STREQ(rdir.path, p);
	sd_img_dir_release(&rdir);

	/* no records at all */
	ASSERT_OK(sd_img_rec_commit(ctx, &dir, "mm.img", IMG_MM, &w, NULL));
	ASSERT_OK(sd_img_rec_open(ctx, &dir, "mm.img", IMG_MM, &rd));
	ASSERT_EQ(rd.len, 0);
	ASSERT_EQ(sd_img_rec_next(&rd, &pagemap_entry__descriptor, &m), 0);
	sd_img_rec_reader_release(&rd);
	ASSERT_EQ(sd_img_read_one(ctx, &dir, "mm.img", IMG_MM, &pagemap_entry__descriptor, &m),
		  -EBADMSG);
	sdump_ctx_clear_error(ctx);

	ASSERT_OK(sd_img_dir_sync(ctx, &dir));
	sd_img_dir_abort(ctx, &dir);
	sd_img_dir_release(&dir);
	ASSERT_TRUE(!exists("recs"));
}

int main(void)
{
	int ret;

	if (unit_tmp_make() < 0)
		return 1;
	if (sdump_ctx_new(&ctx) < 0)
		return 1;
	RUN(test_dir_create);
	RUN(test_rec_files);
	ret = unit_summary();
	sdump_ctx_free(ctx);
	unit_tmp_remove();
	return ret;
}
