/* SPDX-License-Identifier: MIT */
#ifndef SDUMP_INFOFMT_H
#define SDUMP_INFOFMT_H

#include <stddef.h>
#include <stdio.h>

#include "pattr.h"
#include "psec.h"
#include "pstate.h"

/* A JSON string literal of @s (null for NULL); bytes outside printable ASCII as \u00XX. */
void sd_json_str(FILE *f, const char *s);
/*
 * A string of the image for a terminal: control characters (an escape
 * sequence in a forged path or name) become '?'. Cut to @size - 1 bytes.
 */
const char *sd_vis(char *buf, size_t size, const char *s);
#define VIS_MAX 4200

/* ,"attrs":{...} of a thread or of the process (infofmt_attrs.c); null for an image without them. */
void sd_attrs_thread_json(FILE *out, const struct attr_thread *a);
void sd_attrs_process_json(FILE *out, const struct attr_process *a);

/* ,"sec":{...} of a thread, null for an image without it; ,"posix_timers":[...] (infofmt_sec.c). */
void sd_sec_thread_json(FILE *out, const struct sec_thread *s);
void sd_sec_timers_json(FILE *out, const struct posix_timer *t, size_t n);

/*
 * An anonymous-inode fd's own state (infofmt_anon.c): for sdump show, the
 * lines under the fd's; for --json, ,"anon":{...} (null for other kinds).
 */
void sd_anon_text(FILE *out, const struct fd_state *d);
void sd_anon_json(FILE *out, const struct fd_state *d);

#endif /* SDUMP_INFOFMT_H */
