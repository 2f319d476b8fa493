/* The collector's shared state: its configuration, the registry of sessions (kept across
 * reconnects so a sender resumes where it stopped), and the per-connection thread. */
#ifndef ETWIRE_RELAY_COLLECT_H
#define ETWIRE_RELAY_COLLECT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "relay/sink.h"

/* How a connection ended (ETWIRE_RELAY_COLLECTOR_STATS, in the same order). */
typedef enum relay_outcome {
    RELAY_OUT_COMPLETED,
    RELAY_OUT_HANDSHAKE,
    RELAY_OUT_HELLO_DEADLINE,
    RELAY_OUT_FRAME_DEADLINE,
    RELAY_OUT_IDLE,
    RELAY_OUT_HELLO_REFUSED,
    RELAY_OUT_INVALID,
    RELAY_OUT_DISCONNECTED,
    RELAY_OUT_FAILED,
    RELAY_OUT_SHUTDOWN,
    RELAY_OUT_COUNT_
} relay_outcome;

/* The collector's connection counters; written by the accept path and the connection threads. */
typedef struct relay_collect_counters {
    atomic_ullong accepted, refused, authenticated;
    atomic_ullong outcome[RELAY_OUT_COUNT_];
} relay_collect_counters;

typedef struct relay_collect_cfg {
    relay_sink_opts sink;
    uint32_t window;        /* buffers in flight per session */
    uint64_t max_memory;    /* buffer bytes in flight per connection before reading stops */
    uint64_t max_rate;      /* bytes per second per connection (0 = unlimited) */
    struct relay_quota *quota; /* per-source memory and rate budgets (quota.h) */
    uint32_t caps;          /* ETW_RELAY_CAP_* offered */
    int idle_ms;            /* a connection silent this long is closed */
    int frame_deadline_ms;  /* a frame must be whole this long after its first byte */
    int handshake_ms;       /* TLS handshake and HELLO, in total, from accept */
    int session_idle_ms;    /* a session without connection is closed after this */
    void *tls_ctx;          /* NULL: plain TCP */
    char **allow;           /* accepted source names (NULL-terminated; NULL = any, plain only) */
    uint32_t max_sessions;
    int verbose;
    FILE *stats;            /* per-session statistics lines, or NULL */
    atomic_int *stop;       /* set by SIGTERM/SIGINT */
    relay_collect_counters *counters;
} relay_collect_cfg;

typedef struct relay_registry relay_registry;

relay_registry *relay_registry_create(uint32_t max_sessions);
/* Finds or opens the session's sink and marks it connected. Returns ETW_RELAY_OK, or
 * ETW_RELAY_E_REFUSED with reason set (BUSY, RESOURCES, ...). */
int relay_registry_acquire(relay_registry *r, const relay_collect_cfg *cfg, const char *source,
                           const char *session, uint64_t instance, relay_sink **sink,
                           uint32_t *reason, char *err, size_t errlen);
/* The connection is gone; with ended set the session is complete and is closed and removed. */
void relay_registry_release(relay_registry *r, const relay_collect_cfg *cfg, relay_sink *sink, int ended);
/* Closes the sessions without a connection for cfg->session_idle_ms (their buffers are in
 * their .etl: a sender that comes back resumes from there); how many. */
uint32_t relay_registry_sweep(relay_registry *r, const relay_collect_cfg *cfg);
/* Closes every remaining session (shutdown). */
void relay_registry_destroy(relay_registry *r, const relay_collect_cfg *cfg);

typedef struct relay_conn_job {
    int fd;
    char peer[64];
    const relay_collect_cfg *cfg;
    relay_registry *reg;
    char addr[64];          /* peer without the port: unauthenticated connections are capped per address */
    pthread_t thread;
    atomic_int authed;      /* HELLO accepted: no longer counts against the strangers' share */
    atomic_int finished;
    int wake_fd;            /* written when finished: the accept loop reaps without polling */
} relay_conn_job;

/* Thread entry: serves one connection, then sets job->finished. */
void *relay_collect_conn_main(void *job);

/* One log line on stderr, prefixed and whole (lines from many threads interleave). */
void relay_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
