/* Raw session timestamps to FILETIME (docs/etw-format.md B.13): FILETIME = StartTime +
 * (ts - ts0) * 10^7 / frequency, where ts0 is the raw timestamp of the log-file header event
 * and the frequency depends on the clock type (QPC: PerfFreq; system time: 10^7; CPU cycles:
 * CpuSpeedInMHz * 10^6). Integer arithmetic only, so conversion is exact and repeatable. */
#ifndef ETWIRE_BASE_CLOCK_H
#define ETWIRE_BASE_CLOCK_H

#include <stdint.h>

#define ETW_CLOCK_RAW 0u
#define ETW_CLOCK_QPC 1u
#define ETW_CLOCK_SYSTEM_TIME 2u
#define ETW_CLOCK_CPU_CYCLE 3u

typedef struct etw_clock {
    int64_t start_filetime;
    uint64_t ts0;
    uint64_t frequency; /* raw ticks per second */
} etw_clock;

void etw_clock_init(etw_clock *c, uint32_t clock_type, uint64_t perf_freq, uint32_t cpu_mhz,
                    int64_t start_filetime, uint64_t ts0);
int64_t etw_clock_to_filetime(const etw_clock *c, uint64_t ts);

#endif
