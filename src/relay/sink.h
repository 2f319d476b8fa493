/* What the collector does with one (source, session, instance): appends every buffer to a
 * valid .etl file, feeds it to a buffer-stream session processed by its own ProcessTrace
 * thread (its events go to the program's session callbacks, include/etwire/relay.h), and counts
 * completions so the connection can acknowledge exactly the buffers that are written and
 * processed. A buffer reaches the .etl only once the stream session has taken it: a refused
 * buffer is neither saved nor counted. A sink outlives connections: a sender that reconnects
 * resumes the same sink. */
#ifndef ETWIRE_RELAY_SINK_H
#define ETWIRE_RELAY_SINK_H

#include <stdint.h>
#include <stdio.h>

#include <etwire/etwire.h>
#include <etwire/relay.h>

typedef struct relay_sink_opts {
    const char *out_dir;    /* .etl files under DIR/<source>/ (NULL: none) */
    const ETWIRE_RELAY_SESSION_CALLBACKS *cb; /* the program's hand-off (NULL: none) */
    int count_events;       /* events are counted for statistics even without an Event callback;
                               with neither, buffers are checked and saved but not decoded */
    uint32_t window;        /* buffers in flight, until relay_sink_set_window */
    uint64_t memory_limit;  /* bytes the stream session may hold before releasing early */
    uint64_t reorder;       /* reorder window in 100 ns units (0 = the library's default) */
    struct relay_live *live; /* publishes every buffer to live subscribers (NULL: none) */
} relay_sink_opts;

typedef struct relay_sink relay_sink;

/* Opens or resumes; *next_seq receives the number of buffers already held (from the .etl). */
relay_sink *relay_sink_open(const relay_sink_opts *o, const char *source, const char *session,
                            uint64_t instance, uint64_t *next_seq, char *err, size_t errlen);
/* Takes ownership of storage (freed at completion); buf/size is the ETW buffer inside it.
 * 0, or -1 with err filled (the buffer was refused; storage already freed). */
int relay_sink_add(relay_sink *k, uint8_t *storage, const uint8_t *buf, uint32_t size,
                   char *err, size_t errlen);
/* Sequence number below which every buffer is completed (processed). */
uint64_t relay_sink_completed(relay_sink *k);
/* What may be acknowledged (docs/wire-protocol.md §6): with an .etl, every buffer written to
 * it; without one, every buffer completed. */
uint64_t relay_sink_durable(relay_sink *k);
/* The window negotiated with the sender (before the first buffer). */
void relay_sink_set_window(relay_sink *k, uint32_t window);
/* Buffers added but not completed. */
uint32_t relay_sink_in_flight(relay_sink *k);
uint64_t relay_sink_bytes_in_flight(relay_sink *k);
/* Sequence number the next added buffer gets (where a reconnecting sender resumes). */
uint64_t relay_sink_next_seq(relay_sink *k);
/* Ends the stream and waits for ProcessTrace to drain it: every buffer is then complete. */
void relay_sink_end(relay_sink *k);
/* Waits up to ms for a completion. */
void relay_sink_wait(relay_sink *k, int ms);
/* The session ended: its .etl becomes read-only, the mark that it is never reopened. */
void relay_sink_mark_complete(relay_sink *k);
/* The sender ended the session (live subscribers are told so at close). */
void relay_sink_set_ended(relay_sink *k);
/* True once a write failed: the session must be closed (it resumes from its .etl). */
int relay_sink_failed(relay_sink *k);
/* A connection thread of this session ends after ns of CPU (its statistics line shows it). */
void relay_sink_add_receive_cpu(relay_sink *k, uint64_t ns);
/* The calling thread's CPU time so far. */
uint64_t relay_thread_cpu_ns(void);
/* Ends the stream, drains ProcessTrace, closes files, prints statistics when asked. */
void relay_sink_close(relay_sink *k, FILE *stats);

#endif
