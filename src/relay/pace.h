/* `etwire send --rate[=F]`: publishes buffers at the pace they were flushed in the trace (F
 * times faster), over TCP and Kafka alike; each transport waits its own way (keeping its
 * connection served) for the delay this computes. */
#ifndef ETWIRE_RELAY_PACE_H
#define ETWIRE_RELAY_PACE_H

#include <stdint.h>
#include <time.h>

#include "relay/input.h"

typedef struct relay_pace {
    double rate;       /* 0 = as fast as possible; 1 = original pace; 2 = twice as fast */
    uint64_t ts_first; /* first nonzero buffer flush time */
    struct timespec wall_first;
} relay_pace;

/* Milliseconds to wait before sending buf (0: now); the first buffer with a flush time
 * starts the clock. */
int relay_pace_delay_ms(relay_pace *p, const uint8_t *buf, const relay_input_clock *clk);

#endif
