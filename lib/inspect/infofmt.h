/* SPDX-License-Identifier: MIT */
#ifndef SDUMP_INFOFMT_H
#define SDUMP_INFOFMT_H

#include <stdio.h>

/* A JSON string literal of @s (null for NULL); bytes outside printable ASCII as \u00XX. */
void sd_json_str(FILE *f, const char *s);

#endif /* SDUMP_INFOFMT_H */
