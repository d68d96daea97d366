/* SPDX-License-Identifier: MIT */
/* CRC-32C (Castagnoli), the checksum of every image file byte. */
#ifndef SDUMP_CRC32C_H
#define SDUMP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Continue a CRC-32C: start with crc = 0. With SSE4.2's instruction when
 * the CPU has it and it runs faster than a table (measured once).
 */
uint32_t sd_crc32c(uint32_t crc, const void *buf, size_t len);
/* Each implementation on its own, for the tests (the instruction: the table without SSE4.2). */
uint32_t sd_crc32c_table(uint32_t crc, const void *buf, size_t len);
uint32_t sd_crc32c_instruction(uint32_t crc, const void *buf, size_t len);

#endif /* SDUMP_CRC32C_H */
