/* SPDX-License-Identifier: MIT */
/* The smaps parser: VmFlags and protection keys of the VMAs of a maps text. */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "proc.h"

static const char maps[] = "1000-3000 rw-p 00000000 00:00 0\n"
			   "3000-4000 r--p 00000000 00:00 0\n"
			   "8000-a000 rw-p 00000000 00:00 0\n";

static void test_smaps_flags(void)
{
	struct vma_list l = { 0 };
	char b[128];

	ASSERT_OK(sd_proc_parse_maps(maps, &l));
	ASSERT_OK(sd_proc_parse_smaps("1000-3000 rw-p 00000000 00:00 0\n"
				      "Size:                  8 kB\n"
				      "AnonHugePages:         0 kB\n"
				      "ProtectionKey:         3\n"
				      "VmFlags: rd wr mr mw me dc wf dd ac lo lf\n"
				      "3000-4000 r--p 00000000 00:00 0\n"
				      "Anonymous:             0 kB\n"
				      "VmFlags: rd mr me gu sl um sd\n"
				      "8000-a000 rw-p 00000000 00:00 0\n"
				      "VmFlags: rd wr mr mw me zz nh yy",
				      &l));
	ASSERT_TRUE(l.v[0].has_vmflags);
	ASSERT_EQ(l.v[0].vmflags, VMF_DONTCOPY | VMF_WIPEONFORK | VMF_DONTDUMP | VMF_ACCOUNT |
					  VMF_LOCKED | VMF_LOCKONFAULT);
	ASSERT_EQ(l.v[0].pkey, 3);
	/* mw apart: no VmFlag of its own, but a sealed memfd's mapping lacks it */
	ASSERT_TRUE(l.v[0].may_write);
	ASSERT_TRUE(!l.v[1].may_write);
	ASSERT_EQ(l.v[1].vmflags, VMF_MAYBE_GUARD | VMF_SEALED | VMF_UFFD_MISSING);
	ASSERT_TRUE(!(VMF_MAYBE_GUARD & VMF_SAVED_MASK));
	ASSERT_EQ(l.v[1].pkey, 0);
	/* a mnemonic not known: the first one named */
	ASSERT_EQ(l.v[2].vmflags, VMF_NOHUGEPAGE | VMF_UNKNOWN);
	ASSERT_STREQ(l.v[2].vmflag_unknown, "zz");
	sd_vmflags_str(l.v[0].vmflags, b, sizeof(b));
	ASSERT_STREQ(b, "dc wf dd lo lf ac");
	sd_vmflags_str(0, b, sizeof(b));
	ASSERT_STREQ(b, "-");
	ASSERT_STREQ(sd_vmflag_name(VMF_SEALED), "sl");
	ASSERT_TRUE(sd_vmflag_name(VMF_UNKNOWN) == NULL);
	sd_vma_list_release(&l);
}

/* A VMA that changed between maps and smaps is left without flags; stray lines refused. */
static void test_smaps_mismatch(void)
{
	struct vma_list l = { 0 };

	ASSERT_OK(sd_proc_parse_maps(maps, &l));
	ASSERT_OK(sd_proc_parse_smaps("1000-2000 rw-p 00000000 00:00 0\n"
				      "VmFlags: rd wr dc\n"
				      "5000-6000 rw-p 00000000 00:00 0\n"
				      "VmFlags: rd wr dc\n",
				      &l));
	ASSERT_TRUE(!l.v[0].has_vmflags);
	ASSERT_TRUE(!l.v[1].has_vmflags);
	ASSERT_EQ(sd_proc_parse_smaps("VmFlags: rd\n", &l), -EBADMSG);
	ASSERT_EQ(sd_proc_parse_smaps("ProtectionKey: 1\n", &l), -EBADMSG);
	ASSERT_OK(sd_proc_parse_smaps("", &l));
	sd_vma_list_release(&l);
}

int main(void)
{
	RUN(test_smaps_flags);
	RUN(test_smaps_mismatch);
	return 0;
}
