/* libetwire-relay: carry raw ETW buffers between machines (docs/wire-protocol.md) from a
 * program's own code. A collector receives relay sessions (TLS 1.3 with client certificates,
 * or plain TCP on loopback), saves each as an .etl and hands each session's events to the
 * program through callbacks; a sender pushes buffers (for instance from a BufferCallback) to a
 * collector, with resume, spool and pacing as options. Link with `pkg-config etwire-relay`.
 * Reference: docs/api/relay.md. Thread safety: one sender is used from one thread at a time;
 * a collector serves each connection on its own thread and calls the session callbacks on each
 * session's processing thread. */
#ifndef ETWIRE_RELAY_H
#define ETWIRE_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <etwire/etwire.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ETWIRE_RELAY_BUILDING)
#define ETWIRE_RELAY_API __attribute__((visibility("default")))
#else
#define ETWIRE_RELAY_API
#endif

/* ---- Collector ------------------------------------------------------------------------- */

/* Who a session is: Source is the authenticated sender (its certificate's name with TLS),
 * Label is "<Session>-<Instance as 16 hex digits>" (the file name of its .etl). */
typedef struct ETWIRE_RELAY_SESSION {
    const char *Source;
    const char *Session;
    ULONG64 Instance;
    const char *Label;
} ETWIRE_RELAY_SESSION;

/* The hand-off of every incoming session. Open runs on the session's processing thread before
 * its first event (a session resumed after a collector restart or an idle close replays its
 * saved buffers, so its events are delivered again from the start); Event gets each event in
 * time order, exactly as an EventRecordCallback (TDH functions work on it); Close runs once
 * the session ended, was closed idle, or the collector stops. Any callback may be NULL. */
typedef struct ETWIRE_RELAY_SESSION_CALLBACKS {
    void *(*Open)(void *Context, const ETWIRE_RELAY_SESSION *Session);
    void (*Event)(void *SessionContext, PEVENT_RECORD Event);
    void (*Close)(void *SessionContext, const ETWIRE_RELAY_SESSION *Session,
                  const ETWIRE_SESSION_STATS *Stats);
    void *Context;
    /* The session as a buffer-stream handle: when set, the session's processing thread calls
     * Run (after Open) instead of ProcessTrace, and Run must process the handle with
     * ProcessTrace(&Trace, 1, NULL, NULL) and return its result. Run may use the handle with
     * the etwire_session_* and etwire_stream_* functions (statistics, diagnostics, reorder
     * window) before that; the collector feeds, ends and closes it. Events still reach Event. */
    ULONG (*Run)(void *SessionContext, const ETWIRE_RELAY_SESSION *Session, PROCESSTRACE_HANDLE Trace);
} ETWIRE_RELAY_SESSION_CALLBACKS;

typedef struct ETWIRE_RELAY_COLLECTOR_OPTIONS {
    const char *Listen;            /* "HOST:PORT" ("HOST:0": any free port); NULL when the
                                      program accepts connections itself (serve_fd) */
    int Plain;                     /* unencrypted TCP: loopback addresses only */
    const char *TlsCert, *TlsKey, *TlsCa; /* PEM files; client certificates must chain to TlsCa */
    const char *const *Allow;      /* accepted source names, NULL-terminated (required with TLS) */
    const char *OutDir;            /* .etl files under OutDir/<source>/ (NULL: none) */
    FILE *Stats;                   /* one JSON line of statistics per session (NULL: none) */
    ULONG Window;                  /* buffers in flight per session (0: 64) */
    ULONG64 MaxMemory;             /* buffer bytes in flight per connection (0: 256 MiB) */
    ULONG64 MaxRate;               /* bytes per second per connection (0: unlimited) */
    ULONG64 SourceMemory;          /* bytes in flight per source, all its sessions (0: no limit) */
    ULONG64 SourceRate;            /* bytes per second per source (0: unlimited) */
    ULONG MaxSessions;             /* sessions held at once (0: 1024) */
    ULONG MaxConnections;          /* connections served at once (0: 256) */
    ULONG IdleMs;                  /* a connection silent this long is closed (0: 60 s) */
    ULONG FrameDeadlineMs;         /* a frame must arrive whole this long after its first byte
                                      (0: 30 s) */
    ULONG HandshakeDeadlineMs;     /* TLS handshake and HELLO, in total (0: 10 s) */
    ULONG SessionIdleMs;           /* a session without a connection is closed after this; it
                                      resumes from its .etl (0: 300 s) */
    ULONG UnauthPerAddress;        /* connections not yet authenticated, per address (0: 8) */
    ULONG UnauthPercent;           /* ... and in all, as a share of MaxConnections (0: 25) */
    ULONG64 Reorder;               /* reorder window of each stream, 100 ns (0: library default) */
    int Zstd;                      /* accept zstd-compressed frames */
    int Verbose;                   /* log connections and session ends on stderr */
    ETWIRE_RELAY_SESSION_CALLBACKS Sessions;
    /* Live sessions (docs/api/live.md): real-time consumers subscribe to SOURCE/SESSION on
     * "unix:PATH" (OpenTraceFromRealTimeLogger with ETWIRE_LIVE set to it). NULL: none. */
    const char *Live;
    unsigned LiveMode;             /* permissions of the socket file (0: 0660, owner and group) */
    ULONG LiveQueue;               /* buffers queued per subscriber before dropping (0: 256) */
    /* Remote subscribers: "HOST:PORT" served with the collector's TLS files (client
     * certificates from TlsCa); LiveAllow lists "SUBSCRIBER=SOURCE,SOURCE..." ("*": every
     * source), NULL-terminated: a subscriber not listed is refused. NULL: none. */
    const char *LiveRemote;
    const char *const *LiveAllow;
} ETWIRE_RELAY_COLLECTOR_OPTIONS;

