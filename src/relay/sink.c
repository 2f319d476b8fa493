/* One collector session's outputs (see sink.h). Ownership: a buffer's storage belongs to
 * the sink from relay_sink_add until its completion callback, which frees it; the ring keeps
 * completions in sequence so the acknowledged count only covers a contiguous prefix. */
#include "relay/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "relay/live.h"
#include "relay/sink_files.h"

typedef struct slot {
    const uint8_t *buf;
    uint8_t *storage;
    uint32_t size;
    int done;
} slot;

struct relay_sink {
    relay_sink_opts o;
    relay_sink_files files;
    PROCESSTRACE_HANDLE h;
    pthread_t thread;
    int started;
    int joined;
    int stuck; /* its ProcessTrace thread never returned: the sink is leaked, not freed */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot *ring;
    uint32_t cap, head, count;
    uint32_t window;      /* negotiated buffers in flight (bounds memory without an .etl) */
    uint64_t completed;   /* seq of the ring head: everything below is complete */
    uint64_t next_seq;    /* seq of the next buffer added */
    uint64_t bytes_in_flight;
    uint64_t events;
    uint64_t written;     /* buffers in the .etl: what may be acknowledged with one */
    const uint8_t *writing; /* buffer being appended: its completion must not free it yet */
    int writing_done;       /* ... and it completed meanwhile: the writer frees it */
    int failed;
    ETWIRE_RELAY_SESSION who;
    void *user;           /* what the program's Open returned */
    int user_open;
    ULONG trace_rc;
    relay_live_entry *live;      /* the adding thread's: created with the first buffer */
    relay_live_entry *live_seen; /* (mu) the same, for the completion side's event counts */
    int complete;                /* the sender ended the session */
    _Atomic uint64_t receive_cpu_ns; /* its connection threads' CPU, summed as they end */
    uint64_t process_cpu_ns;         /* its processing thread's CPU (written by it, read after
                                        the join) */
};

uint64_t relay_thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void relay_sink_add_receive_cpu(relay_sink *k, uint64_t ns)
{
    atomic_fetch_add(&k->receive_cpu_ns, ns);
}

static void WINAPI on_event(PEVENT_RECORD r)
{
    relay_sink *k = r->UserContext;
    k->events++;
    if (k->o.cb && k->o.cb->Event)
        k->o.cb->Event(k->user, r);
}

