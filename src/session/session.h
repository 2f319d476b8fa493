/* A processing session: the one pipeline behind files and buffer streams (docs/design.md 3.1).
 * Buffers enter through etw_session_accept from the session's source (source.h: a stream's
 * caller, in flush order, or a file reader, per processor as the merge needs them); ProcessTrace
 * merges their events per processor into time order (merge.c), delivers them (deliver.c),
 * then fires each buffer's callbacks in flush order (complete.c). Threads: `mu` guards the incoming queue and the flags marked (mu);
 * everything else belongs to the thread running ProcessTrace. */
#ifndef ETWIRE_SESSION_SESSION_H
#define ETWIRE_SESSION_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <etwire/etwire.h>

#include "base/clock.h"
#include "base/status.h"
#include "format/buffer_header.h"
#include "format/logfile_header.h"
#include "format/record.h"
#include "session/source.h"

typedef struct etw_buf etw_buf;
struct etw_buf {
    etw_buf *next_arrival; /* accepted, not yet completed, in arrival order */
    etw_buf *next_proc;    /* the same processor's later buffers */
    const uint8_t *orig;   /* the bytes as handed in: what callbacks see */
    uint32_t orig_size;
    const uint8_t *data;   /* the bytes records are read from (a decompressed copy or orig) */
    uint8_t *owned;        /* decompressed copy to free */
    etw_buffer_header hdr;
    uint64_t index;        /* arrival number: 0 is the header buffer */
    uint64_t pos;          /* place in flush order (its source's numbering): completion order */
    uint64_t offset;       /* byte offset in the file or stream */
    uint32_t cursor;       /* next record */
    uint32_t proc;         /* slot in the session's processor table */
    /* What its events' EVENT_RECORD gets from the buffer and the session: BufferContext,
     * EVENT_HEADER_FLAG_PROCESSOR_INDEX when the buffer has it, UserContext. Set when the
     * buffer enters the merge; the inline parse reads it as it writes each record. */
    etw_record_ctx rctx;
    uint8_t events_done;
    uint8_t last_of_proc;  /* a file knows no later buffer of this processor follows */
    uint8_t lost;          /* lose_late dropped it: no BufferCallback, counted in BuffersLost */
    uint8_t waiting_kept;  /* its events are out, it waits for its callbacks in memory */
};

/* Buffers whose events are out and that wait for earlier-flushed ones before their callbacks
 * stay in memory up to this many; beyond it they are read again when due (complete.c). */
#define ETW_WAITING_KEPT 4u

/* Merge order key: trace time, then raw time, then handle position, then processor (the last
 * two in one word: tie = position << 32 | processor slot, so a key compares in three steps). */
typedef struct etw_key {
    int64_t ft;
    uint64_t raw;
    uint64_t tie;
} etw_key;

static inline uint64_t etw_key_tie(uint32_t sess, uint32_t proc)
{
    return (uint64_t)sess << 32 | proc;
}

/* Written as branches on each word (rather than "differ? then compare") so that a caller
 * testing the result branches once on the first word in the common case. */
static inline int etw_key_less(const etw_key *a, const etw_key *b)
{
    if (a->ft < b->ft)
        return 1;
    if (a->ft > b->ft)
        return 0;
    if (a->raw < b->raw)
        return 1;
    if (a->raw > b->raw)
        return 0;
    return a->tie < b->tie;
}

typedef struct etw_proc {
    etw_buf *head, *tail;  /* head is the active buffer */
    etw_record rec;        /* the record at head->cursor, when has_rec */
    etw_key key;
    uint64_t last_ts;      /* for WPP records that carry no timestamp */
    uint32_t unfed;        /* file sessions: buffers of this processor not yet read */
    uint8_t seen, finished, has_rec;
    uint8_t in_heap;       /* in the merge heap (run.h) */
} etw_proc;

typedef enum etw_api { ETW_API_OPTIONS, ETW_API_LOGFILE_W, ETW_API_LOGFILE_A } etw_api;

/* How ProcessTrace waits for stream data: AddBuffer bumps seq and signals. */
typedef struct etw_waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t seq;
} etw_waiter;

/* What the Windows-named layer installs on a session so that traces teach the decoder without
 * the session knowing decoding (winapi/tdh_session_hooks.c). event may be NULL. */
