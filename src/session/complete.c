/* Buffer completion (docs/design.md 3.4): once all of a buffer's events were delivered, and
 * every buffer flushed before it was completed (arrived or still to come: the source's
 * first_pending), its BufferCallback fires (in flush order, which is what a relay must
 * forward), then its BufferCompletionCallback, exactly once. When nobody sees buffers, each
 * completes as soon as its events are out. */
#include <stdlib.h>

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

static void recycle(etw_session *s, etw_buf *b)
{
    if (s->src.ops->done)
        s->src.ops->done(s->src.impl, b->orig);
    pthread_mutex_lock(&s->mu);
    s->stats.BytesHeld = atomic_fetch_sub_explicit(&s->bytes_held,
                                                   b->orig_size + (b->owned ? b->hdr.filled : 0),
                                                   memory_order_relaxed) -
                         (b->orig_size + (b->owned ? b->hdr.filled : 0));
    s->stats.BuffersCompleted++;
    etw_session_fold_live(s);
    etw_session_drop_inflated(s, b->owned);
    b->owned = NULL;
    /* The free list is shared with AddBuffer (etw_session_accept runs under mu). */
    b->next_proc = s->free_bufs;
    s->free_bufs = b;
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

static void finish(etw_session *s, etw_buf *b)
{
    if (s->completion_cb)
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
        s->procs[i].heap_pos = -1;
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
}
