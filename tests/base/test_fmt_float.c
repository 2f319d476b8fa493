/* etw_fmt_float against glibc's snprintf, byte for byte: random bit patterns of doubles and
 * floats in %.17g / %.9g (what decoded output prints), every power of two and of ten with its
 * neighbours, subnormals, values that round up into the next decade, exact ties at every
 * precision, and random conversions, precisions and flags (what WPP messages ask for), plus
 * infinities, NaNs and zeros. bench/bench_fmt_float.c runs the same checks on more values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "fmt_float_check.h"

static void test_random_g17_g9(void **state)
{
    (void)state;
    uint64_t s = 0x9E3779B97F4A7C15ull;
    unsigned long ok = 0, n = 200000;
    for (unsigned long i = 0; i < n; i++) {
        ok += (unsigned long)fmt_check_one(fmt_check_random_value(&s, 0), 'g', 17, 0);
        ok += (unsigned long)fmt_check_one(fmt_check_random_value(&s, 1), 'g', 9, 0);
    }
    assert_int_equal(ok, 2 * n);
}

/* Values around x: x itself and a few ulps either side. */
static unsigned long around(double x, char conv, int precision, unsigned flags, unsigned long *count)
{
    unsigned long ok = 0;
    double lo = x, hi = x;
    ok += (unsigned long)fmt_check_one(x, conv, precision, flags);
    ++*count;
    for (int i = 0; i < 2; i++) {
        lo = fmt_check_next(lo, 0);
        hi = fmt_check_next(hi, 1);
        if (isfinite(lo)) {
            ok += (unsigned long)fmt_check_one(lo, conv, precision, flags);
            ++*count;
        }
        if (isfinite(hi)) {
            ok += (unsigned long)fmt_check_one(hi, conv, precision, flags);
            ++*count;
        }
    }
    return ok;
}

static void test_powers_of_two_and_ten(void **state)
{
    (void)state;
    unsigned long ok = 0, count = 0;
    static const int precisions[] = {17, 9, 1, 6, 16, 20};
    for (int e = -1074; e <= 1023; e++) {
        double x = fmt_check_pow2(e);
        for (size_t p = 0; p < sizeof precisions / sizeof precisions[0]; p++)
            ok += around(x, 'g', precisions[p], 0, &count);
        ok += around(x, 'e', 16, 0, &count);
        if (e % 7 == 0) /* %f of every size, some subnormals' 1074 decimals included */
            ok += around(x, 'f', e < 0 ? -e : 3, 0, &count);
        ok += around((float)x, 'g', 9, 0, &count);
    }
    for (int e = -323; e <= 308; e++) {
        char text[32];
        snprintf(text, sizeof text, "1e%d", e);
        double x = strtod(text, NULL);
        ok += around(x, 'g', 17, 0, &count);
        ok += around(x, 'g', 15, 0, &count);
        ok += around(x, 'e', 3, 0, &count);
        ok += around(x, 'f', 2, 0, &count);
        if (e >= -45 && e <= 38)
            ok += around(strtof(text, NULL), 'g', 9, 0, &count);
    }
    assert_int_equal(ok, count);
}

/* 9.99..9 with one more 9 than the precision shows, and its neighbours: the rounding carries
 * into a new leading digit (9.9999999999999999e22 is printed 1e+23). */
static void test_next_decade(void **state)
{
    (void)state;
    unsigned long ok = 0, count = 0;
    for (int digits = 1; digits <= 19; digits++) {
        for (int e = -310; e <= 308; e += 3) {
            char text[64];
            int n = snprintf(text, sizeof text, "9.");
            for (int i = 0; i < digits && n < 40; i++)
                text[n++] = '9';
            snprintf(text + n, sizeof text - (size_t)n, "5e%d", e);
            double x = strtod(text, NULL);
            if (!isfinite(x))
                continue;
            ok += around(x, 'g', digits, 0, &count);
            ok += around(x, 'e', digits - 1, 0, &count);
            ok += around(x, 'g', 17, 0, &count);
        }
    }
    ok += around(9.9999999999999999e22, 'g', 17, 0, &count);
    ok += around(0.95, 'f', 1, 0, &count);
    ok += around(99.5, 'f', 0, 0, &count);
    assert_int_equal(ok, count);
}

