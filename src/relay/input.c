/* Buffer sources for `etwire send` (see input.h). */
#include "relay/input.h"

#include <stdlib.h>
#include <string.h>

#include <etwire/etwire.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "etl/file_source.h"
#include "relay/wire/frame.h"

/* The trace clock, for pacing only: the public open reads the logfile header. */
static uint64_t file_frequency(const char *path)
{
    TRACE_LOGFILE_HEADER h;
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    PROCESSTRACE_HANDLE t = etwire_trace_open_file(path, &opts, &h);
    if (t == INVALID_PROCESSTRACE_HANDLE)
        return 0;
    CloseTrace(t);
    etw_clock c;
    etw_clock_init(&c, h.ReservedFlags, (uint64_t)h.PerfFreq.QuadPart, h.CpuSpeedInMHz, 0, 0);
    return c.frequency;
}

int relay_input_index(const char *path, int want_clock, relay_input_cb cb, void *ctx, char *err,
                      size_t errlen)
{
    etw_file_source *f;
    if (etw_file_source_open(path, &f, err, errlen) != ETW_OK)
        return -1;
    relay_input_clock clk = {.frequency = want_clock ? file_frequency(path) : 0};
    const etw_file_entry *e;
    const uint8_t *p;
    size_t n; /* the whole buffer: whole_buffers is the file source's default */
    etw_status st;
    int rc = 0;
    /* Flush order, as the index sorted it: what a live Windows sender would have shipped. */
    while (etw_file_source_next(f, UINT32_MAX, &e, &p, &n, &st)) {
        if (!p) {
            snprintf(err, errlen, "%s: buffer at offset %llu: %s", path, (unsigned long long)e->offset,
                     etw_status_message(st));
            continue; /* the rest of the file is still sent, as the reader reads it */
        }
        /* A buffer cut short by the end of the file is not sent (the reader skips it too). */
        int whole = e->size >= ETW_RELAY_MIN_ETW_BUFFER && etw_rd32(p) == e->size;
        int stop = whole ? cb(ctx, p, e->size, &clk) : 0;
        etw_file_source_done(f, p);
        if (stop) {
            snprintf(err, errlen, "%s: sending stopped", path);
            rc = -1;
            break;
        }
    }
    etw_file_source_close(f);
    return rc;
}

int relay_input_stream(FILE *in, relay_input_cb cb, void *ctx, char *err, size_t errlen)
{
    relay_input_clock clk = {0};
    uint8_t *buf = NULL;
    size_t cap = 0;
    uint64_t offset = 0;
    int rc = 0;
    for (;;) {
        uint8_t head[4];
        size_t got = fread(head, 1, 4, in);
        if (got == 0)
            break;
        uint32_t size = got == 4 ? etw_rd32(head) : 0;
        /* BufferSize chains the buffers (etw-format.md B.1); anything else ends the stream. */
        if (size < ETW_RELAY_MIN_ETW_BUFFER || size > ETW_RELAY_MAX_ETW_BUFFER) {
            snprintf(err, errlen, "invalid buffer size %u at offset %llu", size, (unsigned long long)offset);
            rc = -1;
            break;
        }
        if (size > cap) {
            uint8_t *grown = realloc(buf, size);
            if (!grown) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            buf = grown;
            cap = size;
        }
        memcpy(buf, head, 4);
        if (fread(buf + 4, 1, size - 4, in) != size - 4) {
            snprintf(err, errlen, "truncated buffer at offset %llu", (unsigned long long)offset);
            rc = -1;
            break;
        }
        if (cb(ctx, buf, size, &clk) != 0) {
            snprintf(err, errlen, "sending stopped");
            rc = -1;
            break;
        }
        offset += size;
    }
    free(buf);
    return rc;
}
