/* SPDX-License-Identifier: MIT */
/* The map of a lazy restore's target (rst_lazy_map.c): drops and moves as a process's munmap and mremap make them. */
#include "unit.h"
#include "rst_lazy.h"

#define P 4096ull

/* The image page at @addr now, or 0. */
static uint64_t img(const struct rst_lazy_map *m, uint64_t addr)
{
	uint64_t i = 0;

	return sd_rst_lazy_map_find(m, addr, &i) ? i : 0;
}

static void test_drop(void)
{
	struct rst_lazy_map m = { 0 };

	ASSERT_OK(sd_rst_lazy_map_add(&m, (struct rst_lazy_span){ 100 * P, 200 * P, 0 }));
	ASSERT_OK(sd_rst_lazy_map_add(&m, (struct rst_lazy_span){ 10 * P, 20 * P, 0 }));
	ASSERT_EQ(img(&m, 150 * P), 150 * P);
	ASSERT_EQ(img(&m, 10 * P), 10 * P);
	ASSERT_EQ(img(&m, 20 * P), 0);
	/* a hole in the middle: both sides stay */
	ASSERT_OK(sd_rst_lazy_map_drop(&m, 120 * P, 130 * P));
	ASSERT_EQ(m.n, 3);
	ASSERT_EQ(img(&m, 119 * P), 119 * P);
	ASSERT_EQ(img(&m, 120 * P), 0);
	ASSERT_EQ(img(&m, 129 * P), 0);
	ASSERT_EQ(img(&m, 130 * P), 130 * P);
	/* over several spans at once */
	ASSERT_OK(sd_rst_lazy_map_drop(&m, 15 * P, 125 * P));
	ASSERT_EQ(img(&m, 14 * P), 14 * P);
	ASSERT_EQ(img(&m, 15 * P), 0);
	ASSERT_EQ(img(&m, 110 * P), 0);
	ASSERT_EQ(img(&m, 130 * P), 130 * P);
	sd_rst_lazy_map_release(&m);
}

static void test_move(void)
{
	struct rst_lazy_map m = { 0 };

	ASSERT_OK(sd_rst_lazy_map_add(&m, (struct rst_lazy_span){ 100 * P, 200 * P, 0 }));
	ASSERT_OK(sd_rst_lazy_map_add(&m, (struct rst_lazy_span){ 1000 * P, 1010 * P, 0 }));
	/* part of the first moved far up, over the second: what was there is gone */
	ASSERT_OK(sd_rst_lazy_map_move(&m, 150 * P, 995 * P, 10 * P));
	ASSERT_EQ(img(&m, 150 * P), 0);
	ASSERT_EQ(img(&m, 149 * P), 149 * P);
	ASSERT_EQ(img(&m, 160 * P), 160 * P);
	ASSERT_EQ(img(&m, 995 * P), 150 * P);
	ASSERT_EQ(img(&m, 1004 * P), 159 * P);
	ASSERT_EQ(img(&m, 1005 * P), 1005 * P);
	/* moved again, down: the shifts add up */
	ASSERT_OK(sd_rst_lazy_map_move(&m, 995 * P, 5 * P, 5 * P));
	ASSERT_EQ(img(&m, 5 * P), 150 * P);
	ASSERT_EQ(img(&m, 9 * P), 154 * P);
	ASSERT_EQ(img(&m, 995 * P), 0);
	ASSERT_EQ(img(&m, 1000 * P), 155 * P);
	/* a move from where nothing is: the destination is dropped all the same */
	ASSERT_OK(sd_rst_lazy_map_move(&m, 3000 * P, 100 * P, 10 * P));
	ASSERT_EQ(img(&m, 105 * P), 0);
	ASSERT_EQ(img(&m, 110 * P), 110 * P);
	for (size_t i = 1; i < m.n; i++)
		ASSERT_EQ(m.sp[i - 1].end <= m.sp[i].start, 1);
	sd_rst_lazy_map_release(&m);
}

int main(void)
{
	RUN(test_drop);
	RUN(test_move);
	return unit_summary();
}
