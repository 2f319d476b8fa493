/* Turning a parsed record into what the callback receives: EVENT_RECORD for the record
 * callbacks, EVENT_TRACE for the classic EventCallback (docs/etw-format.md B.10). Everything
 * points into the buffer; nothing is allocated per event. */
#include <string.h>

#include "base/decode_scope.h"
#include "session/run.h"

static USHORT record_flags(const etw_session *s, const etw_buf *b, const etw_record *r)
{
    USHORT f;
    switch (r->kind) {
    case ETW_REC_EVENT:
        f = r->flags & (USHORT) ~(EVENT_HEADER_FLAG_32_BIT_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
        break;
    case ETW_REC_MESSAGE:
        f = EVENT_HEADER_FLAG_TRACE_MESSAGE;
        break;
    default:
        f = EVENT_HEADER_FLAG_CLASSIC_HEADER;
        break;
    }
    f |= r->is64 ? EVENT_HEADER_FLAG_64_BIT_HEADER : EVENT_HEADER_FLAG_32_BIT_HEADER;
    if (r->ext_count)
        f |= EVENT_HEADER_FLAG_EXTENDED_INFO;
    if (b->hdr.flags & ETW_BUFFER_FLAG_PROC_INDEX)
        f |= EVENT_HEADER_FLAG_PROCESSOR_INDEX;
    (void)s;
    return f;
}

static void buffer_context(const etw_buf *b, ETW_BUFFER_CONTEXT *c)
{
    if (b->hdr.flags & ETW_BUFFER_FLAG_PROC_INDEX) {
        c->ProcessorIndex = b->hdr.processor;
    } else {
        c->ProcessorIndex = 0;
        c->ProcessorNumber = (UCHAR)b->hdr.processor;
        c->Alignment = 8;
    }
    c->LoggerId = b->hdr.logger_id;
}

static void build_record(etw_session *s, const etw_buf *b, const etw_record *r, int64_t ft,
                         EVENT_RECORD *er)
{
    const uint8_t *p = b->data + b->cursor;
    EVENT_HEADER *h = &er->EventHeader;
    /* Every field is set (no memset of the whole record: this runs once per event). */
    h->Size = r->size;
    h->HeaderType = 0;
    h->Flags = record_flags(s, b, r);
    h->EventProperty = r->event_property;
    h->ThreadId = r->thread_id;
    h->ProcessId = r->process_id;
    h->TimeStamp.QuadPart = s->raw_timestamp ? (LONGLONG)r->timestamp : ft;
    h->ProviderId = r->provider;
    h->EventDescriptor = r->desc;
    h->ProcessorTime = r->cpu_time;
    h->ActivityId = r->activity_id;
    buffer_context(b, &er->BufferContext);
    er->ExtendedDataCount = 0;
    er->ExtendedData = NULL;
    if (r->ext_count) {
        unsigned cap = sizeof s->ext_items / sizeof s->ext_items[0];
        er->ExtendedDataCount = (USHORT)etw_record_ext_items(r, p, s->ext_items, cap);
        er->ExtendedData = s->ext_items;
    }
    er->UserDataLength = (USHORT)r->payload_len;
    er->UserData = (PVOID)(p + r->payload_off);
    er->UserContext = NULL;
}

static void build_classic(const EVENT_RECORD *er, const etw_record *r, const uint8_t *p,
                          EVENT_TRACE *et)
{
    memset(et, 0, sizeof *et);
    EVENT_TRACE_HEADER *h = &et->Header;
    h->Size = er->EventHeader.Size;
    h->HeaderType = r->header_type;
    h->MarkerFlags = p[3];
    h->Class.Type = r->desc.Opcode;
    h->Class.Level = r->desc.Level;
    h->Class.Version = r->desc.Version;
    h->ThreadId = er->EventHeader.ThreadId;
    h->ProcessId = er->EventHeader.ProcessId;
    h->TimeStamp = er->EventHeader.TimeStamp;
    h->Guid = er->EventHeader.ProviderId;
    h->ProcessorTime = er->EventHeader.ProcessorTime;
    if (r->kind == ETW_REC_INSTANCE) {
        const EVENT_HEADER_EXTENDED_DATA_ITEM *it = &er->ExtendedData[0];
        memcpy(&et->InstanceId, (const void *)(uintptr_t)it->DataPtr, 4);
        memcpy(&et->ParentInstanceId, (const uint8_t *)(uintptr_t)it->DataPtr + 4, 4);
        memcpy(&et->ParentGuid, (const uint8_t *)(uintptr_t)it->DataPtr + 8, 16);
    }
    et->MofData = er->UserData;
    et->MofLength = er->UserDataLength;
    et->BufferContext = er->BufferContext;
}

/* Hands one event to the callback the session was opened with. */
static void call_back(etw_session *s, const etw_record *rec, const etw_buf *b, EVENT_RECORD *er)
{
    switch (s->api) {
    case ETW_API_OPTIONS:
        er->UserContext = s->options.EventCallbackContext;
        s->options.EventCallback(er);
        return;
    case ETW_API_LOGFILE_W:
    case ETW_API_LOGFILE_A: {
        ULONG mode = s->api == ETW_API_LOGFILE_W ? s->logfile_w->ProcessTraceMode
                                                 : s->logfile_a->ProcessTraceMode;
        EVENT_TRACE *cur = s->api == ETW_API_LOGFILE_W ? &s->logfile_w->CurrentEvent
                                                       : &s->logfile_a->CurrentEvent;
        if (mode & PROCESS_TRACE_MODE_EVENT_RECORD) {
            er->UserContext = s->api == ETW_API_LOGFILE_W ? s->logfile_w->Context
                                                         : s->logfile_a->Context;
            if (s->api == ETW_API_LOGFILE_W)
                s->logfile_w->EventRecordCallback(er);
            else
                s->logfile_a->EventRecordCallback(er);
        } else {
            build_classic(er, rec, b->data + b->cursor, cur);
            if (s->api == ETW_API_LOGFILE_W)
                s->logfile_w->EventCallback(cur);
            else
                s->logfile_a->EventCallback(cur);
        }
        return;
    }
    }
}

void etw_deliver(etw_run *r, etw_session *s, etw_proc *p)
{
    const etw_buf *b = p->head;
    const etw_record *rec = &p->rec;
    int64_t ft = p->key.ft;
    int is_header = ft == INT64_MIN;
    if (is_header) /* header-buffer records: first by definition, never filtered or late */
        ft = etw_clock_to_filetime(&s->clock, rec->timestamp);
    EVENT_RECORD er;
    int built = 0;
    if (s->hooks && s->hooks->event) {
        /* The layer above learns from every event, filtered or not (session.h), with this
         * trace's decode scope (set as for the callback below). */
        build_record(s, b, rec, ft, &er);
        built = 1;
        if (r->scoped != s) {
            etw_decode_scope = s->decode_scope;
            r->scoped = s;
        }
        s->hooks->event(&er);
    }
    if (!is_header) {
        if (ft < r->start_ft || ft > r->end_ft) {
            s->live.filtered++;
            return;
        }
        /* Late: it sorts before something already delivered (the reorder window or the
         * memory bound let that go first). r->last starts below every key. */
        if (etw_key_less(&p->key, &r->last)) {
            s->live.late++;
            /* Real-time delivery is never out of order: a processor whose own buffers go back
             * in time (lose_late catches every other case whole) loses those events. */
            if (s->lose_late)
                return;
        } else {
            r->last = p->key;
        }
    }
    s->current_time = ft;
    s->live.delivered++;

    if (!built)
        build_record(s, b, rec, ft, &er);
    /* Decoding inside the callback uses what this trace taught (base/decode_scope.h); several
     * sessions share one ProcessTrace thread, so the scope follows the session whose event
     * goes out (set only when that changes: a thread-local write per event costs a call in a
     * shared library). etw_run_process restores the caller's scope. */
    if (r->scoped != s) {
        etw_decode_scope = s->decode_scope;
        r->scoped = s;
    }
    call_back(s, rec, b, &er);
}

