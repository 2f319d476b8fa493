/* One-pass text conversion and escaping (see text_out.h). */
#include "tdh/decode/text_out.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/bytes.h"
#include "tdh/decode/text_masks.h"

/* Windows-1252 0x80..0x9F; the rest of the code page coincides with Latin-1. */
static const uint16_t cp1252_hi[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

/* A character below U+0080 as esc writes it. */
static inline __attribute__((always_inline)) char *put_ascii(char *o, uint32_t cp, int esc)
{
    static const char hex[] = "0123456789abcdef";
    if (esc == ETW_ESC_JSON && (cp < 0x20 || cp == '"' || cp == '\\')) {
        *o++ = '\\';
        switch (cp) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u', *o++ = '0', *o++ = '0';
            *o++ = hex[cp >> 4], *o++ = hex[cp & 15];
        }
    } else if (esc >= ETW_ESC_LINE && (cp < 0x20 || cp == 0x7F)) {
        *o++ = '\\';
        if (cp == '\n') {
            *o++ = 'n';
        } else if (cp == '\t') {
            *o++ = 't';
        } else {
            *o++ = 'x';
            *o++ = hex[cp >> 4], *o++ = hex[cp & 15];
        }
    } else if (esc == ETW_ESC_CSV && cp == '"') {
        *o++ = '"', *o++ = '"';
    } else {
        *o++ = (char)cp;
    }
    return o;
}

static char *put_cp(char *o, uint32_t cp, int esc)
{
    if (cp < 0x80) {
        o = put_ascii(o, cp, esc);
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* A character written as it is in esc's mode: printable ASCII (DEL too, but not in the line
 * modes), neither of the characters that mode escapes (in the plain text mode quotes and
 * backslashes take the slow path as well, which writes them as they are). */
static inline __attribute__((always_inline)) int plain_cp(uint32_t c, int esc)
{
    if (esc >= ETW_ESC_LINE)
        return c >= 0x20 && c < 0x7F && !(esc == ETW_ESC_CSV && c == '"');
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

#ifdef __SSE2__
static inline __m128i load8(const uint8_t *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* Mask (two bits per unit) of the eight units in v that esc writes as they are (plain_cp). */
static inline __attribute__((always_inline)) unsigned plain8_mask(__m128i v, int esc)
{
    __m128i ascii = _mm_and_si128(_mm_cmpgt_epi16(v, _mm_set1_epi16(0x1F)),
                                  _mm_cmplt_epi16(v, _mm_set1_epi16(esc >= ETW_ESC_LINE ? 0x7F : 0x80)));
    if (esc == ETW_ESC_LINE)
        return (unsigned)_mm_movemask_epi8(ascii);
    __m128i special = _mm_cmpeq_epi16(v, _mm_set1_epi16('"'));
    if (esc != ETW_ESC_CSV)
        special = _mm_or_si128(special, _mm_cmpeq_epi16(v, _mm_set1_epi16('\\')));
    return (unsigned)_mm_movemask_epi8(_mm_andnot_si128(special, ascii));
}

/* The eight UTF-16 units at p are written as they are. */
static inline __attribute__((always_inline)) int ascii8(const uint8_t *p, int esc)
{
    return plain8_mask(load8(p), esc) == 0xFFFF;
}

/* The eight units at p are printable ASCII (no DEL in the line modes), quotes and backslashes
 * allowed (paths): each written as it is or, in JSON and CSV, after one inserted character. */
static inline __attribute__((always_inline)) int printable8(const uint8_t *p, int esc)
{
    __m128i v = load8(p);
    __m128i ascii = _mm_and_si128(_mm_cmpgt_epi16(v, _mm_set1_epi16(0x1F)),
                                  _mm_cmplt_epi16(v, _mm_set1_epi16(esc >= ETW_ESC_LINE ? 0x7F : 0x80)));
    return _mm_movemask_epi8(ascii) == 0xFFFF;
}

/* Mask (two bits per unit) of printable units that take an inserted character before them: a
 * backslash before a quote or backslash in JSON, a quote before a quote in CSV; none else. */
static inline __attribute__((always_inline)) unsigned doubled8_mask(__m128i v, int esc)
{
    if (esc == ETW_ESC_JSON)
        return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi16(v, _mm_set1_epi16('"')),
                                                        _mm_cmpeq_epi16(v, _mm_set1_epi16('\\'))));
    if (esc == ETW_ESC_CSV)
        return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(v, _mm_set1_epi16('"')));
    return 0;
}
#endif

