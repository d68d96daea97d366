/* SPDX-License-Identifier: MIT */
/*
 * The removed directories of an fd in files.img (removed_img.c): the
 * removed cwd's directory it is, or its removed parents, through Fd and
 * back; what no dump writes refused (on another kind, more than one of
 * the three, a parent's mode beyond permission bits, more parents than
 * its path has).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sdump.h"
#include "removed_img.h"
#include "unit.h"

static void fd_of(Fd *pb, const char *path)
{
	fd__init(pb);
	pb->kind = FD_KIND__FD_GHOST;
	pb->mode = S_IFDIR | 0755;
	pb->path = (char *)path;
}

static void test_parents(void)
{
	uint32_t par[6] = { 0753, 5, 6, 0700, 0, 0 };
	struct fd_state d = { .kind = FDK_GHOST, .nremoved_parents = 2, .removed_parents = par };
	struct fd_state back = { 0 };
	Fd pb;

	fd_of(&pb, "/tmp/x/p/q (deleted)");
	sd_removedimg_fd_to_pb(&d, &pb);
	ASSERT_EQ(pb.n_removed_parents, 6);
	ASSERT_TRUE(!pb.has_removed_cwd_level && !pb.has_removed_root_level);
	ASSERT_OK(sd_removedimg_fd_from_pb(&pb, &back));
	ASSERT_EQ(back.nremoved_parents, 2);
	ASSERT_MEMEQ(back.removed_parents, par, sizeof(par));
	free(back.removed_parents);
	/* more parents than "/tmp/x/p/q" has below "/" */
	pb.path = (char *)"/q (deleted)";
	ASSERT_EQ(sd_removedimg_fd_from_pb(&pb, &back), -EBADMSG);
	pb.path = (char *)"/tmp/x/p/q (deleted)";
	par[0] = 040753;
	ASSERT_EQ(sd_removedimg_fd_from_pb(&pb, &back), -EBADMSG);
	par[0] = 0753;
	pb.n_removed_parents = 5;
	ASSERT_EQ(sd_removedimg_fd_from_pb(&pb, &back), -EBADMSG);
}

static void test_cwd_level(void)
{
	struct fd_state d = { .kind = FDK_GHOST, .removed_of = REMOVED_OF_CWD, .removed_level = 1 };
	struct fd_state back = { 0 };
	Fd pb;

	fd_of(&pb, "/tmp/a (deleted)");
	sd_removedimg_fd_to_pb(&d, &pb);
	ASSERT_TRUE(pb.has_removed_cwd_level && !pb.has_removed_root_level);
	ASSERT_OK(sd_removedimg_fd_from_pb(&pb, &back));
	ASSERT_EQ(back.removed_of, REMOVED_OF_CWD);
	ASSERT_EQ(back.removed_level, 1);
	/* the cwd's and the root's at once */
	pb.has_removed_root_level = true;
	ASSERT_EQ(sd_removedimg_fd_from_pb(&pb, &back), -EBADMSG);
	pb.has_removed_root_level = false;
	pb.removed_cwd_level = REMOVED_DIRS_MAX;
	ASSERT_EQ(sd_removedimg_fd_from_pb(&pb, &back), -EBADMSG);
	/* on a regular file */
	pb.removed_cwd_level = 0;
	pb.mode = S_IFREG | 0644;
	ASSERT_EQ(sd_removedimg_fd_from_pb(&pb, &back), -EBADMSG);
	/* nothing of the kind: taken on any fd */
	fd__init(&pb);
	pb.kind = FD_KIND__FD_FILE;
	ASSERT_OK(sd_removedimg_fd_from_pb(&pb, &back));
}

int main(void)
{
	RUN(test_parents);
	RUN(test_cwd_level);
	return unit_summary();
}
