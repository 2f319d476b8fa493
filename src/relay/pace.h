/* `etwire send --rate[=F]`: publishes buffers at the pace they were flushed in the trace (F
 * times faster), over TCP and Kafka alike; each transport waits its own way (keeping its
 * connection served) for the delay this computes.
 *
 * The trace's clock starts at the session's start, not at its first flushed buffer: a file's
 * header buffer has no flush time (etw-format.md B.2), so its time is that of the log-file
 * header event it begins with (the session start, B.13's ts0). A trace that waited hours
 * between its start and its first full buffer (a shutdown logger) is replayed with that wait. */
#ifndef ETWIRE_RELAY_PACE_H
#define ETWIRE_RELAY_PACE_H

#include <stdint.h>

#include "relay/input.h"

typedef struct relay_pace {
    double rate;        /* 0 = as fast as possible; 1 = original pace; 2 = twice as fast */
    uint64_t frequency; /* the clock the header buffer gave, for callers that know none */
    int started;        /* a buffer with a known time set the origin */
    uint64_t ts_origin; /* raw trace time that wall_origin stands for */
    double wall_origin; /* seconds on the caller's monotonic clock */
} relay_pace;

/* The trace time of one buffer in raw clock ticks: its flush time, or for the header buffer
 * (flush time 0) its header event's time; 0 when it has neither. Reads only buf[0..size). */
uint64_t relay_pace_buffer_time(const uint8_t *buf, uint32_t size);
/* The raw clock's ticks per second from a header buffer's log-file header (PerfFreq, 10^7 or
 * CpuSpeedInMHz by its clock type, etw-format.md B.13); 0 for any other buffer. */
uint64_t relay_pace_header_frequency(const uint8_t *buf, uint32_t size);
/* Seconds to wait before sending buf when the clock reads `now` (seconds, monotonic): the
 * decision alone, so that tests drive it with their own clock. The first buffer with a time
 * starts the trace clock. A frequency of 0 (standard input, raw files: nobody read the
 * header) uses the one the header buffer gave, if it came first. */
double relay_pace_delay_at(relay_pace *p, const uint8_t *buf, uint32_t size, uint64_t frequency,
                           double now);
/* The same on CLOCK_MONOTONIC, in milliseconds (0: now), capped at 2e9 ms so that a bogus time
 * cannot stall the sender for ever. */
int relay_pace_delay_ms(relay_pace *p, const uint8_t *buf, uint32_t size, const relay_input_clock *clk);

#endif
