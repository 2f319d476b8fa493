/* Growable output string (see strbuf.h). */
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

void etw_strbuf_reset(etw_strbuf *sb)
{
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
}

void etw_strbuf_free(etw_strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->failed = 0;
}

int etw_strbuf_grow(etw_strbuf *sb, size_t extra)
{
    if (extra < sb->cap - sb->len)
        return 0;
    if (extra > SIZE_MAX / 2 - sb->len) {
        sb->failed = 1;
        return -1;
    }
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap - sb->len <= extra)
        cap *= 2;
    char *grown = realloc(sb->data, cap);
    if (!grown) {
        sb->failed = 1;
        return -1;
    }
    sb->data = grown;
    sb->cap = cap;
    return 0;
}

void etw_strbuf_append_grow(etw_strbuf *sb, const char *s, size_t n)
{
    if (etw_strbuf_reserve(sb, n) != 0)
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void etw_strbuf_printf(etw_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        etw_strbuf_append(sb, small, (size_t)n);
        return;
    }
    if (etw_strbuf_reserve(sb, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

#define D10(d) d "0" d "1" d "2" d "3" d "4" d "5" d "6" d "7" d "8" d "9"
/* "00" .. "99": numbers are written two digits per division. */
const char etw_digit_pairs[201] = D10("0") D10("1") D10("2") D10("3") D10("4") D10("5") D10("6") D10("7")
    D10("8") D10("9");

const uint64_t etw_pow10_u64[20] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
                                    10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
                                    100000000000ull, 1000000000000ull, 10000000000000ull,
                                    100000000000000ull, 1000000000000000ull, 10000000000000000ull,
                                    100000000000000000ull, 1000000000000000000ull,
                                    10000000000000000000ull};

/* Digits of v: the bit length gives log10 within one (1233 / 4096 ~ log10 2), one compare
 * with a power of ten settles it (v | 1: zero has one digit). */
static unsigned decimal_digits(uint64_t v)
{
    unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;
    return t + 1 - ((v | 1) < etw_pow10_u64[t]);
}

/* v's n decimal digits ending at end: eight at a time from the last while v has more (one
 * 64-bit division each, then 32-bit arithmetic), then two at a time. */
static inline void put_digits_before(char *end, uint64_t v)
{
    char *p = end;
    while (v >= 100000000u) {
        uint64_t hi = v / 100000000u;
        uint32_t lo = (uint32_t)(v - hi * 100000000u), a = lo / 10000, b = lo % 10000;
        p -= 8;
        memcpy(p, etw_digit_pairs + 2 * (a / 100), 2);
        memcpy(p + 2, etw_digit_pairs + 2 * (a % 100), 2);
        memcpy(p + 4, etw_digit_pairs + 2 * (b / 100), 2);
        memcpy(p + 6, etw_digit_pairs + 2 * (b % 100), 2);
        v = hi;
    }
    uint32_t w = (uint32_t)v; /* below 10^8 */
    while (w >= 100) {
        p -= 2;
        memcpy(p, etw_digit_pairs + 2 * (w % 100), 2);
        w /= 100;
    }
    if (w >= 10)
        memcpy(p - 2, etw_digit_pairs + 2 * w, 2);
    else
        p[-1] = (char)('0' + w);
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The 8 decimal digits of v < 10^8, zero-padded, as the bytes of one word (the first digit in
 * the lowest byte): four pair-table reads, no loop. */
static inline uint64_t eight_digits(uint32_t v)
{
    uint32_t a = v / 10000, b = v % 10000;
    uint16_t d0, d1, d2, d3;
    memcpy(&d0, etw_digit_pairs + 2 * (a / 100), 2);
    memcpy(&d1, etw_digit_pairs + 2 * (a % 100), 2);
    memcpy(&d2, etw_digit_pairs + 2 * (b / 100), 2);
    memcpy(&d3, etw_digit_pairs + 2 * (b % 100), 2);
    return (uint64_t)d0 | (uint64_t)d1 << 16 | (uint64_t)d2 << 32 | (uint64_t)d3 << 48;
}

/* v < 10^8 without leading zeros: the word shifted past them, stored whole (8 bytes). */
static inline char *put_below_1e8(char *p, uint32_t v)
{
    unsigned n = decimal_digits(v);
    uint64_t w = eight_digits(v) >> (8 * (8 - n));
    memcpy(p, &w, 8);
    return p + n;
}
#endif

char *etw_u64_put(char *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Up to 20 digits as at most three pieces of 8 (the last two zero-padded); every store is
     * 8 bytes and ends inside the 20 bytes of room. */
    if (v < 100000000u)
        return put_below_1e8(p, (uint32_t)v);
    uint64_t hi = v / 100000000u;
    uint32_t lo = (uint32_t)(v - hi * 100000000u);
    if (hi < 100000000u) {
        p = put_below_1e8(p, (uint32_t)hi);
    } else {
        uint64_t top = hi / 100000000u; /* below 10^4 */
        p = put_below_1e8(p, (uint32_t)top);
        uint64_t mid = eight_digits((uint32_t)(hi - top * 100000000u));
        memcpy(p, &mid, 8);
        p += 8;
    }
    uint64_t low = eight_digits(lo);
    memcpy(p, &low, 8);
    return p + 8;
#else
    char *end = p + decimal_digits(v);
    put_digits_before(end, v);
    return end;
#endif
}

void etw_strbuf_u64_any(etw_strbuf *sb, uint64_t v)
{
    /* Straight into the buffer from the end: numbers are most of what a dump writes. */
    unsigned n = decimal_digits(v);
    if (sb->cap - sb->len <= n && etw_strbuf_reserve(sb, n) != 0)
        return;
    char *end = sb->data + sb->len + n;
    put_digits_before(end, v);
    *end = '\0';
    sb->len += n;
}

void etw_strbuf_i64(etw_strbuf *sb, int64_t v)
{
    if (v < 0) {
        etw_strbuf_putc(sb, '-');
        etw_strbuf_u64(sb, (uint64_t)0 - (uint64_t)v);
    } else {
        etw_strbuf_u64(sb, (uint64_t)v);
    }
}

void etw_strbuf_u64_pad(etw_strbuf *sb, uint64_t v, unsigned width)
{
    static const char zeros[20] = "00000000000000000000";
    unsigned n = decimal_digits(v);
    if (width > n)
        etw_strbuf_append(sb, zeros, width - n < sizeof zeros ? width - n : sizeof zeros);
    etw_strbuf_u64(sb, v);
}

void etw_strbuf_hex_u64(etw_strbuf *sb, uint64_t v, unsigned width, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char b[16];
    unsigned n = 1;
    for (uint64_t rest = v >> 4; rest; rest >>= 4)
        n++;
    if (n < width)
        n = width < sizeof b ? width : sizeof b;
    for (unsigned k = n; k-- > 0;) { /* the padding digits read v's zero high nibbles */
        b[k] = digits[v & 15];
        v >>= 4;
    }
    etw_strbuf_append(sb, b, n);
}

#define HEX_ROW(h) h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "a" h "b" h "c" h "d" h "e" h "f"
/* The two digits of every byte value, so each byte is one 2-byte copy. */
const char etw_hex_pairs[513] = HEX_ROW("0") HEX_ROW("1") HEX_ROW("2") HEX_ROW("3") HEX_ROW("4")
    HEX_ROW("5") HEX_ROW("6") HEX_ROW("7") HEX_ROW("8") HEX_ROW("9") HEX_ROW("a") HEX_ROW("b")
    HEX_ROW("c") HEX_ROW("d") HEX_ROW("e") HEX_ROW("f");

void etw_strbuf_hex(etw_strbuf *sb, const uint8_t *p, size_t n)
{
    if (n > SIZE_MAX / 4 || etw_strbuf_reserve(sb, 2 * n + 1) != 0)
        return;
    char *o = sb->data + sb->len;
    size_t i = 0;
#ifdef __SSE2__
    /* Undecoded payloads are most of what a JSON dump of an unknown provider writes: 16 bytes
     * at a time, each nibble n becoming '0' + n, plus 'a' - '0' - 10 where n > 9. */
    const __m128i mask = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0'),
                  letters = _mm_set1_epi8('a' - '0' - 10);
    for (; i + 16 <= n; i += 16, o += 32) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), mask), lo = _mm_and_si128(v, mask);
        hi = _mm_add_epi8(_mm_add_epi8(hi, zero), _mm_and_si128(_mm_cmpgt_epi8(hi, nine), letters));
        lo = _mm_add_epi8(_mm_add_epi8(lo, zero), _mm_and_si128(_mm_cmpgt_epi8(lo, nine), letters));
        _mm_storeu_si128((__m128i *)(void *)o, _mm_unpacklo_epi8(hi, lo));
        _mm_storeu_si128((__m128i *)(void *)(o + 16), _mm_unpackhi_epi8(hi, lo));
    }
#endif
    for (; i < n; i++, o += 2)
        memcpy(o, etw_hex_pairs + 2 * p[i], 2);
    sb->len += 2 * n;
    sb->data[sb->len] = 0;
}

