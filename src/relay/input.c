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

int relay_input_index_into(const char *path, int want_clock, const relay_input_target *t, char *err,
                           size_t errlen)
{
    etw_file_source *f;
    if (etw_file_source_open(path, &f, err, errlen) != ETW_OK)
        return -1;
    relay_input_clock clk = {.frequency = want_clock ? file_frequency(path) : 0};
    const etw_file_entry *e;
    int rc = 0;
    /* Flush order, as the index sorted it: what a live Windows sender would have shipped. */
    while ((e = etw_file_source_next_entry(f))) {
        if (e->size < ETW_RELAY_MIN_ETW_BUFFER)
            continue; /* no buffer: cut short by the end of the file */
        uint8_t *buf = t->reserve(t->ctx, e->size);
        if (!buf) {
            snprintf(err, errlen, "%s: sending stopped", path);
            rc = -1;
            break;
        }
        etw_status st = etw_file_source_read_into(f, e, buf, e->size);
        if (st != ETW_OK) {
            t->cancel(t->ctx, buf);
            snprintf(err, errlen, "%s: buffer at offset %llu: %s", path, (unsigned long long)e->offset,
                     etw_status_message(st));
            continue; /* the rest of the file is still sent, as the reader reads it */
        }
        /* A buffer cut short by the end of the file is not sent (the reader skips it too). */
        if (etw_rd32(buf) != e->size) {
            t->cancel(t->ctx, buf);
            continue;
        }
        if (t->commit(t->ctx, buf, e->size, &clk) != 0) {
            snprintf(err, errlen, "%s: sending stopped", path);
            rc = -1;
            break;
        }
    }
    etw_file_source_close(f);
    return rc;
}

int relay_input_stream_into(FILE *in, const relay_input_target *t, char *err, size_t errlen)
{
    relay_input_clock clk = {0};
    uint64_t offset = 0;
    for (;;) {
        uint8_t head[4];
        size_t got = fread(head, 1, 4, in);
        if (got == 0)
            return 0;
        uint32_t size = got == 4 ? etw_rd32(head) : 0;
        /* BufferSize chains the buffers (etw-format.md B.1); anything else ends the stream. */
        if (size < ETW_RELAY_MIN_ETW_BUFFER || size > ETW_RELAY_MAX_ETW_BUFFER) {
            snprintf(err, errlen, "invalid buffer size %u at offset %llu", size, (unsigned long long)offset);
            return -1;
        }
        uint8_t *buf = t->reserve(t->ctx, size);
        if (!buf) {
            snprintf(err, errlen, "sending stopped");
            return -1;
        }
        memcpy(buf, head, 4);
        if (fread(buf + 4, 1, size - 4, in) != size - 4) {
            t->cancel(t->ctx, buf);
            snprintf(err, errlen, "truncated buffer at offset %llu", (unsigned long long)offset);
            return -1;
        }
        if (t->commit(t->ctx, buf, size, &clk) != 0) {
            snprintf(err, errlen, "sending stopped");
            return -1;
        }
        offset += size;
    }
}

/* The callback form: one scratch block, grown to the largest buffer. */
typedef struct scratch {
    relay_input_cb cb;
    void *ctx;
    uint8_t *block;
    size_t cap;
} scratch;

static uint8_t *scratch_reserve(void *ctx, uint32_t size)
{
    scratch *s = ctx;
    if (size > ETW_RELAY_MAX_ETW_BUFFER)
        return NULL; /* larger than any relay frame carries: stop, as every consumer would */
    if (size > s->cap) {
        uint8_t *grown = realloc(s->block, size);
        if (!grown)
            return NULL;
        s->block = grown;
        s->cap = size;
    }
    return s->block;
}

static int scratch_commit(void *ctx, uint8_t *buf, uint32_t size, const relay_input_clock *clk)
{
    scratch *s = ctx;
    return s->cb(s->ctx, buf, size, clk);
}

static void scratch_cancel(void *ctx, uint8_t *buf)
{
    (void)ctx, (void)buf;
}

int relay_input_index(const char *path, int want_clock, relay_input_cb cb, void *ctx, char *err,
                      size_t errlen)
{
    scratch s = {cb, ctx, NULL, 0};
    relay_input_target t = {&s, scratch_reserve, scratch_commit, scratch_cancel};
    int rc = relay_input_index_into(path, want_clock, &t, err, errlen);
    free(s.block);
    return rc;
}

int relay_input_stream(FILE *in, relay_input_cb cb, void *ctx, char *err, size_t errlen)
{
    scratch s = {cb, ctx, NULL, 0};
    relay_input_target t = {&s, scratch_reserve, scratch_commit, scratch_cancel};
    int rc = relay_input_stream_into(in, &t, err, errlen);
    free(s.block);
    return rc;
}
