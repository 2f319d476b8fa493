/* Image names from UTF-16 paths: the last path component, converted by text.c's bounded
 * UTF-16 to UTF-8 conversion (etw_utf16_to_utf8_cut), checked against the unbounded one
 * (etw_utf16_to_utf8): same bytes when they fit, else the longest whole-character prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/strbuf.h"
#include "base/text.h"
#include "context/image_name.h"

/* UTF-16LE bytes of units[0..n) into out (exactly 2n bytes: reading past is caught). */
static uint8_t *utf16le(const uint16_t *units, size_t n)
{
    uint8_t *p = malloc(2 * n + 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[2 * i] = (uint8_t)units[i];
        p[2 * i + 1] = (uint8_t)(units[i] >> 8);
    }
    return p;
}

/* What the unbounded conversion gives for units[from..to). */
static void reference(const uint16_t *units, size_t from, size_t to, etw_strbuf *want)
{
    uint8_t *p = utf16le(units + from, to - from);
    etw_strbuf_reset(want);
    etw_utf16_to_utf8(want, p, 2 * (to - from));
    etw_strbuf_putc(want, '\0');
    free(p);
}

static void base_name_of_a_path(void **state)
{
    (void)state;
    /* C:\Windows\System32/ü€😀.exe then a NUL and bytes that are not part of the name. */
    const uint16_t units[] = {'C', ':', '\\', 'W', 'i', 'n', '\\', 'S', '3', '2', '/', 0xFC, 0x20AC,
                              0xD83D, 0xDE00, '.', 'e', 'x', 'e', 0, 'z', 'z'};
    size_t n = sizeof units / sizeof *units;
    uint8_t *p = utf16le(units, n);
    char out[ETW_IMAGE_NAME_BYTES];
    etw_image_name_utf16(p, 2 * n, out);
    etw_strbuf want = {0};
    reference(units, 11, 19, &want);
    assert_string_equal(out, want.data);
    assert_string_equal(out, "\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80.exe");
    /* No NUL and an odd byte count: the name runs to the last whole unit. */
    etw_image_name_utf16(p + 22, 2 * 8 + 1, out);
    assert_string_equal(out, want.data);
    free(p);
    etw_strbuf_free(&want);
}

static void unpaired_surrogates_are_replaced(void **state)
{
    (void)state;
    const uint16_t units[] = {'a', 0xD800, 'b', 0xDC00, 0xDBFF};
    uint8_t *p = utf16le(units, 5);
    char out[ETW_IMAGE_NAME_BYTES];
    etw_image_name_utf16(p, 10, out);
    assert_string_equal(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD");
    free(p);
}

/* Long names are cut before the first character that does not fit: for every mix of 1, 2, 3
 * and 4-byte characters the result is a prefix of the full conversion, NUL-terminated within
 * the buffer, and the next character would not have fitted. */
static void long_names_cut_at_character_boundaries(void **state)
{
    (void)state;
    static const uint16_t pool[][2] = {{'x', 0}, {0xE9, 0}, {0x4E2D, 0}, {0xD83D, 0xDE00}};
    static const size_t bytes[] = {1, 2, 3, 4};
    etw_strbuf want = {0};
    for (unsigned seed = 0; seed < 64; seed++) {
        uint16_t units[200];
        size_t n = 0, sizes[100], chars = 0;
        unsigned r = seed * 2654435761u + 1;
        while (n + 2 <= sizeof units / sizeof *units && chars < 100) {
            r = r * 1103515245u + 12345u;
            unsigned k = (r >> 16) % 4;
            units[n++] = pool[k][0];
            if (pool[k][1])
                units[n++] = pool[k][1];
            sizes[chars++] = bytes[k];
        }
        uint8_t *p = utf16le(units, n);
        char out[ETW_IMAGE_NAME_BYTES];
        etw_image_name_utf16(p, 2 * n, out);
        reference(units, 0, n, &want);
        size_t len = strlen(out), whole = 0, i = 0;
        while (i < chars && whole + sizes[i] < ETW_IMAGE_NAME_BYTES)
            whole += sizes[i++];
        assert_int_equal(len, whole);
        assert_memory_equal(out, want.data, len);
        /* The bounded conversion itself, with room for everything: the whole string. */
        char big[512];
        assert_int_equal(etw_utf16_to_utf8_cut(p, 2 * n, big, sizeof big), want.len - 1);
        assert_string_equal(big, want.data);
        free(p);
    }
    char one[1] = {'?'};
    assert_int_equal(etw_utf16_to_utf8_cut((const uint8_t *)"a\0", 2, one, 1), 0);
    assert_int_equal(one[0], '\0');
    etw_strbuf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base_name_of_a_path),
        cmocka_unit_test(unpaired_surrogates_are_replaced),
        cmocka_unit_test(long_names_cut_at_character_boundaries),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
