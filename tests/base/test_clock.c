/* The raw-timestamp to FILETIME conversion is exact on every word size: each result is checked
 * against a computation that shares nothing with the library's - products of 64-bit numbers in
 * base-10^9 limbs, floor(d * 10^7 / f) verified as q * f <= d * 10^7 < (q + 1) * f - over
 * realistic clocks (QPC, ACPI PM timer, CPU cycles, system time) and hostile ones (frequency 1,
 * 2^63 + 5, UINT64_MAX; starts and timestamps at the ends of their ranges). Runs the same on
 * i386 (CI builds the suite with -m32), where the library has no 128-bit type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/clock.h"

#define LIMB 1000000000u
#define LIMBS 6 /* 2^64 * 2^64 < 10^54 */

typedef struct big {
    uint32_t l[LIMBS]; /* little-endian base-10^9 digits */
} big;

static big big_from(uint64_t v)
{
    big b;
    memset(&b, 0, sizeof b);
    for (int i = 0; v; i++) {
        b.l[i] = (uint32_t)(v % LIMB);
        v /= LIMB;
    }
    return b;
}

static big big_mul(uint64_t x, uint64_t y)
{
    big a = big_from(x), b = big_from(y), r;
    uint64_t acc[LIMBS + 1] = {0};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            acc[i + j] += (uint64_t)a.l[i] * b.l[j]; /* each term < 10^18, at most 3 per limb */
    uint64_t carry = 0;
    for (int i = 0; i < LIMBS; i++) {
        uint64_t v = acc[i] + carry;
        r.l[i] = (uint32_t)(v % LIMB);
        carry = v / LIMB;
    }
    return r;
}

static big big_add(big a, big b)
{
    uint32_t carry = 0;
    for (int i = 0; i < LIMBS; i++) {
        uint32_t v = a.l[i] + b.l[i] + carry;
        carry = v >= LIMB;
        a.l[i] = carry ? v - LIMB : v;
    }
    return a;
}

static int big_cmp(big a, big b)
{
    for (int i = LIMBS - 1; i >= 0; i--)
        if (a.l[i] != b.l[i])
            return a.l[i] < b.l[i] ? -1 : 1;
    return 0;
}

/* q == floor(d * 10^7 / f) */
static int is_floor_quotient(uint64_t q, uint64_t d, uint64_t f)
{
    big num = big_mul(d, 10000000u), lo = big_mul(q, f), hi = big_add(lo, big_from(f));
    return big_cmp(lo, num) <= 0 && big_cmp(num, hi) < 0;
}

/* floor(d * 10^7 / f) >= bound */
static int quotient_at_least(uint64_t bound, uint64_t d, uint64_t f)
{
    return big_cmp(big_mul(bound, f), big_mul(d, 10000000u)) <= 0;
}

static long checked;

/* Converts ts with a clock of frequency f and checks the result independently. */
static void check_one(int64_t start, uint64_t ts0, uint64_t ts, uint64_t f)
{
    etw_clock c;
    etw_clock_init(&c, ETW_CLOCK_QPC, f, 0, start, ts0);
    int64_t out = etw_clock_to_filetime(&c, ts);
    int later = ts >= ts0;
    uint64_t d = later ? ts - ts0 : ts0 - ts;
    assert_true(out != INT64_MIN);
    /* The distance from start to the saturation limit in the direction of travel (exact in
     * uint64 arithmetic, the true difference being in [0, 2^64)). */
    uint64_t room = later ? (uint64_t)INT64_MAX - (uint64_t)start : (uint64_t)start - (uint64_t)(INT64_MIN + 1);
    if ((later && out == INT64_MAX) || (!later && out == INT64_MIN + 1)) {
        if (!quotient_at_least(room, d, f))
            fail_msg("saturated early: start %lld ts0 %llu ts %llu f %llu", (long long)start,
                     (unsigned long long)ts0, (unsigned long long)ts, (unsigned long long)f);
    } else {
        assert_true(later ? out >= start : out <= start);
        uint64_t q = later ? (uint64_t)out - (uint64_t)start : (uint64_t)start - (uint64_t)out;
        if (!is_floor_quotient(q, d, f))
            fail_msg("start %lld ts0 %llu ts %llu f %llu: got %lld", (long long)start,
                     (unsigned long long)ts0, (unsigned long long)ts, (unsigned long long)f,
                     (long long)out);
    }
    checked++;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const uint64_t freqs[] = {
    10000000u,            /* system time and modern QPC */
    3579545u,             /* ACPI PM timer */
    2343750u,             /* older QPC */
    14318180u,            /* HPET */
    2304000000u,          /* CPU cycles, 2304 MHz */
    1u, 3u, 9999999u, 10000001u,
    (1ull << 40) + 1,
    1800000000007ull,     /* just past the one-division path */
    (1ull << 63) + 5, UINT64_MAX,
};

static const int64_t starts[] = {
    0, 132757847728550000ll /* 2021 */, -1, 1, INT64_MAX, INT64_MIN + 1, -132757847728550000ll,
};

static void realistic_and_hostile_clocks(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (size_t fi = 0; fi < sizeof freqs / sizeof freqs[0]; fi++) {
        uint64_t f = freqs[fi];
        for (size_t si = 0; si < sizeof starts / sizeof starts[0]; si++) {
            int64_t start = starts[si];
            uint64_t ts0s[] = {0, 1234567890123ull, UINT64_MAX / 2, UINT64_MAX};
            for (size_t k = 0; k < 4; k++) {
                uint64_t ts0 = ts0s[k];
                uint64_t deltas[] = {0, 1, f - 1, f, f + 1, 3600ull * 1000, UINT64_MAX};
                for (size_t j = 0; j < sizeof deltas / sizeof deltas[0]; j++) {
                    check_one(start, ts0, ts0 + deltas[j], f);
                    check_one(start, ts0, ts0 - deltas[j], f);
                }
                for (int r = 0; r < 200; r++) {
                    uint64_t x = xorshift(&seed);
                    /* mix small spans (the common case) and arbitrary ones */
                    uint64_t span = (r & 1) ? x : x >> (x & 63);
                    check_one(start, ts0, ts0 + span, f);
                    check_one(start, ts0, ts0 - span, f);
                }
            }
        }
    }
    print_message("%ld conversions checked on a %u-bit build\n", checked, (unsigned)(sizeof(void *) * 8));
    assert_true(checked > 40000);
}

/* The clock types choose the frequency as the format says (docs/etw-format.md B.13). */
static void clock_types(void **state)
{
    (void)state;
    etw_clock c;
    etw_clock_init(&c, ETW_CLOCK_SYSTEM_TIME, 3579545u, 2304, 1000, 500);
    assert_int_equal(etw_clock_to_filetime(&c, 10500), 11000);
    etw_clock_init(&c, ETW_CLOCK_CPU_CYCLE, 3579545u, 2304, 1000, 0);
    assert_int_equal(etw_clock_to_filetime(&c, 2304000000u), 1000 + 10000000);
    etw_clock_init(&c, ETW_CLOCK_QPC, 3579545u, 2304, 0, 0);
    assert_int_equal(etw_clock_to_filetime(&c, 3579545u * 2 + 1), 20000002); /* 2 s + 2.79 ticks */
    etw_clock_init(&c, ETW_CLOCK_QPC, 0, 0, 7, 0); /* PerfFreq 0: FILETIME ticks */
    assert_int_equal(etw_clock_to_filetime(&c, 5), 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(realistic_and_hostile_clocks),
        cmocka_unit_test(clock_types),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
