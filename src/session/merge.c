/* The time-ordered merge of one ProcessTrace call (docs/design.md 3.3, etw-format.md C.1, C.4).
 * The heap (heap.c) holds every processor (of every session) that has a record ready, keyed by
 * that record's time. The top record is delivered when nothing not yet queued can be older (the
 * sessions' bounds, see procs.c), when the reorder window or the memory bound says it has
 * waited long enough, or when input has ended. Otherwise the blocking session's source is asked
 * for its next buffer (source.h): a file reads one further, a stream makes the thread wait.
 * Nothing here looks at the wall clock, so the same buffers always give the same sequence. */
#include <stdlib.h>

#include "base/bytes.h"
#include "base/decode_scope.h"
#include "session/deliver.h"

static void release(etw_run *r);

/* Moves queued buffers into the merge, one at a time with a release pass after each, so what
 * is released (and what turns out late) depends only on the order of the buffers, never on how
 * many happened to be queued when this thread looked. */
static void pull(etw_run *r, etw_session *s)
{
    pthread_mutex_lock(&s->mu);
    etw_session_settle_locked(s); /* the buffers completed since the last pull */
    etw_buf *b = s->in_head;
    s->in_head = s->in_tail = NULL;
    int ended = s->ended || s->closed;
    pthread_mutex_unlock(&s->mu);
    while (b) {
        etw_buf *next = b->next_arrival;
        etw_session_integrate(r, s, b);
        if (next) {
            r->queued_behind = 1;
            release(r);
            r->queued_behind = 0;
        }
        b = next;
    }
    /* The source's end, or CloseTrace while processing (what was queued is delivered,
     * nothing more is read): no processor expects another buffer. */
    if (ended && !s->input_ended)
        for (uint32_t i = 0; i < s->nprocs; i++)
            s->procs[i].unfed = 0;
    /* The end applies after the last buffer taken with it. */
    if (ended != s->input_ended) {
        s->input_ended = ended;
        s->bound_dirty = 1;
        r->bounds_changed = 1;
    }
}

/* Asks the session's source for its next buffer and takes it into the merge. */
static etw_source_result take_next(etw_run *r, etw_session *s)
{
    /* Callers pulled first, so input_ended is this thread's up-to-date view of the end: no
     * lock round trip per buffer to look at it again. */
    if (s->input_ended)
        return ETW_SOURCE_END;
    /* The processor slot the bound comes from: the data the merge waits for. */
    uint32_t slot = s->bound_none ? UINT32_MAX : (uint32_t)s->bound.tie;
    etw_source_result res = s->src.ops->next(s->src.impl, s, slot);
    if (res == ETW_SOURCE_END) {
        pthread_mutex_lock(&s->mu);
        s->ended = 1;
        pthread_mutex_unlock(&s->mu);
    }
    if (res != ETW_SOURCE_WAIT) {
        pull(r, s);
        /* Buffers waiting for an earlier-flushed one that turned out unreadable (or for the
         * end) may complete now. */
        etw_complete_ready(r, s);
    }
    return res;
}

static int input_done(etw_session *s)
{
    int done;
    pthread_mutex_lock(&s->mu);
    done = (s->ended || s->closed) && !s->in_head;
    pthread_mutex_unlock(&s->mu);
    return done;
}

/* The session whose unqueued data bounds the merge most (NULL: no bound anywhere). */
static etw_session *global_bound(etw_run *r, etw_key *bound)
{
    etw_session *who = NULL;
    for (unsigned i = 0; i < r->count; i++) {
        etw_session *s = r->sessions[i];
        if (s->bound_dirty) {
            etw_session_bound(s, &s->bound, &s->bound_none);
            s->bound_dirty = 0;
        }
        if (!s->bound_none && (!who || etw_key_less(&s->bound, bound))) {
            *bound = s->bound;
            who = s;
        }
    }
    return who;
}

/* The reorder window and the memory bound release an event without proof of order. */
static int forced(const etw_run *r, const etw_session *s, const etw_key *k)
{
    if (k->ft == INT64_MIN) /* header-buffer records come first by definition */
        return 1;
    if (s->window_100ns != ETWIRE_REORDER_UNBOUNDED && r->newest_flush_ft > k->ft &&
        (uint64_t)r->newest_flush_ft - (uint64_t)k->ft > s->window_100ns)
        return 1;
    /* A session that loses late buffers rather than deliver out of order lets the memory
     * bound force only once everything it holds is in the merge: the buffers that prove the
     * order may be the ones waiting (they are in memory already). */
    if (s->lose_late && r->queued_behind)
        return 0;
    return atomic_load_explicit(&s->bytes_held, memory_order_relaxed) > s->mem_limit;
}

static void wait_for_stream(etw_run *r, uint64_t seen_seq)
{
    pthread_mutex_lock(&r->waiter.mu);
    while (r->waiter.seq == seen_seq)
        pthread_cond_wait(&r->waiter.cv, &r->waiter.mu);
    pthread_mutex_unlock(&r->waiter.mu);
}

