/* etw_text_utf16z and etw_text_ansiz (one pass: size and text of a string without a length)
 * against the two calls they replace in the flat formatter - etw_value_size, then
 * etw_text_utf16 / etw_text_ansi over that size - on random payload tails of every length up
 * to 70 bytes (odd ones too), each in a heap block of exactly its size so a read past the end
 * shows under ASan: terminated early, late, in the last unit, or not at all, in plain ASCII,
 * with quotes, backslashes, control characters, non-ASCII and NULs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/strbuf.h"
#include "tdh/decode/prop_value.h"
#include "tdh/decode/text_out.h"

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

/* Units (or bytes) mostly plain letters, or anything from the alphabet. */
static uint16_t pick(uint64_t *x, int rich)
{
    static const uint16_t alphabet[] = {'a', 'Z', '0', '.', ' ', '"', '\\', '\n', 0x01, 0x7F, 0xE9, 0x20AC, 0xD83D, ',', 0};
    size_t n = sizeof alphabet / sizeof alphabet[0];
    return alphabet[next(x) % (rich ? n : 4)];
}

static void check(int wide, uint64_t *x, unsigned long *mismatches)
{
    size_t n = (size_t)(next(x) % 71);
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    int rich = next(x) % 3 == 0;
    for (size_t i = 0; i < n; i += wide ? 2 : 1) {
        uint16_t u = pick(x, rich);
        p[i] = (uint8_t)u;
        if (wide && i + 1 < n)
            p[i + 1] = (uint8_t)(u >> 8);
    }
    /* A terminator somewhere (or none), then bytes that are not part of the string. */
    unsigned where = (unsigned)(next(x) % 4);
    size_t unit = wide ? 2 : 1;
    if (where != 3 && n >= unit) {
        size_t at = where == 0 ? (size_t)(next(x) % (n / unit)) * unit : n / unit * unit - unit;
        memset(p + at, 0, unit);
        for (size_t i = at + unit; i < n; i++)
            p[i] = (uint8_t)next(x);
    }
    uint16_t in = wide ? TDH_INTYPE_UNICODESTRING : TDH_INTYPE_ANSISTRING;
    etw_strbuf ours = {0}, want = {0};
    for (int esc = ETW_ESC_NONE; esc <= ETW_ESC_CSV; esc++) {
        for (int utf8 = 0; utf8 < (wide ? 1 : 2); utf8++) {
            etw_strbuf_reset(&ours);
            etw_strbuf_reset(&want);
            etw_strbuf_putc(&ours, '<'); /* outputs start mid-buffer */
            etw_strbuf_putc(&want, '<');
            size_t size = etw_value_size(in, 0, 0, 0, 8, p, n);
            if (wide)
                etw_text_utf16(&want, p, size, esc);
            else
                etw_text_ansi(&want, p, size, utf8, esc);
            size_t got = wide ? etw_text_utf16z(&ours, p, n, esc) : etw_text_ansiz(&ours, p, n, utf8, esc);
            if (got != size || ours.len != want.len || memcmp(ours.data, want.data, want.len) != 0 ||
                ours.data[ours.len] != '\0')
                (*mismatches)++;
        }
    }
    etw_strbuf_free(&ours);
    etw_strbuf_free(&want);
    free(p);
}

static void test_utf16_against_two_passes(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    unsigned long mismatches = 0;
    for (int round = 0; round < 40000; round++)
        check(1, &x, &mismatches);
    assert_int_equal(mismatches, 0);
}

static void test_ansi_against_two_passes(void **state)
{
    (void)state;
    uint64_t x = 0x2545F4914F6CDD1Dull;
    unsigned long mismatches = 0;
    for (int round = 0; round < 40000; round++)
        check(0, &x, &mismatches);
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf16_against_two_passes),
        cmocka_unit_test(test_ansi_against_two_passes),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
