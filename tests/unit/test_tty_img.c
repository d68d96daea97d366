/* SPDX-License-Identifier: MIT */
/*
 * A terminal's settings in files.img (tty_img.c): through a packed TtyState
 * and back unchanged, and values no dump writes (too many control
 * characters, a line discipline or window size out of range) refused.
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

int main(void)
{
	RUN(test_round_trip);
	RUN(test_refused);
	return unit_summary();
}
