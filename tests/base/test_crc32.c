/* CRC-32: the standard check value, and the sliced loop against a bit-at-a-time reference over
 * every length and alignment around the 8-byte blocks, and in pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/crc32.h"

static uint32_t reference(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}

static void test_check_value(void **state)
{
    (void)state;
    assert_int_equal(etw_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(etw_crc32(0, "", 0), 0);
    assert_int_equal(etw_crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
}

static void test_against_reference(void **state)
{
    (void)state;
    uint8_t buf[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof buf; n += (n < 40 ? 1 : 13))
            assert_int_equal(etw_crc32(0, buf + off, n), reference(0, buf + off, n));
    /* Continuing a CRC in pieces gives the CRC of the whole. */
    uint32_t c = etw_crc32(0, buf, 7);
    c = etw_crc32(c, buf + 7, 100);
    c = etw_crc32(c, buf + 107, 193);
    assert_int_equal(c, reference(0, buf, 300));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_check_value), cmocka_unit_test(test_against_reference)};
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
