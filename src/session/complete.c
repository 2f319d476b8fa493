/* Buffer completion (docs/design.md 3.4): once all of a buffer's events were delivered, and
 * every buffer flushed before it was completed (arrived or still to come: the source's
 * first_pending), its BufferCallback fires (in flush order, which is what a relay must
 * forward), then its BufferCompletionCallback, exactly once. When nobody sees buffers, each
 * completes as soon as its events are out. */
#include <stdlib.h>

#include "format/buffer_header.h"
#include "session/run.h"

void etw_session_fold_live(etw_session *s)
{
    s->stats.EventsDelivered = s->live.delivered;
    s->stats.EventsFiltered = s->live.filtered;
    s->stats.EventsLate = s->live.late;
    s->stats.BadRecords = s->live.bad_records;
}

int etw_session_wants_buffers(const etw_session *s)
{
    if (s->completion_cb)
        return 1;
    switch (s->api) {
    case ETW_API_LOGFILE_W: return s->logfile_w->BufferCallback != NULL;
    case ETW_API_LOGFILE_A: return s->logfile_a->BufferCallback != NULL;
    default: return s->options.BufferCallback != NULL;
    }
}

/* Adds (or, negative, takes away) bytes from what the session holds; the caller holds mu. */
static void count_held(etw_session *s, int64_t bytes)
{
    uint64_t held = atomic_fetch_add_explicit(&s->bytes_held, (uint64_t)bytes,
                                              memory_order_relaxed) + (uint64_t)bytes;
    s->stats.BytesHeld = held;
    if (held > s->stats.BytesHeldPeak)
        s->stats.BytesHeldPeak = held;
}

/* A buffer whose callbacks are done: its source gets it back and its bytes leave bytes_held
 * at once (the memory bound sees them gone), the rest waits on done_head for the lock. */
static void recycle(etw_session *s, etw_buf *b)
{
    if (b->waiting_kept)
        s->waiting_kept--;
    if (s->src.ops->done)
        s->src.ops->done(s->src.impl, b->orig);
    atomic_fetch_sub_explicit(&s->bytes_held, b->orig_size + (b->owned ? b->hdr.filled : 0),
                              memory_order_relaxed);
    b->next_proc = s->done_head;
    s->done_head = b;
    s->done_count++;
}

void etw_session_settle_locked(etw_session *s)
{
    etw_buf *b = s->done_head;
    s->stats.BuffersCompleted += s->done_count;
    s->stats.BytesHeld = atomic_load_explicit(&s->bytes_held, memory_order_relaxed);
    etw_session_fold_live(s);
    s->done_head = NULL;
    s->done_count = 0;
    /* The free list is shared with AddBuffer (etw_session_accept runs under mu). */
    while (b) {
        etw_buf *next = b->next_proc;
        etw_session_drop_inflated(s, b->owned);
        b->owned = NULL;
        b->next_proc = s->free_bufs;
        s->free_bufs = b;
        b = next;
    }
}

void etw_session_settle(etw_session *s)
{
    if (!s->done_head)
        return;
    pthread_mutex_lock(&s->mu);
    etw_session_settle_locked(s);
    pthread_mutex_unlock(&s->mu);
}

static void update_logfile(const etw_session *s, const etw_buf *b, ULONG *buffers_read,
                           ULONG *buffer_size, ULONG *filled, LONGLONG *current_time)
{
    *buffers_read = (ULONG)s->buffers_read;
    *buffer_size = b->hdr.buffer_size;
    *filled = b->hdr.filled;
    *current_time = s->current_time;
}

static int buffer_callback(etw_session *s, const etw_buf *b)
{
    if (b->lost) /* lost whole (lose_late): the consumer never sees it */
        return 1;
    s->buffers_read++;
    if (s->api == ETW_API_OPTIONS) {
        if (!s->options.BufferCallback)
            return 1;
        ETW_BUFFER_CALLBACK_INFORMATION info = {s->handle, &s->header, (ULONG)s->buffers_read};
        return s->options.BufferCallback((const ETW_BUFFER_HEADER *)(const void *)b->orig,
                                         b->orig_size, &info, s->options.BufferCallbackContext) != 0;
    }
    /* The classic callback reads the progress from the logfile structure it is given. */
    if (s->api == ETW_API_LOGFILE_W) {
        EVENT_TRACE_LOGFILEW *lf = s->logfile_w;
        update_logfile(s, b, &lf->BuffersRead, &lf->BufferSize, &lf->Filled, &lf->CurrentTime);
        return lf->BufferCallback ? lf->BufferCallback(lf) != 0 : 1;
    }
    EVENT_TRACE_LOGFILEA *lf = s->logfile_a;
    update_logfile(s, b, &lf->BuffersRead, &lf->BufferSize, &lf->Filled, &lf->CurrentTime);
    return lf->BufferCallback ? lf->BufferCallback(lf) != 0 : 1;
}

/* The buffer's events are out but its callbacks wait for an earlier-flushed buffer: its memory
 * (and its decompressed copy) goes back to the source, which reads it again when the callbacks
 * are due (reload). Kept, such buffers were most of a many-processor trace's memory: with a
 * 1 s flush timer a slow processor's buffer holds back a second of every other processor's. */