static void WINAPI on_complete(const ETW_BUFFER_HEADER *buffer, void *ctx)
{
    relay_sink *k = ctx;
    const uint8_t *b = (const uint8_t *)buffer;
    pthread_mutex_lock(&k->mu);
    {
        for (uint32_t i = 0; i < k->count; i++) {
            slot *s = &k->ring[(k->head + i) % k->cap];
            if (s->buf == b && !s->done) {
                s->done = 1;
                if (b == k->writing)
                    k->writing_done = 1; /* still being written: the writer frees it */
                else
                    free(s->storage);
                s->storage = NULL;
                k->bytes_in_flight -= s->size;
                break;
            }
        }
        while (k->count && k->ring[k->head].done) {
            k->ring[k->head].done = 0;
            k->head = (k->head + 1) % k->cap;
            k->count--;
            k->completed++;
        }
        if (k->live_seen) /* on the processing thread, which alone counts events */
            relay_live_events(k->o.live, k->live_seen, k->events);
    }
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

static void *trace_thread(void *arg)
{
    relay_sink *k = arg;
    pthread_setname_np(pthread_self(), "etw-session"); /* per-thread CPU in top, perf */
    if (k->o.cb && k->o.cb->Open)
        k->user = k->o.cb->Open(k->o.cb->Context, &k->who);
    k->user_open = 1;
    if (k->o.cb && k->o.cb->Run) /* the program processes the handle itself, on this thread */
        k->trace_rc = k->o.cb->Run(k->user, &k->who, k->h);
    else
        k->trace_rc = ProcessTrace(&k->h, 1, NULL, NULL);
    k->process_cpu_ns = relay_thread_cpu_ns();
    return NULL;
}

/* Processing starts with the first buffer. The session must release events (and complete
 * buffers) before the connection stops reading, or nothing would ever move again: with an
 * .etl, ACKs follow the writes and reading stops at memory_limit bytes in flight, so the
 * session may hold half of that; without one, ACKs follow completions and the sender stops
 * at `window` buffers, so the session may hold half a window of buffers this size. */
static int start(relay_sink *k, uint32_t buffer_size)
{
    uint64_t limit = k->o.memory_limit / 2;
    if (!k->o.out_dir) {
        uint64_t by_window = (uint64_t)(k->window / 2 ? k->window / 2 : 1) * buffer_size;
        if (by_window < limit)
            limit = by_window;
    }
    etwire_stream_set_memory_limit(k->h, limit);
    if (k->o.reorder)
        etwire_stream_set_reorder_window(k->h, k->o.reorder);
    if (pthread_create(&k->thread, NULL, trace_thread, k) != 0)
        return -1;
    k->started = 1;
    return 0;
}

/* Room for one more slot; the ring only grows while the connection keeps reading, which
 * stops at the memory limit. */
static int grow(relay_sink *k)
{
    if (k->count < k->cap)
        return 0;
    uint32_t cap = k->cap ? k->cap * 2 : 64;
    slot *r = calloc(cap, sizeof *r);
    if (!r)
        return -1;
    for (uint32_t i = 0; i < k->count; i++)
        r[i] = k->ring[(k->head + i) % k->cap];
    free(k->ring);
    k->ring = r;
    k->cap = cap;
    k->head = 0;
    return 0;
}

void relay_sink_set_window(relay_sink *k, uint32_t window)
{
    if (!k->started)
        k->window = window;
}

uint64_t relay_sink_durable(relay_sink *k)
{
    pthread_mutex_lock(&k->mu);
    uint64_t v = k->o.out_dir ? k->written : k->completed;
    pthread_mutex_unlock(&k->mu);
    return v;
}

static int add(relay_sink *k, uint8_t *storage, const uint8_t *buf, uint32_t size, int save,
               char *err, size_t errlen);

/* A resumed session: the new buffer-stream session processes every buffer saved before, in
 * order, so the decoded output (rewritten from the start) has each event exactly once even
 * after a collector crash. Memory stays within the limit: a buffer is read only when the ones
 * in flight hold less. */
static int replay(relay_sink *k, uint64_t held, char *err, size_t errlen)
{
    uint64_t offset = 0;
    for (uint64_t i = 0; i < held; i++) {
        while (relay_sink_bytes_in_flight(k) >= (k->o.memory_limit ? k->o.memory_limit : UINT64_MAX))
            relay_sink_wait(k, 100);
        uint8_t *buf;
        uint32_t size;
        if (relay_sink_files_read(&k->files, &offset, &buf, &size) != 0) {
            snprintf(err, errlen, "cannot read back saved buffer %llu", (unsigned long long)i);
            return -1;
        }
        /* A saved buffer the session refuses was refused the first time too: go on. */
        add(k, buf, buf, size, 0, err, errlen);
    }
    return 0;
}

relay_sink *relay_sink_open(const relay_sink_opts *o, const char *source, const char *session,
                            uint64_t instance, uint64_t *next_seq, char *err, size_t errlen)
{
    relay_sink *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->o = *o;
    k->window = o->window ? o->window : 64;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    uint64_t held = 0;
    if (relay_sink_files_open(&k->files, o->out_dir, source, session, instance, &held, err, errlen) != 0)
        goto fail;
    k->who = (ETWIRE_RELAY_SESSION){.Source = k->files.source, .Session = k->files.session,
                                    .Instance = instance, .Label = k->files.label};
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    /* Nobody wants events: the stream still checks each buffer, but merges nothing (a relay
     * that only saves .etl files runs at the speed of its disk). */
    if ((o->cb && o->cb->Event) || o->count_events)
        opts.EventCallback = on_event;
    opts.EventCallbackContext = k;
    k->h = OpenTraceFromBufferStream(&opts, on_complete, k);
    if (k->h == INVALID_PROCESSTRACE_HANDLE) {
        snprintf(err, errlen, "OpenTraceFromBufferStream: %s", etwire_last_error_message());
        goto fail;
    }
    if (replay(k, held, err, errlen) != 0)
        goto fail;
    *next_seq = k->next_seq;
    return k;
fail:
    relay_sink_close(k, NULL);
    return NULL;
}

/* Queues one buffer; `save` says whether it still has to be appended to the .etl (a replayed
 * buffer is already there). The stream session checks the buffer first; only a buffer it took
 * is written, so the .etl never holds bytes the collector refused. */
static int add(relay_sink *k, uint8_t *storage, const uint8_t *buf, uint32_t size, int save,
               char *err, size_t errlen)
{
    if (!k->started && start(k, size) != 0) {
        snprintf(err, errlen, "cannot start the processing thread");
        free(storage);
        return -1;
    }
    pthread_mutex_lock(&k->mu);
    if (grow(k) != 0) {
        pthread_mutex_unlock(&k->mu);
        snprintf(err, errlen, "out of memory");
        free(storage);
        return -1;
    }
    slot *s = &k->ring[(k->head + k->count) % k->cap];
    *s = (slot){.buf = buf, .storage = storage, .size = size};
    k->count++;
    k->bytes_in_flight += size;
    k->writing = save ? buf : NULL;
    k->writing_done = 0;
    pthread_mutex_unlock(&k->mu);
    ULONG rc = ProcessTraceAddBufferToBufferStream(k->h, (const ETW_BUFFER_HEADER *)buf, size);
    if (rc == ERROR_SUCCESS && k->o.live) {
        /* Published as it arrives, before decoding and saving: live consumers see it now. */
        int first = k->live == NULL;
        relay_live_buffer(k->o.live, &k->live, k->who.Source, k->who.Session, k->who.Instance,
                          buf, size, !save);
        if (first && k->live) {
            pthread_mutex_lock(&k->mu);
            k->live_seen = k->live;
            pthread_mutex_unlock(&k->mu);
        }
    }
    if (rc != ERROR_SUCCESS) {
        /* Refused: no completion will come, and it was never written. A replayed buffer is in
         * the .etl all the same (written by an older version): it keeps its number. */
        snprintf(err, errlen, "buffer refused: %s", etwire_strerror(rc));
        pthread_mutex_lock(&k->mu);
        k->writing = NULL;
        if (save) { /* the newest slot is this one: only this thread adds */
            k->count--;
            k->bytes_in_flight -= size;
            free(storage);
        }
        pthread_mutex_unlock(&k->mu);
        if (!save) {
            on_complete((const ETW_BUFFER_HEADER *)buf, k);
            pthread_mutex_lock(&k->mu);
            k->next_seq++;
            k->written++;
            pthread_mutex_unlock(&k->mu);
        }
        return -1;
    }
    int wrc = save ? relay_sink_files_write(&k->files, buf, size, err, errlen) : 0;
    pthread_mutex_lock(&k->mu);
    if (k->writing_done)
        free(storage);
    k->writing = NULL;
    k->next_seq++;
    if (wrc == 0)
        k->written++;
    else
        k->failed = 1;
    pthread_mutex_unlock(&k->mu);
    return wrc;
}

void relay_sink_mark_complete(relay_sink *k)
{
    k->complete = 1;
    if (k->files.etl_fd >= 0 && fchmod(k->files.etl_fd, 0440) != 0)
        fprintf(stderr, "etwire collect: %s: cannot mark the .etl complete (read-only)\n", k->files.label);
}

void relay_sink_set_ended(relay_sink *k)
{
    k->complete = 1;
}

int relay_sink_failed(relay_sink *k)
{
    pthread_mutex_lock(&k->mu);
    int v = k->failed;
    pthread_mutex_unlock(&k->mu);
    return v;
}

int relay_sink_add(relay_sink *k, uint8_t *storage, const uint8_t *buf, uint32_t size,
                   char *err, size_t errlen)
{
    return add(k, storage, buf, size, 1, err, errlen);
}

uint64_t relay_sink_completed(relay_sink *k)
{
    pthread_mutex_lock(&k->mu);
    uint64_t v = k->completed;
    pthread_mutex_unlock(&k->mu);
    return v;
}

uint64_t relay_sink_next_seq(relay_sink *k)
{
    pthread_mutex_lock(&k->mu);
    uint64_t v = k->next_seq;
    pthread_mutex_unlock(&k->mu);
    return v;
}

void relay_sink_end(relay_sink *k)
{
    if (!k->h || k->h == INVALID_PROCESSTRACE_HANDLE)
        return;
    etwire_stream_end(k->h);
    if (!k->started || k->joined)
        return;
    /* Bounded: a ProcessTrace that never returns must not hang the collector's shutdown. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 30;
    if (pthread_timedjoin_np(k->thread, NULL, &ts) == 0) {
        k->joined = 1;
    } else {
        fprintf(stderr, "etwire collect: %s: ProcessTrace did not return after the stream ended\n",
                k->files.label);
        k->stuck = 1;
    }
}

uint32_t relay_sink_in_flight(relay_sink *k)
{
    pthread_mutex_lock(&k->mu);
    uint32_t v = k->count;
    pthread_mutex_unlock(&k->mu);
    return v;
}

uint64_t relay_sink_bytes_in_flight(relay_sink *k)
{
    pthread_mutex_lock(&k->mu);
    uint64_t v = k->bytes_in_flight;
    pthread_mutex_unlock(&k->mu);
    return v;
}

void relay_sink_wait(relay_sink *k, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&k->mu);
    uint64_t seen = k->completed;
    while (k->completed == seen && k->count > 0)
        if (pthread_cond_timedwait(&k->cv, &k->mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&k->mu);
}

void relay_sink_close(relay_sink *k, FILE *stats)
{
    if (!k)
        return;
    if (k->h && k->h != INVALID_PROCESSTRACE_HANDLE) {
        relay_sink_end(k);
        if (k->stuck)
            return;
        ETWIRE_SESSION_STATS st;
        int have = etwire_session_get_stats(k->h, &st) == ERROR_SUCCESS;
        if (stats && have) {
            uint64_t cpu_ms[2] = {atomic_load(&k->receive_cpu_ns) / 1000000,
                                  k->joined ? k->process_cpu_ns / 1000000 : 0};
            relay_sink_files_stats(&k->files, stats, &st, k->events, k->completed, cpu_ms);
        }
        if (k->user_open && k->o.cb && k->o.cb->Close)
            k->o.cb->Close(k->user, &k->who, have ? &st : NULL);
        CloseTrace(k->h); /* fires any completion still owed, freeing storage */
    }
    pthread_mutex_lock(&k->mu);
    k->live_seen = NULL;
    pthread_mutex_unlock(&k->mu);
    relay_live_close(k->o.live, k->live, k->complete);
    relay_sink_files_close(&k->files);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k->ring);
    free(k);
}
