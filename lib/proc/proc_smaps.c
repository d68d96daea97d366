/* SPDX-License-Identifier: MIT */
/*
 * /proc/PID/smaps: the VmFlags and protection key of each VMA (see proc.h).
 * Pure, like the other parsers. The mnemonics are those of Linux 6.18's
 * show_smap_vma_flags() (fs/proc/task_mmu.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

struct vmflag_name {
	char name[3];
	uint32_t bit;	/* 0: derived from other state, or not process state */
};

static const struct vmflag_name vmflag_names[] = {
	/* protection, sharing, and what the mapping and its file's open mode allow */
	{ "rd", 0 }, { "wr", 0 }, { "ex", 0 }, { "sh", 0 },
	{ "mr", 0 }, { "mw", 0 }, { "me", 0 }, { "ms", 0 },
	/* driver mappings ([vvar], devices): the kernel's, made by the mapping itself */
	{ "pf", 0 }, { "io", 0 }, { "de", 0 }, { "ar", 0 }, { "mm", 0 },
	/* soft-dirty tracking: a tracker's state, not the process's */
	{ "sd", 0 },
	{ "dc", VMF_DONTCOPY }, { "wf", VMF_WIPEONFORK }, { "dd", VMF_DONTDUMP },
	{ "hg", VMF_HUGEPAGE }, { "nh", VMF_NOHUGEPAGE }, { "mg", VMF_MERGEABLE },
	{ "lo", VMF_LOCKED }, { "lf", VMF_LOCKONFAULT }, { "sr", VMF_SEQ_READ },
	{ "rr", VMF_RAND_READ }, { "ac", VMF_ACCOUNT }, { "nr", VMF_NORESERVE },
	{ "dp", VMF_DROPPABLE }, { "sl", VMF_SEALED }, { "gd", VMF_GROWSDOWN },
	{ "gu", VMF_MAYBE_GUARD },
	{ "um", VMF_UFFD_MISSING }, { "uw", VMF_UFFD_WP }, { "ui", VMF_UFFD_MINOR },
	{ "ht", VMF_HUGETLB }, { "sf", VMF_SYNC }, { "ss", VMF_SHADOW_STACK },
};

const char *sd_vmflag_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(vmflag_names) / sizeof(vmflag_names[0]); i++)
		if (vmflag_names[i].bit == bit && bit)
			return vmflag_names[i].name;
	return NULL;
}

void sd_vmflags_str(uint32_t flags, char *buf, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (uint32_t b = 1; b && n + 4 < size; b <<= 1) {
		const char *name = (flags & b) ? sd_vmflag_name(b) : NULL;

		if (name)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? " " : "", name);
	}
	if (n == 0)
		(void)snprintf(buf, size, "-");
}

/* The VmFlags line's mnemonics, after "VmFlags:", into @v. */
static void parse_flags(const char *p, const char *end, struct vma *v)
{
	v->vmflags = 0;
	v->may_write = false;
	v->vmflag_unknown[0] = '\0';
	while (p < end) {
		size_t len;
		bool known = false;

		while (p < end && *p == ' ')
			p++;
		len = strcspn(p, " \n");
		if (p + len > end)
			len = (size_t)(end - p);
		if (len == 0)
			break;
		/* derived from the open mode but after a memfd's write seals: kept apart */
		if (len == 2 && !memcmp(p, "mw", 2))
			v->may_write = true;
		for (size_t i = 0; i < sizeof(vmflag_names) / sizeof(vmflag_names[0]); i++) {
			if (len == 2 && !memcmp(p, vmflag_names[i].name, 2)) {
				v->vmflags |= vmflag_names[i].bit;
				known = true;
				break;
			}
		}
		if (!known) {
			if (!(v->vmflags & VMF_UNKNOWN))
				(void)snprintf(v->vmflag_unknown, sizeof(v->vmflag_unknown), "%.*s",
					       (int)(len < 3 ? len : 3), p);
			v->vmflags |= VMF_UNKNOWN;
		}
		p += len;
	}
	v->has_vmflags = true;
}

int sd_proc_parse_smaps(const char *buf, struct vma_list *l)
{
	struct vma *cur = NULL;
	bool in_vma = false;

	for (const char *p = buf; p && *p;) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);
		unsigned long long start, stop;
		unsigned int pkey;
		int n = 0;
		char line[128];

		/*
		 * sscanf reads a copy of the line's head: on the whole buffer it
		 * would take the length of all that follows at each call, which
		 * is quadratic in the VMAs (tens of thousands take minutes).
		 */
		(void)snprintf(line, sizeof(line), "%.*s", (int)(end - p), p);
		if (sscanf(line, "%llx-%llx %n", &start, &stop, &n) == 2 && n > 0) {
			cur = (struct vma *)sd_vma_list_find(l, start);
			if (cur && (cur->start != start || cur->end != stop))
				cur = NULL;
			in_vma = true;
		} else if (!strncmp(p, "VmFlags:", 8)) {
			if (!in_vma)
				return -EBADMSG;
			if (cur)
				parse_flags(p + 8, end, cur);
		} else if (sscanf(line, "ProtectionKey: %u", &pkey) == 1) {
			if (!in_vma)
				return -EBADMSG;
			if (cur)
				cur->pkey = pkey;
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}
