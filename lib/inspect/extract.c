/* SPDX-License-Identifier: MIT */
/* sdump extract: the dumped memory of an address range, through the chain. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sdump.h"
#define LOG_PREFIX "extract: "
#include "ctx.h"
#include "chain.h"
#include "util.h"

#define OUT_CHUNK (1u << 20)

/* The range must be covered by VMAs of the newest pass with no hole. */
static int check_range(struct sdump_ctx *ctx, const struct chain *c, uint64_t addr, uint64_t len)
{
	const struct vma_list *vl = &c->p[0].vmas;
	uint64_t a = addr, end;

	if (len == 0 || addr + len < addr)
		return sd_errx(ctx, -ERANGE, "bad range 0x%" PRIx64 "+%" PRIu64, addr, len);
	end = addr + len;
	while (a < end) {
		const struct vma *v = sd_vma_list_find(vl, a);

		if (!v)
			return sd_errx(ctx, -ERANGE,
				       "address 0x%" PRIx64 " is not in any VMA recorded in '%s'", a,
				       c->p[0].dir.path);
		a = v->end;
	}
	return 0;
}

SDUMP_API int sdump_extract(struct sdump_ctx *ctx, const char *dir, uint64_t addr, uint64_t len,
			    int out_fd)
{
	struct chain c = { 0 };
	uint8_t *buf = NULL;
	int r;

	r = sd_chain_open(ctx, dir, &c);
	if (r < 0)
		return r;
	r = check_range(ctx, &c, addr, len);
	if (r < 0)
		goto out;
	buf = malloc(OUT_CHUNK);
	if (!buf) {
		r = sd_err(ctx, -ENOMEM, "cannot extract");
		goto out;
	}
	while (len > 0) {
		size_t n = (size_t)MIN(len, (uint64_t)OUT_CHUNK);

		r = sd_chain_read_range(ctx, &c, addr, buf, n, false);
		if (r < 0)
			goto out;
		r = sd_write_all(out_fd, buf, n);
		if (r < 0) {
			r = sd_err(ctx, r, "cannot write the extracted memory");
			goto out;
		}
		addr += n;
		len -= n;
	}
out:
	free(buf);
	sd_chain_release(&c);
	return r;
}
