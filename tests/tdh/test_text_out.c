/* The one-pass converters against references written a character at a time. etw_text_utf16
 * (the vector paths: eight units at a time, paths with quotes and backslashes copied in runs,
 * strings with and without their terminator, the overlapping tail) on random strings of every
 * length up to 40 built from characters that take each path: letters, quotes, backslashes,
 * control characters, non-ASCII, surrogate pairs, lone surrogates, NULs. etw_text_ansi the
 * same way, in JSON and text, as UTF-8 and as Windows-1252. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/strbuf.h"
#include "base/text.h"
#include "tdh/decode/text_out.h"

/* One code point as the converters write it: UTF-8, and in JSON escaped. */
static void put_ref(etw_strbuf *out, uint32_t c, int json)
{
    if (json && (c == '"' || c == '\\')) {
        etw_strbuf_putc(out, '\\');
        etw_strbuf_putc(out, (char)c);
    } else if (json && c < 0x20) {
        static const char hex[] = "0123456789abcdef";
        const char *e = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (e) {
            etw_strbuf_puts(out, e);
        } else {
            char x[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            etw_strbuf_append(out, x, 6);
        }
    } else {
        char b[4];
        etw_strbuf_append(out, b, etw_utf8_encode(c, b));
    }
}

static void reference(etw_strbuf *out, const uint16_t *u, size_t units, int json)
{
    for (size_t i = 0; i < units; i++) {
        uint32_t c = u[i];
        if (c == 0)
            return;
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00);
            i++;
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        put_ref(out, c, json);
    }
}

/* 8-bit text a byte at a time: up to a NUL; UTF-8 bytes passed through with utf8, else
 * Windows-1252 (0x80..0x9F its own characters, the rest Latin-1). */
static void ansi_reference(etw_strbuf *out, const uint8_t *p, size_t n, int utf8, int json)
{
    static const uint16_t cp1252[32] = {0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                                        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
    for (size_t i = 0; i < n && p[i]; i++) {
        uint32_t c = p[i];
        if (c >= 0x80 && utf8)
            etw_strbuf_putc(out, (char)c);
        else
            put_ref(out, c >= 0x80 && c < 0xA0 ? cp1252[c - 0x80] : c, json);
    }
}

static void test_against_reference(void **state)
{
    (void)state;
    static const uint16_t alphabet[] = {'a', 'Z', '0', ' ', '.', '"', '\\', '\\', '\n', 0x01, 0x7F, 0xE9,
                                        0x20AC, 0xD83D, 0xDE00, 0xDC00, 0};
    etw_strbuf ours = {0}, want = {0};
    uint64_t x = 0x2545F4914F6CDD1Dull;
    unsigned long mismatches = 0;
    for (int round = 0; round < 60000; round++) {
        uint16_t u[48];
        size_t units = (size_t)(round % 41);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned rich = (unsigned)(x % 4); /* mostly letters, or mostly paths, or anything */
        for (size_t i = 0; i < units; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t pick = rich == 0 ? x % 4 : rich == 1 ? x % 8 : x % (sizeof alphabet / sizeof alphabet[0]);
            u[i] = alphabet[pick];
        }
        if (units && x % 3 == 0)
            u[units - 1] = 0; /* terminated, as payload strings arrive */
        uint8_t bytes[96];
        for (size_t i = 0; i < units; i++)
            bytes[2 * i] = (uint8_t)u[i], bytes[2 * i + 1] = (uint8_t)(u[i] >> 8);
        for (int json = 0; json < 2; json++) {
            etw_strbuf_reset(&ours);
            etw_strbuf_reset(&want);
            etw_strbuf_putc(&ours, '<'); /* something before: outputs start mid-buffer */
            etw_strbuf_putc(&want, '<');
            etw_text_utf16(&ours, bytes, 2 * units, json);
            reference(&want, u, units, json);
            if (ours.len != want.len || memcmp(ours.data, want.data, want.len) != 0)
                mismatches++;
        }
    }
    etw_strbuf_free(&ours);
    etw_strbuf_free(&want);
    assert_int_equal(mismatches, 0);
}

/* etw_text_ansi (sixteen bytes at a time, runs between bytes to escape, a padded last step)
 * against the byte-at-a-time rules, lengths up to 70, with and without a terminator. */
static void test_ansi_against_reference(void **state)
{
    (void)state;
    static const uint8_t alphabet[] = {'a', 'Z', '0', ' ', '\\', '\\', '"', '\n', 0x01, 0x7F, 0x80, 0x9D, 0xC3, 0xA9, 0xFF, 0};
    etw_strbuf ours = {0}, want = {0};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    unsigned long mismatches = 0;
    for (int round = 0; round < 40000; round++) {
        uint8_t b[80];
        size_t n = (size_t)(round % 71);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned rich = (unsigned)(x % 4); /* mostly letters, or mostly paths, or anything */
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b[i] = alphabet[rich == 0 ? x % 4 : rich == 1 ? x % 6 : x % sizeof alphabet];
        }
        if (n && x % 3 == 0)
            b[n - 1] = 0;
        for (int mode = 0; mode < 4; mode++) {
            int json = mode & 1, utf8 = mode >> 1;
            etw_strbuf_reset(&ours);
            etw_strbuf_reset(&want);
            etw_strbuf_putc(&ours, '<');
            etw_strbuf_putc(&want, '<');
            etw_text_ansi(&ours, b, n, utf8, json);
            ansi_reference(&want, b, n, utf8, json);
            if (ours.len != want.len || memcmp(ours.data, want.data, want.len) != 0)
                mismatches++;
        }
    }
    etw_strbuf_free(&ours);
    etw_strbuf_free(&want);
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_ansi_against_reference),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
