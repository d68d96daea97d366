/* SPDX-License-Identifier: MIT */
/*
 * The zstd level of each frame the page writer compresses. A fixed level
 * gives every frame that level. --compress-level auto chooses it from what
 * the pass measures: the speed of its sink (the disk under the image,
 * frames written and their writeback waited for; or a rate given, a
 * migration's connection) and the speed and ratio of each level on the
 * pass's own frames, on its own compressors. The level kept is the highest
 * (the smallest image) at which the pass still takes no longer than
 * writing its pages raw to that sink would, with some margin, and whose
 * image is worth its cost: a step up is taken only if it makes frames at
 * least ZLEVEL_MIN_GAIN smaller. Now and then a frame is compressed at the
 * level in use and at the one above it (a probe: the smaller one is
 * written), which tells whether it may climb; every frame at the level in
 * use whether it must come down. Not thread-safe: the writer calls it
 * under its lock.
 */
#ifndef SDUMP_PAGES_LEVEL_H
#define SDUMP_PAGES_LEVEL_H

#include <stdbool.h>
#include <stdint.h>

/* The levels auto moves between, fastest first. */
#define ZLEVEL_STEPS 16

struct zlevel {
	bool automatic;
	int fixed;		/* the level, when not automatic */
	unsigned int threads;	/* compressors that can run at once */
	unsigned int cur;	/* the step in use */
	/*
	 * raw bytes per second of a compressing thread, 0: not measured; its
	 * wall time, not its CPU time: a machine whose CPUs are busy with
	 * other work compresses that much slower
	 */
	double speed[ZLEVEL_STEPS];
	double ratio[ZLEVEL_STEPS];  /* compressed bytes per raw byte */
	double gain[ZLEVEL_STEPS];   /* how much smaller than the step below, on the same frames */
	uint64_t next_probe[ZLEVEL_STEPS]; /* the first frame that may probe the step */
	uint64_t probe_gap[ZLEVEL_STEPS];  /* frames between probes of a step found too slow */
	uint64_t last_probe;	/* the frame of the last probe */
	/* the sink: bytes per second it takes (0: not known yet) */
	double sink;
	bool sink_given;	/* given by the caller, not measured */
	/* the files go out after the pass (a migration): compressing adds to sending */
	bool sequential;
	/* what the stats say */
	uint64_t level_bytes[ZLEVEL_STEPS]; /* raw bytes compressed at each step (auto) */
	int lmin, lmax;		/* lowest and highest level a frame got */
	bool any;
	uint64_t cpu_ns;	/* the compressors' CPU time */
};

/* @level: a zstd level, or SDUMP_COMPRESS_LEVEL_AUTO; @threads compressors. */
void sd_zlevel_init(struct zlevel *z, int level, unsigned int threads);
/* A sink of @bytes_per_s given (a connection), @sequential if sent after the pass. */
void sd_zlevel_sink_given(struct zlevel *z, double bytes_per_s, bool sequential);
/* A measure of the sink: @bytes written in @ns (ignored once a rate is given). */
void sd_zlevel_sink_sample(struct zlevel *z, uint64_t bytes, uint64_t ns);
/* Whether the writer should measure the sink (automatic, no rate given). */
bool sd_zlevel_measures_sink(const struct zlevel *z);
/*
 * The level for frame @seq; its step in *ret_step (for the sample). A
 * probe: *ret_base is the step below it, which the frame is compressed at
 * too, first; else ZLEVEL_STEPS.
 */
int sd_zlevel_pick(struct zlevel *z, uint64_t seq, unsigned int *ret_step, unsigned int *ret_base);
/* The level of step @step. */
int sd_zlevel_of(unsigned int step);
/*
 * Frame done at @step: @in raw bytes into @out in @ns (wall time) and
 * @cpu_ns of its thread's CPU; a probe's, @base_out what the step below
 * made of it (else 0), whose own sample comes first.
 */
void sd_zlevel_sample(struct zlevel *z, unsigned int step, uint64_t in, uint64_t out,
		      uint64_t ns, uint64_t cpu_ns, uint64_t base_out);
/* A frame of @in raw bytes written at @step, @level (for the stats). */
void sd_zlevel_written(struct zlevel *z, unsigned int step, int level, uint64_t in);
/* The level most bytes got (the fixed one, if not automatic). */
int sd_zlevel_main(const struct zlevel *z);

#endif /* SDUMP_PAGES_LEVEL_H */
