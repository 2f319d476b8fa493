/* UTF-16 and GUID helpers (see text.h). */
#include "base/text.h"

#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/bytes.h"

size_t etw_utf16_span(const uint8_t *p, size_t n, int *terminated)
{
    n &= ~(size_t)1;
    size_t i = 0;
#ifdef __SSE2__
    /* Eight units at a time: strings in payloads run to dozens of characters. */
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned nul = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(v, _mm_setzero_si128()));
        if (nul) {
            if (terminated)
                *terminated = 1;
            return i + (size_t)__builtin_ctz(nul);
        }
    }
#endif
    for (; i < n; i += 2) {
        if (p[i] == 0 && p[i + 1] == 0) {
            if (terminated)
                *terminated = 1;
            return i;
        }
    }
    if (terminated)
        *terminated = 0;
    return n;
}

size_t etw_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static void put_utf8(etw_strbuf *out, uint32_t cp)
{
    char b[4];
    etw_strbuf_append(out, b, etw_utf8_encode(cp, b));
}

void etw_utf16_to_utf8(etw_strbuf *out, const uint8_t *p, size_t nbytes)
{
    nbytes &= ~(size_t)1;
    for (size_t i = 0; i < nbytes; i += 2) {
        uint32_t u = etw_rd16(p + i);
        if (u < 0x80) {
            etw_strbuf_putc(out, (char)u);
            continue;
        }
        if (u >= 0xD800 && u <= 0xDBFF && i + 4 <= nbytes) {
            uint32_t lo = etw_rd16(p + i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                put_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
                i += 2;
                continue;
            }
        }
        put_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u);
    }
}

size_t etw_utf16_to_utf8_cut(const uint8_t *p, size_t nbytes, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return 0;
    nbytes &= ~(size_t)1;
    for (size_t i = 0; i < nbytes; i += 2) {
        uint32_t u = etw_rd16(p + i);
        if (u >= 0xD800 && u <= 0xDBFF && i + 4 <= nbytes) {
            uint32_t lo = etw_rd16(p + i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        char b[4];
        size_t len = etw_utf8_encode(u >= 0xD800 && u <= 0xDFFF ? 0xFFFD : u, b);
        if (len >= cap - o)
            break; /* whole characters only, and room for the NUL */
        memcpy(out + o, b, len);
        o += len;
    }
    out[o] = '\0';
    return o;
}

size_t etw_utf8_to_utf16(const char *s, WCHAR *out, size_t cap)
{
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        uint32_t cp;
        int extra;
        if (u[0] < 0x80) {
            cp = u[0];
            extra = 0;
        } else if ((u[0] & 0xE0) == 0xC0) {
            cp = u[0] & 0x1F;
            extra = 1;
        } else if ((u[0] & 0xF0) == 0xE0) {
            cp = u[0] & 0x0F;
            extra = 2;
        } else if ((u[0] & 0xF8) == 0xF0) {
            cp = u[0] & 0x07;
            extra = 3;
        } else {
            cp = 0xFFFD;
            extra = 0;
        }
        u++;
        for (int k = 0; k < extra; k++) {
            if ((*u & 0xC0) != 0x80) {
                cp = 0xFFFD;
                break;
            }
            cp = (cp << 6) | (*u++ & 0x3F);
        }
        size_t need = cp >= 0x10000 ? 2 : 1;
        if (o + need + 1 > cap)
            return (size_t)-1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out[o++] = (WCHAR)(0xD800 + (cp >> 10));
            out[o++] = (WCHAR)(0xDC00 + (cp & 0x3FF));
        } else {
            out[o++] = (WCHAR)cp;
        }
    }
    if (o + 1 > cap)
        return (size_t)-1;
    out[o] = 0;
    return o;
}

void etw_wstr_to_utf8(etw_strbuf *out, const WCHAR *s)
{
    for (size_t i = 0; s[i]; i++) {
        uint32_t u = s[i];
        if (u >= 0xD800 && u <= 0xDBFF && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            put_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (s[i + 1] - 0xDC00u));
            i++;
            continue;
        }
        put_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u);
    }
}

