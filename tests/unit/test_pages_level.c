/* SPDX-License-Identifier: MIT */
/*
 * The level chooser of --compress-level auto (pages_level.c) fed the
 * measures of a model compressor: each step a known speed and ratio, a
 * sink of a known rate. It must climb to the highest step that keeps the
 * pass within the raw write time, come down to the fastest under a sink
 * faster than any compression, stay where a step up no longer shrinks the
 * frames, and add a sequential sink's time to the compression's.
 */
#include <stdint.h>

#include "sdump.h"
#include "pages_level.h"
#include "unit.h"

#define MIB (1u << 20)

/*
 * The model: step i of the ladder compresses at speed[i] raw bytes per CPU
 * second into ratio[i] of the input (here, steps slower and smaller by the
 * given factors each, from -1000 at 2 GB/s and 0.98).
 */
struct model {
	double speed[ZLEVEL_STEPS], ratio[ZLEVEL_STEPS];
};

static void model_init(struct model *m, double slower, double smaller)
{
	m->speed[0] = 2e9;
	m->ratio[0] = 0.98;
	for (unsigned int i = 1; i < ZLEVEL_STEPS; i++) {
		m->speed[i] = m->speed[i - 1] / slower;
		m->ratio[i] = m->ratio[i - 1] * smaller;
	}
}

static uint64_t out_of(const struct model *m, unsigned int step)
{
	return (uint64_t)(MIB * m->ratio[step]);
}

/* @frames frames through the chooser, one at a time (a probe's base first, as the writer). */
static void run(struct zlevel *z, const struct model *m, unsigned int frames)
{
	for (unsigned int f = 0; f < frames; f++) {
		unsigned int step, base;
		int level = sd_zlevel_pick(z, f, &step, &base);
		uint64_t base_out = 0;

		if (base < ZLEVEL_STEPS) {
			uint64_t ns = (uint64_t)(MIB / m->speed[base] * 1e9);

			base_out = out_of(m, base);
			sd_zlevel_sample(z, base, MIB, base_out, ns, ns, 0);
		}
		sd_zlevel_sample(z, step, MIB, out_of(m, step),
				 (uint64_t)(MIB / m->speed[step] * 1e9),
				 (uint64_t)(MIB / m->speed[step] * 2e9), base_out);
		sd_zlevel_written(z, step, level, MIB);
	}
}

/* The highest step whose pass fits @sink on @threads, as the chooser must find it. */
static unsigned int best_step(const struct model *m, double sink, unsigned int threads, bool seq)
{
	unsigned int best = 0;

	for (unsigned int i = 0; i < ZLEVEL_STEPS; i++) {
		double comp = 1.0 / (threads * m->speed[i]), raw = 1.0 / sink;

		if (comp <= 0.85 * (seq ? raw * (1 - m->ratio[i]) : raw))
			best = i;
	}
	return best;
}

static void test_fixed(void)
{
	struct zlevel z;
	struct model m;

	model_init(&m, 1.6, 0.95);
	sd_zlevel_init(&z, 7, 2);
	sd_zlevel_sink_sample(&z, 10 * MIB, 1000000000);
	run(&z, &m, 20);
	ASSERT_EQ(sd_zlevel_main(&z), 7);
	ASSERT_EQ(z.lmin, 7);
	ASSERT_EQ(z.lmax, 7);
	ASSERT_TRUE(!sd_zlevel_measures_sink(&z));
}

/* No sink known (a scratch pass without a rate): the default level, -1. */
static void test_no_sink(void)
{
	struct zlevel z;
	struct model m;

	model_init(&m, 1.6, 0.95);
	sd_zlevel_init(&z, SDUMP_COMPRESS_LEVEL_AUTO, 2);
	run(&z, &m, 50);
	ASSERT_EQ(sd_zlevel_main(&z), -1);
	ASSERT_EQ(z.lmin, -1);
	ASSERT_EQ(z.lmax, -1);
}

