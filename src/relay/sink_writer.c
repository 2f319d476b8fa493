/* A collector session's .etl writer (see sink_impl.h): its own thread appends the buffers the
 * stream session took, in their order, a batch per pwritev, so the connection thread only
 * receives. What is written is what an ACK may cover (relay_sink_durable); a failed write
 * stops it for good (the session is closed and resumes from its .etl, cut back to whole
 * buffers). Waits are bounded: it looks at its stop flag at least once a second. */
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>

#include "base/deadline.h"
#include "relay/sink_impl.h"

#define WRITE_BATCH 64             /* buffers per pwritev */
#define WRITE_BATCH_BYTES (8u << 20) /* ... or bytes */
#define IDLE_WAIT_MS 1000

static void *writer_main(void *arg)
{
    relay_sink *k = arg;
    pthread_setname_np(pthread_self(), "etw-etl"); /* per-thread CPU in top, perf */
    struct iovec iov[WRITE_BATCH];
    pthread_mutex_lock(&k->mu);
    for (;;) {
        if (k->wdone == k->next_seq || atomic_load(&k->failed)) {
            if (k->writer_stop)
                break;
            struct timespec ts;
            etw_deadline_in(&ts, IDLE_WAIT_MS);
            k->writer_idle = 1;
            pthread_cond_timedwait(&k->wcv, &k->mu, &ts);
            k->writer_idle = 0;
            continue;
        }
        /* The buffers stay put until retired, which waits for this writer: their memory may
         * be read without the lock. */
        int n = 0;
        uint64_t bytes = 0, first = k->wdone;
        while (n < WRITE_BATCH && first + (uint64_t)n < k->next_seq && bytes < WRITE_BATCH_BYTES) {
            const relay_slot *s = &k->ring[(k->head + (first + (uint64_t)n - k->completed)) % k->cap];
            iov[n++] = (struct iovec){(void *)s->buf, s->size};
            bytes += s->size;
        }
        pthread_mutex_unlock(&k->mu);
        char err[256];
        int rc = relay_sink_files_writev(&k->files, iov, n, err, sizeof err);
        pthread_mutex_lock(&k->mu);
        if (rc != 0) {
            snprintf(k->werr, sizeof k->werr, "buffer %llu: %s", (unsigned long long)first, err);
            atomic_store(&k->failed, 1);
        } else {
            k->wdone = first + (uint64_t)n;
            atomic_store(&k->durable, k->wdone);
            relay_sink_durable_moved(k, k->wdone);
            relay_sink_retire(k);
        }
        relay_sink_wake_adder(k);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

int relay_sink_writer_start(relay_sink *k)
{
    if (pthread_create(&k->writer, NULL, writer_main, k) != 0)
        return -1;
    k->writer_started = 1;
    return 0;
}

void relay_sink_writer_kick(relay_sink *k)
{
    if (k->writer_idle)
        pthread_cond_signal(&k->wcv);
}

void relay_sink_writer_stop(relay_sink *k)
{
    if (!k->writer_started)
        return;
    pthread_mutex_lock(&k->mu);
    k->writer_stop = 1;
    pthread_cond_signal(&k->wcv);
    pthread_mutex_unlock(&k->mu);
    /* Bounded like the processing thread's join: a disk that never answers must not hang the
     * collector's shutdown (the thread is then left, and so is the sink). */
    struct timespec ts;
    etw_deadline_in(&ts, 30000);
    if (pthread_timedjoin_np(k->writer, NULL, &ts) == 0)
        k->writer_started = 0;
    else
        k->stuck = 1;
}