typedef struct etw_session_hooks {
    /* Every event, in delivery order, before the time filter and before the consumer's
     * callback, with the session's decode scope set: what the trace embeds is learned
     * whatever the callback does with it. */
    void (*event)(const EVENT_RECORD *er);
} etw_session_hooks;

typedef struct etw_session {
    pthread_mutex_t mu;
    const etw_session_hooks *hooks;
    PROCESSTRACE_HANDLE handle;
    etw_source src;        /* where the buffers come from */
    uint32_t decode_scope; /* which schemas the trace taught (base/decode_scope.h); the layer
                              that destroys sessions forgets them */

    /* What the caller asked for. */
    etw_api api;
    ETW_OPEN_TRACE_OPTIONS options;
    PETW_BUFFER_COMPLETION_CALLBACK completion_cb;
    void *completion_ctx;
    EVENT_TRACE_LOGFILEW *logfile_w;
    EVENT_TRACE_LOGFILEA *logfile_a;
    int raw_timestamp;
    ETWIRE_DIAGNOSTIC_CALLBACK diag_cb;
    void *diag_ctx;
    uint64_t window_100ns; /* reorder window in trace time; ETWIRE_REORDER_UNBOUNDED */
    uint64_t mem_limit;
    /* Real-time delivery (winapi/realtime.c): events only ever in time order. A buffer whose
     * first event sorts before one already delivered (the memory bound let that go first) is
     * lost whole, counted in BuffersLost and told to the diagnostic callback, and the memory
     * bound forces nothing while buffers taken from the queue still wait to enter the merge. */
    int lose_late;

    /* The trace, once the header buffer arrived. */
    int have_header;
    etw_logfile_info info;
    TRACE_LOGFILE_HEADER header; /* with LoggerName / LogFileName pointing into names */
    WCHAR *names;
    etw_clock clock;
    /* etw_clock_to_filetime's common case precomputed (run.h, etw_proc_filetime): a raw time
     * ts in [fast_lo, fast_lo + fast_span] converts to ts + fast_shift (mod 2^64). */
    uint64_t fast_lo, fast_span, fast_shift;
    int compression;             /* MS-XCA format of compressed buffers (format/xca.h) */

    /* (mu) buffers accepted but not yet taken by ProcessTrace, and the session's state. */
    etw_buf *in_head, *in_tail;
    uint64_t next_index;
    uint64_t next_offset;
    int ended;       /* no more input: etwire_stream_end, the source's end */
    int closed;      /* CloseTrace while processing */
    int processing;
    int processed;   /* a ProcessTrace call on it returned */
    int observed;    /* someone sees whole buffers (etw_session_wants_buffers), so they complete
                        in flush order; set when ProcessTrace starts */
    int merges;      /* there is an event callback (etw_session_wants_events); set likewise */
    /* Set likewise (etw_session_pick_callback): the EVENT_RECORD callback and its context,
     * whichever API form gave them; NULL when events go to a classic EventCallback. */
    PEVENT_RECORD_CALLBACK record_cb;
    void *record_ctx;
    void (*event_hook)(const EVENT_RECORD *er); /* hooks->event, or NULL */
    etw_waiter *waiter;
    ETWIRE_SESSION_STATS stats; /* (mu) for the counters AddBuffer touches */

    /* ProcessTrace's own state. */
    etw_buf *arr_head, *arr_tail;
    etw_proc *procs;
    uint32_t nprocs;
    uint32_t unseen;     /* processors below NumberOfProcessors that sent nothing yet */
    uint64_t newest_flush;
    uint32_t index_in_call;
    int input_ended;     /* ProcessTrace's view of ended/closed (taken under mu in pull) */
    int header_seen;     /* the header buffer has entered the merge */
    int corrupt;         /* something was reported: ProcessTrace ends with ERROR_FILE_CORRUPT */
    int bound_dirty;     /* a processor went idle, woke up or finished: recompute the bound */
    etw_key bound;       /* lower bound of events not yet queued (see procs.c) */
    int bound_none;      /* no bound: nothing older can come */
    int64_t current_time;/* FILETIME of the last delivered event */
    ULONG64 buffers_read;
    EVENT_HEADER_EXTENDED_DATA_ITEM ext_items[64];
    etw_buf *free_bufs;
    /* Completed buffers (callbacks called, bytes no longer counted in bytes_held) whose
     * bookkeeping under mu - the free list, the decompressed copy, the counters - waits for
     * the next time ProcessTrace takes the lock anyway (etw_session_settle_locked): one lock
     * for the lot, not one per buffer. ProcessTrace's thread only. */
    etw_buf *done_head;
    uint32_t done_count;
    unsigned waiting_kept; /* buffers with waiting_kept set */
    /* (mu) decompression blocks of BufferSize bytes kept for reuse: a fresh allocation per
     * compressed buffer costs page faults every time. */
    uint8_t *spare_inflated[8];
    unsigned nspare_inflated;
    _Atomic uint64_t bytes_held; /* read by the merge for the memory bound without the lock */
    /* Counters only ProcessTrace touches, folded into stats under mu when it takes the lock
     * (pulling buffers, settling completed ones, at the end). */
    struct {
        ULONG64 delivered, filtered, late, bad_records;
    } live;
} etw_session;

