/* Buffer sources for `etwire send` (see relay_input.h). */
#include "relay/input.h"

#include <stdlib.h>
#include <string.h>

#include <etwire/etwire.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "relay/wire/frame.h"

typedef struct etl_ctx {
    relay_input_cb cb;
    void *ctx;
    int stopped;
    relay_input_clock clk;
    int have_clock;
} etl_ctx;

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *buf, ULONG size,
                             const ETW_BUFFER_CALLBACK_INFORMATION *info, void *context)
{
    etl_ctx *e = context;
    if (!e->have_clock && info && info->LogfileHeader) {
        const TRACE_LOGFILE_HEADER *h = info->LogfileHeader;
        etw_clock c;
        etw_clock_init(&c, h->ReservedFlags, (uint64_t)h->PerfFreq.QuadPart, h->CpuSpeedInMHz, 0, 0);
        e->clk.frequency = c.frequency;
        e->have_clock = 1;
    }
    if (e->cb(e->ctx, (const uint8_t *)buf, size, &e->clk) != 0) {
        e->stopped = 1;
        return FALSE;
    }
    return TRUE;
}

int relay_input_etl(const char *path, relay_input_cb cb, void *ctx, char *err, size_t errlen)
{
    etl_ctx e = {.cb = cb, .ctx = ctx};
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    opts.BufferCallback = on_buffer;
    opts.BufferCallbackContext = &e;
    TRACE_LOGFILE_HEADER hdr;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &opts, &hdr);
    if (h == INVALID_PROCESSTRACE_HANDLE) {
        snprintf(err, errlen, "%s: %s", path, etwire_last_error_message());
        return -1;
    }
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    if (e.stopped) {
        snprintf(err, errlen, "%s: sending stopped", path);
        return -1;
    }
    if (rc != ERROR_SUCCESS) {
        snprintf(err, errlen, "%s: %s", path, etwire_strerror(rc));
        return -1;
    }
    return 0;
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