typedef struct etwire_relay_collector etwire_relay_collector;

/* Checks the options, raises the soft descriptor limit to the hard one (clamping MaxSessions
 * and MaxConnections to what it allows, with a warning), loads the TLS files and listens.
 * NULL with err filled on failure. */
ETWIRE_RELAY_API etwire_relay_collector *etwire_relay_collector_new(
    const ETWIRE_RELAY_COLLECTOR_OPTIONS *Options, char *err, size_t errlen);
/* The port listened on (for "HOST:0"), or -1. */
ETWIRE_RELAY_API int etwire_relay_collector_port(const etwire_relay_collector *c);
/* Accepts and serves connections until etwire_relay_collector_stop; then every connection
 * drains what it received into its session, acknowledges it and closes, and run returns once
 * they all have (etwire_relay_collector_free closes the sessions). 0 on a clean stop. */
ETWIRE_RELAY_API int etwire_relay_collector_run(etwire_relay_collector *c);
/* For a program with its own accept loop: serves one connected socket (the collector owns it
 * from now on) on a thread of its own, under the same limits; 0, or -1 when refused (closed). */
ETWIRE_RELAY_API int etwire_relay_collector_serve_fd(etwire_relay_collector *c, int fd,
                                                      const char *peer);
/* Asks run to return; async-signal-safe (a signal handler may call it). */
ETWIRE_RELAY_API void etwire_relay_collector_stop(etwire_relay_collector *c);
/* Stops, waits for every connection and session, frees. */
ETWIRE_RELAY_API void etwire_relay_collector_free(etwire_relay_collector *c);

/* What became of the collector's connections since it started, for an operator's metrics and
 * alerts (slow strangers wearing the collector down show as deadlines and refusals). Every
 * accepted connection ends in exactly one of the outcomes from Completed to Shutdown; the ones
 * not ended yet are Open. Counted before the connection is closed: a peer that has seen its
 * connection close finds itself counted. */
typedef struct ETWIRE_RELAY_COLLECTOR_STATS {
    ULONG64 Accepted;          /* connections given a thread of their own */
    ULONG64 Refused;           /* turned away at once: connection or stranger limits, stopping */
    ULONG64 Authenticated;     /* HELLO accepted */
    ULONG64 Open;              /* accepted and not ended yet */
    /* Outcomes */
    ULONG64 Completed;         /* the session ended (END) and everything was saved */
    ULONG64 HandshakeFailed;   /* the TLS handshake failed or did not finish in time */
    ULONG64 HelloDeadline;     /* no HELLO within HandshakeDeadlineMs of connecting */
    ULONG64 FrameDeadline;     /* a frame not whole FrameDeadlineMs after its first byte */
    ULONG64 Idle;              /* silent for IdleMs */
    ULONG64 HelloRefused;      /* HELLO refused: identity, allow-list, quota, session busy */
    ULONG64 Invalid;           /* malformed frames, sequence or window errors, bad buffers */
    ULONG64 Disconnected;      /* the sender closed the connection or it broke */
    ULONG64 Failed;            /* the collector's own failure (memory, saving the .etl) */
    ULONG64 Shutdown;          /* still open when the collector stopped */
} ETWIRE_RELAY_COLLECTOR_STATS;

