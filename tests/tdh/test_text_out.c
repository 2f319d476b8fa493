/* The one-pass converters against references written a character at a time. etw_text_utf16
 * (the vector paths: eight units at a time, paths with quotes and backslashes copied in runs,
 * strings with and without their terminator, the overlapping tail) on random strings of every
 * length up to 40 built from characters that take each path: letters, quotes, commas,
 * backslashes, control characters, CR, LF, tab, DEL, non-ASCII, surrogate pairs, lone
 * surrogates, NULs. etw_text_ansi the same way, as UTF-8 and as Windows-1252. Each in the four
 * escaping modes: as it is, JSON, and dump's text line and CSV field, whose reference is the
 * plain text escaped afterwards byte by byte (what dump did before the converters escaped for
 * it). Then the rules pinned on fixed strings, written out. */
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
#include "escape_ref.h"

/* The plain reference text of want[from..) escaped for a line mode, in place. */
static void line_escape_tail(etw_strbuf *want, size_t from, int esc)
{
    etw_strbuf plain = {0};
    etw_strbuf_append(&plain, want->data + from, want->len - from);
    want->len = from;
    want->data[from] = '\0';
    escape_ref_line(want, plain.data, plain.len, esc == ETW_ESC_CSV);
    etw_strbuf_free(&plain);
}

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
    static const uint16_t alphabet[] = {'a', 'Z', '0', ' ', '.', '"', '\\', ',', '\n', '\r', '\t', 0x01, 0x1F, 0x7F,
                                        0x85, 0xE9, 0x20AC, 0xD83D, 0xDE00, 0xDC00, 0};
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
        for (int esc = ETW_ESC_NONE; esc <= ETW_ESC_CSV; esc++) {
            etw_strbuf_reset(&ours);
            etw_strbuf_reset(&want);
            etw_strbuf_putc(&ours, '<'); /* something before: outputs start mid-buffer */
            etw_strbuf_putc(&want, '<');
            etw_text_utf16(&ours, bytes, 2 * units, esc);
            reference(&want, u, units, esc == ETW_ESC_JSON);
            if (esc >= ETW_ESC_LINE)
                line_escape_tail(&want, 1, esc);
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
    static const uint8_t alphabet[] = {'a', 'Z', '0', ' ', '\\', ',', '"', '\n', '\r', '\t', 0x01, 0x7F,
                                       0x80, 0x9D, 0xC3, 0xA9, 0xFF, 0};
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
        for (int mode = 0; mode < 8; mode++) {
            int esc = mode & 3, utf8 = mode >> 2;
            etw_strbuf_reset(&ours);
            etw_strbuf_reset(&want);
            etw_strbuf_putc(&ours, '<');
            etw_strbuf_putc(&want, '<');
            etw_text_ansi(&ours, b, n, utf8, esc);
            ansi_reference(&want, b, n, utf8, esc == ETW_ESC_JSON);
            if (esc >= ETW_ESC_LINE)
                line_escape_tail(&want, 1, esc);
            if (ours.len != want.len || memcmp(ours.data, want.data, want.len) != 0)
                mismatches++;
        }
    }
    etw_strbuf_free(&ours);
    etw_strbuf_free(&want);
    assert_int_equal(mismatches, 0);
}

/* One UTF-16 string (a C string of ASCII, with \u escapes for the rest) in one mode. */
static const char *utf16_as(const uint16_t *u, size_t units, int esc)
{
    static etw_strbuf out;
    uint8_t bytes[128];
    assert_true(units <= sizeof bytes / 2);
    for (size_t i = 0; i < units; i++)
        bytes[2 * i] = (uint8_t)u[i], bytes[2 * i + 1] = (uint8_t)(u[i] >> 8);
    etw_strbuf_reset(&out);
    etw_text_utf16(&out, bytes, 2 * units, esc);
    return out.data ? out.data : "";
}

/* The rules, written out: what each mode makes of control characters, CR and LF, tab, quotes,
 * commas, backslashes, DEL, C1 controls, non-ASCII, a surrogate pair and lone surrogates. */
static void test_rules_pinned(void **state)
{
    (void)state;
    static const uint16_t s[] = {'a', 0x01, 'b', '\r', '\n', '\t', '"', ',', '\\', 0x7F, 0x85, 0xE9,
                                 0xD83D, 0xDE00, 0xD800, 'x', 0xDC00, 0x1F, 0};
    size_t n = sizeof s / sizeof s[0];
    assert_string_equal(utf16_as(s, n, ETW_ESC_NONE),
                        "a\x01" "b\r\n\t\",\\\x7f\xc2\x85\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx\xef\xbf\xbd\x1f");
    assert_string_equal(utf16_as(s, n, ETW_ESC_JSON),
                        "a\\u0001b\\r\\n\\t\\\",\\\\\x7f\xc2\x85\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx\xef\xbf\xbd\\u001f");
    assert_string_equal(utf16_as(s, n, ETW_ESC_LINE),
                        "a\\x01b\\x0d\\n\\t\",\\\\x7f\xc2\x85\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx\xef\xbf\xbd\\x1f");
    assert_string_equal(utf16_as(s, n, ETW_ESC_CSV),
                        "a\\x01b\\x0d\\n\\t\"\",\\\\x7f\xc2\x85\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx\xef\xbf\xbd\\x1f");
    /* 8-bit text: Windows-1252 (0x85 an ellipsis, 0x81 undefined) or UTF-8 passed through,
     * invalid sequences too; the same escapes. */
    static const uint8_t b[] = {'q', '"', 0x7F, '\r', ',', 0x85, 0x81, 0xC3, 0xA9, 0xC3, 0};
    etw_strbuf out = {0};
    etw_text_ansi(&out, b, sizeof b, 0, ETW_ESC_LINE);
    assert_string_equal(out.data, "q\"\\x7f\\x0d,\xe2\x80\xa6\xef\xbf\xbd\xc3\x83\xc2\xa9\xc3\x83");
    etw_strbuf_reset(&out);
    etw_text_ansi(&out, b, sizeof b, 1, ETW_ESC_CSV);
    assert_string_equal(out.data, "q\"\"\\x7f\\x0d,\x85\x81\xc3\xa9\xc3");
    etw_strbuf_reset(&out);
    etw_text_ansi(&out, b, sizeof b, 1, ETW_ESC_JSON);
    assert_string_equal(out.data, "q\\\"\x7f\\r,\x85\x81\xc3\xa9\xc3");
    etw_strbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_ansi_against_reference),
        cmocka_unit_test(test_rules_pinned),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
