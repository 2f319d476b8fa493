/* One ProcessTrace call: the sessions it processes, the merge heap over all their processors,
 * the time window and the stop state. Used only by the thread running ProcessTrace. */
#ifndef ETWIRE_SESSION_RUN_H
#define ETWIRE_SESSION_RUN_H

#include "session/session.h"

typedef struct etw_heap_item {
    etw_key key; /* a copy of the processor's key (heap.c) */
    etw_session *s;
    uint32_t slot;
} etw_heap_item;

typedef struct etw_run {
    etw_session **sessions;
    unsigned count;
    etw_heap_item *heap;
    size_t heap_len, heap_cap;
    etw_waiter waiter;
    int64_t start_ft, end_ft; /* delivery window (INT64_MIN / INT64_MAX when absent) */
    etw_key last;             /* the newest delivered event, to count late ones */
    int64_t newest_flush_ft;
    int queued_behind;  /* pull: more taken buffers wait behind the one being integrated */
    int bounds_changed; /* some session's bound_dirty was set since the last look */
    int stop;
    etw_status stop_status;
    int nomem;
    etw_session *scoped;   /* the session whose decode scope the thread has now */
} etw_run;

/* heap.c */
int etw_heap_push(etw_run *r, etw_session *s, uint32_t slot);
/* The top's processor loaded its next record (its key changed). */
void etw_heap_fix_top(etw_run *r);
void etw_heap_pop_top(etw_run *r);

/* merge.c */
etw_status etw_run_process(etw_run *r);

/* procs.c: the processor table and the bound on what unseen data may still hold. */
etw_proc *etw_proc_slot(etw_session *s, uint32_t slot);
void etw_proc_load(etw_run *r, etw_session *s, uint32_t slot);
void etw_session_integrate(etw_run *r, etw_session *s, etw_buf *b);
void etw_session_bound(const etw_session *s, etw_key *bound, int *none);

/* deliver.c */
void etw_deliver(etw_run *r, etw_session *s, etw_proc *p);

/* complete.c */
void etw_complete_ready(etw_run *r, etw_session *s);
/* Every event of b went out (or none can): b completes when its turn comes, meanwhile giving
 * its memory back to a source that can read it again. */
void etw_buffer_events_done(etw_run *r, etw_session *s, etw_buf *b);

#endif
