/* etw_text_utf16 (the vector paths: eight units at a time, paths with quotes and backslashes
 * copied in runs, strings with and without their terminator, the overlapping tail) against a
 * unit-at-a-time reference, on random strings of every length up to 40 built from characters
 * that take each path: letters, quotes, backslashes, control characters, non-ASCII, surrogate
 * pairs, lone surrogates, NULs. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
