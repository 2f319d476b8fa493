/* Fuzz target: a whole buffer-stream session through the public API only. The input is a
 * sequence of chunks, each a little-endian u16 length (capped at what remains) followed by that
 * many bytes, and every chunk is offered as one buffer. Each chunk gets its own exactly-sized
 * allocation, freed by the completion callback, so ASan reports any read past a buffer or any
 * use after the library said it was done with it, and LeakSanitizer any buffer never
 * completed. Aborts unless every accepted buffer completes exactly once. */
#include "stream_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stream_counts c = {0, 0, 0};
    PROCESSTRACE_HANDLE h = stream_fuzz_open(data, size, &c);
    unsigned long accepted = 0;
    size_t pos = 0;
    ULONG len;
    for (uint8_t *buf; (buf = stream_fuzz_chunk(data, size, &pos, &len));) {
        if (ProcessTraceAddBufferToBufferStream(h, (const ETW_BUFFER_HEADER *)(void *)buf, len) ==
            ERROR_SUCCESS)
            accepted++;
        else
            free(buf); /* refused: the library keeps no reference */
    }
    stream_fuzz_finish(h, &c, accepted);
    return 0;
}
