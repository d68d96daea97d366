/* SPDX-License-Identifier: MIT */
/*
 * The map of a lazy restore's target (rst_lazy.h): where each image page of
 * its lazy VMAs is now, as its userfaultfd's events say. Few spans (about
 * one per VMA, a few more per mremap or munmap), kept sorted and apart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#include "array.h"
#include "rst_lazy.h"
#include "util.h"

int sd_rst_lazy_map_add(struct rst_lazy_map *m, struct rst_lazy_span s)
{
	size_t i = m->n;

	if (s.start >= s.end)
		return 0;
	if (ARRAY_RESERVE(m->sp, m->cap, m->n + 1, 16) < 0)
		return -ENOMEM;
	while (i > 0 && m->sp[i - 1].start > s.start) {
		m->sp[i] = m->sp[i - 1];
		i--;
	}
	m->sp[i] = s;
	m->n++;
	return 0;
}

/* [a, b) out of @m; what was cut out, moved by @move, added to @out (when not NULL). */
static int cut(struct rst_lazy_map *m, uint64_t a, uint64_t b, struct rst_lazy_map *out, int64_t move)
{
	struct rst_lazy_span *keep = calloc(m->n * 2 + 1, sizeof(*keep));
	size_t n = 0;
	int r = 0;

	if (!keep)
		return -ENOMEM;
	for (size_t i = 0; i < m->n && r == 0; i++) {
		struct rst_lazy_span s = m->sp[i];

		if (s.end <= a || s.start >= b) {
			keep[n++] = s;
			continue;
		}
		/* the parts outside [a, b) stay, in order */
		if (s.start < a)
			keep[n++] = (struct rst_lazy_span){ s.start, a, s.shift };
		if (s.end > b)
			keep[n++] = (struct rst_lazy_span){ b, s.end, s.shift };
		if (out)
			r = sd_rst_lazy_map_add(out, (struct rst_lazy_span){ MAX(s.start, a) + (uint64_t)move,
									     MIN(s.end, b) + (uint64_t)move,
									     s.shift + move });
	}
	if (r < 0) {
		free(keep);
		return r;
	}
	free(m->sp);
	m->sp = keep;
	m->n = n;
	m->cap = n;
	return 0;
}

int sd_rst_lazy_map_drop(struct rst_lazy_map *m, uint64_t start, uint64_t end)
{
	return cut(m, start, end, NULL, 0);
}

int sd_rst_lazy_map_move(struct rst_lazy_map *m, uint64_t from, uint64_t to, uint64_t len)
{
	struct rst_lazy_map moved = { 0 };
	int r;

	r = cut(m, from, from + len, &moved, (int64_t)(to - from));
	if (r == 0)
		r = cut(m, to, to + len, NULL, 0);
	for (size_t i = 0; r == 0 && i < moved.n; i++)
		r = sd_rst_lazy_map_add(m, moved.sp[i]);
	free(moved.sp);
	return r;
}

bool sd_rst_lazy_map_find(const struct rst_lazy_map *m, uint64_t addr, uint64_t *ret_img)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->sp[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= m->sp[lo - 1].end)
		return false;
	*ret_img = addr - (uint64_t)m->sp[lo - 1].shift;
	return true;
}

void sd_rst_lazy_map_release(struct rst_lazy_map *m)
{
	free(m->sp);
	*m = (struct rst_lazy_map){ 0 };
}
