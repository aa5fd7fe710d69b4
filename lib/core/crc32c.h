/* CRC-32C (Castagnoli), the checksum of snapshot sections. */
#ifndef PERSONA_CORE_CRC32C_H
#define PERSONA_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0. crc32c("123456789") == 0xE3069283. */
uint32_t persona__crc32c(uint32_t crc, const void *data, size_t len);
/* The same with tables only (what persona__crc32c uses without the CPU instruction; tests
 * compare the two). */
uint32_t persona__crc32c_portable(uint32_t crc, const void *data, size_t len);

#endif