/* n / 2^j is exact and ends in a 5 at the j-th decimal: rounding it to fewer decimals is a
 * tie, broken to even. And integers ending in 5 at every digit count. */
static void test_ties(void **state)
{
    (void)state;
    uint64_t s = 12345;
    unsigned long ok = 0, count = 0;
    for (int i = 0; i < 20000; i++) {
        int j = 1 + (int)(fmt_check_rand(&s) % 60);
        uint64_t n = fmt_check_rand(&s) >> (11 + fmt_check_rand(&s) % 50);
        double v = (double)(n | 1) * fmt_check_pow2(-j);
        ok += (unsigned long)fmt_check_one(v, 'f', j - 1, 0);
        double t = 0.5 + (double)(fmt_check_rand(&s) % 100000);
        ok += (unsigned long)fmt_check_one(t, 'f', 0, 0);
        /* %.Ne of an integer whose digit after the N+1 kept ones is the last, a 5 */
        uint64_t k = (fmt_check_rand(&s) >> 11) / 10 * 10 + 5;
        int nd = 1;
        for (uint64_t x = k; x >= 10; x /= 10)
            nd++;
        ok += (unsigned long)fmt_check_one((double)k, 'e', nd - 2 >= 0 ? nd - 2 : 0, 0);
        ok += (unsigned long)fmt_check_one((double)k, 'g', nd - 1 > 0 ? nd - 1 : 1, 0);
        count += 4;
    }
    assert_int_equal(ok, count);
}

static void test_random_specs(void **state)
{
    (void)state;
    static const char convs[] = "eEfFgGaA";
    uint64_t s = 777;
    unsigned long ok = 0, n = 40000;
    for (unsigned long i = 0; i < n; i++) {
        uint64_t r = fmt_check_rand(&s);
        char conv = convs[r % 8];
        int precision = (int)((r >> 8) % 64) - 4; /* negative: none */
        unsigned flags = (unsigned)(r >> 16) & 7;
        double v = fmt_check_random_value(&s, (r >> 20) & 1);
        if ((conv == 'f' || conv == 'F') && (r >> 21) % 4) /* mostly everyday magnitudes for %f */
            v = fmt_check_scale(v, -fmt_check_exponent(v) + (int)((r >> 24) % 120) - 60);
        ok += (unsigned long)fmt_check_one(v, conv, precision, flags);
    }
    assert_int_equal(ok, n);
}

static void test_special_values(void **state)
{
    (void)state;
    const double values[] = {INFINITY, -INFINITY, NAN, -NAN, 0.0, -0.0, 1.0, -1.0, 0.5, 2.5, 1e-320,
                             -5e-324, 1.7976931348623157e308};
    static const char convs[] = "eEfFgGaA";
    unsigned long ok = 0, count = 0;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        for (int c = 0; c < 8; c++)
            for (int precision = -1; precision <= 20; precision++)
                for (unsigned flags = 0; flags < 8; flags++, count++)
                    ok += (unsigned long)fmt_check_one(values[i], convs[c], precision, flags);
    assert_int_equal(ok, count);
    char out[ETW_FMT_FLOAT_MAX(0)];
    assert_int_equal(etw_fmt_float(out, 1.0, 'd', 3, 0), 0); /* not a float conversion */
    /* Precisions beyond the maximum are the maximum: within ETW_FMT_FLOAT_MAX of either. */
    char *big = malloc(ETW_FMT_FLOAT_MAX(2000000));
    assert_non_null(big);
    assert_int_equal(ETW_FMT_FLOAT_MAX(2000000), ETW_FMT_FLOAT_MAX(ETW_FMT_PRECISION_MAX));
    assert_int_equal(etw_fmt_float(big, 1.5, 'f', 2000000, 0), 2 + ETW_FMT_PRECISION_MAX);
    assert_memory_equal(big, "1.5000", 6);
    assert_int_equal(etw_fmt_float(big, 0.1, 'e', 2000000, 0), 2 + ETW_FMT_PRECISION_MAX + 4);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_g17_g9),
        cmocka_unit_test(test_powers_of_two_and_ten),
        cmocka_unit_test(test_next_decade),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_random_specs),
        cmocka_unit_test(test_special_values),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
