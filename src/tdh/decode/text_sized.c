/* NUL-terminated payload strings sized and converted in one pass (see text_out.h): most are
 * short printable ASCII, for which finding the terminator (etw_value_size) and converting up
 * to it (etw_text_utf16 / etw_text_ansi) were two scans of the same bytes. Anything else takes
 * those two calls, so the text is the same by construction. */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/bytes.h"
#include "base/text.h"
#include "tdh/decode/text_masks.h"
#include "tdh/decode/text_out.h"

/* The size etw_value_size gives a string without a length: up to and with the terminator, or
 * all n bytes when there is none. */
static size_t utf16_size(const uint8_t *p, size_t n)
{
    int term;
    size_t s = etw_utf16_span(p, n, &term);
    return term ? s + 2 : n;
}

static size_t ansi_size(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    const uint8_t *z = memchr(p, 0, n);
    return z ? (size_t)(z - p) + 1 : n;
}

#ifdef __SSE2__
/* 16 bytes at p + i, or (fewer left) the rest padded with zeros: a terminator found in the
 * padding is told apart by its position. */
static inline __m128i load_padded(const uint8_t *p, size_t i, size_t n)
{
    if (i + 16 <= n)
        return _mm_loadu_si128((const __m128i *)(const void *)(p + i));
    uint8_t t[16] = {0};
    etw_copy_under16(t, p + i, n - i);
    return _mm_loadu_si128((const __m128i *)(const void *)t);
}

/* Mask (two bits per unit) of the printable ASCII units (DEL not, in the line modes, where it
 * is escaped), quotes and backslashes included. */
static inline __attribute__((always_inline)) unsigned printable_units(__m128i v, int esc)
{
    return (unsigned)_mm_movemask_epi8(
        _mm_and_si128(_mm_cmpgt_epi16(v, _mm_set1_epi16(0x1F)),
                      _mm_cmplt_epi16(v, _mm_set1_epi16(esc >= ETW_ESC_LINE ? 0x7F : 0x80))));
}

/* Mask (two bits per unit) of the printable units that take a character inserted before them:
 * quotes and backslashes in JSON (a backslash), quotes in CSV (another quote). */
static inline __attribute__((always_inline)) unsigned doubled_units(__m128i v, int esc)
{
    if (esc == ETW_ESC_JSON)
        return (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi16(v, _mm_set1_epi16('"')), _mm_cmpeq_epi16(v, _mm_set1_epi16('\\'))));
    if (esc == ETW_ESC_CSV)
        return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(v, _mm_set1_epi16('"')));
    return 0;
}

/* Mask (two bits per unit) of the units written as they are: printable and not doubled. */
static inline __attribute__((always_inline)) unsigned plain_units(__m128i v, int esc)
{
    __m128i ok = _mm_and_si128(_mm_cmpgt_epi16(v, _mm_set1_epi16(0x1F)),
                               _mm_cmplt_epi16(v, _mm_set1_epi16(esc >= ETW_ESC_LINE ? 0x7F : 0x80)));
    if (esc == ETW_ESC_JSON)
        ok = _mm_andnot_si128(
            _mm_or_si128(_mm_cmpeq_epi16(v, _mm_set1_epi16('"')), _mm_cmpeq_epi16(v, _mm_set1_epi16('\\'))), ok);
    else if (esc == ETW_ESC_CSV)
        ok = _mm_andnot_si128(_mm_cmpeq_epi16(v, _mm_set1_epi16('"')), ok);
    return (unsigned)_mm_movemask_epi8(ok);
}

#endif

/* etw_text_utf16z for one value of esc (a constant in each copy: each loop is compiled for its
 * mode). */