/* Fills Stats; any thread, any time before free. Once etwire_relay_collector_run has returned,
 * every connection has ended and the figures are final. */
ETWIRE_RELAY_API void etwire_relay_collector_stats(const etwire_relay_collector *c,
                                                   ETWIRE_RELAY_COLLECTOR_STATS *Stats);

/* ---- Sender ---------------------------------------------------------------------------- */

typedef struct ETWIRE_RELAY_SENDER_OPTIONS {
    const char *To;                /* collector "HOST:PORT" */
    int Plain;                     /* unencrypted TCP: loopback addresses only */
    const char *TlsCert, *TlsKey, *TlsCa;
    const char *TlsServerName;     /* name the collector's certificate must carry (NULL: host) */
    const char *Source, *Session;  /* relay names: [A-Za-z0-9._-], 1..128 bytes */
    ULONG64 Instance;              /* 0: random */
    int Resume;                    /* Instance is an earlier run's: skip buffers already held */
    ULONG Window;                  /* buffers in flight (0: 64) */
    int Zstd;                      /* compress frames when the collector agrees */
    ULONG RetrySeconds;            /* give up after this long without progress (0: 60) */
    const char *SpoolDir;          /* every buffer goes to disk first (NULL: memory only) */
    ULONG64 SpoolMax;              /* disk the spool may use (0: 1 GiB) */
    double Rate;                   /* pace by the buffers' flush times, F times faster (0: off) */
    int Verbose;
} ETWIRE_RELAY_SENDER_OPTIONS;

typedef struct ETWIRE_RELAY_SENDER_STATS {
    ULONG64 Buffers, Bytes, WireBytes, Resent, Reconnects, Acked, Skipped;
} ETWIRE_RELAY_SENDER_STATS;

typedef struct etwire_relay_sender etwire_relay_sender;

/* A session to the collector (connects on the first push). NULL with err filled. */
ETWIRE_RELAY_API etwire_relay_sender *etwire_relay_sender_new(
    const ETWIRE_RELAY_SENDER_OPTIONS *Options, char *err, size_t errlen);
/* Queues one raw ETW buffer (copied; a BufferCallback may pass its buffer as is) and returns
 * once the window (or the spool) has room. The trace clock for Rate: PerfFreq of the trace's
 * logfile header (0: unknown, no pacing). 0, or -1 on a permanent error (see error). */
ETWIRE_RELAY_API int etwire_relay_sender_push(etwire_relay_sender *s, const void *Buffer,
                                              ULONG Size, ULONG64 ClockFrequency);
/* Sends END and waits until the collector acknowledged every buffer; 0 or -1. */
ETWIRE_RELAY_API int etwire_relay_sender_finish(etwire_relay_sender *s);
ETWIRE_RELAY_API const char *etwire_relay_sender_error(const etwire_relay_sender *s);
ETWIRE_RELAY_API void etwire_relay_sender_stats(const etwire_relay_sender *s,
                                                ETWIRE_RELAY_SENDER_STATS *Stats);
ETWIRE_RELAY_API ULONG64 etwire_relay_sender_instance(const etwire_relay_sender *s);
ETWIRE_RELAY_API void etwire_relay_sender_free(etwire_relay_sender *s);

/* Sends an .etl file's buffers in flush order straight from its index (no event decoding)
 * through s; 0, or -1 with err filled. */
ETWIRE_RELAY_API int etwire_relay_send_file(etwire_relay_sender *s, const char *Path, char *err,
                                            size_t errlen);

/* Sends raw ETW buffers read from a stream (each cut by its own BufferSize, as standard
 * input carries them) through s; 0, or -1 with err filled. */
ETWIRE_RELAY_API int etwire_relay_send_stream(etwire_relay_sender *s, FILE *In, char *err,
                                              size_t errlen);
/* Finishes every session an earlier run left in Options->SpoolDir (same instance, resent from
 * what the collector holds; a session whose input was cut short ends after its last spooled
 * buffer); Source, Session and Instance come from the spool. Progress and problems go to
 * stderr. Returns the number of sessions that failed. */
