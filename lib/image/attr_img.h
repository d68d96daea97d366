/* SPDX-License-Identifier: MIT */
/*
 * The attributes of a process and of its threads (proc/pattr.h) in
 * process.img and core-<tid>.img: AttrProcess and AttrThread, for
 * state_img.c.
 */
#ifndef SDUMP_ATTR_IMG_H
#define SDUMP_ATTR_IMG_H

#include "core.pb-c.h"
#include "pattr.h"
#include "process.pb-c.h"

/* Fill @out from @a; @out points into @a and @spec, which must outlive it. */
void sd_attrimg_thread_to_pb(const struct attr_thread *a, uint32_t spec[ATTR_NSPEC], AttrThread *out);
void sd_attrimg_process_to_pb(const struct attr_process *a, AttrProcess *out);
/* Fill @a from a record read; -EBADMSG for values no dump writes. */
int sd_attrimg_thread_from_pb(const AttrThread *in, struct attr_thread *a);
int sd_attrimg_process_from_pb(const AttrProcess *in, struct attr_process *a);

#endif /* SDUMP_ATTR_IMG_H */