/* A session reading from src (which it closes when destroyed). The reorder window and the
 * memory bound start unbounded. */
etw_session *etw_session_create(etw_source src);
void etw_session_destroy(etw_session *s);

/* Validates one buffer and queues it. Takes no ownership on error (no completion fires). The
 * caller holds s->mu. offset is where the buffer starts in its file or stream; pos its place
 * in flush order as its source numbers it (UINT64_MAX: its arrival number, for sources whose
 * buffers arrive in flush order). */
etw_status etw_session_accept(etw_session *s, const uint8_t *p, size_t n, uint64_t offset,
                              uint64_t pos, int last_of_proc, int validate_records);
/* etw_session_accept, taking the session's lock. */
etw_status etw_session_add(etw_session *s, const uint8_t *p, size_t n, uint64_t offset,
                           uint64_t pos, int last_of_proc, int validate_records);
/* For sources that count buffers: one more buffer of this processor will come. */
etw_status etw_session_expect_buffer(etw_session *s, uint32_t processor);
/* A buffer its source could not read, or the session could not take: counted as rejected,
 * reported with its number (UINT64_MAX: the next one's) and offset, and, when its processor
 * is known (not UINT32_MAX), one buffer fewer is expected from that processor. */
void etw_session_skip_buffer(etw_session *s, etw_status st, uint64_t index, uint64_t offset,
                             uint32_t processor, const char *detail);
/* Back to the state before the first buffer was taken (the header stays known): a source that
 * is read again calls this from begin(). Statistics restart too. */
void etw_session_restart(etw_session *s);
/* Reports a problem through a diagnostic callback, naming buffer and offset. The _to form
 * needs no session, so a caller can report after letting go of the session's lock. */
void etw_report_to(ETWIRE_DIAGNOSTIC_CALLBACK cb, void *ctx, etw_status st, uint64_t buffer_index,
                   uint64_t offset, uint32_t record_offset, const char *detail);
/* Reports a problem through the session's diagnostic callback. */
void etw_session_report(etw_session *s, etw_status st, uint64_t buffer_index, uint64_t offset,
                        uint32_t record_offset, const char *detail);

/* Whether anyone sees whole buffers: a BufferCallback of any API form, or a completion
 * callback. Otherwise only the bytes up to a buffer's filled offset matter. */
int etw_session_wants_buffers(const etw_session *s);
/* Whether the session has an event callback (otherwise buffers are done on arrival). */
int etw_session_wants_events(const etw_session *s);
/* Sets record_cb, record_ctx and event_hook from the callbacks the session was opened with
 * and its hooks. */
void etw_session_pick_callback(etw_session *s);
/* Copies the ProcessTrace-only counters into stats; the caller holds mu. */
void etw_session_fold_live(etw_session *s);
/* Completed buffers' bookkeeping (done_head): the caller holds mu. */
void etw_session_settle_locked(etw_session *s);
/* The same, taking mu when there is any. */
void etw_session_settle(etw_session *s);
/* Gives a buffer's decompressed copy back for reuse; the caller holds mu. */
void etw_session_drop_inflated(etw_session *s, uint8_t *block);
/* Fires completion callbacks for every buffer still held and frees them. */
void etw_session_release_all(etw_session *s);

#endif
