/* SPDX-License-Identifier: MIT */
/* CRC-32C (Castagnoli), the checksum of every image file byte. */
#ifndef SDUMP_CRC32C_H
#define SDUMP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC-32C: start with crc = 0. Uses SSE4.2 when the CPU has it. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif /* SDUMP_CRC32C_H */
