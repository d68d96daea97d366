/* SPDX-License-Identifier: MIT */
/* sdump check -t PID: what sdump_preflight() found, for a person or as JSON. */
#include <stdio.h>

#include "sdump.h"
#include "infofmt.h"

SDUMP_API void sdump_preflight_write_text(const struct sdump_preflight *pf, FILE *out)
{
	char tree[64] = "";

	if (pf->members > 1)
		(void)snprintf(tree, sizeof(tree), " and its tree of %zu processes", pf->members);
	if (!pf->nobstacles)
		fprintf(out, "pid %d (%s)%s: a dump would go through\n", pf->pid, pf->comm, tree);
	else
		fprintf(out, "pid %d (%s)%s: %zu obstacle%s to a dump%s\n", pf->pid, pf->comm, tree,
			pf->nobstacles, pf->nobstacles == 1 ? "" : "s",
			pf->complete ? "" : " (the checks that run system calls in the process were skipped: there may be more)");
	for (size_t i = 0; i < pf->nobstacles; i++)
		fprintf(out, "  %s\n", pf->obstacles[i]);
	fprintf(out, "pre-dumps track writes with %s%s\n", pf->tracker,
		pf->tracked ? " (armed by an earlier pass: the next pre-dump saves only what was written since)"
			    : "");
}

SDUMP_API void sdump_preflight_write_json(const struct sdump_preflight *pf, FILE *out)
{
	fprintf(out, "{\"pid\":%d,\"comm\":", pf->pid);
	sd_json_str(out, pf->comm);
	fprintf(out, ",\"members\":%zu,\"threads\":%zu,\"dump_possible\":%s,\"complete\":%s,\"obstacles\":[",
		pf->members, pf->threads,
		pf->nobstacles ? "false" : "true", pf->complete ? "true" : "false");
	for (size_t i = 0; i < pf->nobstacles; i++) {
		if (i)
			fputc(',', out);
		sd_json_str(out, pf->obstacles[i]);
	}
	fputs("],\"tracker\":", out);
	sd_json_str(out, pf->tracker);
	fprintf(out, ",\"tracked\":%s}\n", pf->tracked ? "true" : "false");
}
