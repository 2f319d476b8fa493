/* Delivering the merge's top record (one ProcessTrace call, run.h): the EVENT_RECORD from the
 * record parsed when it was loaded (etw_proc_keyed: its header is copied whole, TimeStamp
 * already the delivered time), the decoder's hook, the time window, the late count, then the
 * consumer's callback. Inline: it runs once per event, beside the merge loop (merge.c). */
#ifndef ETWIRE_SESSION_DELIVER_H
#define ETWIRE_SESSION_DELIVER_H

#include "base/decode_scope.h"
#include "session/run.h"

static inline void etw_build_record(etw_session *s, const etw_proc *p, EVENT_RECORD *er)
{
    const etw_buf *b = p->head;
    const etw_record *r = &p->rec;
    const uint8_t *rp = b->data + b->cursor;
    er->EventHeader = r->h;
    er->EventHeader.Flags |= b->event_flags;
    er->BufferContext = b->context;
    er->ExtendedDataCount = 0;
    er->ExtendedData = NULL;
    if (r->ext_count) {
        unsigned cap = sizeof s->ext_items / sizeof s->ext_items[0];
        er->ExtendedDataCount = (USHORT)etw_record_ext_items(r, rp, s->ext_items, cap);
        er->ExtendedData = s->ext_items;
    }
    er->UserDataLength = (USHORT)r->payload_len;
    er->UserData = (PVOID)(rp + r->payload_off);
    er->UserContext = s->record_ctx;
}

static inline void etw_deliver(etw_run *r, etw_session *s, etw_proc *p)
{
    EVENT_RECORD er;
    etw_build_record(s, p, &er);
    /* Decoding inside the hook and the callback uses what this trace taught
     * (base/decode_scope.h); several sessions share one ProcessTrace thread, so the scope
     * follows the session whose event goes out (set only when that changes: a thread-local
     * write in a shared library is a call). etw_run_process restores the caller's scope. */
    if (r->scoped != s) {
        etw_decode_scope = s->decode_scope;
        r->scoped = s;
    }
    /* The layer above learns from every event, filtered or not (session.h). */
    if (s->hooks && s->hooks->event)
        s->hooks->event(&er);
    int64_t ft = p->key.ft;
    if (ft == INT64_MIN) {
        /* Header-buffer records: first by definition, never filtered or late. */
        ft = etw_clock_to_filetime(&s->clock, p->last_ts);
    } else {
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
    if (s->record_cb)
        s->record_cb(&er);
    else
        etw_deliver_classic(s, p, &er);
}

#endif