/* etw_text_utf16 for one value of esc (a constant in each copy the switch below makes). */
static inline __attribute__((always_inline)) void utf16(etw_strbuf *out, const uint8_t *p, size_t nbytes, int esc)
{
    size_t units = nbytes / 2;
    /* Most strings arrive with their terminator: without it the eight-unit paths below cover
     * them to the end (the output stops at the first NUL either way, and a NUL fails every
     * eight-unit check). */
    if (units && p[2 * units - 2] == 0 && p[2 * units - 1] == 0)
        units--;
    /* At most 6 output bytes per unit (a JSON \u00xx escape; a surrogate pair gives 4). */
    if (units > SIZE_MAX / 8 || etw_strbuf_reserve(out, units * 6 + 1) != 0)
        return;
    char *o = out->data + out->len;
    size_t i = 0;
#ifdef __SSE2__
    char *const o0 = o;
    /* Most strings are short names in printable ASCII: eight units are checked and narrowed at
     * once; a string under eight units is checked in a copy padded with a harmless letter (the
     * reserve above leaves room for eight output bytes), and the last eight units of a longer
     * one overlap the ones before while the output is still one byte per unit. */
    if (units && units < 8) {
        uint8_t t[16];
        for (int k = 0; k < 8; k++)
            t[2 * k] = 'a', t[2 * k + 1] = 0;
        etw_copy_under16(t, p, 2 * units);
        if (ascii8(t, esc)) {
            _mm_storel_epi64((__m128i *)(void *)o, _mm_packus_epi16(load8(t), load8(t)));
            o += units;
            goto end;
        }
    }
#endif
    while (i < units) {
        size_t stop = units;
#ifdef __SSE2__
        if (i + 8 <= units) {
            if (ascii8(p + 2 * i, esc)) {
                __m128i v = load8(p + 2 * i);
                _mm_storel_epi64((__m128i *)(void *)o, _mm_packus_epi16(v, v));
                o += 8;
                i += 8;
                continue;
            }
            if (printable8(p + 2 * i, esc)) {
                /* Printable ASCII with a quote or backslash (a path): narrowed at once, and in
                 * JSON and CSV copied in runs between the characters to escape. */
                __m128i v = load8(p + 2 * i);
                /* b[0..8) the narrowed units (b[8..16) a copy): every copy below moves a fixed
                 * 8 bytes (no call) and advances by the run it meant; the reserve above leaves
                 * room past the end. */
                char b[16];
                _mm_storeu_si128((__m128i *)(void *)b, _mm_packus_epi16(v, v));
                unsigned special = doubled8_mask(v, esc);
                unsigned start = 0;
                while (special) {
                    unsigned at = (unsigned)__builtin_ctz(special) / 2; /* two mask bits per unit */
                    memcpy(o, b + start, 8);
                    o += at - start;
                    *o++ = esc == ETW_ESC_CSV ? '"' : '\\';
                    start = at;
                    special &= ~(3u << (2 * at));
                }
                memcpy(o, b + start, 8);
                o += 8 - start;
                i += 8;
                continue;
            }
            stop = i + 8;
        } else if (units >= 8 && (size_t)(o - o0) == i && ascii8(p + 2 * (units - 8), esc)) {
            __m128i v = load8(p + 2 * (units - 8));
            _mm_storel_epi64((__m128i *)(void *)(o0 + units - 8), _mm_packus_epi16(v, v));
            o = o0 + units;
            break;
        }
#endif
        for (; i < stop; i++) {
            uint32_t u = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8);
            if (plain_cp(u, esc)) {
                *o++ = (char)u; /* the common case: printable ASCII */
                continue;
            }
            if (u == 0)
                goto end;
            if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units) {
                uint32_t lo = (uint32_t)(p[2 * i + 2] | p[2 * i + 3] << 8);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    o = put_cp(o, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00), esc);
                    i++;
                    continue;
                }
            }
            o = put_cp(o, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u, esc);
        }
    }
