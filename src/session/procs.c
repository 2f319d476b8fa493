/* Per-processor queues of a session and the bound on what is still to come (docs/design.md
 * 3.3). A processor's buffers never overlap in time: its next buffer holds nothing older than
 * the last event of its previous one. (The stronger rule "nothing older than the previous
 * buffer's flush time" does not hold in relogged and private-session files: 400 of 405 buffers
 * of traceevent/net.4.5.x86-PerfViewData.etl break it; see docs/format/ordering.md.) So an idle
 * processor that has sent data bounds what may still come by its last event's time; one that
 * never sent anything could send anything. Slot 0 is the header buffer, delivered before
 * everything else; processor p lives in slot p + 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "session/run.h"

/* Processor indexes are 11 bits (ETW_PROCESSOR_INDEX_MASK); a header may claim more. */
#define MAX_PROCESSOR_SLOTS (ETW_PROCESSOR_INDEX_MASK + 2u)

static uint32_t announced_processors(const etw_session *s)
{
    uint32_t n = s->header.NumberOfProcessors;
    return n < MAX_PROCESSOR_SLOTS - 1 ? n : MAX_PROCESSOR_SLOTS - 1;
}

etw_proc *etw_proc_slot(etw_session *s, uint32_t slot)
{
    if (slot < s->nprocs)
        return &s->procs[slot];
    if (slot >= MAX_PROCESSOR_SLOTS)
        return NULL;
    uint32_t n = s->nprocs ? s->nprocs : 8;
    while (n <= slot)
        n *= 2;
    etw_proc *grown = realloc(s->procs, (size_t)n * sizeof *grown);
    if (!grown)
        return NULL;
    memset(grown + s->nprocs, 0, (size_t)(n - s->nprocs) * sizeof *grown);
    s->procs = grown;
    s->nprocs = n;
    return &s->procs[slot];
}

static int finished(const etw_session *s, const etw_proc *p, uint32_t slot)
{
    if (slot == 0)
        return p->seen || s->input_ended;
    if (s->src.ops->counts_buffers)
        return p->unfed == 0;
    return s->input_ended;
}

/* Whether slot exists for bound purposes: a processor the trace may still hear from. */
static int expected(const etw_session *s, const etw_proc *p, uint32_t slot)
{
    if (p->seen || slot == 0)
        return 1;
    if (s->src.ops->counts_buffers)
        return p->unfed > 0;
    return slot <= announced_processors(s);
}

void etw_session_bound(const etw_session *s, etw_key *bound, int *none)
{
    *none = 1;
    if (!s->header_seen && !s->input_ended) {
        *none = 0;
        bound->ft = INT64_MIN;
        bound->raw = 0;
        bound->tie = 0;
        return;
    }
    for (uint32_t slot = 0; slot < s->nprocs; slot++) {
        const etw_proc *p = &s->procs[slot];
        if (p->head || !expected(s, p, slot) || finished(s, p, slot))
            continue;
        etw_key k = {INT64_MIN, 0, etw_key_tie(s->index_in_call, slot)};
        if (p->seen) {
            k.ft = etw_clock_to_filetime(&s->clock, p->last_ts);
            k.raw = p->last_ts;
        }
        if (*none || etw_key_less(&k, bound)) {
            *bound = k;
            *none = 0;
        }
    }
}

void etw_proc_load(etw_run *r, etw_session *s, uint32_t slot)
{
    etw_proc *p = &s->procs[slot];
    for (;;) {
        etw_buf *b = p->head;
        if (!b) {
            p->has_rec = 0;
            s->bound_dirty = 1;
            r->bounds_changed = 1;
            return;
        }
        while (b->cursor + 4u <= b->hdr.filled && etw_rd32(b->data + b->cursor) != 0xFFFFFFFFu) {
            etw_status st = etw_record_parse(b->data + b->cursor, b->hdr.filled - b->cursor, &p->rec);
            if (st == ETW_OK && p->rec.kind != ETW_REC_SKIP) {
                p->key.tie = etw_key_tie(s->index_in_call, slot); /* etw_proc_next keeps it */
                etw_proc_add_context(p);
                etw_proc_keyed(r, s, p, slot);
                return;
            }
            s->live.bad_records++;
            s->corrupt = 1;
            etw_session_report(s, st == ETW_OK ? ETW_E_REC_MARKER : st, b->index, b->offset,
                               b->cursor, st == ETW_OK ? "record kind not delivered" : NULL);
            if (st != ETW_OK)
                break; /* the size cannot be trusted: go on with the next buffer */
            b->cursor += (uint32_t)etw_align8(p->rec.size);
        }
        p->head = b->next_proc;
        if (!p->head)
            p->tail = NULL;
        etw_buffer_events_done(r, s, b);
    }
}

/* The arrival list is kept in flush order (pos), which is completion order: a buffer read out
 * of flush order goes to its place. Buffers mostly arrive in order, and few are in flight. */