GUID etw_guid_read(const uint8_t *p)
{
    GUID g;
    g.Data1 = etw_rd32(p);
    g.Data2 = etw_rd16(p + 4);
    g.Data3 = etw_rd16(p + 6);
    memcpy(g.Data4, p + 8, 8);
    return g;
}

void etw_guid_format(const GUID *g, char out[37])
{
    /* Without printf: the CLI formats a GUID for every event it prints. Each byte's two
     * digits go to a fixed place; the dashes are fixed too. */
    static const char hex[] = "0123456789abcdef";
    static const uint8_t at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
#ifdef __SSE2__
    /* All 32 digits in two vectors (each nibble n becomes '0' + n, plus 'a' - '0' - 10 where
     * n > 9), then copied around the dashes. */
    (void)hex;
    (void)at;
    const __m128i mask = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0'),
                  letters = _mm_set1_epi8('a' - '0' - 10);
    /* The bytes in big-endian field order, assembled in registers (storing them one by one and
     * loading the 16 at once stalls on store forwarding). */
    uint64_t b_lo = (uint64_t)__builtin_bswap32(g->Data1) | (uint64_t)__builtin_bswap16(g->Data2) << 32 |
                  (uint64_t)__builtin_bswap16(g->Data3) << 48,
             b_hi;
    memcpy(&b_hi, g->Data4, 8);
    __m128i v = _mm_set_epi64x((long long)b_hi, (long long)b_lo);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), mask), lo = _mm_and_si128(v, mask);
    hi = _mm_add_epi8(_mm_add_epi8(hi, zero), _mm_and_si128(_mm_cmpgt_epi8(hi, nine), letters));
    lo = _mm_add_epi8(_mm_add_epi8(lo, zero), _mm_and_si128(_mm_cmpgt_epi8(lo, nine), letters));
    char d[32];
    _mm_storeu_si128((__m128i *)(void *)d, _mm_unpacklo_epi8(hi, lo));
    _mm_storeu_si128((__m128i *)(void *)(d + 16), _mm_unpackhi_epi8(hi, lo));
    memcpy(out, d, 8);
    memcpy(out + 9, d + 8, 4);
    memcpy(out + 14, d + 12, 4);
    memcpy(out + 19, d + 16, 4);
    memcpy(out + 24, d + 20, 12);
#else
    uint8_t b[16];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(g->Data1 >> (24 - 8 * i));
    b[4] = (uint8_t)(g->Data2 >> 8), b[5] = (uint8_t)g->Data2;
    b[6] = (uint8_t)(g->Data3 >> 8), b[7] = (uint8_t)g->Data3;
    memcpy(b + 8, g->Data4, 8);
    for (int i = 0; i < 16; i++) {
        out[at[i]] = hex[b[i] >> 4];
        out[at[i] + 1] = hex[b[i] & 15];
    }
#endif
    out[8] = out[13] = out[18] = out[23] = '-';
    out[36] = '\0';
}

int etw_guid_equal(const GUID *a, const GUID *b)
{
    return a->Data1 == b->Data1 && a->Data2 == b->Data2 && a->Data3 == b->Data3 &&
           memcmp(a->Data4, b->Data4, 8) == 0;
}

int etw_guid_parse(const char *s, GUID *g)
{
    unsigned v[11];
    int used = 0;
    if (!s)
        return 0;
    if (*s == '{')
        s++;
    if (sscanf(s, "%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &v[6], &v[7], &v[8], &v[9], &v[10], &used) != 11 || used != 36)
        return 0;
    g->Data1 = v[0];
    g->Data2 = (USHORT)v[1];
    g->Data3 = (USHORT)v[2];
    for (int i = 0; i < 8; i++)
        g->Data4[i] = (UCHAR)v[3 + i];
    return 1;
}