end:
    out->len = (size_t)(o - out->data);
    out->data[out->len] = 0;
}

void etw_text_utf16(etw_strbuf *out, const uint8_t *p, size_t nbytes, int esc)
{
    switch (esc) {
    case ETW_ESC_JSON: utf16(out, p, nbytes, ETW_ESC_JSON); break;
    case ETW_ESC_LINE: utf16(out, p, nbytes, ETW_ESC_LINE); break;
    case ETW_ESC_CSV: utf16(out, p, nbytes, ETW_ESC_CSV); break;
    default: utf16(out, p, nbytes, ETW_ESC_NONE); break;
    }
}


/* One byte that is not written as it is (the caller stops at NUL). */
static char *ansi_byte(char *o, uint32_t c, int utf8, int esc)
{
    if (c >= 0x80 && utf8)
        *o++ = (char)c; /* UTF-8 continuation and lead bytes pass through */
    else
        o = put_cp(o, c >= 0x80 && c < 0xA0 ? cp1252_hi[c - 0x80] : c, esc);
    return o;
}

/* etw_text_ansi for one value of esc. */
static inline __attribute__((always_inline)) void ansi(etw_strbuf *out, const uint8_t *p, size_t n, int utf8,
                                                       int esc)
{
    /* Most strings arrive with their terminator, and the output stops at the first NUL
     * anyway: without it the sixteen-byte steps below cover them to the end. */
    if (n && p[n - 1] == 0)
        n--;
    /* At most 6 output bytes per input byte, and one 16-byte store past them. */
    if (n > SIZE_MAX / 8 || etw_strbuf_reserve(out, n * 6 + 16 + 1) != 0)
        return;
    char *o = out->data + out->len;
    size_t i = 0;
#ifdef __SSE2__
    /* Sixteen bytes at a time, copied as they are up to the first that is not (paths: a
     * backslash every few bytes), that one written by the rules, then on; the last few
     * through a copy padded with a harmless letter, never reading past p + n. */
    while (i < n) {
        __m128i v;
        size_t left = n - i;
        if (left >= 16) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        } else {
            uint8_t t[16];
            memset(t, 'a', sizeof t);
            etw_copy_under16(t, p + i, left);
            v = _mm_loadu_si128((const __m128i *)(const void *)t);
        }
        _mm_storeu_si128((__m128i *)(void *)o, v);
        unsigned ok = etw_ansi_plain_mask(v, utf8, esc);
        size_t k = ok == 0xFFFF ? 16 : (size_t)__builtin_ctz(~ok);
        if (k > left)
            k = left;
        i += k;
        o += k;
        if (i == n || k == 16)
            continue;
        if (p[i] == 0)
            break;
        o = ansi_byte(o, p[i], utf8, esc);
        i++;
    }
#else
    for (; i < n && p[i]; i++) {
        uint32_t c = p[i];
        if (plain_cp(c, esc))
            *o++ = (char)c; /* the common case: printable ASCII, no call */
        else
            o = ansi_byte(o, c, utf8, esc);
    }
#endif
    out->len = (size_t)(o - out->data);
    out->data[out->len] = 0;
}

void etw_text_ansi(etw_strbuf *out, const uint8_t *p, size_t n, int utf8, int esc)
{
    switch (esc) {
    case ETW_ESC_JSON: ansi(out, p, n, utf8, ETW_ESC_JSON); break;
    case ETW_ESC_LINE: ansi(out, p, n, utf8, ETW_ESC_LINE); break;
    case ETW_ESC_CSV: ansi(out, p, n, utf8, ETW_ESC_CSV); break;
    default: ansi(out, p, n, utf8, ETW_ESC_NONE); break;
    }
}
