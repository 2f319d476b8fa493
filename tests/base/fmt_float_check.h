/* Shared by tests/base/test_fmt_float.c and bench/bench_fmt_float.c: formats a value with
 * etw_fmt_float and with glibc's snprintf under the same conversion, precision and flags, and
 * reports the first few differences. Also the value sets both walk. */
#ifndef ETWIRE_TESTS_FMT_FLOAT_CHECK_H
#define ETWIRE_TESTS_FMT_FLOAT_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt_float.h"

/* Not every includer uses every helper. */
#define FMT_CHECK_UNUSED __attribute__((unused))

static unsigned long fmt_check_failures;

/* The printf spec of (conv, precision, flags), e.g. "%+#.17g". */
static FMT_CHECK_UNUSED void fmt_check_spec(char *spec, char conv, int precision, unsigned flags)
{
    char *p = spec;
    *p++ = '%';
    if (flags & ETW_FMT_PLUS)
        *p++ = '+';
    if (flags & ETW_FMT_SPACE)
        *p++ = ' ';
    if (flags & ETW_FMT_ALT)
        *p++ = '#';
    if (precision >= 0)
        p += sprintf(p, ".%d", precision);
    *p++ = conv;
    *p = 0;
}

/* 1 when both agree; prints the first 10 differences. */
static FMT_CHECK_UNUSED int fmt_check_one(double v, char conv, int precision, unsigned flags)
{
    static char ours[2048], theirs[2048];
    char spec[32];
    fmt_check_spec(spec, conv, precision, flags);
    size_t n = etw_fmt_float(ours, v, conv, precision, flags);
    ours[n] = 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    int m = snprintf(theirs, sizeof theirs, spec, v);
#pragma GCC diagnostic pop
    if (m >= 0 && (size_t)m == n && memcmp(ours, theirs, n) == 0)
        return 1;
    if (fmt_check_failures++ < 10) {
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        fprintf(stderr, "fmt_float: %s of 0x%016llx: ours \"%s\", printf \"%s\"\n", spec,
                (unsigned long long)bits, ours, theirs);
    }
    return 0;
}

static FMT_CHECK_UNUSED double fmt_check_from_bits(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* 2^e exactly, e in [-1074, 1023] (libm-free: tests do not link it). */
static FMT_CHECK_UNUSED double fmt_check_pow2(int e)
{
    if (e >= -1022)
        return fmt_check_from_bits((uint64_t)(e + 1023) << 52);
    return fmt_check_from_bits(1ull << (e + 1074));
}

/* The neighbouring double towards +inf (up) or -inf. */
static FMT_CHECK_UNUSED double fmt_check_next(double v, int up)
{
    uint64_t b;
    if (v == 0)
        return up ? fmt_check_from_bits(1) : -fmt_check_from_bits(1);
    memcpy(&b, &v, sizeof b);
    b += ((b >> 63) == 0) == (up != 0) ? 1 : (uint64_t)-1;
    return fmt_check_from_bits(b);
}

/* v scaled by 2^e, e in [-1074, 1023] split into two exact steps where possible. */
static FMT_CHECK_UNUSED double fmt_check_scale(double v, int e)
{
    int half = e / 2;
    return v * fmt_check_pow2(half) * fmt_check_pow2(e - half);
}

/* The binary exponent of a finite nonzero v (its bits' exponent field, unbiased). */
static FMT_CHECK_UNUSED int fmt_check_exponent(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    int e = (int)((b >> 52) & 0x7FF);
    return e ? e - 1023 : -1023;
}

/* xorshift64*: the same values on every run. */
static FMT_CHECK_UNUSED uint64_t fmt_check_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* A random finite double (random bits), or a random float widened when single. */
static FMT_CHECK_UNUSED double fmt_check_random_value(uint64_t *s, int single)
{
    for (;;) {
        uint64_t r = fmt_check_rand(s);
        double v;
        if (single) {
            uint32_t b = (uint32_t)r;
            float f;
            memcpy(&f, &b, sizeof f);
            v = f;
        } else {
            v = fmt_check_from_bits(r);
        }
        if (isfinite(v))
            return v;
    }
}

#endif
