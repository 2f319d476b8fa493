/* fmt_spec against glibc's snprintf with the same spec, byte for byte: integers in every
 * conversion (d i u o x X) under random flags, widths and precisions, zero and the extremes
 * included; floats padded (zeros after the sign, never for inf/nan); text cut and padded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/fmt_spec.h"
#include "fmt_float_check.h"

static unsigned long failures;

/* "%<flags><width>.<precision><length><conv>" */
static void spec_text(char *out, const etw_fmt_spec *sp, const char *length, char conv)
{
    char *p = out;
    *p++ = '%';
    if (sp->flags & ETW_FMT_LEFT)
        *p++ = '-';
    if (sp->flags & ETW_FMT_PLUS)
        *p++ = '+';
    if (sp->flags & ETW_FMT_SPACE)
        *p++ = ' ';
    if (sp->flags & ETW_FMT_ALT)
        *p++ = '#';
    if (sp->flags & ETW_FMT_ZERO)
        *p++ = '0';
    if (sp->width > 0)
        p += sprintf(p, "%d", sp->width);
    if (sp->precision >= 0)
        p += sprintf(p, ".%d", sp->precision);
    p += sprintf(p, "%s%c", length, conv);
}

static int same(const etw_strbuf *ours, const char *theirs, const char *spec)
{
    if (strcmp(ours->data ? ours->data : "", theirs) == 0)
        return 1;
    if (failures++ < 10)
        fprintf(stderr, "fmt_spec %s: ours \"%s\", printf \"%s\"\n", spec, ours->data ? ours->data : "", theirs);
    return 0;
}

static etw_fmt_spec random_spec(uint64_t *s)
{
    uint64_t r = fmt_check_rand(s);
    etw_fmt_spec sp = {(unsigned)r & 31, (r >> 8) % 3 ? (int)((r >> 12) % 30) : 0,
                       (r >> 20) % 3 ? (int)((r >> 24) % 25) : -1};
    return sp;
}

#pragma GCC diagnostic ignored "-Wformat-nonliteral"

static void test_integers(void **state)
{
    (void)state;
    static const char convs[] = "diuoxX";
    uint64_t s = 99;
    etw_strbuf ours = {0};
    char spec[48], theirs[256];
    unsigned long ok = 0, n = 100000;
    for (unsigned long i = 0; i < n; i++) {
        etw_fmt_spec sp = random_spec(&s);
        char conv = convs[fmt_check_rand(&s) % 6];
        uint64_t r = fmt_check_rand(&s);
        uint64_t v = r % 4 == 0 ? r % 3 : r >> (fmt_check_rand(&s) % 64); /* many zeros and small values */
        if (r % 17 == 0)
            v = r % 2 ? UINT64_MAX : (uint64_t)INT64_MIN;
        spec_text(spec, &sp, "ll", conv);
        etw_strbuf_reset(&ours);
        if (conv == 'd' || conv == 'i') {
            int64_t sv = (int64_t)v;
            snprintf(theirs, sizeof theirs, spec, (long long)sv);
            etw_strbuf_fmt_int(&ours, &sp, conv, sv < 0 ? (uint64_t)0 - (uint64_t)sv : (uint64_t)sv, sv < 0);
        } else {
            snprintf(theirs, sizeof theirs, spec, (unsigned long long)v);
            etw_strbuf_fmt_int(&ours, &sp, conv, v, 0);
        }
        ok += (unsigned long)same(&ours, theirs, spec);
    }
    etw_strbuf_free(&ours);
    assert_int_equal(ok, n);
}

static void test_floats_padded(void **state)
{
    (void)state;
    static const char convs[] = "eEfFgGaA";
    const double specials[] = {INFINITY, -INFINITY, NAN, -NAN, 0.0, -0.0};
    uint64_t s = 7;
    etw_strbuf ours = {0};
    char spec[48], theirs[2048];
    unsigned long ok = 0, n = 40000;
    for (unsigned long i = 0; i < n; i++) {
        etw_fmt_spec sp = random_spec(&s);
        uint64_t r = fmt_check_rand(&s);
        char conv = convs[r % 8];
        double v = r % 10 == 0 ? specials[(r >> 8) % 6] : fmt_check_random_value(&s, (r >> 4) & 1);
        if ((conv == 'f' || conv == 'F') && v == v && v - v == 0 && v != 0)
            v = fmt_check_scale(v, -fmt_check_exponent(v) + (int)((r >> 24) % 80) - 40);
        spec_text(spec, &sp, "", conv);
        etw_strbuf_reset(&ours);
        snprintf(theirs, sizeof theirs, spec, v);
        etw_strbuf_fmt_float(&ours, &sp, conv, v);
        ok += (unsigned long)same(&ours, theirs, spec);
    }
    etw_strbuf_free(&ours);
    assert_int_equal(ok, n);
}

static void test_text(void **state)
{
    (void)state;
    static const char *texts[] = {"", "a", "queue", "C:\\Windows\\System32", "\xc3\xa9t\xc3\xa9"};
    uint64_t s = 3;
    etw_strbuf ours = {0};
    char spec[48], theirs[256];
    unsigned long ok = 0, n = 5000;
    for (unsigned long i = 0; i < n; i++) {
        etw_fmt_spec sp = random_spec(&s);
        sp.flags &= ETW_FMT_LEFT; /* the others are undefined for %s and %c */
        const char *t = texts[fmt_check_rand(&s) % 5];
        etw_strbuf_reset(&ours);
        if (i % 2) {
            spec_text(spec, &sp, "", 's');
            snprintf(theirs, sizeof theirs, spec, t);
            etw_strbuf_fmt_text(&ours, &sp, t, strlen(t));
        } else {
            char c = (char)('A' + i % 26);
            sp.precision = -1;
            spec_text(spec, &sp, "", 'c');
            snprintf(theirs, sizeof theirs, spec, c);
            etw_strbuf_fmt_text(&ours, &sp, &c, 1);
        }
        ok += (unsigned long)same(&ours, theirs, spec);
    }
    etw_strbuf_free(&ours);
    assert_int_equal(ok, n);
}

static void test_flag_characters(void **state)
{
    (void)state;
    assert_int_equal(etw_fmt_flags("-+ #0", 5), ETW_FMT_LEFT | ETW_FMT_PLUS | ETW_FMT_SPACE | ETW_FMT_ALT | ETW_FMT_ZERO);
    assert_int_equal(etw_fmt_flags("0x", 2), ETW_FMT_ZERO);
    assert_int_equal(etw_fmt_flags("", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats_padded),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_flag_characters),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