#ifdef __SSE2__
/* The 16 bytes at p need no JSON escaping: no control character, quote or backslash. */
static int json_clean16(const char *p)
{
    const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                  backslash = _mm_set1_epi8('\\');
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i printable = _mm_cmpeq_epi8(_mm_max_epu8(v, space), v);
    __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    return _mm_movemask_epi8(_mm_andnot_si128(special, printable)) == 0xFFFF;
}

/* Whether s[0..n) needs no escaping at all, 16 bytes at a time (the tail of a string shorter
 * than 16 is checked in a copy padded with a harmless letter). */
static int json_clean(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        if (!json_clean16(s + i))
            return 0;
    if (i == n)
        return 1;
    if (n >= 16)
        return json_clean16(s + n - 16);
    char t[16];
    memset(t, 'a', sizeof t);
    memcpy(t, s, n);
    return json_clean16(t);
}
#endif

void etw_strbuf_json_string(etw_strbuf *sb, const char *s, size_t n)
{
#ifdef __SSE2__
    /* Names and decoded strings rarely need escaping: then one copy. */
    if (json_clean(s, n)) {
        etw_strbuf_append(sb, s, n);
        return;
    }
#endif
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
#ifdef __SSE2__
        /* 16 bytes at a time up to the first that needs escaping (a control character, a
         * quote or a backslash): decoded strings rarely hold any. */
        const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                      backslash = _mm_set1_epi8('\\');
        while (i + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i printable = _mm_cmpeq_epi8(_mm_max_epu8(v, space), v);
            __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
            unsigned ok = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(special, printable));
            if (ok != 0xFFFFu) {
                i += (size_t)__builtin_ctz(~ok);
                break;
            }
            i += 16;
        }
        if (i >= n)
            break;
