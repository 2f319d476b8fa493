/* One ProcessTrace call: the sessions it processes, the merge heap over all their processors,
 * the time window and the stop state. Used only by the thread running ProcessTrace. */
#ifndef ETWIRE_SESSION_RUN_H
#define ETWIRE_SESSION_RUN_H

#include "base/bytes.h"
#include "format/record_hot.h"
#include "session/session.h"

typedef struct etw_run {
    etw_session **sessions;
    unsigned count;
    etw_key *heap;  /* heap.c: the keys of the processors with a record ready */
    size_t heap_len, heap_cap;
    etw_waiter waiter;
    int64_t start_ft, end_ft; /* delivery window (INT64_MIN / INT64_MAX when absent) */
    int windowed;             /* either bound is there (set by etw_run_process) */
    etw_key last;             /* the newest delivered event, to count late ones */
    int64_t newest_flush_ft;
    int queued_behind;  /* pull: more taken buffers wait behind the one being integrated */
    /* What ends a run of one processor's events early, readable as one word (attention is
     * nonzero when any is set: one load per event in the merge loop). */
    union {
        struct {
            uint8_t bounds_changed; /* some session's bound_dirty was set since the last look */
            uint8_t stop;
            uint8_t nomem;
        };
        uint32_t attention;
    };
    etw_status stop_status;
    etw_session *scoped;   /* the session whose decode scope the thread has now */
} etw_run;

/* heap.c */
int etw_heap_push(etw_run *r, const etw_key *k);
void etw_heap_pop_top(etw_run *r);

/* Moves `it` down from node i, whose smaller child c sorts before it, to its place (inline:
 * the merge sinks on most runs, see heap.c). */
static inline void etw_heap_sink_from(etw_key *h, size_t len, size_t i, size_t c,
                                      const etw_key *it)
{
    for (;;) {
        h[i] = h[c];
        i = c;
        c = 2 * i + 1;
        if (c >= len)
            break;
        if (c + 1 < len && etw_key_less(&h[c + 1], &h[c]))
            c++;
        if (!etw_key_less(&h[c], it))
            break;
    }
    h[i] = *it;
}

/* The top's processor loaded its next record, whose key k sorts after the runner-up's (at
 * runner_up, nonzero, from etw_heap_runner_up; the merge compared them): the top entry becomes
 * k, moved down to its place. */
static inline void etw_heap_sink_below(etw_run *r, const etw_key *k, size_t runner_up)
{
    etw_heap_sink_from(r->heap, r->heap_len, 0, runner_up, k);
}

/* Where the second-smallest key is (1 or 2); 0 when the top is alone. heap_len > 0. */
static inline size_t etw_heap_runner_up(const etw_run *r)
{
    if (r->heap_len < 3)
        return r->heap_len - 1;
    return etw_key_less(&r->heap[2], &r->heap[1]) ? 2 : 1;
}

/* The session and processor slot a heap key belongs to. */
static inline etw_session *etw_key_session(const etw_run *r, const etw_key *k)
{
    return r->sessions[k->tie >> 32];
}

static inline uint32_t etw_key_slot(const etw_key *k)
{
    return (uint32_t)k->tie;
}

/* merge.c */
etw_status etw_run_process(etw_run *r);

/* procs.c: the processor table and the bound on what unseen data may still hold. */
etw_proc *etw_proc_slot(etw_session *s, uint32_t slot);
/* Loads the record at the cursor of p's active buffer, or the first deliverable one after it
 * (reporting bad records, moving on to p's next buffer); has_rec 0 when p has none now. */
void etw_proc_load(etw_run *r, etw_session *s, uint32_t slot);

/* From how many processors with records in the merge the next record is prefetched (below,
 * the hardware prefetcher follows the buffers being read). */
#define ETW_PREFETCH_FROM_PROCESSORS 8u

/* etw_clock_to_filetime(&s->clock, ts), its common case inline (session.h, fast_lo). */
static inline int64_t etw_proc_filetime(const etw_session *s, uint64_t ts)
{
    if (ts - s->fast_lo <= s->fast_span)
        return (int64_t)(ts + s->fast_shift);
    return etw_clock_to_filetime(&s->clock, ts);
}

