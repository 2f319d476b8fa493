/* Timestamp conversion (see clock.h). Exact 64 x 64-bit integer arithmetic without a 128-bit
 * type, so 32-bit targets (i386) convert exactly as 64-bit ones do. */
#include "base/clock.h"

#define FILETIME_PER_SECOND 10000000ull

void etw_clock_init(etw_clock *c, uint32_t clock_type, uint64_t perf_freq, uint32_t cpu_mhz,
                    int64_t start_filetime, uint64_t ts0)
{
    c->start_filetime = start_filetime;
    c->ts0 = ts0;
    switch (clock_type) {
    case ETW_CLOCK_SYSTEM_TIME:
        c->frequency = FILETIME_PER_SECOND;
        break;
    case ETW_CLOCK_CPU_CYCLE:
        c->frequency = cpu_mhz ? (uint64_t)cpu_mhz * 1000000ull : perf_freq;
        break;
    default:
        c->frequency = perf_freq;
        break;
    }
    /* Real-time producers have been seen with PerfFreq 0; fall back to FILETIME ticks. */
    if (c->frequency == 0)
        c->frequency = FILETIME_PER_SECOND;
}

/* r * 10^7 / f for r < f, so the quotient is below 10^7. Every realistic frequency (f below
 * 1.8 * 10^12 Hz) takes the one-division path; hostile headers take a 128-by-64-bit long
 * division on the product kept as two 64-bit halves. */
static uint64_t fraction_ticks(uint64_t r, uint64_t f)
{
    if (r <= UINT64_MAX / FILETIME_PER_SECOND)
        return r * FILETIME_PER_SECOND / f;
    uint64_t low_part = (r & 0xffffffffu) * FILETIME_PER_SECOND;  /* < 2^56 */
    uint64_t high_part = (r >> 32) * FILETIME_PER_SECOND;         /* < 2^56 */
    uint64_t lo = low_part + (high_part << 32);
    uint64_t hi = (high_part >> 32) + (lo < low_part);
    uint64_t rem = 0, quotient = 0;
    for (int bit = 127; bit >= 0; bit--) {
        uint64_t next = bit >= 64 ? (hi >> (bit - 64)) & 1u : (lo >> bit) & 1u;
        int carried = (rem >> 63) != 0; /* rem << 1 would exceed 64 bits: it is then > f */
        rem = rem << 1 | next;
        quotient <<= 1;
        if (carried || rem >= f) {
            rem -= f;
            quotient |= 1u;
        }
    }
    return quotient;
}

/* d * 10^7 / f, exact; 0 when the quotient does not fit 64 bits. */
static int scale(uint64_t d, uint64_t f, uint64_t *out)
{
    if (f == FILETIME_PER_SECOND) {
        *out = d;
        return 1;
    }
    /* One division while d * 10^7 fits 64 bits: spans up to 1.8 * 10^12 ticks (5.7 days of a
     * 3.58 MHz QPC, 13 minutes of a 2.3 GHz cycle counter). */
    if (d <= UINT64_MAX / FILETIME_PER_SECOND) {
        *out = d * FILETIME_PER_SECOND / f;
        return 1;
    }
    uint64_t whole = d / f;
    if (whole > UINT64_MAX / FILETIME_PER_SECOND)
        return 0;
    uint64_t ticks = whole * FILETIME_PER_SECOND;
    uint64_t frac = fraction_ticks(d % f, f);
    if (ticks > UINT64_MAX - frac)
        return 0;
    *out = ticks + frac;
    return 1;
}

/* Hostile headers can put any value in StartTime and any timestamp in a record: start +/- span
 * is saturated to [INT64_MIN + 1, INT64_MAX] (INT64_MIN is the merge's "before everything"
 * key), so conversion never overflows. */
static int64_t offset_saturated(int64_t start, uint64_t span, int later)
{
    /* |start| as unsigned, and whether start and the offset point the same way. */
    uint64_t mag = start < 0 ? (uint64_t)0 - (uint64_t)start : (uint64_t)start;
    int start_neg = start < 0, result_neg;
    uint64_t res;
    if (start_neg == !later) { /* same direction: magnitudes add */
        if (span > UINT64_MAX - mag)
            return later ? INT64_MAX : INT64_MIN + 1;
        res = mag + span;
        result_neg = start_neg;
    } else if (span >= mag) {
        res = span - mag;
        result_neg = !later;
    } else {
        res = mag - span;
        result_neg = start_neg;
    }
    if (result_neg)
        return res >= (uint64_t)INT64_MAX ? INT64_MIN + 1 : -(int64_t)res;
    return res > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)res;
}

int64_t etw_clock_to_filetime(const etw_clock *c, uint64_t ts)
{
    /* The common case, a 10 MHz clock (FILETIME ticks) and sane values, in 64 bits. */
    int64_t d, out;
    if (c->frequency == FILETIME_PER_SECOND && !__builtin_sub_overflow(ts, c->ts0, &d) &&
        !__builtin_add_overflow(c->start_filetime, d, &out) && out != INT64_MIN)
        return out;
    int later = ts >= c->ts0;
    uint64_t span;
    if (!scale(later ? ts - c->ts0 : c->ts0 - ts, c->frequency, &span))
        return later ? INT64_MAX : INT64_MIN + 1;
    return offset_saturated(c->start_filetime, span, later);
}