/* A slow disk: up the ladder, to the step the model says, not one above. */
static void test_slow_sink_climbs(void)
{
	struct zlevel z;
	struct model m;
	double sink = 10e6;
	unsigned int want;

	model_init(&m, 1.6, 0.95);
	want = best_step(&m, sink, 2, false);
	ASSERT_TRUE(want > 8 && want < ZLEVEL_STEPS - 1);
	sd_zlevel_init(&z, SDUMP_COMPRESS_LEVEL_AUTO, 2);
	ASSERT_TRUE(sd_zlevel_measures_sink(&z));
	sd_zlevel_sink_sample(&z, 8 * MIB, (uint64_t)(8 * MIB / sink * 1e9));
	run(&z, &m, 200);
	ASSERT_EQ(z.cur, want);
	ASSERT_EQ(sd_zlevel_main(&z), sd_zlevel_of(want));
	ASSERT_EQ(z.lmax, sd_zlevel_of(want + 1)); /* probed, found too slow */
	/* the disk gets faster: the chooser comes down to what fits it then */
	for (int i = 0; i < 20; i++)
		sd_zlevel_sink_sample(&z, 8 * MIB, (uint64_t)(8 * MIB / 200e6 * 1e9));
	run(&z, &m, 40);
	ASSERT_EQ(z.cur, best_step(&m, z.sink, 2, false));
}

/* A sink faster than any level compresses (tmpfs): the fastest step. */
static void test_fast_sink_descends(void)
{
	struct zlevel z;
	struct model m;

	model_init(&m, 1.6, 0.95);
	sd_zlevel_init(&z, SDUMP_COMPRESS_LEVEL_AUTO, 2);
	sd_zlevel_sink_sample(&z, 8 * MIB, (uint64_t)(8 * MIB / 5e9 * 1e9));
	run(&z, &m, 30);
	ASSERT_EQ(z.cur, 0);
	ASSERT_EQ(z.lmin, -1000);
}

/* Steps that no longer shrink the frames (by 1 % each) are not taken, however slow the sink. */
static void test_no_gain_stays(void)
{
	struct zlevel z;
	struct model m;

	model_init(&m, 1.3, 0.99);
	sd_zlevel_init(&z, SDUMP_COMPRESS_LEVEL_AUTO, 2);
	sd_zlevel_sink_sample(&z, 8 * MIB, (uint64_t)(8 * MIB / 1e6 * 1e9));
	run(&z, &m, 100);
	ASSERT_EQ(sd_zlevel_main(&z), -1);
	ASSERT_EQ(z.lmax, 1); /* probed, and found not worth it */
}

/* A connection, sent after the pass: the compression's time counts with the sending's. */
static void test_sequential(void)
{
	struct zlevel z, zo;
	struct model m;
	double sink = 50e6;

	model_init(&m, 1.6, 0.95);
	sd_zlevel_init(&z, SDUMP_COMPRESS_LEVEL_AUTO, 2);
	sd_zlevel_sink_given(&z, sink, true);
	ASSERT_TRUE(!sd_zlevel_measures_sink(&z));
	sd_zlevel_sink_sample(&z, 8 * MIB, 1000); /* ignored: the rate is given */
	run(&z, &m, 200);
	ASSERT_EQ(z.cur, best_step(&m, sink, 2, true));
	/* the same sink overlapped allows as high a level, or higher */
	sd_zlevel_init(&zo, SDUMP_COMPRESS_LEVEL_AUTO, 2);
	sd_zlevel_sink_given(&zo, sink, false);
	run(&zo, &m, 200);
	ASSERT_EQ(zo.cur, best_step(&m, sink, 2, false));
	ASSERT_TRUE(zo.cur >= z.cur);
}

int main(void)
{
	RUN(test_fixed);
	RUN(test_no_sink);
	RUN(test_slow_sink_climbs);
	RUN(test_fast_sink_descends);
	RUN(test_no_gain_stays);
	RUN(test_sequential);
	return unit_summary();
}