ETWIRE_RELAY_API int etwire_relay_resume_spool(const ETWIRE_RELAY_SENDER_OPTIONS *Options);

/* ---- Kafka (docs/wire-protocol.md §11; built only with librdkafka) --------------------- */

/* 0 when this library was built without librdkafka: every Kafka call then fails. */
ETWIRE_RELAY_API int etwire_relay_kafka_available(void);

typedef struct etwire_relay_kafka_producer etwire_relay_kafka_producer;
/* Publishes to Topic (and Topic.headers); Zstd: zstd record batches (else lz4). The
 * ETWIRE_KAFKA_CONFIG environment variable ("name=value;...") adds librdkafka properties. */
ETWIRE_RELAY_API etwire_relay_kafka_producer *etwire_relay_kafka_producer_new(
    const char *Brokers, const char *Topic, int Zstd, int Verbose, char *err, size_t errlen);
/* One input (an .etl file, sent from its index; "-": raw buffers on standard input; Raw: a
 * file of raw buffers) as one session, one record per buffer, paced when Rate > 0; 0 or 1. */
ETWIRE_RELAY_API int etwire_relay_kafka_send(etwire_relay_kafka_producer *p, const char *Input,
                                             int Raw, const char *Source, const char *Session,
                                             ULONG64 Instance, double Rate);
/* Waits (at most TimeoutMs) for every delivery report and frees the producer; the number of
 * records not delivered. */
ETWIRE_RELAY_API int etwire_relay_kafka_producer_finish(etwire_relay_kafka_producer *p,
                                                        int TimeoutMs);

typedef struct ETWIRE_RELAY_KAFKA_OPTIONS {
    const char *Brokers, *Topic, *Group; /* consumed as a member of Group */
    const char *OutDir;                  /* required: each session's .etl is its state */
    FILE *Stats;
    ULONG Window;
    ULONG64 MaxMemory, Reorder;
    int Verbose;
    ETWIRE_RELAY_SESSION_CALLBACKS Sessions;
    const char *Live;                    /* as in ETWIRE_RELAY_COLLECTOR_OPTIONS (docs/api/live.md) */
    unsigned LiveMode;
    ULONG LiveQueue;
} ETWIRE_RELAY_KAFKA_OPTIONS;

typedef struct etwire_relay_kafka_collector etwire_relay_kafka_collector;
ETWIRE_RELAY_API etwire_relay_kafka_collector *etwire_relay_kafka_collector_new(
    const ETWIRE_RELAY_KAFKA_OPTIONS *Options, char *err, size_t errlen);
/* Consumes until stop; 0 on a clean stop. */
ETWIRE_RELAY_API int etwire_relay_kafka_collector_run(etwire_relay_kafka_collector *k);
/* Async-signal-safe. */
ETWIRE_RELAY_API void etwire_relay_kafka_collector_stop(etwire_relay_kafka_collector *k);
ETWIRE_RELAY_API void etwire_relay_kafka_collector_free(etwire_relay_kafka_collector *k);

/* ---- Live sessions over TLS ------------------------------------------------------------ */

/* Lets this process's real-time consumers (OpenTraceFromRealTimeLogger, docs/api/live.md)
 * reach a collector's remote live listener: ETWIRE_LIVE=tls:HOST:PORT then connects with this
 * client certificate, and the collector's certificate must chain to TlsCa and name HOST.
 * 0, or -1 with err filled. */
ETWIRE_RELAY_API int etwire_relay_live_use_tls(const char *TlsCert, const char *TlsKey,
                                               const char *TlsCa, char *err, size_t errlen);

/* ---- Helpers --------------------------------------------------------------------------- */

/* Any text as a valid relay name ([A-Za-z0-9._-], 1..128 bytes; others become '_'). */
ETWIRE_RELAY_API void etwire_relay_make_name(const char *Text, char *out, size_t outlen);
/* A random session instance (what a sender picks when given 0). */
ETWIRE_RELAY_API ULONG64 etwire_relay_random_instance(void);
/* True when "HOST:PORT" names a loopback address (where Plain is allowed). */
ETWIRE_RELAY_API int etwire_relay_address_is_loopback(const char *Address);

#ifdef __cplusplus
}
#endif

#endif
