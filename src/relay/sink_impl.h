/* Inside a collector session's sink (sink.c, sink_writer.c). Three threads share it: the
 * adding thread (a connection's, or Kafka's), the session's ProcessTrace thread (completions)
 * and, with an .etl, its writer thread. Buffers go through it in sequence: staged by the adder
 * (its own, no lock), handed to the stream session a batch at a time (one lock, one wake-up of
 * ProcessTrace), appended to the .etl by the writer a batch at a time (one pwritev), and
 * retired once both completed and written, their storage kept for reuse. Nobody is woken who
 * is not known to wait: each side says so under `mu` before it sleeps. */
#ifndef ETWIRE_RELAY_SINK_IMPL_H
#define ETWIRE_RELAY_SINK_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "relay/live.h"
#include "relay/sink.h"
#include "relay/sink_files.h"

#define SINK_BATCH_MAX 16             /* buffers staged before a hand-off: a quarter of the
                                         default window, so ACKs still come per quarter */
#define SINK_BATCH_BYTES (1u << 20)   /* ... or this many bytes */
#define SINK_HUNGRY 2                 /* a decoding session with fewer buffers than this to
                                         process gets the staged ones at once */
#define SINK_WRITE_KICK 8             /* a decoding session's small batches wake the writer
                                         once this many wait, or when someone waits for it */
#define SINK_SPARE_MAX 64             /* storage blocks kept for reuse ... */
#define SINK_SPARE_BYTES (4u << 20)   /* ... at most this many bytes of them */

typedef struct relay_slot {
    const uint8_t *buf;
    uint8_t *storage;
    uint32_t size;
    uint32_t storage_size; /* what relay_sink_storage was asked for (0: another block) */
    int done;              /* completed by the session */
} relay_slot;

typedef struct relay_staged {
    uint8_t *storage;
    const uint8_t *buf;
    uint32_t size, storage_size;
} relay_staged;

struct relay_sink {
    relay_sink_opts o;
    relay_sink_files files;
    PROCESSTRACE_HANDLE h;
    pthread_t thread;
    int started;
    int joined;
    int stuck; /* its ProcessTrace thread never returned: the sink is leaked, not freed */
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* retirements and writes, for an adder waiting (adder_waits) */
    int adder_waits;        /* (mu) */
    uint64_t adder_below;   /* (mu) it waits for bytes in flight to drop below this (0: for
                               any retirement or write) */
    relay_slot *ring;       /* (mu) the buffers taken, from seq `completed` on */
    uint32_t cap, head, count;
    uint32_t window;        /* negotiated buffers in flight (bounds memory without an .etl) */
    uint64_t completed;     /* (mu) seq of the ring head: everything below is retired */
    uint64_t next_seq;      /* (mu) seq of the next buffer taken */
    uint64_t wdone;         /* (mu) seq below which the writer is done (all, without an .etl) */
    _Atomic uint64_t bytes_in_flight; /* taken, not retired (written under mu) */
    _Atomic uint64_t durable;         /* what may be acknowledged (sink.h) */
    _Atomic uint64_t notify_at;       /* the adder sleeps until durable reaches this: signal
                                         notify_fd then (UINT64_MAX: nobody waits) */
    int notify_fd;                    /* (mu) the adder's wake-up descriptor, or -1 */
    atomic_int failed;                /* an .etl write failed: see werr */
    _Atomic uint64_t ndone;           /* buffers completed by the session so far */
    int decodes;                      /* the session delivers events (its thread has work per
                                         buffer: it must not wait for a batch to fill) */
    char werr[320];                   /* (mu) */
    /* The adder's own: staged buffers not yet handed to the stream session. */
    relay_staged staged[SINK_BATCH_MAX];
    uint32_t nstaged;
    uint64_t staged_bytes;
    /* Storage blocks of retired buffers, for the adder's next ones (mu). */
    uint8_t *spare[SINK_SPARE_MAX];
    uint32_t nspare, spare_size;
    int spare_on;           /* (mu) a connection is reading: keep blocks for it */
    /* The writer thread (with an .etl). */
    pthread_t writer;
    int writer_started;
    int writer_stop;        /* (mu) write what is taken, then end */
    int writer_idle;        /* (mu) it waits on wcv */
    pthread_cond_t wcv;
    uint64_t events;
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

/* Retires the ring's leading buffers that are completed and written; mu held. */
void relay_sink_retire(relay_sink *k);
/* Wakes the adder if it waits and what it waits for may have come (mu held). */
void relay_sink_wake_adder(relay_sink *k);
/* durable moved (mu held): wakes the adder if it sleeps until it got this far. */
void relay_sink_durable_moved(relay_sink *k, uint64_t durable);
/* The writer (sink_writer.c): started with the first buffer to save, stopped by
 * relay_sink_writer_stop once everything taken is written (bounded wait). */
int relay_sink_writer_start(relay_sink *k);
void relay_sink_writer_stop(relay_sink *k);
/* Wakes the writer if it waits (mu held). */
void relay_sink_writer_kick(relay_sink *k);

#endif
