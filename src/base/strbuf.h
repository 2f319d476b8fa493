/* A growable byte string for building output text. One is kept per consumer and reset per
 * event, so formatting allocates only while it first grows to the largest event's size. */
#ifndef ETWIRE_BASE_STRBUF_H
#define ETWIRE_BASE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

typedef struct etw_strbuf {
    char *data; /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: contents are truncated */
} etw_strbuf;

void etw_strbuf_reset(etw_strbuf *sb);
void etw_strbuf_free(etw_strbuf *sb);
/* The out-of-line halves of reserve and append: growing the buffer. */
int etw_strbuf_grow(etw_strbuf *sb, size_t extra);
void etw_strbuf_append_grow(etw_strbuf *sb, const char *s, size_t n);

/* Room for extra more bytes and a NUL; 0, or -1 (failed set) when memory runs out. Inline, as
 * append: every key, value and separator of every event goes through them. */
static inline int etw_strbuf_reserve(etw_strbuf *sb, size_t extra)
{
    return extra < sb->cap - sb->len ? 0 : etw_strbuf_grow(sb, extra);
}

static inline void etw_strbuf_append(etw_strbuf *sb, const char *s, size_t n)
{
    if (n < sb->cap - sb->len) {
        __builtin_memcpy(sb->data + sb->len, s, n);
        sb->len += n;
        sb->data[sb->len] = '\0';
    } else {
        etw_strbuf_append_grow(sb, s, n);
    }
}

/* The two calls every formatted field makes several times: inline, so that appending a
 * separator or a quote costs a compare and a store (a call only when the buffer grows). */
static inline void etw_strbuf_puts(etw_strbuf *sb, const char *s)
{
    size_t n = __builtin_strlen(s); /* folded for the string literals callers pass */
    if (n < sb->cap - sb->len) {
        __builtin_memcpy(sb->data + sb->len, s, n + 1);
        sb->len += n;
    } else {
        etw_strbuf_append(sb, s, n);
    }
}

static inline void etw_strbuf_putc(etw_strbuf *sb, char c)
{
    if (sb->cap - sb->len > 1) {
        sb->data[sb->len++] = c;
        sb->data[sb->len] = '\0';
    } else {
        etw_strbuf_append(sb, &c, 1);
    }
}
void etw_strbuf_printf(etw_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "00".."99": numbers are written two digits at a time. */
extern const char etw_digit_pairs[201];
/* 10^0 .. 10^19: decimal lengths, and the digits of a number in pieces. */
extern const uint64_t etw_pow10_u64[20];
/* "00".."ff": the two lower-case hex digits of every byte value. */
extern const char etw_hex_pairs[513];

/* The lower-case hex digits of v, without leading zeros, written at p (room for 16 assumed:
 * all 16 bytes may be written; no NUL); returns the end. On x86-64 all sixteen digits at once
 * in a vector register (v shifted so that its first digit comes first), else two per step
 * from the last. */
static inline char *etw_hex_put(char *p, uint64_t v)
{
    unsigned digits = (unsigned)(64 - __builtin_clzll(v | 1) + 3) / 4;
#if defined(__SSE2__) && defined(__x86_64__)
    uint64_t x = __builtin_bswap64(v << (4 * (16 - digits))); /* most significant byte first */
    __m128i b = _mm_cvtsi64_si128((long long)x);
    __m128i nib = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0F)),
                                    _mm_and_si128(b, _mm_set1_epi8(0x0F)));
    __m128i letters = _mm_and_si128(_mm_cmpgt_epi8(nib, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
    _mm_storeu_si128((__m128i *)(void *)p, _mm_add_epi8(_mm_add_epi8(nib, _mm_set1_epi8('0')), letters));
#else
    unsigned k = digits;
    for (; k >= 2; k -= 2, v >>= 8)
        __builtin_memcpy(p + k - 2, etw_hex_pairs + 2 * (v & 0xFF), 2);
    if (k)
        p[0] = etw_hex_pairs[2 * (v & 15) + 1];
#endif
    return p + digits;
}
void etw_strbuf_u64_any(etw_strbuf *sb, uint64_t v);
/* Writes v's decimal digits at p (room for 20 assumed, no NUL); returns the end. For callers
 * that reserve once for a run of fields. */
char *etw_u64_put(char *p, uint64_t v);

/* Writes v's decimal digits at p (room for 20 assumed, no NUL); returns the end. Inline for
 * values below 10000 (most counts, ids, sizes and levels): no call, no digit count. */
static inline char *etw_u64_put_inline(char *p, uint64_t v)
{
    if (v >= 10000)
        return etw_u64_put(p, v);
    unsigned w = (unsigned)v;
    if (w < 100) {
        if (w < 10) {
            p[0] = (char)('0' + w);
            return p + 1;
        }
        __builtin_memcpy(p, etw_digit_pairs + 2 * w, 2);
        return p + 2;
    }
    if (w < 1000) {
        p[0] = (char)('0' + w / 100);
        __builtin_memcpy(p + 1, etw_digit_pairs + 2 * (w % 100), 2);
        return p + 3;
    }
    __builtin_memcpy(p, etw_digit_pairs + 2 * (w / 100), 2);
    __builtin_memcpy(p + 2, etw_digit_pairs + 2 * (w % 100), 2);
    return p + 4;
}

/* Decimal digits of v; inline below 10000 (see etw_u64_put_inline). */
static inline void etw_strbuf_u64(etw_strbuf *sb, uint64_t v)
{
    if (v >= 10000 || sb->cap - sb->len <= 4) {
        etw_strbuf_u64_any(sb, v);
        return;
    }
    char *end = etw_u64_put_inline(sb->data + sb->len, v);
    *end = '\0';
    sb->len = (size_t)(end - sb->data);
}
void etw_strbuf_i64(etw_strbuf *sb, int64_t v);
/* Decimal with at least width digits, zero-padded (printf's %0*llu; width <= 20). */
void etw_strbuf_u64_pad(etw_strbuf *sb, uint64_t v, unsigned width);
/* Hex digits with at least width of them, zero-padded, lower or upper case (printf's %0*llx and
 * %0*llX; width <= 16), without a prefix. */
void etw_strbuf_hex_u64(etw_strbuf *sb, uint64_t v, unsigned width, int upper);
/* n bytes as lower-case hex digits (undecoded payloads: every byte of every unknown event). */
void etw_strbuf_hex(etw_strbuf *sb, const uint8_t *p, size_t n);
/* Appends s (n bytes of UTF-8) as the inside of a JSON string: quotes, backslashes and control
 * characters escaped. */
void etw_strbuf_json_string(etw_strbuf *sb, const char *s, size_t n);
/* Appends s (n bytes of UTF-8, or any bytes) for one line of text, as dump's text and CSV views
 * write it: control characters and DEL become "\n", "\t" or "\x" and two lower-case hex
 * digits, and in a CSV field (csv) a quote is doubled; every other byte passes, backslashes and
 * UTF-8 sequences included. The decoders' ETW_ESC_LINE and ETW_ESC_CSV (tdh/decode/text_out.h)
 * follow these rules as they write. */
void etw_strbuf_line_escaped(etw_strbuf *sb, const char *s, size_t n, int csv);

#endif
