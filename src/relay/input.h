/* Where `etwire send` gets buffers: an .etl file's buffer index (flush order, exactly what a
 * live Windows sender ships), or a raw byte stream (standard
 * input, or a file with --raw) cut into buffers by each buffer's own BufferSize.
 *
 * Each buffer is read once, straight into memory its consumer gives (relay_input_target: the
 * frame it is sent in, the Kafka record it is published as): no block of the reader's own
 * and no copy from one into the other. */
#ifndef ETWIRE_RELAY_INPUT_H
#define ETWIRE_RELAY_INPUT_H

#include <stdint.h>
#include <stdio.h>

/* Clock of the trace, for --rate pacing (0 frequency = unknown). */
typedef struct relay_input_clock {
    uint64_t frequency; /* raw ticks per second */
} relay_input_clock;

/* The consumer of the buffers, in order. After each reserve that returns memory exactly one of
 * commit or cancel follows, and the memory is the consumer's again from then on. */
typedef struct relay_input_target {
    void *ctx;
    /* Memory for the next buffer's `size` bytes, its BufferSize (NULL stops reading). */
    uint8_t *(*reserve)(void *ctx, uint32_t size);
    /* The reserved memory holds the whole buffer: send it; nonzero stops reading. */
    int (*commit)(void *ctx, uint8_t *buf, uint32_t size, const relay_input_clock *clk);
    /* The reserved memory holds no buffer to send (a failed or short read). */
    void (*cancel)(void *ctx, uint8_t *buf);
} relay_input_target;

/* An .etl file's buffers in flush order, straight from its index (etl/file_source.h: open,
 * next_entry, read_into, close), without decoding events; with want_clock, the trace's clock
 * frequency is read from its header for pacing. A buffer that cannot be read is reported in
 * err and the rest are still sent; one cut short by the end of the file is not sent (the
 * reader skips it too). Returns 0, or -1 with err filled. */
int relay_input_index_into(const char *path, int want_clock, const relay_input_target *t, char *err,
                           size_t errlen);
/* A raw stream: buffers cut by their BufferSize (72 bytes .. 16 MiB, else the stream ends with
 * an error naming the offset). */
int relay_input_stream_into(FILE *in, const relay_input_target *t, char *err, size_t errlen);

/* The same, for a consumer that takes each buffer where the reader put it (one scratch block,
 * reused): called once per buffer in order; a nonzero return stops reading. */
typedef int (*relay_input_cb)(void *ctx, const uint8_t *buf, uint32_t size, const relay_input_clock *clk);
int relay_input_index(const char *path, int want_clock, relay_input_cb cb, void *ctx, char *err,
                      size_t errlen);
int relay_input_stream(FILE *in, relay_input_cb cb, void *ctx, char *err, size_t errlen);

#endif