#endif
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        etw_strbuf_append(sb, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': etw_strbuf_puts(sb, "\\\""); break;
        case '\\': etw_strbuf_puts(sb, "\\\\"); break;
        case '\n': etw_strbuf_puts(sb, "\\n"); break;
        case '\r': etw_strbuf_puts(sb, "\\r"); break;
        case '\t': etw_strbuf_puts(sb, "\\t"); break;
        default: /* the other control characters: \u00XX, lower-case hex as before */
            etw_strbuf_puts(sb, "\\u00");
            etw_strbuf_append(sb, etw_hex_pairs + 2 * c, 2);
            break;
        }
    }
    etw_strbuf_append(sb, s + start, n - start);
}

/* 16 bytes at a time: most text needs no escaping. */
void etw_strbuf_line_escaped(etw_strbuf *out, const char *s, size_t n, int csv)
{
    for (;;) {
        /* Copy while scanning (one pass over the bytes, not a scan then a copy): room for
         * the rest plus one 16-byte store past it. */
        if (etw_strbuf_reserve(out, n + 16) != 0)
            return;
        char *o = out->data + out->len;
        size_t k = 0;
#ifdef __SSE2__
        const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F),
                      quote = _mm_set1_epi8(csv ? '"' : 0x7F);
        for (;;) {
            __m128i v;
            unsigned skip = 0; /* low lanes already copied and checked, or past the end */
            if (k + 16 <= n) {
                v = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
            } else if (k == n) {
                break;
            } else if (n >= 16) {
                /* The last bytes: one load ending at the end, overlapping checked ones. */
                skip = (unsigned)(k - (n - 16));
                k = n - 16;
                v = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
            } else {
                /* Shorter than 16 (names): through a padded copy, never reading past s + n. */
                char tmp[16];
                memset(tmp, 'a', sizeof tmp);
                memcpy(tmp, s, n);
                v = _mm_loadu_si128((const __m128i *)(const void *)tmp);
            }
            _mm_storeu_si128((__m128i *)(void *)(o + k), v);
            __m128i printable = _mm_cmpeq_epi8(_mm_max_epu8(v, space), v);
            __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmpeq_epi8(v, quote));
            unsigned ok = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(special, printable));
            ok |= (1u << skip) - 1;
            if (ok != 0xFFFFu) {
                k += (size_t)__builtin_ctz(~ok);
                break;
            }
            k += 16;
            if (k > n)
                k = n;
        }
#else
        for (; k < n; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c < 0x20 || c == 0x7F || (csv && c == '"'))
                break;
            o[k] = (char)c;
        }
#endif
        out->len += k;
        out->data[out->len] = '\0';
        if (k == n)
            return;
        unsigned char c = (unsigned char)s[k];
        if (c == '"') {
            etw_strbuf_append(out, "\"\"", 2);
        } else if (c == '\n' || c == '\t') {
            etw_strbuf_append(out, c == '\n' ? "\\n" : "\\t", 2);
        } else {
            char x[4] = {'\\', 'x', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]};
            etw_strbuf_append(out, x, 4);
        }
        s += k + 1;
        n -= k + 1;
    }
}
