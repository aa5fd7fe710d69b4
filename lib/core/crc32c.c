#include "crc32c.h"

#include <string.h>
#include <threads.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define HAVE_CRC32_INSN 1
#endif

/* Slicing-by-8 tables, built once (call_once: no global init function to call). */
static uint32_t table[8][256];
static once_flag table_once = ONCE_FLAG_INIT;

static void build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
}

uint32_t persona__crc32c_portable(uint32_t crc, const void *data, size_t len)
{
    call_once(&table_once, build_table);
    const unsigned char *p = data;
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        crc = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^
              table[4][lo >> 24] ^ table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^
              table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

#ifdef HAVE_CRC32_INSN
/* SSE4.2 has CRC-32C as an instruction (8 bytes per instruction, ~5x the tables): snapshot
 * saves and opens checksum every byte they move. Chosen at run time, so the library still
 * runs on x86-64 CPUs without it. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_insn(uint32_t crc, const void *data,
                                                              size_t len)
{
    const unsigned char *p = data;
    uint64_t c = ~crc;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}

static int have_insn;
static once_flag insn_once = ONCE_FLAG_INIT;

static void detect_insn(void)
{
    __builtin_cpu_init();
    have_insn = __builtin_cpu_supports("sse4.2");
}
#endif

uint32_t persona__crc32c(uint32_t crc, const void *data, size_t len)
{
#ifdef HAVE_CRC32_INSN
    call_once(&insn_once, detect_insn);
    if (have_insn)
        return crc32c_insn(crc, data, len);
#endif
    return persona__crc32c_portable(crc, data, len);
}