static inline __attribute__((always_inline)) size_t utf16z(etw_strbuf *out, const uint8_t *p, size_t n, int esc)
{
#ifdef __SSE2__
    /* Room for two bytes per unit (a quote or backslash escaped) and one 8-byte move past. */
    if (n < SIZE_MAX / 2 && etw_strbuf_reserve(out, n + 16) == 0) {
        char *o = out->data + out->len;
        for (size_t i = 0; i + 2 <= n; i += 16) {
            __m128i v = load_padded(p, i, n);
            if (plain_units(v, esc) == 0xFFFF && i + 16 <= n) {
                _mm_storel_epi64((__m128i *)(void *)o, _mm_packus_epi16(v, v));
                o += 8;
                continue;
            }
            /* The units before the first NUL (all eight when there is none) must be printable
             * ASCII; quotes (and backslashes) among them are escaped in JSON and CSV, in runs
             * (paths). */
            unsigned nul = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(v, _mm_setzero_si128()));
            unsigned lim = nul ? (unsigned)__builtin_ctz(nul) : 16; /* bytes before it */
            if (nul ? i + lim + 2 > n : i + 16 > n)
                break; /* the NUL is padding: no terminator (or no whole last unit) */
            unsigned want = lim == 16 ? 0xFFFFu : (1u << lim) - 1;
            if ((printable_units(v, esc) & want) != want)
                break;
            unsigned special = doubled_units(v, esc) & want;
            char b[16]; /* the narrowed units; every move below is a fixed 8 bytes */
            _mm_storeu_si128((__m128i *)(void *)b, _mm_packus_epi16(v, v));
            unsigned start = 0;
            while (special) {
                unsigned at = (unsigned)__builtin_ctz(special) / 2;
                memcpy(o, b + start, 8);
                o += at - start;
                *o++ = esc == ETW_ESC_CSV ? '"' : '\\';
                start = at;
                special &= ~(3u << (2 * at));
            }
            memcpy(o, b + start, 8);
            o += lim / 2 - start;
            if (nul) {
                out->len = (size_t)(o - out->data);
                out->data[out->len] = '\0';
                return i + lim + 2;
            }
        }
    }
#endif
    size_t size = utf16_size(p, n);
    etw_text_utf16(out, p, size, esc);
    return size;
}

size_t etw_text_utf16z(etw_strbuf *out, const uint8_t *p, size_t n, int esc)
{
    switch (esc) {
    case ETW_ESC_JSON: return utf16z(out, p, n, ETW_ESC_JSON);
    case ETW_ESC_LINE: return utf16z(out, p, n, ETW_ESC_LINE);
    case ETW_ESC_CSV: return utf16z(out, p, n, ETW_ESC_CSV);
    default: return utf16z(out, p, n, ETW_ESC_NONE);
    }
}

/* etw_text_ansiz for one value of esc. */
static inline __attribute__((always_inline)) size_t ansiz(etw_strbuf *out, const uint8_t *p, size_t n, int utf8,
                                                          int esc)
{
#ifdef __SSE2__
    if (n < SIZE_MAX / 2 && etw_strbuf_reserve(out, n + 16) == 0) {
        char *o = out->data + out->len;
        for (size_t i = 0; i < n; i += 16) {
            __m128i v = load_padded(p, i, n);
            unsigned plain = etw_ansi_plain_mask(v, utf8, esc);
            _mm_storeu_si128((__m128i *)(void *)(o + i), v);
            if (plain == 0xFFFF && i + 16 <= n)
                continue;
            unsigned nul = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));
            if (!nul)
                break;
            unsigned at = (unsigned)__builtin_ctz(nul);
            if (i + at >= n || (plain | ~((1u << at) - 1)) != 0xFFFFFFFFu)
                break;
            out->len += i + at;
            out->data[out->len] = '\0';
            return i + at + 1;
        }
    }
#endif
    size_t size = ansi_size(p, n);
    etw_text_ansi(out, p, size, utf8, esc);
    return size;
}

size_t etw_text_ansiz(etw_strbuf *out, const uint8_t *p, size_t n, int utf8, int esc)
{
    switch (esc) {
    case ETW_ESC_JSON: return ansiz(out, p, n, utf8, ETW_ESC_JSON);
    case ETW_ESC_LINE: return ansiz(out, p, n, utf8, ETW_ESC_LINE);
    case ETW_ESC_CSV: return ansiz(out, p, n, utf8, ETW_ESC_CSV);
    default: return ansiz(out, p, n, utf8, ETW_ESC_NONE);
    }
}
