/* Where `etwire send` gets buffers: an .etl file's buffer index (flush order, exactly what a
 * live Windows sender ships), or a raw byte stream (standard
 * input, or a file with --raw) cut into buffers by each buffer's own BufferSize. */
#ifndef ETWIRE_RELAY_INPUT_H
#define ETWIRE_RELAY_INPUT_H

#include <stdint.h>
#include <stdio.h>

/* Clock of the trace, for --rate pacing (0 frequency = unknown). */
typedef struct relay_input_clock {
    uint64_t frequency; /* raw ticks per second */
} relay_input_clock;

/* Called once per buffer in order; a nonzero return stops reading. */
typedef int (*relay_input_cb)(void *ctx, const uint8_t *buf, uint32_t size, const relay_input_clock *clk);

/* An .etl file's buffers in flush order, straight from its index (etl/file_source.h: open,
 * next, done, close), without decoding events; with want_clock, the trace's clock frequency is
 * read from its header for pacing. Returns 0, or -1 with err filled. */
int relay_input_index(const char *path, int want_clock, relay_input_cb cb, void *ctx, char *err,
                      size_t errlen);
int relay_input_stream(FILE *in, relay_input_cb cb, void *ctx, char *err, size_t errlen);

#endif