static void insert_arrival(etw_session *s, etw_buf *b)
{
    b->next_arrival = NULL;
    if (!s->arr_tail || s->arr_tail->pos < b->pos) {
        if (s->arr_tail)
            s->arr_tail->next_arrival = b;
        else
            s->arr_head = b;
        s->arr_tail = b;
        return;
    }
    etw_buf **link = &s->arr_head;
    while ((*link)->pos < b->pos) /* ends before the tail, whose pos is larger */
        link = &(*link)->next_arrival;
    b->next_arrival = *link;
    *link = b;
}

/* lose_late: b, just loaded as its idle processor's only buffer, starts before an event already
 * delivered. It is lost whole: counted in the header's BuffersLost, reported, its records walked
 * (so the processor's bound moves to its last event) and completed without a BufferCallback. */
static void lose_buffer(etw_run *r, etw_session *s, uint32_t slot, etw_buf *b)
{
    etw_proc *p = &s->procs[slot];
    b->lost = 1;
    pthread_mutex_lock(&s->mu); /* a real-time reader adds its own counts under the lock */
    s->header.BuffersLost++;
    if (s->logfile_w)
        s->logfile_w->LogfileHeader.BuffersLost = s->header.BuffersLost;
    if (s->logfile_a)
        s->logfile_a->LogfileHeader.BuffersLost = s->header.BuffersLost;
    ULONG total = s->header.BuffersLost;
    pthread_mutex_unlock(&s->mu);
    if (s->diag_cb) {
        char msg[200];
        snprintf(msg, sizeof msg, "live session: buffer lost (%lu in all): its events are older than ones already delivered (it came later than the reorder window or the memory limit waited)",
                 (unsigned long)total);
        ETWIRE_DIAGNOSTIC d = {ERROR_BUSY, b->index, b->offset, 0, msg};
        s->diag_cb(&d, s->diag_ctx);
    }
    while (p->has_rec && p->head == b) {
        b->cursor += (uint32_t)etw_align8(p->rec.size);
        etw_proc_load(r, s, slot); /* completes b once its last record is passed */
    }
}

int etw_session_wants_events(const etw_session *s)
{
    switch (s->api) {
    case ETW_API_LOGFILE_W: return s->logfile_w->EventCallback != NULL;
    case ETW_API_LOGFILE_A: return s->logfile_a->EventCallback != NULL;
    default: return s->options.EventCallback != NULL;
    }
}

void etw_session_integrate(etw_run *r, etw_session *s, etw_buf *b)
{
    insert_arrival(s, b);
    b->next_proc = NULL;
    uint32_t slot = b->index == 0 ? 0 : (uint32_t)b->hdr.processor + 1;
    etw_proc *p = etw_proc_slot(s, slot);
    if (!p) {
        r->nomem = 1;
        etw_buffer_events_done(r, s, b);
        return;
    }
    b->proc = slot;
    b->rctx.context.ProcessorIndex = 0;
    if (b->hdr.flags & ETW_BUFFER_FLAG_PROC_INDEX) {
        b->rctx.context.ProcessorIndex = b->hdr.processor;
        b->rctx.event_flags = EVENT_HEADER_FLAG_PROCESSOR_INDEX;
    } else {
        b->rctx.context.ProcessorNumber = (UCHAR)b->hdr.processor;
        b->rctx.context.Alignment = 8;
        b->rctx.event_flags = 0;
    }
    b->rctx.context.LoggerId = b->hdr.logger_id;
    b->rctx.user_context = s->record_ctx;
    p->seen = 1;
    if (slot == 0 && !s->header_seen) {
        /* Every processor the header announces may still send data: give each a slot now so
         * the bound counts the ones not heard from yet. */
        s->header_seen = 1;
        if (!etw_proc_slot(s, announced_processors(s))) {
            r->nomem = 1;
            return;
        }
        p = &s->procs[slot];
    }
    if (slot) {
        if (p->unfed)
            p->unfed--;
        int64_t flush_ft = etw_clock_to_filetime(&s->clock, b->hdr.timestamp);
        if (flush_ft > r->newest_flush_ft)
            r->newest_flush_ft = flush_ft;
    }
    s->bound_dirty = 1;
    r->bounds_changed = 1;
    /* No event consumer: nothing to merge, the buffer is done on arrival (relay mode). */
    if (!s->merges) {
        etw_buffer_events_done(r, s, b);
        return;
    }
    if (p->tail)
        p->tail->next_proc = b;
    else
        p->head = b;
    p->tail = b;
    if (p->head == b) {
        etw_proc_load(r, s, slot);
        if (s->lose_late && slot && p->has_rec && p->head == b && etw_key_less(&p->key, &r->last)) {
            lose_buffer(r, s, slot, b);
            if (!p->has_rec)
                return;
        }
        if (p->has_rec && !p->in_heap) {
            if (etw_heap_push(r, &p->key) != 0)
                r->nomem = 1;
            else
                p->in_heap = 1;
        }
    }
}