static void evict(etw_session *s, etw_buf *b)
{
    s->src.ops->done(s->src.impl, b->orig);
    pthread_mutex_lock(&s->mu);
    count_held(s, -(int64_t)(b->orig_size + (b->owned ? b->hdr.filled : 0)));
    etw_session_drop_inflated(s, b->owned);
    pthread_mutex_unlock(&s->mu);
    b->orig = b->data = b->owned = NULL;
    b->orig_size = 0;
}

/* Reads an evicted buffer again for its callbacks; 0 (reported) when it cannot be read or is
 * no longer the buffer it was. */
static int reload(etw_session *s, etw_buf *b)
{
    const uint8_t *p = NULL;
    size_t n = 0;
    const char *detail = "could not be read again for its buffer callback";
    etw_status st = s->src.ops->reread(s->src.impl, b->pos, &p, &n);
    etw_buffer_header h;
    if (st == ETW_OK && (etw_buffer_header_parse(p, n, &h) != ETW_OK ||
                         h.timestamp != b->hdr.timestamp || h.filled != b->hdr.filled ||
                         h.buffer_size != b->hdr.buffer_size || h.processor != b->hdr.processor)) {
        s->src.ops->done(s->src.impl, p);
        st = ETW_E_IO;
        detail = "changed since it was first read";
    }
    if (st != ETW_OK) {
        s->corrupt = 1;
        etw_session_report(s, st, b->index, b->offset, 0, detail);
        return 0;
    }
    b->orig = p;
    b->orig_size = (uint32_t)n;
    pthread_mutex_lock(&s->mu);
    count_held(s, (int64_t)n);
    pthread_mutex_unlock(&s->mu);
    return 1;
}

static void finish(etw_session *s, etw_buf *b)
{
    if (s->completion_cb && (b->orig || reload(s, b)))
        s->completion_cb((const ETW_BUFFER_HEADER *)(const void *)b->orig, s->completion_ctx);
    recycle(s, b);
}

/* Nobody sees buffers complete: each goes as soon as its events are done, whatever arrived
 * before it (its memory is reused at once). */
static void complete_unobserved(etw_run *r, etw_session *s)
{
    etw_buf **link = &s->arr_head, *prev = NULL, *b;
    while ((b = *link)) {
        if (!b->events_done) {
            prev = b;
            link = &b->next_arrival;
            continue;
        }
        *link = b->next_arrival;
        if (s->arr_tail == b)
            s->arr_tail = prev;
        (void)buffer_callback(s, b); /* progress fields only: there is no callback */
        finish(s, b);
    }
    (void)r;
}

void etw_complete_ready(etw_run *r, etw_session *s)
{
    etw_buf *b;
    if (!s->observed) {
        complete_unobserved(r, s);
        return;
    }
    /* In flush order: not before every buffer flushed earlier has completed, read or not. */
    uint64_t pending = s->src.ops->first_pending ? s->src.ops->first_pending(s->src.impl) : UINT64_MAX;
    while ((b = s->arr_head) && b->events_done && b->pos < pending) {
        s->arr_head = b->next_arrival;
        if (!s->arr_head)
            s->arr_tail = NULL;
        if (!b->orig && !reload(s, b)) {
            recycle(s, b); /* reported: no callback can see it */
            continue;
        }
        if (!r->stop && !buffer_callback(s, b)) {
            r->stop = 1;
            r->stop_status = ETW_E_STOPPED;
        }
        finish(s, b);
    }
}

void etw_session_release_all(etw_session *s)
{
    /* Buffers in the merge (arrival list) and those never taken from the incoming queue: every
     * accepted buffer gets its completion callback, however processing ended. */
    etw_buf *b;
    while ((b = s->arr_head)) {
        s->arr_head = b->next_arrival;
        finish(s, b);
    }
    s->arr_tail = NULL;
    for (uint32_t i = 0; i < s->nprocs; i++) {
        s->procs[i].head = s->procs[i].tail = NULL;
        s->procs[i].has_rec = 0;
        s->procs[i].in_heap = 0;
    }
    pthread_mutex_lock(&s->mu);
    b = s->in_head;
    s->in_head = s->in_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (b) {
        etw_buf *next = b->next_arrival;
        finish(s, b);
        b = next;
    }
    etw_session_settle(s);
}

void etw_buffer_events_done(etw_run *r, etw_session *s, etw_buf *b)
{
    b->events_done = 1;
    /* It completes now only as the first buffer not completed, with every earlier-flushed one
     * read (etw_complete_ready); nothing else changes when its events end. */
    if (s->observed && s->src.ops->reread && b->orig &&
        (s->arr_head != b ||
         (s->src.ops->first_pending && b->pos >= s->src.ops->first_pending(s->src.impl)))) {
        /* A few such buffers stay: most complete soon, and reading each again costs a copy. */
        if (s->waiting_kept < ETW_WAITING_KEPT) {
            s->waiting_kept++;
            b->waiting_kept = 1;
        } else {
            evict(s, b);
        }
    }
    etw_complete_ready(r, s);
}
