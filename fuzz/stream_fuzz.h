/* What the buffer-stream fuzz targets (fuzz_stream.c, fuzz_stream_batch.c) share: callbacks
 * that count and touch every byte a consumer may read, the session they open, the chunk
 * format of their input, and the check that ends each input. */
#ifndef ETWIRE_FUZZ_STREAM_FUZZ_H
#define ETWIRE_FUZZ_STREAM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <etwire/etwire.h>

typedef struct {
    unsigned long events, buffers, completions;
} stream_counts;

static VOID WINAPI stream_on_event(PEVENT_RECORD ev)
{
    stream_counts *c = ev->UserContext;
    c->events++;
    /* Read the payload and extended items a consumer would, so ASan checks where they point. */
    volatile uint8_t acc = 0;
    const uint8_t *u = ev->UserData;
    for (USHORT i = 0; i < ev->UserDataLength; i++)
        acc ^= u[i];
    for (USHORT i = 0; i < ev->ExtendedDataCount; i++) {
        const uint8_t *x = (const uint8_t *)(uintptr_t)ev->ExtendedData[i].DataPtr;
        for (USHORT j = 0; j < ev->ExtendedData[i].DataSize; j++)
            acc ^= x[j];
    }
    (void)acc;
}

static BOOL WINAPI stream_on_buffer(const ETW_BUFFER_HEADER *b, ULONG n,
                                    const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)b, (void)n, (void)info;
    stream_counts *c = ctx;
    c->buffers++;
    return TRUE;
}

static VOID WINAPI stream_on_complete(const ETW_BUFFER_HEADER *b, void *ctx)
{
    stream_counts *c = ctx;
    c->completions++;
    free((void *)(uintptr_t)b);
}

/* A stream session counting into c. Trace time would otherwise decide whether events wait for
 * later buffers; the unbounded window exercises the full merge. The first input byte, when
 * odd, keeps the default. */
static PROCESSTRACE_HANDLE stream_fuzz_open(const uint8_t *data, size_t size, stream_counts *c)
{
    ETW_OPEN_TRACE_OPTIONS o;
    memset(&o, 0, sizeof o);
    o.EventCallback = stream_on_event;
    o.EventCallbackContext = c;
    o.BufferCallback = stream_on_buffer;
    o.BufferCallbackContext = c;
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, stream_on_complete, c);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        abort();
    if (size > 0 && !(data[0] & 1))
        etwire_stream_set_reorder_window(h, ETWIRE_REORDER_UNBOUNDED);
    return h;
}

/* The next chunk of the input (a little-endian u16 length, capped at what remains, then that
 * many bytes) in an exactly-sized allocation of its own, so ASan sees any read past it; NULL
 * when fewer than two bytes remain. */
static uint8_t *stream_fuzz_chunk(const uint8_t *data, size_t size, size_t *pos, ULONG *len_out)
{
    if (size - *pos < 2)
        return NULL;
    size_t len = (size_t)data[*pos] | (size_t)data[*pos + 1] << 8;
    *pos += 2;
    if (len > size - *pos)
        len = size - *pos;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    memcpy(buf, data + *pos, len);
    *pos += len;
    *len_out = (ULONG)len;
    return buf;
}

/* Ends the session, processes what it holds, and aborts unless every accepted buffer completed
 * exactly once (and no more buffers were reported than accepted). */
static void stream_fuzz_finish(PROCESSTRACE_HANDLE h, const stream_counts *c, unsigned long accepted)
{
    etwire_stream_end(h);
    ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    if (c->completions != accepted || c->buffers > accepted)
        abort();
}

#endif
