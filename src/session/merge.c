/* The time-ordered merge of one ProcessTrace call (docs/design.md 3.3, etw-format.md C.1, C.4).
 * A heap holds every processor (of every session) that has a record ready, keyed by that
 * record's time. The top record is delivered when nothing not yet queued can be older (the
 * sessions' bounds, see procs.c), when the reorder window or the memory bound says it has
 * waited long enough, or when input has ended. Otherwise a file is read one buffer further or
 * the thread waits for a stream's next buffer. Nothing here looks at the wall clock, so the
 * same buffers always give the same sequence. */
#include <stdlib.h>

#include "base/bytes.h"
#include "etl/file_source.h"
#include "session/run.h"

static const etw_key *item_key(const etw_heap_item *it)
{
    return &it->s->procs[it->slot].key;
}

static void heap_set(etw_run *r, size_t i, etw_heap_item it)
{
    r->heap[i] = it;
    it.s->procs[it.slot].heap_pos = (int32_t)i;
}

static void sift_up(etw_run *r, size_t i)
{
    etw_heap_item it = r->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!etw_key_less(item_key(&it), item_key(&r->heap[parent])))
            break;
        heap_set(r, i, r->heap[parent]);
        i = parent;
    }
    heap_set(r, i, it);
}

static void sift_down(etw_run *r, size_t i)
{
    etw_heap_item it = r->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->heap_len)
            break;
        if (c + 1 < r->heap_len && etw_key_less(item_key(&r->heap[c + 1]), item_key(&r->heap[c])))
            c++;
        if (!etw_key_less(item_key(&r->heap[c]), item_key(&it)))
            break;
        heap_set(r, i, r->heap[c]);
        i = c;
    }
    heap_set(r, i, it);
}

int etw_heap_push(etw_run *r, etw_session *s, uint32_t slot)
{
    if (r->heap_len == r->heap_cap) {
        size_t cap = r->heap_cap ? r->heap_cap * 2 : 64;
        etw_heap_item *grown = realloc(r->heap, cap * sizeof *grown);
        if (!grown)
            return -1;
        r->heap = grown;
        r->heap_cap = cap;
    }
    r->heap[r->heap_len] = (etw_heap_item){s, slot};
    sift_up(r, r->heap_len++);
    return 0;
}

void etw_heap_fix_top(etw_run *r)
{
    /* Most of the time the same processor stays earliest: two comparisons, no moves. */
    const etw_key *k = item_key(&r->heap[0]);
    if ((r->heap_len < 2 || etw_key_less(k, item_key(&r->heap[1]))) &&
        (r->heap_len < 3 || etw_key_less(k, item_key(&r->heap[2]))))
        return;
    sift_down(r, 0);
}

void etw_heap_pop_top(etw_run *r)
{
    r->heap[0].s->procs[r->heap[0].slot].heap_pos = -1;
    if (--r->heap_len > 0) {
        r->heap[0] = r->heap[r->heap_len];
        sift_down(r, 0);
    }
}

static void release(etw_run *r);

/* Moves buffers added from other threads into the merge, one at a time with a release pass
 * after each, so what is released (and what turns out late) depends only on the order of the
 * buffers, never on how many happened to be queued when this thread looked. */
static void pull(etw_run *r, etw_session *s)
{
    pthread_mutex_lock(&s->mu);
    etw_buf *b = s->in_head;
    s->in_head = s->in_tail = NULL;
    int ended = s->ended || s->closed;
    pthread_mutex_unlock(&s->mu);
    while (b) {
        etw_buf *next = b->next_arrival;
        etw_session_integrate(r, s, b);
        if (next)
            release(r);
        b = next;
    }
    /* The end applies after the last buffer taken with it. */
    if (ended != s->input_ended) {
        s->input_ended = ended;
        s->bound_dirty = 1;
        r->bounds_changed = 1;
    }
}

