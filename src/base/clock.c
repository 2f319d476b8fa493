/* Timestamp conversion (see clock.h). */
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

/* d * 10^7 / f, exact: the product needs at most 88 bits. */
static unsigned __int128 scale(uint64_t d, uint64_t f)
{
    if (f == FILETIME_PER_SECOND)
        return d;
    return (unsigned __int128)d * FILETIME_PER_SECOND / f;
}

/* Hostile headers can put any value in StartTime and any timestamp in a record: the sum is
 * computed wide and saturated, so conversion never overflows. */
static int64_t saturate(__int128 v)
{
    if (v > INT64_MAX)
        return INT64_MAX;
    if (v < INT64_MIN + 1) /* INT64_MIN is the merge's "before everything" key */
        return INT64_MIN + 1;
    return (int64_t)v;
}

int64_t etw_clock_to_filetime(const etw_clock *c, uint64_t ts)
{
    /* The common case, a 10 MHz clock (FILETIME ticks) and sane values, in 64 bits. */
    int64_t d, out;
    if (c->frequency == FILETIME_PER_SECOND && !__builtin_sub_overflow(ts, c->ts0, &d) &&
        !__builtin_add_overflow(c->start_filetime, d, &out) && out != INT64_MIN)
        return out;
    if (ts >= c->ts0)
        return saturate((__int128)c->start_filetime + (__int128)scale(ts - c->ts0, c->frequency));
    return saturate((__int128)c->start_filetime - (__int128)scale(c->ts0 - ts, c->frequency));
}
