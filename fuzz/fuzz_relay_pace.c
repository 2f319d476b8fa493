/* Fuzz target: `send --rate` reads a time from each buffer (its flush time, or the header
 * event of a header buffer) and paces a sequence of them. The input is cut into buffers by
 * its first byte (a buffer length in 8-byte units; its low bit: no clock given, so that it is
 * learned from a header buffer); each is paced against a fixed clock. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "relay/pace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)data[0] * 8 + 1;
    relay_pace p = {.rate = 3};
    double now = 100.0;
    uint64_t frequency = (data[0] & 1) ? 0 : 10000000;
    for (size_t pos = 1; pos < size; pos += chunk) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        /* A copy of exactly n bytes: reading past it is caught by the sanitizers. */
        uint8_t *b = malloc(n);
        if (!b)
            return 0;
        for (size_t i = 0; i < n; i++)
            b[i] = data[pos + i];
        double d = relay_pace_delay_at(&p, b, (uint32_t)n, frequency, now);
        if (!(d >= 0))
            abort(); /* never a negative (or NaN) wait */
        now += d;
        (void)relay_pace_header_frequency(b, (uint32_t)n);
        free(b);
    }
    return 0;
}
