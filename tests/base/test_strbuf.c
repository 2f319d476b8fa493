/* Output text primitives: numbers at every digit-count boundary against printf (plain and
 * zero-padded to every width), hex of every
 * byte value at every length and alignment around the 16-byte blocks against a plain
 * reference, the inline put helpers across buffer growth, and dump's line escaping against
 * its rules written a byte at a time. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/strbuf.h"
#include "escape_ref.h"

static void test_u64(void **state)
{
    (void)state;
    etw_strbuf sb = {0};
    char want[32];
    uint64_t v = 1;
    for (int d = 0; d < 20; d++, v *= 10) {
        uint64_t cases[3] = {v - 1, v, v + 1};
        for (int k = 0; k < 3; k++) {
            etw_strbuf_reset(&sb);
            etw_strbuf_u64(&sb, cases[k]);
            snprintf(want, sizeof want, "%" PRIu64, cases[k]);
            assert_string_equal(sb.data, want);
        }
    }
    /* Random values of every length, through the buffer and through etw_u64_put. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t r = x >> (x % 64);
        etw_strbuf_reset(&sb);
        etw_strbuf_u64(&sb, r);
        snprintf(want, sizeof want, "%" PRIu64, r);
        assert_string_equal(sb.data, want);
        char put[24];
        *etw_u64_put(put, r) = '\0';
        assert_string_equal(put, want);
    }
    etw_strbuf_reset(&sb);
    etw_strbuf_u64(&sb, UINT64_MAX);
    assert_string_equal(sb.data, "18446744073709551615");
    etw_strbuf_reset(&sb);
    etw_strbuf_i64(&sb, INT64_MIN);
    assert_string_equal(sb.data, "-9223372036854775808");
    etw_strbuf_free(&sb);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t in[300];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 + 3);
    etw_strbuf sb = {0};
    char want[2 * sizeof in + 1];
    for (size_t off = 0; off < 16; off++)
        for (size_t n = 0; n + off <= 256 + 16; n++) {
            for (size_t i = 0; i < n; i++)
                snprintf(want + 2 * i, 3, "%02x", in[off + i]);
            want[2 * n] = 0;
            etw_strbuf_reset(&sb);
            etw_strbuf_puts(&sb, "x=");
            etw_strbuf_hex(&sb, in + off, n);
            assert_int_equal(sb.len, 2 + 2 * n);
            assert_string_equal(sb.data + 2, want);
        }
    etw_strbuf_free(&sb);
}

/* Padded decimal and hex (what replaced printf's %0*llu, %0*llx and %0*llX in the value
 * formatters) against printf, at every digit-count boundary and every width. */
static void test_padded(void **state)
{
    (void)state;
    etw_strbuf sb = {0};
    char want[64];
    for (unsigned width = 0; width <= 20; width++) {
        uint64_t v = 1;
        for (int d = 0; d < 20; d++, v *= 10) {
            uint64_t cases[3] = {v - 1, v, v + 1};
            for (int k = 0; k < 3; k++) {
                etw_strbuf_reset(&sb);
                etw_strbuf_u64_pad(&sb, cases[k], width);
                snprintf(want, sizeof want, "%0*" PRIu64, (int)width, cases[k]);
                assert_string_equal(sb.data, want);
            }
        }
    }
    for (unsigned width = 0; width <= 16; width++)
        for (int bits = 0; bits <= 64; bits++) {
            uint64_t v = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
            uint64_t cases[2] = {v, v + 1};
            for (int k = 0; k < 2; k++)
                for (int upper = 0; upper < 2; upper++) {
                    etw_strbuf_reset(&sb);
                    etw_strbuf_hex_u64(&sb, cases[k] * 0x9Du, width, upper);
                    snprintf(want, sizeof want, upper ? "%0*" PRIX64 : "%0*" PRIx64, (int)width,
                             cases[k] * 0x9Du);
                    assert_string_equal(sb.data, want);
                }
        }
    /* The raw writers the event view uses after one reserve. */
    for (int bits = 0; bits <= 64; bits++) {
        uint64_t v = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
        uint64_t cases[3] = {v, v + 1, v / 3};
        for (int k = 0; k < 3; k++) {
            char got[24];
            *etw_hex_put(got, cases[k]) = '\0';
            snprintf(want, sizeof want, "%" PRIx64, cases[k]);
            assert_string_equal(got, want);
            *etw_u64_put(got, cases[k]) = '\0';
            snprintf(want, sizeof want, "%" PRIu64, cases[k]);
            assert_string_equal(got, want);
        }
    }
    etw_strbuf_free(&sb);
}

static void test_put_helpers_grow(void **state)
{
    (void)state;
    etw_strbuf sb = {0};
    char want[2000];
    size_t n = 0;
    for (int i = 0; i < 300; i++) {
        etw_strbuf_putc(&sb, (char)('a' + i % 26));
        etw_strbuf_puts(&sb, "; ");
        want[n++] = (char)('a' + i % 26);
        want[n++] = ';';
        want[n++] = ' ';
    }
    want[n] = 0;
    assert_int_equal(sb.len, n);
    assert_string_equal(sb.data, want);
    assert_true(sb.cap > sb.len);
    etw_strbuf_free(&sb);
}

/* etw_strbuf_line_escaped (16 bytes a step, the tail through a padded copy or an overlapping
 * load) against the byte-at-a-time rules on random strings of every length up to 70, and the
 * rules pinned on one string. */
static void test_line_escaped(void **state)
{
    (void)state;
    etw_strbuf sb = {0}, want = {0};
    etw_strbuf_line_escaped(&sb, "a\x01\r\n\t\",\\\x7f\x00z\xc3\xa9\x80", 14, 0);
    assert_string_equal(sb.data, "a\\x01\\x0d\\n\\t\",\\\\x7f\\x00z\xc3\xa9\x80");
    etw_strbuf_reset(&sb);
    etw_strbuf_line_escaped(&sb, "a\x01\r\n\t\",\\\x7f\x00z\xc3\xa9\x80", 14, 1);
    assert_string_equal(sb.data, "a\\x01\\x0d\\n\\t\"\",\\\\x7f\\x00z\xc3\xa9\x80");
    static const char alphabet[] = {'a', 'Z', ' ', ',', '"', '\\', '\n', '\r', '\t', 0x01, 0x7F, 0, (char)0xC3, (char)0xA9};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    unsigned long mismatches = 0;
    for (int round = 0; round < 20000; round++) {
        char s[80];
        size_t n = (size_t)(round % 71);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int rich = x % 3 == 0;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            s[i] = alphabet[x % (rich ? sizeof alphabet : 3)];
        }
        for (int csv = 0; csv < 2; csv++) {
            etw_strbuf_reset(&sb);
            etw_strbuf_reset(&want);
            etw_strbuf_putc(&sb, '<');
            etw_strbuf_putc(&want, '<');
            etw_strbuf_line_escaped(&sb, s, n, csv);
            escape_ref_line(&want, s, n, csv);
            if (sb.len != want.len || memcmp(sb.data, want.data, want.len) != 0)
                mismatches++;
        }
    }
    assert_int_equal(mismatches, 0);
    etw_strbuf_free(&sb);
    etw_strbuf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_u64), cmocka_unit_test(test_hex),
                                       cmocka_unit_test(test_padded), cmocka_unit_test(test_put_helpers_grow),
                                       cmocka_unit_test(test_line_escaped)};
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
