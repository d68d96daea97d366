/* SPDX-License-Identifier: MIT */
/* AttrThread and AttrProcess: to and from struct attr_thread / attr_process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attr_img.h"

void sd_attrimg_thread_to_pb(const struct attr_thread *a, uint32_t spec[ATTR_NSPEC], AttrThread *out)
{
	attr_thread__init(out);
	out->cpus = (ProtobufCBinaryData){ a->cpus_len, (uint8_t *)a->cpus };
	out->pdeathsig = a->pdeathsig;
	out->timerslack_ns = a->timerslack_ns;
	out->has_timerslack_default_ns = a->has_timerslack_default;
	out->timerslack_default_ns = a->timerslack_default_ns;
	out->personality = a->personality;
	out->ioprio = a->ioprio;
	memcpy(spec, a->spec, sizeof(a->spec));
	out->n_spec = ATTR_NSPEC;
	out->spec = spec;
	out->tsc = a->tsc;
	out->mce_kill = a->mce_kill;
	out->keepcaps = a->keepcaps;
	out->cpuid = a->cpuid;
	out->sched_flags = a->sched_flags;
	out->sched_runtime = a->sched_runtime;
	out->sched_deadline = a->sched_deadline;
	out->sched_period = a->sched_period;
	out->util_min = a->util_min;
	out->util_max = a->util_max;
	out->mempolicy = a->mempolicy;
	out->mempolicy_nodes = (ProtobufCBinaryData){ a->mempolicy_nodes_len,
						      (uint8_t *)a->mempolicy_nodes };
	out->cgroup = a->cgroup;
	if (a->own_creds) {
		out->has_own_creds = out->own_creds = true;
		out->n_own_uid = out->n_own_gid = 4;
		out->own_uid = (uint32_t *)a->uid;
		out->own_gid = (uint32_t *)a->gid;
		out->n_own_groups = a->ngroups;
		out->own_groups = (uint32_t *)a->groups;
	}
}

void sd_attrimg_process_to_pb(const struct attr_process *a, AttrProcess *out)
{
	attr_process__init(out);
	out->oom_score_adj = a->oom_score_adj;
	out->child_subreaper = a->child_subreaper;
	out->membarrier = a->membarrier;
	out->mdwe = a->mdwe;
	out->coredump_filter = a->coredump_filter;
	out->memory_merge = a->memory_merge;
	out->has_autogroup_nice = a->has_autogroup;
	out->autogroup_nice = a->autogroup_nice;
	out->xcomp_perm = a->xcomp_perm;
	out->futex_slots = a->futex_slots;
	out->thp_disable = a->thp_disable;
	out->has_mcl_future = a->mcl_future != 0;
	out->mcl_future = a->mcl_future;
	out->has_loginuid = a->has_loginuid;
	out->loginuid = a->loginuid;
	out->cgroup = a->has_cgroup ? (char *)a->cgroup : NULL;
}

int sd_attrimg_thread_from_pb(const AttrThread *in, struct attr_thread *a)
{
	/* a signal number, a kernel's cpumask; the rest is checked by the kernel at restore */
	if (in->cpus.len == 0 || in->cpus.len > ATTR_CPUMASK_MAX || in->n_spec > ATTR_NSPEC ||
	    in->pdeathsig < 0 || in->pdeathsig > 64 || in->mempolicy_nodes.len > ATTR_NODEMASK_MAX ||
	    (in->cgroup && strlen(in->cgroup) >= ATTR_CGROUP_MAX) ||
	    (in->own_creds && (in->n_own_uid != 4 || in->n_own_gid != 4 || in->n_own_groups > ATTR_NGROUPS_MAX)))
		return -EBADMSG;
	memset(a, 0, sizeof(*a));
	memcpy(a->cpus, in->cpus.data, in->cpus.len);
	a->cpus_len = in->cpus.len;
	a->pdeathsig = in->pdeathsig;
	a->timerslack_ns = in->timerslack_ns;
	a->has_timerslack_default = in->has_timerslack_default_ns;
	a->timerslack_default_ns = in->timerslack_default_ns;
	a->personality = in->personality;
	a->ioprio = in->ioprio;
	for (size_t k = 0; k < in->n_spec; k++)
		a->spec[k] = in->spec[k];
	a->tsc = in->tsc;
	a->mce_kill = in->mce_kill;
	a->keepcaps = in->keepcaps;
	a->cpuid = in->cpuid;
	a->sched_flags = in->sched_flags;
	a->sched_runtime = in->sched_runtime;
	a->sched_deadline = in->sched_deadline;
	a->sched_period = in->sched_period;
	a->util_min = in->util_min;
	a->util_max = in->util_max;
	a->mempolicy = in->mempolicy;
	if (in->mempolicy_nodes.len)
		memcpy(a->mempolicy_nodes, in->mempolicy_nodes.data, in->mempolicy_nodes.len);
	a->mempolicy_nodes_len = in->mempolicy_nodes.len;
	if (in->cgroup) {
		a->cgroup = strdup(in->cgroup);
		if (!a->cgroup)
			return -ENOMEM;
	}
	if (in->own_creds) {
		a->own_creds = true;
		memcpy(a->uid, in->own_uid, sizeof(a->uid));
		memcpy(a->gid, in->own_gid, sizeof(a->gid));
		a->ngroups = in->n_own_groups;
		if (a->ngroups)
			memcpy(a->groups, in->own_groups, a->ngroups * sizeof(*a->groups));
	}
	a->valid = true;
	return 0;
}

int sd_attrimg_process_from_pb(const AttrProcess *in, struct attr_process *a)
{
	if (in->oom_score_adj < -1000 || in->oom_score_adj > 1000 ||
	    (in->has_autogroup_nice && (in->autogroup_nice < -20 || in->autogroup_nice > 19)) ||
	    in->futex_slots < -1 ||
	    (in->has_mcl_future && in->mcl_future != SDUMP_MCL_FUTURE &&
	     in->mcl_future != (SDUMP_MCL_FUTURE | SDUMP_MCL_ONFAULT)) ||
	    (in->cgroup && strlen(in->cgroup) >= ATTR_CGROUP_MAX))
		return -EBADMSG;
	memset(a, 0, sizeof(*a));
	a->oom_score_adj = in->oom_score_adj;
	a->child_subreaper = in->child_subreaper;
	a->membarrier = in->membarrier;
	a->mdwe = in->mdwe;
	a->coredump_filter = in->coredump_filter;
	a->memory_merge = in->memory_merge;
	a->has_autogroup = in->has_autogroup_nice;
	a->autogroup_nice = in->autogroup_nice;
	a->xcomp_perm = in->xcomp_perm;
	a->futex_slots = in->futex_slots;
	a->thp_disable = in->thp_disable;
	a->mcl_future = in->has_mcl_future ? in->mcl_future : 0;
	a->has_loginuid = in->has_loginuid;
	a->loginuid = in->loginuid;
	if (in->cgroup) {
		a->has_cgroup = true;
		memcpy(a->cgroup, in->cgroup, strlen(in->cgroup) + 1);
	}
	a->valid = true;
	return 0;
}