static uint64_t waiter_seq(etw_run *r)
{
    pthread_mutex_lock(&r->waiter.mu);
    uint64_t seq = r->waiter.seq;
    pthread_mutex_unlock(&r->waiter.mu);
    return seq;
}

/* Delivers the top record, then the same processor's next ones for as long as they stay the
 * smallest key (below the runner-up's: the rest of the heap does not change meanwhile, so one
 * comparison per event decides) and may go out without another look (below the bound, when
 * there is one). Both limits are folded into one key, the smaller of the two, so that each
 * event costs one comparison; which of them stopped the run is sorted out once at its end.
 * Leaves the heap in order. */
static void deliver_run(etw_run *r, const etw_key *bound)
{
    const etw_key *top = &r->heap[0];
    etw_session *s = etw_key_session(r, top);
    uint32_t slot = etw_key_slot(top);
    etw_proc *p = &s->procs[slot];
    size_t runner_up = etw_heap_runner_up(r);
    /* Nothing changes the heap during the run (buffers enter it only between runs, in
     * etw_run_process), so the limit can point into it. */
    static const etw_key unlimited = {INT64_MAX, UINT64_MAX, UINT64_MAX};
    const etw_key *limit = runner_up ? &r->heap[runner_up] : &unlimited;
    int limit_is_runner_up = runner_up != 0;
    if (bound && etw_key_less(bound, limit)) {
        limit = bound;
        limit_is_runner_up = 0;
    }
    etw_deliver_scope(r, s);
    for (;;) {
        etw_deliver(r, s, p);
        if (!etw_proc_next(r, s, p, slot)) {
            p->in_heap = 0;
            etw_heap_pop_top(r);
            return;
        }
        if (__builtin_expect(!etw_key_less(&p->key, limit), 0))
            goto limit_reached;
        if (__builtin_expect(r->attention != 0, 0))
            goto stopped;
    }
limit_reached:
    /* At or past the runner-up's key: after it (keys differ in their processor). */
    if (limit_is_runner_up) {
        etw_heap_sink_below(r, &p->key, runner_up);
        return;
    }
stopped:
    if (runner_up && !etw_key_less(&p->key, &r->heap[runner_up])) {
        etw_heap_sink_below(r, &p->key, runner_up);
        return;
    }
    /* The bound, or a change release_from looks at (the reorder window or the memory bound
     * may force the record out). */
    r->heap[0] = p->key;
}

/* Delivers every record that may go out now; returns the session that holds the rest back
 * (NULL when nothing can). */
static etw_session *release_from(etw_run *r)
{
    etw_key bound = {0, 0, 0};
    for (;;) {
        r->bounds_changed = 0;
        etw_session *blocker = global_bound(r, &bound);
        /* The bound only moves when a processor goes idle or input changes: until then one
         * comparison per event decides. */
        while (!r->bounds_changed) {
            if (!r->heap_len || r->stop || r->nomem)
                return blocker;
            const etw_key *k = &r->heap[0];
            if (blocker && !etw_key_less(k, &bound) && !forced(r, etw_key_session(r, k), k))
                return blocker;
            deliver_run(r, blocker ? &bound : NULL);
        }
    }
}

static void release(etw_run *r)
{
    (void)release_from(r);
}

etw_status etw_run_process(etw_run *r)
{
    uint32_t outer_scope = etw_decode_scope; /* the caller's, given back at the end */
    r->windowed = r->start_ft != INT64_MIN || r->end_ft != INT64_MAX;
    for (;;) {
        uint64_t seq = waiter_seq(r);
        for (unsigned i = 0; i < r->count; i++)
            pull(r, r->sessions[i]);
        etw_session *blocker = release_from(r);
        if (r->stop || r->nomem)
            break;
        etw_source_result res = ETW_SOURCE_WAIT;
        if (blocker) {
            res = take_next(r, blocker);
        } else {
            /* Nothing older can arrive and everything queued went out: read on from a source
             * that need not be waited for (buffers without events still complete in order). */
            int all_done = 1;
            for (unsigned i = 0; i < r->count && res == ETW_SOURCE_WAIT; i++) {
                if (input_done(r->sessions[i]))
                    continue;
                all_done = 0;
                res = take_next(r, r->sessions[i]);
            }
            if (all_done)
                break;
        }
        if (res == ETW_SOURCE_WAIT) {
            /* Idle until more is added: what completed is settled first (counters current,
             * buffers reusable by the adder). */
            for (unsigned i = 0; i < r->count; i++)
                etw_session_settle(r->sessions[i]);
            wait_for_stream(r, seq);
        }
    }
    for (unsigned i = 0; i < r->count; i++)
        etw_session_settle(r->sessions[i]);
    etw_decode_scope = outer_scope;
    if (r->nomem)
        return ETW_E_NOMEM;
    return r->stop ? r->stop_status : ETW_OK;
}
