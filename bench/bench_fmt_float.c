/* etw_fmt_float against snprintf in the same run: ns per value for %.17g of doubles and %.9g of
 * floats (what decoded output prints) over everyday telemetry values (short decimals, counts,
 * durations and ratios as a trace holds them), random bit patterns and random floats, and for
 * %f / %e; then, unless --no-verify, checks N more random values of every kind byte for byte
 * (the test does fewer, under ASan).
 *   bench_fmt_float [--values N] [--verify N] [--no-verify] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/base/fmt_float_check.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* What float properties of real events look like: a few significant decimal digits
 * (3.28, 0.125, 97.5), whole numbers, milliseconds with fractions, small ratios. */
static double everyday_value(uint64_t *s, int single)
{
    uint64_t r = fmt_check_rand(s);
    double v;
    switch (r % 4) {
    case 0: { /* d.dd .. dddd.dd */
        char text[32];
        snprintf(text, sizeof text, "%u.%02u", (unsigned)(r >> 8) % 10000, (unsigned)(r >> 24) % 100);
        v = strtod(text, NULL);
        break;
    }
    case 1: v = (double)((r >> 8) % 100000); break;
    case 2: v = (double)((r >> 8) % 1000000) / 1e3 * 1.0137; break; /* durations */
    default: v = (double)((r >> 8) % 1000) / 997.0; break;          /* ratios */
    }
    return single ? (double)(float)v : v;
}

typedef double (*value_fn)(uint64_t *s, int single);

static double random_bits(uint64_t *s, int single) { return fmt_check_random_value(s, single); }

static volatile size_t sink;

static void bench_set(const char *name, value_fn fn, int single, char conv, int precision, size_t n)
{
    double *v = malloc(n * sizeof *v);
    if (!v)
        exit(1);
    uint64_t s = 0x1234567ull;
    for (size_t i = 0; i < n; i++)
        v[i] = fn(&s, single);
    char spec[32], out[ETW_FMT_FLOAT_MAX(64)];
    fmt_check_spec(spec, conv, precision, 0);
    double best_ours = 1e30, best_printf = 1e30;
    for (int round = 0; round < 3; round++) {
        double t0 = now_ns();
        size_t total = 0;
        for (size_t i = 0; i < n; i++)
            total += etw_fmt_float(out, v[i], conv, precision, 0);
        double t1 = now_ns();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        for (size_t i = 0; i < n; i++)
            total += (size_t)snprintf(out, sizeof out, spec, v[i]);
#pragma GCC diagnostic pop
        double t2 = now_ns();
        sink += total;
        if (t1 - t0 < best_ours)
            best_ours = t1 - t0;
        if (t2 - t1 < best_printf)
            best_printf = t2 - t1;
    }
    printf("%-26s %-6s %10.1f %10.1f %8.1fx\n", name, spec, best_ours / (double)n, best_printf / (double)n,
           best_printf / best_ours);
    free(v);
}

static unsigned long verify(unsigned long n)
{
    static const char convs[] = "eEfFgGaA";
    uint64_t s = 0xC0FFEEull;
    unsigned long bad = 0;
    for (unsigned long i = 0; i < n; i++) {
        bad += !fmt_check_one(fmt_check_random_value(&s, 0), 'g', 17, 0);
        bad += !fmt_check_one(fmt_check_random_value(&s, 1), 'g', 9, 0);
        bad += !fmt_check_one(everyday_value(&s, (int)(i & 1)), 'g', i & 1 ? 9 : 17, 0);
        uint64_t r = fmt_check_rand(&s);
        double v = fmt_check_random_value(&s, (r >> 20) & 1);
        char conv = convs[r % 8];
        if ((conv == 'f' || conv == 'F') && (r >> 21) % 4)
            v = fmt_check_scale(v, -fmt_check_exponent(v) + (int)((r >> 24) % 120) - 60);
        bad += !fmt_check_one(v, conv, (int)((r >> 8) % 70) - 4, (unsigned)(r >> 16) & 7);
    }
    return bad;
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    unsigned long nverify = 5000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--values") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--verify") && i + 1 < argc)
            nverify = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-verify"))
            nverify = 0;
        else {
            fprintf(stderr, "usage: bench_fmt_float [--values N] [--verify N] [--no-verify]\n");
            return 2;
        }
    }
    printf("%-26s %-6s %10s %10s %9s\n", "values", "spec", "ours ns", "printf ns", "speed-up");
    bench_set("everyday doubles", everyday_value, 0, 'g', 17, n);
    bench_set("everyday floats", everyday_value, 1, 'g', 9, n);
    bench_set("random doubles (bits)", random_bits, 0, 'g', 17, n);
    bench_set("random floats (bits)", random_bits, 1, 'g', 9, n);
    bench_set("everyday doubles", everyday_value, 0, 'f', 3, n);
    bench_set("everyday doubles", everyday_value, 0, 'e', 6, n);
    bench_set("random doubles (bits)", random_bits, 0, 'e', 30, n / 4);
    if (nverify) {
        double t0 = now_ns();
        unsigned long bad = verify(nverify);
        printf("verified %lu x 4 values against snprintf in %.1f s: %lu differ\n", nverify, (now_ns() - t0) / 1e9,
               bad);
        return bad != 0;
    }
    return 0;
}
