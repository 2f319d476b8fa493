/* One collector session's outputs (see sink.h, sink_impl.h). Ownership: a buffer's storage
 * belongs to the sink from relay_sink_stage (or _add) until it is retired, completed and
 * written, when it is kept for reuse or freed; the ring keeps buffers in sequence so the
 * acknowledged count only covers a contiguous prefix. */
#include "base/deadline.h"
#include "relay/sink_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fd_io.h"


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

/* Room for n more slots; the ring only grows while the connection keeps reading, which
 * stops at the memory limit. mu held. */
static int grow(relay_sink *k, uint32_t n)
{
    if (k->count + n <= k->cap)
        return 0;
    uint32_t cap = k->cap ? k->cap : 64;
    while (cap < k->count + n)
        cap *= 2;
    relay_slot *r = calloc(cap, sizeof *r);
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

/* A retired buffer's storage: kept for the adder's next buffer of the same size while a
 * connection reads (a few blocks, SINK_SPARE_*), freed otherwise. mu held. */
static void give_back(relay_sink *k, uint8_t *storage, uint32_t size)
{
    if (k->spare_on && size && size == k->spare_size && k->nspare < SINK_SPARE_MAX &&
        (uint64_t)(k->nspare + 1) * size <= SINK_SPARE_BYTES) {
        k->spare[k->nspare++] = storage;
        return;
    }
    free(storage);
}

static void drop_spares(relay_sink *k)
{
    while (k->nspare)
        free(k->spare[--k->nspare]);
}

void relay_sink_retire(relay_sink *k)
{
    while (k->count && k->ring[k->head].done && k->completed < k->wdone) {
        relay_slot *s = &k->ring[k->head];
        give_back(k, s->storage, s->storage_size);
        atomic_fetch_sub(&k->bytes_in_flight, s->size);
        *s = (relay_slot){0};
        k->head = (k->head + 1) % k->cap;
        k->count--;
        k->completed++;
    }
    if (!k->o.out_dir) {
        atomic_store(&k->durable, k->completed);
        relay_sink_durable_moved(k, k->completed);
    }
}

void relay_sink_wake_adder(relay_sink *k)
{
    if (k->adder_waits && (!k->adder_below || atomic_load(&k->bytes_in_flight) < k->adder_below))
        pthread_cond_broadcast(&k->cv);
}

/* The adder armed notify_at before it looked at durable one last time and slept; this side
 * stored durable before it looks at notify_at: one of the two sees the other (sequentially
 * consistent atomics), so no wake-up is lost, and the exchange sends at most one per arming. */
void relay_sink_durable_moved(relay_sink *k, uint64_t durable)
{
    uint64_t at = atomic_load(&k->notify_at);
    if (durable >= at && k->notify_fd >= 0 &&
        atomic_compare_exchange_strong(&k->notify_at, &at, UINT64_MAX))
        etw_wake_signal(k->notify_fd);
}

void relay_sink_set_notify(relay_sink *k, int fd)
{
    pthread_mutex_lock(&k->mu);
    k->notify_fd = fd;
    atomic_store(&k->notify_at, UINT64_MAX);
    pthread_mutex_unlock(&k->mu);
}

int relay_sink_arm(relay_sink *k, uint64_t at)
{
    pthread_mutex_lock(&k->mu);
    relay_sink_writer_kick(k); /* the adder sleeps: what it waits for may need the writer */
    pthread_mutex_unlock(&k->mu);
    atomic_store(&k->notify_at, at);
    if (atomic_load(&k->durable) < at)
        return 1;
    atomic_store(&k->notify_at, UINT64_MAX);
    return 0;
}

void relay_sink_disarm(relay_sink *k)
{
    atomic_store(&k->notify_at, UINT64_MAX);
}

/* The session is done with a buffer: taken buffers complete in the order they were taken, so
 * the search ends at the first one not done yet. */
static void WINAPI on_complete(const ETW_BUFFER_HEADER *buffer, void *ctx)
{
    relay_sink *k = ctx;
    const uint8_t *b = (const uint8_t *)buffer;
    pthread_mutex_lock(&k->mu);
    for (uint32_t i = 0; i < k->count; i++) {
        relay_slot *s = &k->ring[(k->head + i) % k->cap];
        if (s->buf == b && !s->done) {
            s->done = 1;
            atomic_fetch_add(&k->ndone, 1);
            break;
        }
    }
    relay_sink_retire(k);
    if (k->live_seen) /* on the processing thread, which alone counts events */
        relay_live_events(k->o.live, k->live_seen, k->events);
    relay_sink_wake_adder(k);
    pthread_mutex_unlock(&k->mu);
}

void relay_sink_set_window(relay_sink *k, uint32_t window)
{
    if (!k->started)
        k->window = window;
}

uint64_t relay_sink_durable(relay_sink *k)
{
    return atomic_load(&k->durable);
}

/* A resumed session: the new buffer-stream session processes every buffer saved before, in
 * order, so the decoded output (rewritten from the start) has each event exactly once even
 * after a collector crash. Memory stays within the limit: a buffer is read only when the ones
 * in flight hold less. A saved buffer the session refuses was refused the first time too: it
 * keeps its number and the replay goes on. */
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
        if (!k->started && start(k, size) != 0) {
            snprintf(err, errlen, "cannot start the processing thread");
            free(buf);
            return -1;
        }
        pthread_mutex_lock(&k->mu);
        if (grow(k, 1) != 0) {
            pthread_mutex_unlock(&k->mu);
            free(buf);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        /* In the ring first: its completion may come before AddBuffer returns. It retires only
         * once counted as written (below), after the live subscribers had it. */
        k->ring[(k->head + k->count) % k->cap] = (relay_slot){.buf = buf, .storage = buf, .size = size};
        k->count++;
        atomic_fetch_add(&k->bytes_in_flight, size);
        pthread_mutex_unlock(&k->mu);
        ULONG rc = ProcessTraceAddBufferToBufferStream(k->h, (const ETW_BUFFER_HEADER *)buf, size);
        if (rc == ERROR_SUCCESS && k->o.live)
            relay_live_buffer(k->o.live, &k->live, k->who.Source, k->who.Session, k->who.Instance,
                              buf, size, 1);
        pthread_mutex_lock(&k->mu);
        k->next_seq++;
        k->wdone = k->next_seq; /* in the .etl already */
        atomic_store(&k->durable, k->o.out_dir ? k->wdone : k->completed);
        relay_sink_retire(k); /* if it completed meanwhile */
        pthread_mutex_unlock(&k->mu);
        if (rc != ERROR_SUCCESS) /* no completion will come: as if it had */
            on_complete((const ETW_BUFFER_HEADER *)buf, k);
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
    pthread_cond_init(&k->wcv, NULL);
    k->notify_fd = -1;
    atomic_store(&k->notify_at, UINT64_MAX);
    uint64_t held = 0;
    if (relay_sink_files_open(&k->files, o->out_dir, source, session, instance, &held, err, errlen) != 0)
        goto fail;
    k->who = (ETWIRE_RELAY_SESSION){.Source = k->files.source, .Session = k->files.session,
                                    .Instance = instance, .Label = k->files.label};
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    /* Nobody wants events: the stream still checks each buffer, but merges nothing (a relay
     * that only saves .etl files runs at the speed of its disk). */
    if ((o->cb && o->cb->Event) || o->count_events) {
        opts.EventCallback = on_event;
        k->decodes = 1;
    }
    opts.EventCallbackContext = k;
    k->h = OpenTraceFromBufferStream(&opts, on_complete, k);
    if (k->h == INVALID_PROCESSTRACE_HANDLE) {
        snprintf(err, errlen, "OpenTraceFromBufferStream: %s", etwire_last_error_message());
        goto fail;
    }
    if (replay(k, held, err, errlen) != 0)
        goto fail;
    pthread_mutex_lock(&k->mu);
    *next_seq = k->next_seq;
    pthread_mutex_unlock(&k->mu);
    return k;
fail:
    relay_sink_close(k, NULL);
    return NULL;
}

uint8_t *relay_sink_storage(relay_sink *k, uint32_t size)
{
    uint8_t *p = NULL;
    pthread_mutex_lock(&k->mu);
    if (size != k->spare_size) { /* another size from now on: the blocks kept do not fit */
        drop_spares(k);
        k->spare_size = size;
    }
    if (k->nspare)
        p = k->spare[--k->nspare];
    pthread_mutex_unlock(&k->mu);
    return p ? p : malloc(size);
}

void relay_sink_keep_storage(relay_sink *k, int on)
{
    pthread_mutex_lock(&k->mu);
    k->spare_on = on;
    if (!on)
        drop_spares(k);
    pthread_mutex_unlock(&k->mu);
}

void relay_sink_stage(relay_sink *k, uint8_t *storage, uint32_t storage_size, const uint8_t *buf,
                      uint32_t size)
{
    k->staged[k->nstaged++] = (relay_staged){storage, buf, size, storage_size};
    k->staged_bytes += size;
}

uint32_t relay_sink_staged(const relay_sink *k)
{
    return k->nstaged;
}

int relay_sink_batch_full(const relay_sink *k)
{
    return k->nstaged >= SINK_BATCH_MAX || k->staged_bytes >= SINK_BATCH_BYTES;
}

int relay_sink_hungry(const relay_sink *k)
{
    /* next_seq changes on this (the adding) thread only. */
    return k->decodes && k->next_seq - atomic_load(&k->ndone) < SINK_HUNGRY;
}

static void drop_staged(relay_sink *k, uint32_t from)
{
    for (uint32_t i = from; i < k->nstaged; i++)
        free(k->staged[i].storage);
    k->nstaged = 0;
    k->staged_bytes = 0;
}

/* Hands the staged buffers to the stream session in one call. They enter the ring first (a
 * completion may come before the call returns); those it refuses leave it again, the newest
 * slots, which only this thread adds. A buffer reaches the .etl only once the session took it. */
int relay_sink_flush(relay_sink *k, char *err, size_t errlen)
{
    uint32_t n = k->nstaged;
    if (!n)
        return 0;
    if (atomic_load(&k->failed)) {
        pthread_mutex_lock(&k->mu);
        snprintf(err, errlen, "%s", k->werr);
        pthread_mutex_unlock(&k->mu);
        drop_staged(k, 0);
        return -1;
    }
    if ((!k->started && start(k, k->staged[0].size) != 0) ||
        (k->o.out_dir && !k->writer_started && relay_sink_writer_start(k) != 0)) {
        snprintf(err, errlen, "cannot start the session's threads");
        drop_staged(k, 0);
        return -1;
    }
    const ETW_BUFFER_HEADER *bufs[SINK_BATCH_MAX];
    ULONG sizes[SINK_BATCH_MAX];
    pthread_mutex_lock(&k->mu);
    if (grow(k, n) != 0) {
        pthread_mutex_unlock(&k->mu);
        snprintf(err, errlen, "out of memory");
        drop_staged(k, 0);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        const relay_staged *st = &k->staged[i];
        k->ring[(k->head + k->count + i) % k->cap] =
            (relay_slot){.buf = st->buf, .storage = st->storage, .size = st->size,
                         .storage_size = st->storage_size};
        bufs[i] = (const ETW_BUFFER_HEADER *)(const void *)st->buf;
        sizes[i] = st->size;
    }
    k->count += n;
    atomic_fetch_add(&k->bytes_in_flight, k->staged_bytes);
    pthread_mutex_unlock(&k->mu);
    ULONG taken = 0;
    ULONG rc = etwire_stream_add_buffers(k->h, bufs, sizes, n, &taken);
    if (k->o.live) /* published as they arrive, before decoding and saving */
        for (ULONG i = 0; i < taken; i++) {
            int first = k->live == NULL;
            relay_live_buffer(k->o.live, &k->live, k->who.Source, k->who.Session, k->who.Instance,
                              k->staged[i].buf, k->staged[i].size, 0);
            if (first && k->live) {
                pthread_mutex_lock(&k->mu);
                k->live_seen = k->live;
                pthread_mutex_unlock(&k->mu);
            }
        }
    pthread_mutex_lock(&k->mu);
    for (uint32_t i = taken; i < n; i++) { /* refused or not offered: out of the ring again */
        atomic_fetch_sub(&k->bytes_in_flight, k->staged[i].size);
        k->ring[(k->head + k->count - 1) % k->cap] = (relay_slot){0};
        k->count--;
    }
    k->next_seq += taken;
    if (!k->o.out_dir)
        k->wdone = k->next_seq;
    relay_sink_retire(k); /* without an .etl, some may have completed already */
    /* A decoding session gets small batches (relay_sink_hungry): the writer is woken for a
     * few of them at once, or by whoever then waits for it (the waits below, relay_sink_arm). */
    if (!k->decodes || k->next_seq - k->wdone >= SINK_WRITE_KICK)
        relay_sink_writer_kick(k);
    pthread_mutex_unlock(&k->mu);
    if (taken < n)
        snprintf(err, errlen, "buffer refused: %s", etwire_strerror(rc));
    drop_staged(k, taken);
    return taken < n ? -1 : 0;
}

int relay_sink_add_unsaved(relay_sink *k, uint8_t *storage, const uint8_t *buf, uint32_t size,
                           char *err, size_t errlen)
{
    if (relay_sink_flush(k, err, errlen) != 0) { /* whatever was staged goes first */
        free(storage);
        return -1;
    }
    relay_sink_stage(k, storage, 0, buf, size);
    return relay_sink_flush(k, err, errlen);
}

void relay_sink_write_soon(relay_sink *k)
{
    pthread_mutex_lock(&k->mu);
    if (k->o.out_dir && k->wdone < k->next_seq)
        relay_sink_writer_kick(k);
    pthread_mutex_unlock(&k->mu);
}

int relay_sink_add(relay_sink *k, uint8_t *storage, const uint8_t *buf, uint32_t size,
                   char *err, size_t errlen)
{
    if (relay_sink_add_unsaved(k, storage, buf, size, err, errlen) != 0)
        return -1;
    /* Saved when this returns, as its callers count on (a write waits for its disk). */
    uint64_t want = relay_sink_next_seq(k), d;
    while (k->o.out_dir && (d = relay_sink_durable(k)) < want && !relay_sink_failed(k))
        relay_sink_wait_durable(k, d, 1000);
    if (relay_sink_failed(k)) {
        relay_sink_write_error(k, err, errlen);
        return -1;
    }
    return 0;
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
    return atomic_load(&k->failed);
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
    char err[256];
    if (relay_sink_flush(k, err, sizeof err) != 0) { /* refused: as if it never came */
    }
    etwire_stream_end(k->h);
    if (!k->started || k->joined)
        return;
    /* Bounded: a ProcessTrace that never returns must not hang the collector's shutdown. */
    struct timespec ts;
    etw_deadline_in(&ts, 30000);
    if (pthread_timedjoin_np(k->thread, NULL, &ts) == 0) {
        k->joined = 1;
        relay_sink_writer_stop(k); /* after the session: everything it took is then written */
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
    return v + k->nstaged;
}

uint64_t relay_sink_bytes_in_flight(relay_sink *k)
{
    return atomic_load(&k->bytes_in_flight) + k->staged_bytes;
}

/* One wait on cv, said beforehand so that retirements and writes signal it; 0 on a signal,
 * nonzero at the deadline. mu held. */
static int wait_until(relay_sink *k, const struct timespec *ts)
{
    relay_sink_writer_kick(k); /* what is waited for may need the writer */
    k->adder_waits++;
    int rc = pthread_cond_timedwait(&k->cv, &k->mu, ts);
    k->adder_waits--;
    return rc;
}

void relay_sink_wait(relay_sink *k, int ms)
{
    struct timespec ts;
    etw_deadline_in(&ts, ms);
    pthread_mutex_lock(&k->mu);
    uint64_t seen = k->completed;
    while (k->completed == seen && k->count > 0 && !atomic_load(&k->failed))
        if (wait_until(k, &ts) != 0)
            break;
    pthread_mutex_unlock(&k->mu);
}

void relay_sink_wait_below(relay_sink *k, uint64_t bytes, int ms)
{
    struct timespec ts;
    etw_deadline_in(&ts, ms);
    pthread_mutex_lock(&k->mu);
    k->adder_below = bytes ? bytes : 1;
    while (atomic_load(&k->bytes_in_flight) >= bytes && k->count > 0 && !atomic_load(&k->failed))
        if (wait_until(k, &ts) != 0)
            break;
    k->adder_below = 0;
    pthread_mutex_unlock(&k->mu);
}

void relay_sink_wait_durable(relay_sink *k, uint64_t seen, int ms)
{
    struct timespec ts;
    etw_deadline_in(&ts, ms);
    pthread_mutex_lock(&k->mu);
    while (atomic_load(&k->durable) == seen && seen < k->next_seq && !atomic_load(&k->failed))
        if (wait_until(k, &ts) != 0)
            break;
    pthread_mutex_unlock(&k->mu);
}

void relay_sink_wait_written(relay_sink *k, int ms)
{
    if (!k->o.out_dir)
        return;
    struct timespec ts;
    etw_deadline_in(&ts, ms);
    pthread_mutex_lock(&k->mu);
    while (k->wdone < k->next_seq && !atomic_load(&k->failed))
        if (wait_until(k, &ts) != 0)
            break;
    pthread_mutex_unlock(&k->mu);
}

void relay_sink_write_error(relay_sink *k, char *err, size_t errlen)
{
    pthread_mutex_lock(&k->mu);
    snprintf(err, errlen, "%s", k->werr[0] ? k->werr : "writing the .etl failed");
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
        CloseTrace(k->h); /* fires any completion still owed */
    }
    relay_sink_writer_stop(k); /* when the session never started */
    if (k->stuck)
        return;
    drop_staged(k, 0);
    pthread_mutex_lock(&k->mu);
    k->live_seen = NULL;
    for (uint32_t i = 0; i < k->count; i++) /* never written (a failed .etl): freed all the same */
        free(k->ring[(k->head + i) % k->cap].storage);
    k->count = 0;
    drop_spares(k);
    pthread_mutex_unlock(&k->mu);
    relay_live_close(k->o.live, k->live, k->complete);
    relay_sink_files_close(&k->files);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    pthread_cond_destroy(&k->wcv);
    free(k->ring);
    free(k);
}
