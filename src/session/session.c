/* Session lifetime, buffer acceptance and the log-file header (see session.h). */
#include "session/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/decode_scope.h"
#include "format/xca.h"
#include "format/record_walk.h"
#include "session/run.h"

etw_session *etw_session_create(etw_source src)
{
    etw_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->src = src;
    s->decode_scope = etw_decode_scope_new();
    s->window_100ns = ETWIRE_REORDER_UNBOUNDED;
    s->mem_limit = UINT64_MAX;
    return s;
}

static void free_buf_list(etw_buf *b, etw_buf *(*next)(etw_buf *))
{
    while (b) {
        etw_buf *n = next(b);
        free(b->owned);
        free(b);
        b = n;
    }
}

static etw_buf *next_proc(etw_buf *b) { return b->next_proc; }

void etw_session_destroy(etw_session *s)
{
    if (!s)
        return;
    etw_session_release_all(s);
    free_buf_list(s->free_bufs, next_proc);
    while (s->nspare_inflated)
        free(s->spare_inflated[--s->nspare_inflated]);
    free(s->procs);
    free(s->names);
    if (s->src.ops && s->src.ops->close)
        s->src.ops->close(s->src.impl);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void etw_report_to(ETWIRE_DIAGNOSTIC_CALLBACK cb, void *ctx, etw_status st, uint64_t buffer_index,
                   uint64_t offset, uint32_t record_offset, const char *detail)
{
    if (!cb)
        return;
    char msg[512];
    if (record_offset)
        snprintf(msg, sizeof msg, "buffer %llu at offset %llu, record at +%u: %s%s%s",
                 (unsigned long long)buffer_index, (unsigned long long)offset, record_offset,
                 etw_status_message(st), detail ? ": " : "", detail ? detail : "");
    else
        snprintf(msg, sizeof msg, "buffer %llu at offset %llu: %s%s%s",
                 (unsigned long long)buffer_index, (unsigned long long)offset,
                 etw_status_message(st), detail ? ": " : "", detail ? detail : "");
    ETWIRE_DIAGNOSTIC d = {etw_status_win32(st), buffer_index, offset, record_offset, msg};
    cb(&d, ctx);
}

void etw_session_report(etw_session *s, etw_status st, uint64_t buffer_index, uint64_t offset,
                        uint32_t record_offset, const char *detail)
{
    etw_report_to(s->diag_cb, s->diag_ctx, st, buffer_index, offset, record_offset, detail);
}

/* The raw times whose FILETIME is start + (ts - ts0) exactly (a 10 MHz clock: FILETIME ticks)
 * and cannot overflow: within 2^62 of ts0, with |start| below 2^62. Other clocks take
 * etw_clock_to_filetime for every time but 0. */
static void fast_clock_init(etw_session *s)
{
    const etw_clock *c = &s->clock;
    const uint64_t reach = 1ull << 62;
    if (c->frequency == 10000000u && c->start_filetime > -(int64_t)reach &&
        c->start_filetime < (int64_t)reach) {
        uint64_t lo = c->ts0 >= reach ? c->ts0 - reach : 0;
        uint64_t hi = c->ts0 <= UINT64_MAX - reach ? c->ts0 + reach : UINT64_MAX;
        s->fast_lo = lo;
        s->fast_span = hi - lo;
        s->fast_shift = (uint64_t)c->start_filetime - c->ts0;
    } else {
        s->fast_lo = 0;
        s->fast_span = 0;
        s->fast_shift = (uint64_t)etw_clock_to_filetime(c, 0);
    }
}

/* The first buffer defines the trace: pointer size, clock, processors (B.9, C.3.4). */
static etw_status take_header(etw_session *s, const uint8_t *p, const etw_buffer_header *h)
{
    etw_record rec;
    if (h->flags & ETW_BUFFER_FLAG_COMPRESSED)
        return ETW_E_BUF_NO_HEADER;
    if (etw_record_parse(p + ETW_BUFFER_HEADER_SIZE, h->filled - ETW_BUFFER_HEADER_SIZE, &rec) !=
            ETW_OK ||
        !etw_record_is_logfile_header(&rec))
        return ETW_E_BUF_NO_HEADER;
    const uint8_t *payload = p + ETW_BUFFER_HEADER_SIZE + rec.payload_off;
    etw_status st = etw_logfile_header_parse(payload, rec.payload_len, rec.is64, &s->info);
    if (st != ETW_OK)
        return st;
    size_t units = (s->info.logger_name_len + s->info.file_name_len) / 2 + 2;
    WCHAR *names = calloc(units, sizeof(WCHAR));
    if (!names)
        return ETW_E_NOMEM;
    size_t ln = s->info.logger_name_len / 2;
    for (size_t i = 0; i < ln; i++)
        names[i] = etw_rd16(payload + s->info.logger_name_off + 2 * i);
    for (size_t i = 0; i < s->info.file_name_len / 2; i++)
        names[ln + 1 + i] = etw_rd16(payload + s->info.file_name_off + 2 * i);
    s->names = names;
    s->header = s->info.header;
    s->header.LoggerName = names;
    s->header.LogFileName = names + ln + 1;
    etw_clock_init(&s->clock, s->header.ReservedFlags, (uint64_t)s->header.PerfFreq.QuadPart,
                   s->header.CpuSpeedInMHz, s->header.StartTime.QuadPart,
                   (uint64_t)rec.er.EventHeader.TimeStamp.QuadPart);
    fast_clock_init(s);
    s->stats.EventsLost = s->header.EventsLost;
    /* Which MS-XCA format compressed buffers use: the header buffer's State word names it when
     * it holds a format number (docs/format/compression.md); every real file seen says 3. */
    s->compression = (h->state == ETW_XCA_LZNT1 || h->state == ETW_XCA_XPRESS_HUFF) ? (int)h->state
                                                                                     : ETW_XCA_XPRESS;
    s->have_header = 1;
    return ETW_OK;
}

/* Compressed buffers: everything after the 72-byte header is one independent MS-XCA stream
 * whose decompressed size is filled - 72 (docs/format/compression.md). */
static etw_status decompress(etw_session *s, const uint8_t *p, size_t n,
                             const etw_buffer_header *h, uint8_t **out)
{
    size_t stored = h->buffer_size < n ? h->buffer_size : n;
    /* What a compressed buffer says it expands to is checked before anything is allocated:
     * never more than the session's buffer size, and ETW buffers are at most 16 MiB. */
    if (h->filled > ETW_MAX_BUFFER_SIZE || h->filled > s->header.BufferSize)
        return ETW_E_BUF_FILLED;
    uint8_t *d = s->src.ops->inflated ? s->src.ops->inflated(s->src.impl, p, n) : NULL;
    if (d) { /* decompressed ahead by the source, into a block like the ones below */
        s->stats.BuffersCompressed++;
        s->stats.CompressedBytes += stored - ETW_BUFFER_HEADER_SIZE;
        s->stats.DecompressedBytes += h->filled - ETW_BUFFER_HEADER_SIZE;
        *out = d;
        return ETW_OK;
    }
    d = s->nspare_inflated ? s->spare_inflated[--s->nspare_inflated] : malloc(s->header.BufferSize);
    if (!d)
        return ETW_E_NOMEM;
    memcpy(d, p, ETW_BUFFER_HEADER_SIZE);
    size_t got = 0;
    int rc = etw_xca_decompress(s->compression, p + ETW_BUFFER_HEADER_SIZE,
                                stored - ETW_BUFFER_HEADER_SIZE, d + ETW_BUFFER_HEADER_SIZE,
                                h->filled - ETW_BUFFER_HEADER_SIZE, &got);
    if (rc != ETW_XCA_OK || got != h->filled - ETW_BUFFER_HEADER_SIZE) {
        etw_session_drop_inflated(s, d);
        return ETW_E_BUF_DECOMPRESS;
    }
    s->stats.BuffersCompressed++;
    s->stats.CompressedBytes += stored - ETW_BUFFER_HEADER_SIZE;
    s->stats.DecompressedBytes += got;
    *out = d;
    return ETW_OK;
}

void etw_session_drop_inflated(etw_session *s, uint8_t *block)
{
    if (!block)
        return;
    if (s->nspare_inflated < sizeof s->spare_inflated / sizeof s->spare_inflated[0])
        s->spare_inflated[s->nspare_inflated++] = block;
    else
        free(block);
}

static etw_buf *new_buf(etw_session *s)
{
    etw_buf *b = s->free_bufs;
    if (b)
        s->free_bufs = b->next_proc;
    else
        b = malloc(sizeof *b);
    if (b)
        memset(b, 0, sizeof *b);
    return b;
}

etw_status etw_session_expect_buffer(etw_session *s, uint32_t processor)
{
    etw_proc *proc = etw_proc_slot(s, processor + 1);
    if (!proc)
        return ETW_E_NOMEM;
    proc->unfed++;
    return ETW_OK;
}

void etw_session_skip_buffer(etw_session *s, etw_status st, uint64_t index, uint64_t offset,
                             uint32_t processor, const char *detail)
{
    pthread_mutex_lock(&s->mu);
    s->stats.BuffersRejected++;
    if (index == UINT64_MAX)
        index = s->next_index;
    pthread_mutex_unlock(&s->mu);
    s->corrupt = 1;
    etw_session_report(s, st, index, offset, 0, detail);
    etw_proc *proc = processor == UINT32_MAX ? NULL : etw_proc_slot(s, processor + 1);
    if (proc && proc->unfed)
        proc->unfed--;
    s->bound_dirty = 1;
}

void etw_session_restart(etw_session *s)
{
    free(s->procs);
    s->procs = NULL;
    s->nprocs = 0;
    s->next_index = s->next_offset = 0;
    s->ended = s->input_ended = s->header_seen = s->corrupt = 0;
    s->bound_dirty = 1;
    s->current_time = 0;
    s->buffers_read = 0;
    memset(&s->live, 0, sizeof s->live);
    pthread_mutex_lock(&s->mu);
    memset(&s->stats, 0, sizeof s->stats);
    s->stats.EventsLost = s->header.EventsLost;
    pthread_mutex_unlock(&s->mu);
    if (s->logfile_w)
        s->logfile_w->BuffersRead = 0, s->logfile_w->CurrentTime = 0;
    if (s->logfile_a)
        s->logfile_a->BuffersRead = 0, s->logfile_a->CurrentTime = 0;
}

etw_status etw_session_add(etw_session *s, const uint8_t *p, size_t n, uint64_t offset,
                           uint64_t pos, int last_of_proc, int validate_records)
{
    pthread_mutex_lock(&s->mu);
    etw_status st = etw_session_accept(s, p, n, offset, pos, last_of_proc, validate_records);
    pthread_mutex_unlock(&s->mu);
    return st;
}

etw_status etw_session_accept(etw_session *s, const uint8_t *p, size_t n, uint64_t offset,
                              uint64_t pos, int last_of_proc, int validate_records)
{
    etw_buffer_header h;
    etw_status st = etw_buffer_header_parse(p, n, &h);
    if (st != ETW_OK)
        return st;
    /* A buffer older than the one before it is taken like any other: a clock set back
     * between appended sessions, a relog or a private session produces such sequences, and a
     * BufferCallback hands them on as they are (issue 9.5). Its events are delivered; those
     * that sort before one already delivered are counted in EventsLate. */
    if (!s->have_header && (st = take_header(s, p, &h)) != ETW_OK)
        return st;
    uint8_t *owned = NULL;
    if (h.flags & ETW_BUFFER_FLAG_COMPRESSED) {
        if (!(s->header.LogFileMode & EVENT_TRACE_COMPRESSED_MODE))
            return ETW_E_BUF_COMPRESSED;
        if ((st = decompress(s, p, n, &h, &owned)) != ETW_OK)
            return st;
    }
    const uint8_t *data = owned ? owned : p;
    uint32_t bad_at = 0;
    if (validate_records && (st = etw_records_walk(data, h.filled, &bad_at)) != ETW_OK) {
        etw_session_drop_inflated(s, owned);
        return st;
    }
    etw_buf *b = new_buf(s);
    if (!b) {
        etw_session_drop_inflated(s, owned);
        return ETW_E_NOMEM;
    }
    b->orig = p;
    b->orig_size = (uint32_t)n;
    b->data = data;
    b->owned = owned;
    b->hdr = h;
    b->index = s->next_index++;
    b->pos = pos == UINT64_MAX ? b->index : pos;
    b->offset = offset;
    b->cursor = ETW_BUFFER_HEADER_SIZE;
    b->last_of_proc = (uint8_t)last_of_proc;
    if (s->in_tail)
        s->in_tail->next_arrival = b;
    else
        s->in_head = b;
    s->in_tail = b;
    if (h.flags & (ETW_BUFFER_FLAG_EVENTS_LOST | ETW_BUFFER_FLAG_BUFFER_LOST))
        s->stats.BuffersLostFlagged++;
    s->stats.BuffersAccepted++;
    uint64_t held = atomic_fetch_add_explicit(&s->bytes_held, n + (owned ? h.filled : 0),
                                              memory_order_relaxed) +
                    n + (owned ? h.filled : 0);
    s->stats.BytesHeld = held;
    if (held > s->stats.BytesHeldPeak)
        s->stats.BytesHeldPeak = held;
    return ETW_OK;
}