/* p->rec was just parsed at the cursor of p's active buffer, with its buffer's context
 * (etw_record_parse_hot did that; etw_proc_add_context after etw_record_parse): its merge key,
 * and its TimeStamp as the consumer sees it (deliver.h hands p->rec.er over). */
static inline void etw_proc_keyed(etw_run *r, etw_session *s, etw_proc *p, uint32_t slot)
{
    EVENT_RECORD *er = &p->rec.er;
    uint64_t ts = p->rec.has_timestamp ? (uint64_t)er->EventHeader.TimeStamp.QuadPart : p->last_ts;
    p->last_ts = ts;
    int64_t ft = etw_proc_filetime(s, ts);
    p->key.ft = slot == 0 ? INT64_MIN : ft;
    p->key.raw = ts;
    p->has_rec = 1;
    er->EventHeader.TimeStamp.QuadPart = s->raw_timestamp ? (LONGLONG)ts : ft;
    /* This processor's next record is parsed after the other processors' records that sort
     * before it: with many processors (many interleaved buffers, more streams than the
     * hardware prefetcher follows) ask for its first bytes now, so that they are in cache by
     * then. (Issued from the parse's own pointer in etw_proc_next instead, the prefetch left
     * the compiled loop altogether: 11 instructions per event fewer, 8% more CPU time on 32
     * processors. Check for prefetcht0 in release_from after changing this.) */
    if (r->heap_len > ETW_PREFETCH_FROM_PROCESSORS) {
        /* A prefetch never faults: past the buffer's end it only costs a useless load. */
        const etw_buf *b = p->head;
        uintptr_t next = (uintptr_t)b->data + b->cursor + etw_align8(p->rec.size);
        __builtin_prefetch((const void *)next);
        __builtin_prefetch((const void *)(next + 64));
    }
}

/* What every record of p's active buffer gets from it (b->rctx), added to a record
 * etw_record_parse filled (which leaves it zero). */
static inline void etw_proc_add_context(etw_proc *p)
{
    EVENT_RECORD *er = &p->rec.er;
    const etw_record_ctx *c = &p->head->rctx;
    er->EventHeader.Flags |= c->event_flags;
    er->BufferContext = c->context;
    er->UserContext = c->user_context;
}

/* p's record went out: p moves to its next one; returns p->has_rec. The common case, a good
 * record further in the same buffer, is parsed here (etw_record_parse_hot); kinds it leaves
 * to etw_record_parse there too; etw_proc_load does the rest (bad records, the buffer's
 * end). */
static inline int etw_proc_next(etw_run *r, etw_session *s, etw_proc *p, uint32_t slot)
{
    etw_buf *b = p->head;
    uint32_t at = b->cursor + (uint32_t)etw_align8(p->rec.size);
    uint32_t filled = b->hdr.filled;
    b->cursor = at;
    /* Past filled or at the 0xFFFFFFFF end marker no hot kind matches (its type byte is
     * 0xFF), so the check for both comes after. */
    if (at < filled) {
        const uint8_t *q = b->data + at;
        if (__builtin_expect(etw_record_parse_hot(q, filled - at, &p->rec, &b->rctx), 1)) {
            etw_proc_keyed(r, s, p, slot);
            return 1;
        }
        if (at + 4u <= filled && etw_rd32(q) != 0xFFFFFFFFu &&
            etw_record_parse(q, filled - at, &p->rec) == ETW_OK && p->rec.kind != ETW_REC_SKIP) {
            etw_proc_add_context(p);
            etw_proc_keyed(r, s, p, slot);
            return 1;
        }
    }
    etw_proc_load(r, s, slot);
    return p->has_rec;
}

void etw_session_integrate(etw_run *r, etw_session *s, etw_buf *b);
void etw_session_bound(const etw_session *s, etw_key *bound, int *none);

/* deliver.c: the callbacks of the classic (EVENT_TRACE) form. */
void etw_deliver_classic(etw_session *s, const etw_proc *p, EVENT_RECORD *er);

/* complete.c */
void etw_complete_ready(etw_run *r, etw_session *s);
/* Every event of b went out (or none can): b completes when its turn comes, meanwhile giving
 * its memory back to a source that can read it again. */
void etw_buffer_events_done(etw_run *r, etw_session *s, etw_buf *b);

#endif