/* A file buffer the merge needs: read it through the same acceptance a stream buffer gets. */
static void feed_file(etw_run *r, etw_session *s)
{
    const etw_file_entry *e;
    const uint8_t *p;
    etw_status st;
    while (etw_file_source_next(s->file, &e, &p, &st)) {
        pthread_mutex_lock(&s->mu);
        if (p)
            st = etw_session_accept(s, p, e->size, e->offset, e->last_of_proc, 0);
        uint64_t index = s->next_index;
        pthread_mutex_unlock(&s->mu);
        if (st == ETW_OK) {
            pull(r, s);
            return;
        }
        /* A buffer that cannot be read or taken is reported by position and skipped. */
        etw_file_source_done(s->file, p);
        pthread_mutex_lock(&s->mu);
        s->stats.BuffersRejected++;
        pthread_mutex_unlock(&s->mu);
        s->corrupt = 1;
        etw_session_report(s, st, index, e->offset, 0, NULL);
        etw_proc *proc = etw_proc_slot(s, (uint32_t)e->proc + 1);
        if (proc && proc->unfed)
            proc->unfed--;
        s->bound_dirty = 1;
        if (!s->have_header)
            return;
    }
    s->ended = 1;
    s->input_ended = 1;
    s->bound_dirty = 1;
}

static int input_done(etw_session *s)
{
    if (s->file)
        return s->ended;
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

/* Delivers the top record and moves its processor on to the next one. */
static void deliver_top(etw_run *r)
{
    etw_heap_item top = r->heap[0];
    etw_session *s = top.s;
    etw_proc *p = &s->procs[top.slot];
    etw_deliver(r, s, p);
    p->head->cursor += (uint32_t)etw_align8(p->rec.size);
    etw_proc_load(r, s, top.slot);
    if (p->has_rec)
        etw_heap_fix_top(r);
    else
        etw_heap_pop_top(r);
}

/* Delivers every record that may go out now; returns the session that holds the rest back
 * (NULL when nothing can). */
static etw_session *release_from(etw_run *r)
{
    etw_key bound = {0, 0, 0, 0};
    for (;;) {
        r->bounds_changed = 0;
        etw_session *blocker = global_bound(r, &bound);
        /* The bound only moves when a processor goes idle or input changes: until then one
         * comparison per event decides. */
        while (!r->bounds_changed) {
            if (!r->heap_len || r->stop || r->nomem)
                return blocker;
            const etw_heap_item *top = &r->heap[0];
            const etw_key *k = &top->s->procs[top->slot].key;
            if (blocker && !etw_key_less(k, &bound) && !forced(r, top->s, k))
                return blocker;
            deliver_top(r);
        }
    }
}

static void release(etw_run *r)
{
    (void)release_from(r);
}

/* CloseTrace on a file session while it is processed: what was read is delivered, nothing
 * more is read. */
static void stop_reading_if_closed(etw_run *r, etw_session *s)
{
    pthread_mutex_lock(&s->mu);
    int closed = s->closed;
    pthread_mutex_unlock(&s->mu);
    if (!closed || s->ended)
        return;
    for (uint32_t i = 0; i < s->nprocs; i++)
        s->procs[i].unfed = 0;
    s->ended = s->input_ended = 1;
    s->bound_dirty = 1;
    r->bounds_changed = 1;
}

etw_status etw_run_process(etw_run *r)
{
    for (;;) {
        uint64_t seq = waiter_seq(r);
        for (unsigned i = 0; i < r->count; i++) {
            if (r->sessions[i]->file)
                stop_reading_if_closed(r, r->sessions[i]);
            else
                pull(r, r->sessions[i]);
        }
        etw_session *blocker = release_from(r);
        if (r->stop || r->nomem)
            break;
        if (!blocker) {
            /* Nothing older can arrive and everything queued went out. */
            int all_done = 1;
            for (unsigned i = 0; i < r->count; i++)
                if (!input_done(r->sessions[i]))
                    all_done = 0;
            if (all_done)
                break;
            for (unsigned i = 0; i < r->count && !blocker; i++)
                if (r->sessions[i]->file && !r->sessions[i]->ended)
                    blocker = r->sessions[i];
        }
        if (blocker && blocker->file)
            feed_file(r, blocker);
        else
            wait_for_stream(r, seq);
    }
    if (r->nomem)
        return ETW_E_NOMEM;
    return r->stop ? r->stop_status : ETW_OK;
}
