/* SPDX-License-Identifier: MIT */
/* sdump show --json: the attributes of the threads and of the process (proc/pattr.h). */
#include <inttypes.h>
#include <stdio.h>

#include "sdump.h"
#include "infofmt.h"
#include "pattr.h"

void sd_attrs_thread_json(FILE *out, const struct attr_thread *a)
{
	char cpus[4096];

	fprintf(out, ",\"attrs\":");
	if (!a->valid) {
		fprintf(out, "null");
		return;
	}
	sd_pattr_fmt_cpus(a->cpus, a->cpus_len, cpus, sizeof(cpus));
	fprintf(out, "{\"cpus\":");
	sd_json_str(out, cpus);
	fprintf(out, ",\"pdeathsig\":%d,\"timerslack_ns\":%" PRIu64 ",\"timerslack_default_ns\":",
		a->pdeathsig, a->timerslack_ns);
	if (a->has_timerslack_default)
		fprintf(out, "%" PRIu64, a->timerslack_default_ns);
	else
		fprintf(out, "null");
	fprintf(out, ",\"personality\":%u,\"ioprio\":%d,\"spec_store_bypass\":%u"
		",\"spec_indirect_branch\":%u,\"spec_l1d_flush\":%u,\"tsc\":%d,\"mce_kill\":%d"
		",\"keepcaps\":%s,\"cpuid\":%s,\"sched_flags\":%" PRIu64 ",\"sched_runtime\":%" PRIu64
		",\"sched_deadline\":%" PRIu64 ",\"sched_period\":%" PRIu64 ",\"util_min\":%u,\"util_max\":%u"
		",\"mempolicy\":%d,\"mempolicy_nodes\":",
		a->personality, a->ioprio, a->spec[0], a->spec[1], a->spec[2], a->tsc, a->mce_kill,
		a->keepcaps ? "true" : "false", a->cpuid ? "true" : "false", a->sched_flags,
		a->sched_runtime, a->sched_deadline, a->sched_period, a->util_min, a->util_max,
		a->mempolicy);
	sd_pattr_fmt_cpus(a->mempolicy_nodes, a->mempolicy_nodes_len, cpus, sizeof(cpus));
	sd_json_str(out, cpus);
	fputc('}', out);
}

void sd_attrs_process_json(FILE *out, const struct attr_process *a)
{
	fprintf(out, ",\"attrs\":");
	if (!a->valid) {
		fprintf(out, "null");
		return;
	}
	fprintf(out, "{\"oom_score_adj\":%d,\"child_subreaper\":%s,\"membarrier\":%u,\"mdwe\":%u"
		",\"coredump_filter\":%u,\"memory_merge\":%s,\"autogroup_nice\":",
		a->oom_score_adj, a->child_subreaper ? "true" : "false", a->membarrier, a->mdwe,
		a->coredump_filter, a->memory_merge ? "true" : "false");
	if (a->has_autogroup)
		fprintf(out, "%d", a->autogroup_nice);
	else
		fprintf(out, "null");
	fprintf(out, ",\"xcomp_perm\":%" PRIu64 ",\"futex_slots\":%d,\"thp_disable\":%u,\"mcl_future\":%u",
		a->xcomp_perm, a->futex_slots, a->thp_disable, a->mcl_future);
	if (a->has_loginuid)
		fprintf(out, ",\"loginuid\":%u", a->loginuid);
	if (a->has_cgroup) {
		fprintf(out, ",\"cgroup\":");
		sd_json_str(out, a->cgroup);
	}
	fprintf(out, "}");
}
