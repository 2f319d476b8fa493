/* Delivering the merge's top record (one ProcessTrace call, run.h): the EVENT_RECORD filled
 * when the record was parsed and loaded (etw_proc_keyed), its extended items, the decoder's
 * hook, the time window, the late count, then the consumer's callback. The consumer gets the
 * processor's own EVENT_RECORD: nothing is copied, and what a callback might write in it is
 * never read again (the merge reads the key and the parsed sizes, kept apart). Inline: it runs
 * once per event, beside the merge loop (merge.c). */
#ifndef ETWIRE_SESSION_DELIVER_H
#define ETWIRE_SESSION_DELIVER_H

#include "base/decode_scope.h"
#include "session/run.h"

/* The extended items, when the record has some, go into the session's array (one event out
 * at a time). */
static inline void etw_set_ext_items(etw_session *s, etw_proc *p)
{
    const etw_buf *b = p->head;
    EVENT_RECORD *er = &p->rec.er;
    unsigned cap = sizeof s->ext_items / sizeof s->ext_items[0];
    er->ExtendedDataCount = (USHORT)etw_record_ext_items(&p->rec, b->data + b->cursor,
                                                         s->ext_items, cap);
    er->ExtendedData = s->ext_items;
}

/* Decoding inside the hook and the callback uses what this trace taught
 * (base/decode_scope.h); several sessions share one ProcessTrace thread, so the scope follows
 * the session whose events go out (set only when that changes: a thread-local write in a
 * shared library is a call). Once per run of one processor's events (merge.c), before its
 * first; etw_run_process restores the caller's scope. */
static inline void etw_deliver_scope(etw_run *r, etw_session *s)
{
    if (r->scoped != s) {
        etw_decode_scope = s->decode_scope;
        r->scoped = s;
    }
}

/* The scope is s's (etw_deliver_scope). */
static inline void etw_deliver(etw_run *r, etw_session *s, etw_proc *p)
{
    EVENT_RECORD *er = &p->rec.er; /* filled when it was loaded (etw_proc_keyed) */
    if (p->rec.ext_count)
        etw_set_ext_items(s, p);
    /* The layer above learns from every event, filtered or not (session.h). */
    if (s->event_hook)
        s->event_hook(er);
    int64_t ft = p->key.ft;
    if (ft == INT64_MIN) {
        /* Header-buffer records: first by definition, never filtered or late. */
        ft = etw_clock_to_filetime(&s->clock, p->last_ts);
    } else {
        if (__builtin_expect(r->windowed, 0) && (ft < r->start_ft || ft > r->end_ft)) {
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
        s->record_cb(er);
    else
        etw_deliver_classic(s, p, er);
}

#endif
