/* SPDX-License-Identifier: MIT */
/* The zstd level of each frame the page writer makes, fixed or measured (see pages_level.h). */
#include <stdint.h>
#include <string.h>

#include "sdump.h"
#include "pages_level.h"
#include "util.h"

/*
 * The steps, fastest first: zstd's fast levels (negative: -1000 stores
 * pages nearly raw) to its slowest. A frame of 1 MiB takes from about
 * 0.3 ms (-1000) to about 1 s (19) of a CPU here.
 */
static const int ladder[ZLEVEL_STEPS] = { -1000, -200, -50, -20, -10, -5, -3, -1,
					  1,     3,    5,   7,   9,   12,  15, 19 };

/* The step auto starts at, before anything is measured: the fixed default (-1). */
#define START_STEP 7
/*
 * A level fits when its compression takes this share at most of the time
 * it has: the raw write time (the writes overlap it), or what is left of
 * it once the compressed bytes are sent (they go after it).
 */
#define MARGIN 0.85
/* Frames between two probes of a step: at first, and at most once it was found too slow. */
#define PROBE_GAP_MIN 2
#define PROBE_GAP_MAX 256
/* A step up must make frames this much smaller (a share), or its CPU is not worth it. */
#define ZLEVEL_MIN_GAIN 0.02
/* Weight of a new measure in the running averages. */
#define NEW_WEIGHT 0.3

void sd_zlevel_init(struct zlevel *z, int level, unsigned int threads)
{
	*z = (struct zlevel){
		.automatic = level == SDUMP_COMPRESS_LEVEL_AUTO,
		.fixed = level,
		.threads = threads ? threads : 1,
		.cur = START_STEP,
	};
	for (unsigned int i = 0; i < ZLEVEL_STEPS; i++)
		z->probe_gap[i] = PROBE_GAP_MIN;
}

void sd_zlevel_sink_given(struct zlevel *z, double bytes_per_s, bool sequential)
{
	if (bytes_per_s <= 0)
		return;
	z->sink = bytes_per_s;
	z->sink_given = true;
	z->sequential = sequential;
}

bool sd_zlevel_measures_sink(const struct zlevel *z)
{
	return z->automatic && !z->sink_given;
}

static double average(double old, double v)
{
	return old > 0 ? old + NEW_WEIGHT * (v - old) : v;
}

void sd_zlevel_sink_sample(struct zlevel *z, uint64_t bytes, uint64_t ns)
{
	if (z->sink_given || !bytes || !ns)
		return;
	z->sink = average(z->sink, (double)bytes * 1e9 / (double)ns);
}

/*
 * Whether step @i, as measured, keeps the pass within the raw write time
 * (per raw byte: compressing it on every thread; writing its compressed
 * bytes, which takes less than raw, at the same time or after).
 */
static bool fits(const struct zlevel *z, unsigned int i)
{
	double comp, raw;

	if (z->speed[i] <= 0 || z->sink <= 0)
		return false;
	comp = 1.0 / ((double)z->threads * z->speed[i]);
	raw = 1.0 / z->sink;
	return comp <= MARGIN * (z->sequential ? raw - z->ratio[i] * raw : raw);
}

int sd_zlevel_of(unsigned int step)
{
	return ladder[MIN(step, ZLEVEL_STEPS - 1)];
}

int sd_zlevel_pick(struct zlevel *z, uint64_t seq, unsigned int *ret_step, unsigned int *ret_base)
{
	unsigned int up = z->cur + 1;

	*ret_step = z->cur;
	*ret_base = ZLEVEL_STEPS;
	if (!z->automatic)
		return z->fixed;
	/* a probe of the next step up, once the one in use is known to fit */
	if (up < ZLEVEL_STEPS && seq >= z->next_probe[up] && fits(z, z->cur)) {
		z->next_probe[up] = UINT64_MAX; /* one at a time: until its measure comes */
		z->last_probe = seq;
		*ret_step = up;
		*ret_base = z->cur;
	}
	return ladder[*ret_step];
}

void sd_zlevel_sample(struct zlevel *z, unsigned int step, uint64_t in, uint64_t out,
		      uint64_t ns, uint64_t cpu_ns, uint64_t base_out)
{
	z->cpu_ns += cpu_ns;
	if (!z->automatic || step >= ZLEVEL_STEPS || !in)
		return;
	z->speed[step] = average(z->speed[step], (double)in * 1e9 / (double)MAX(ns, 1));
	z->ratio[step] = average(z->ratio[step], (double)out / (double)in);
	if (base_out)
		z->gain[step] = average(z->gain[step], 1.0 - (double)out / (double)base_out);
	if (z->next_probe[step] == UINT64_MAX) { /* a probe's measure */
		if (step == z->cur + 1 && fits(z, step) && z->gain[step] >= ZLEVEL_MIN_GAIN) {
			z->cur = step;
			z->probe_gap[step] = PROBE_GAP_MIN;
		} else {
			z->probe_gap[step] = MIN(2 * z->probe_gap[step], PROBE_GAP_MAX);
		}
		z->next_probe[step] = z->last_probe + z->probe_gap[step];
	} else if (step == z->cur && z->cur > 0 && z->sink > 0 && !fits(z, step)) {
		z->cur--; /* too slow for the sink now: one step faster */
		z->next_probe[step] = z->last_probe + z->probe_gap[step];
	}
}

void sd_zlevel_written(struct zlevel *z, unsigned int step, int level, uint64_t in)
{
	if (!z->any || level < z->lmin)
		z->lmin = level;
	if (!z->any || level > z->lmax)
		z->lmax = level;
	z->any = true;
	if (z->automatic && step < ZLEVEL_STEPS)
		z->level_bytes[step] += in;
}

int sd_zlevel_main(const struct zlevel *z)
{
	unsigned int best = z->cur;

	if (!z->automatic)
		return z->fixed;
	for (unsigned int i = 0; i < ZLEVEL_STEPS; i++)
		if (z->level_bytes[i] > z->level_bytes[best])
			best = i;
	return ladder[best];
}
