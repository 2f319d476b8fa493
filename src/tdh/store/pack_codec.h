/* The two encodings inside schema pack bodies (docs/format/schema-pack.md §4): unsigned LEB128
 * varints and strings stored as UTF-8 that keeps lone UTF-16 surrogates (as 3-byte sequences,
 * so any UTF-16 string a schema holds comes back unit for unit). Readers take (p, n, *pos)
 * and fail instead of reading past n. */
#ifndef ETWIRE_TDH_PACK_CODEC_H
#define ETWIRE_TDH_PACK_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Reads one varint at *pos; 0 if it runs past n or does not fit 64 bits. */
static inline int etw_pack_get_uv(const uint8_t *p, size_t n, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= n)
            return 0;
        uint8_t b = p[(*pos)++];
        if (shift == 63 && b > 1)
            return 0;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

/* A varint that must fit max. */
static inline int etw_pack_get_u32(const uint8_t *p, size_t n, size_t *pos, uint32_t max, uint32_t *v)
{
    uint64_t x;
    if (!etw_pack_get_uv(p, n, pos, &x) || x > max)
        return 0;
    *v = (uint32_t)x;
    return 1;
}

/* Writes v to out (at least 10 bytes); returns the bytes written. */
static inline size_t etw_pack_put_uv(uint8_t *out, uint64_t v)
{
    size_t i = 0;
    while (v >= 0x80) {
        out[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[i++] = (uint8_t)v;
    return i;
}

/* Decodes one code unit sequence of a stored string at s (NUL-terminated): writes one or two
 * UTF-16 units to u, returns the bytes consumed, 0 at a malformed sequence. */
static inline size_t etw_pack_utf8_unit(const uint8_t *s, uint16_t u[2], unsigned *units)
{
    uint32_t c;
    size_t len;
    if (s[0] < 0x80) {
        c = s[0], len = 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        c = s[0] & 0x1fu, len = 2;
    } else if ((s[0] & 0xf0) == 0xe0) {
        c = s[0] & 0x0fu, len = 3;
    } else if ((s[0] & 0xf8) == 0xf0) {
        c = s[0] & 0x07u, len = 4;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        c = c << 6 | (s[i] & 0x3fu);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[len] || c > 0x10ffff)
        return 0;
    if (c >= 0x10000) {
        c -= 0x10000;
        u[0] = (uint16_t)(0xd800 | (c >> 10));
        u[1] = (uint16_t)(0xdc00 | (c & 0x3ff));
        *units = 2;
    } else {
        u[0] = (uint16_t)c;
        *units = 1;
    }
    return len;
}

#endif
