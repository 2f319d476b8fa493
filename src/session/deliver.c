/* The consumer's event callback: which one a session delivers to (EVENT_RECORD for the record
 * callbacks), and the classic EventCallback's EVENT_TRACE (docs/etw-format.md B.10), built from
 * the EVENT_RECORD. Everything points into the buffer; nothing is allocated per event. The
 * per-event path itself is inline in deliver.h. */
#include <string.h>

#include "session/run.h"

void etw_session_pick_callback(etw_session *s)
{
    s->event_hook = s->hooks ? s->hooks->event : NULL;
    s->record_cb = NULL;
    s->record_ctx = NULL;
    switch (s->api) {
    case ETW_API_OPTIONS:
        s->record_cb = s->options.EventCallback;
        s->record_ctx = s->options.EventCallbackContext;
        return;
    case ETW_API_LOGFILE_W:
        if (s->logfile_w->ProcessTraceMode & PROCESS_TRACE_MODE_EVENT_RECORD) {
            s->record_cb = s->logfile_w->EventRecordCallback;
            s->record_ctx = s->logfile_w->Context;
        }
        return;
    case ETW_API_LOGFILE_A:
        if (s->logfile_a->ProcessTraceMode & PROCESS_TRACE_MODE_EVENT_RECORD) {
            s->record_cb = s->logfile_a->EventRecordCallback;
            s->record_ctx = s->logfile_a->Context;
        }
        return;
    }
}

static void build_classic(const EVENT_RECORD *er, const etw_record *r, const uint8_t *p,
                          EVENT_TRACE *et)
{
    memset(et, 0, sizeof *et);
    EVENT_TRACE_HEADER *h = &et->Header;
    h->Size = er->EventHeader.Size;
    h->HeaderType = r->header_type;
    h->MarkerFlags = p[3];
    h->Class.Type = er->EventHeader.EventDescriptor.Opcode;
    h->Class.Level = er->EventHeader.EventDescriptor.Level;
    h->Class.Version = er->EventHeader.EventDescriptor.Version;
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

void etw_deliver_classic(etw_session *s, const etw_proc *p, EVENT_RECORD *er)
{
    const uint8_t *rp = p->head->data + p->head->cursor;
    if (s->api == ETW_API_LOGFILE_W) {
        build_classic(er, &p->rec, rp, &s->logfile_w->CurrentEvent);
        s->logfile_w->EventCallback(&s->logfile_w->CurrentEvent);
    } else if (s->api == ETW_API_LOGFILE_A) {
        build_classic(er, &p->rec, rp, &s->logfile_a->CurrentEvent);
        s->logfile_a->EventCallback(&s->logfile_a->CurrentEvent);
    }
}
