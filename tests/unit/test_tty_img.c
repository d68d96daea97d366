/* SPDX-License-Identifier: MIT */
/*
 * A terminal's settings in files.img (tty_img.c): through a packed TtyState
 * and back unchanged, and values no dump writes (too many control
 * characters, a line discipline or window size out of range) refused; a
 * pty end's fields, the slave's owner on its master only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#include "files.pb-c.h"
#include "tty_img.h"
#include "unit.h"

static const struct tty_state raw = {
	.iflag = 0x0, .oflag = 0x4, .cflag = 0xbf, .lflag = 0x0, .line = 0,
	.cc = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26 }, .ncc = 32,
	.ispeed = 15, .ospeed = 15, .rows = 24, .cols = 80, .xpixel = 640, .ypixel = 480,
};

static void test_round_trip(void)
{
	TtyState pb, *back;
	struct tty_state t = { 0 };
	uint8_t *buf;
	size_t len;

	sd_ttyimg_to_pb(&raw, &pb);
	len = tty_state__get_packed_size(&pb);
	buf = malloc(len);
	ASSERT_TRUE(buf != NULL);
	tty_state__pack(&pb, buf);
	back = tty_state__unpack(NULL, len, buf);
	ASSERT_TRUE(back != NULL);
	ASSERT_OK(sd_ttyimg_from_pb(back, &t));
	ASSERT_EQ(t.iflag, raw.iflag);
	ASSERT_EQ(t.oflag, raw.oflag);
	ASSERT_EQ(t.cflag, raw.cflag);
	ASSERT_EQ(t.lflag, raw.lflag);
	ASSERT_EQ(t.ncc, raw.ncc);
	ASSERT_MEMEQ(t.cc, raw.cc, raw.ncc);
	ASSERT_EQ(t.ispeed, raw.ispeed);
	ASSERT_EQ(t.ospeed, raw.ospeed);
	ASSERT_EQ(t.rows, 24);
	ASSERT_EQ(t.cols, 80);
	ASSERT_EQ(t.xpixel, 640);
	ASSERT_EQ(t.ypixel, 480);
	tty_state__free_unpacked(back, NULL);
	free(buf);
}

static void test_refused(void)
{
	uint8_t many[33] = { 0 };
	struct tty_state t;
	TtyState pb;

	sd_ttyimg_to_pb(&raw, &pb);
	pb.cc = (ProtobufCBinaryData){ sizeof(many), many };
	ASSERT_EQ(sd_ttyimg_from_pb(&pb, &t), -EBADMSG);
	sd_ttyimg_to_pb(&raw, &pb);
	pb.line = 256;
	ASSERT_EQ(sd_ttyimg_from_pb(&pb, &t), -EBADMSG);
	sd_ttyimg_to_pb(&raw, &pb);
	pb.cols = 65536;
	ASSERT_EQ(sd_ttyimg_from_pb(&pb, &t), -EBADMSG);
	sd_ttyimg_to_pb(&raw, &pb);
	pb.ypixel = UINT32_MAX;
	ASSERT_EQ(sd_ttyimg_from_pb(&pb, &t), -EBADMSG);
	/* the largest of each is taken */
	sd_ttyimg_to_pb(&raw, &pb);
	pb.line = 255;
	pb.rows = 65535;
	ASSERT_OK(sd_ttyimg_from_pb(&pb, &t));
	ASSERT_EQ(t.rows, 65535);
}

static void test_pty_owner(void)
{
	struct fd_state d = { .kind = FDK_PTMX, .has_pty = true,
			      .pty = { .index = 3, .has_owner = true, .mode = 0600, .uid = 1234, .gid = 5 } };
	struct fd_state back = { 0 };
	Fd pb;

	fd__init(&pb);
	pb.kind = FD_KIND__FD_PTMX;
	sd_ttyimg_pty_to_pb(&d, &pb);
	ASSERT_TRUE(pb.has_pts_mode && pb.has_pts_uid && pb.has_pts_gid);
	ASSERT_OK(sd_ttyimg_pty_from_pb(&pb, &back));
	ASSERT_TRUE(back.pty.has_owner);
	ASSERT_EQ(back.pty.mode, 0600);
	ASSERT_EQ(back.pty.uid, 1234);
	ASSERT_EQ(back.pty.gid, 5);
	/* not on a slave, not without its owner, no more than permission bits */
	pb.kind = FD_KIND__FD_PTS;
	ASSERT_EQ(sd_ttyimg_pty_from_pb(&pb, &back), -EBADMSG);
	pb.kind = FD_KIND__FD_PTMX;
	pb.has_pts_uid = false;
	ASSERT_EQ(sd_ttyimg_pty_from_pb(&pb, &back), -EBADMSG);
	pb.has_pts_uid = true;
	pb.pts_mode = 010600;
	ASSERT_EQ(sd_ttyimg_pty_from_pb(&pb, &back), -EBADMSG);
	/* an older image: none */
	pb.has_pts_mode = pb.has_pts_uid = pb.has_pts_gid = false;
	ASSERT_OK(sd_ttyimg_pty_from_pb(&pb, &back));
	ASSERT_TRUE(!back.pty.has_owner);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_refused);
	RUN(test_pty_owner);
	return unit_summary();
}
