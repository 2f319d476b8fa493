/* Little-endian reads from untrusted bytes. Callers check bounds first (in the overflow-safe
 * form `off <= n && len <= n - off`, see etw_range_ok); these helpers never cast a struct over
 * bytes, so alignment and host byte order never matter. */
#ifndef ETWIRE_BASE_BYTES_H
#define ETWIRE_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* off and len are 64-bit so that sums and products of 32-bit fields from the data, computed
 * in uint64_t, cannot wrap on 32-bit targets before they are checked. */
static inline bool etw_range_ok(size_t n, uint64_t off, uint64_t len)
{
    return off <= n && len <= (uint64_t)n - off;
}

/* Copies k < 16 bytes (the tail of a 16-byte vector step) in at most three fixed-size moves,
 * which may overlap, instead of a library call for a size the compiler does not know. */
static inline void etw_copy_under16(void *dst, const void *src, size_t k)
{
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    if (k >= 8) {
        memcpy(d, s, 8);
        memcpy(d + k - 8, s + k - 8, 8);
    } else if (k >= 4) {
        memcpy(d, s, 4);
        memcpy(d + k - 4, s + k - 4, 4);
    } else if (k) {
        d[0] = s[0];
        d[k / 2] = s[k / 2];
        d[k - 1] = s[k - 1];
    }
}

static inline uint16_t etw_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t etw_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t etw_rd64(const uint8_t *p)
{
    return (uint64_t)etw_rd32(p) | ((uint64_t)etw_rd32(p + 4) << 32);
}

static inline void etw_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void etw_wr32(uint8_t *p, uint32_t v)
{
    etw_wr16(p, (uint16_t)v);
    etw_wr16(p + 2, (uint16_t)(v >> 16));
}

static inline void etw_wr64(uint8_t *p, uint64_t v)
{
    etw_wr32(p, (uint32_t)v);
    etw_wr32(p + 4, (uint32_t)(v >> 32));
}

static inline size_t etw_align8(size_t x)
{
    return (x + 7u) & ~(size_t)7u;
}

#endif
