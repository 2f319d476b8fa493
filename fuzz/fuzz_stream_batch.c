/* Fuzz target: a whole buffer-stream session fed in batches (etwire_stream_add_buffers, the
 * collector's hand-off), through the public API only. The input is fuzz_stream's: a sequence of
 * chunks, each a little-endian u16 length (capped at what remains) followed by that many bytes,
 * every chunk one buffer; the chunks go in batches of 1 to 8 (the first byte's bits 1-3 plus
 * one); a refused buffer and the rest of its batch are dropped, as the collector drops them.
 * Each chunk gets its own exactly-sized allocation, freed by the completion callback, so ASan
 * reports any read past a buffer or any use after the library said it was done with it, and
 * LeakSanitizer any buffer never completed. Aborts unless every accepted buffer completes
 * exactly once. */
#include "stream_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stream_counts c = {0, 0, 0};
    PROCESSTRACE_HANDLE h = stream_fuzz_open(data, size, &c);
    unsigned long accepted = 0;
    size_t pos = 0, batch = size > 0 ? (size_t)(data[0] >> 1 & 7) + 1 : 1;
    const ETW_BUFFER_HEADER *bufs[8];
    ULONG sizes[8];
    for (int more = 1; more;) {
        ULONG n = 0;
        for (uint8_t *buf; n < batch && (buf = stream_fuzz_chunk(data, size, &pos, &sizes[n])); n++)
            bufs[n] = (const ETW_BUFFER_HEADER *)(void *)buf;
        if (n < batch)
            more = 0; /* the input ran out */
        if (!n)
            break;
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
    stream_fuzz_finish(h, &c, accepted);
    return 0;
}
