/* Fuzz target: a whole buffer-stream session fed in batches (etwire_stream_add_buffers, the
 * collector's hand-off), through the public API only. The input is fuzz_stream's: a sequence of
 * chunks, each a little-endian u16 length (capped at what remains) followed by that many bytes,
 * every chunk one buffer; the chunks go in batches of 1 to 8 (the first byte's bits 1-3 plus
 * one); a refused buffer and the rest of its batch are dropped, as the collector drops them.
 * Each chunk gets its own exactly-sized allocation, freed by the completion callback, so ASan
 * reports any read past a buffer or any use after the library said it was done with it, and
 * LeakSanitizer any buffer never completed. Aborts unless every accepted buffer completes
 * exactly once. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <etwire/etwire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    unsigned long events, buffers, completions;
} counts;

static VOID WINAPI on_event(PEVENT_RECORD ev)
{
    counts *c = ev->UserContext;
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

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *b, ULONG n, const ETW_BUFFER_CALLBACK_INFORMATION *info,
                             void *ctx)
{
    (void)b, (void)n, (void)info;
    counts *c = ctx;
    c->buffers++;
    return TRUE;
}

static VOID WINAPI on_complete(const ETW_BUFFER_HEADER *b, void *ctx)
{
    counts *c = ctx;
    c->completions++;
    free((void *)(uintptr_t)b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    counts c = {0, 0, 0};
    ETW_OPEN_TRACE_OPTIONS o;
    memset(&o, 0, sizeof o);
    o.EventCallback = on_event;
    o.EventCallbackContext = &c;
    o.BufferCallback = on_buffer;
    o.BufferCallbackContext = &c;
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, on_complete, &c);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        abort();
    /* Trace time would otherwise decide whether events wait for later buffers; the unbounded
     * window exercises the full merge. The first input byte, when odd, keeps the default. */
    if (size > 0 && !(data[0] & 1))
        etwire_stream_set_reorder_window(h, ETWIRE_REORDER_UNBOUNDED);
    unsigned long accepted = 0;
    size_t pos = 0, batch = size > 0 ? (size_t)(data[0] >> 1 & 7) + 1 : 1;
    const ETW_BUFFER_HEADER *bufs[8];
    ULONG sizes[8];
    while (size - pos >= 2) {
        ULONG n = 0;
        for (; n < batch && size - pos >= 2; n++) {
            size_t len = (size_t)data[pos] | (size_t)data[pos + 1] << 8;
            pos += 2;
            if (len > size - pos)
                len = size - pos;
            uint8_t *buf = malloc(len ? len : 1);
            if (!buf)
                abort();
            memcpy(buf, data + pos, len);
            pos += len;
            bufs[n] = (const ETW_BUFFER_HEADER *)(void *)buf;
            sizes[n] = (ULONG)len;
        }
        ULONG taken = 0;
        etwire_stream_add_buffers(h, bufs, sizes, n, &taken);
        if (taken > n)
            abort();
        accepted += taken;
        /* The refused one and those after it (never offered) are the caller's again: dropped,
         * as the collector drops them. */
        for (ULONG i = taken; i < n; i++)
            free((void *)(uintptr_t)bufs[i]);
    }
    etwire_stream_end(h);
    ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    if (c.completions != accepted || c.buffers > accepted)
        abort();
    return 0;
}
