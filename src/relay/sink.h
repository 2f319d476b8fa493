/* What the collector does with one (source, session, instance): appends every buffer to a
 * valid .etl file, feeds it to a buffer-stream session processed by its own ProcessTrace
 * thread (its events go to the program's session callbacks, include/etwire/relay.h), and counts
 * completions so the connection can acknowledge exactly the buffers that are written and
 * processed. A buffer reaches the .etl only once the stream session has taken it: a refused
 * buffer is neither saved nor counted. The .etl is written by a thread of its own
 * (sink_writer.c), so the connection's thread only receives. A sink outlives connections: a
 * sender that reconnects resumes the same sink. */
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
/* Takes ownership of storage (a malloc'd block, freed once the buffer is completed and
 * written); buf/size is the ETW buffer inside it. Hands it to the stream session at once, with
 * whatever was staged before it, and returns once it is in the .etl. 0, or -1 with err filled
 * (the buffer was refused, or the .etl cannot be written). */
int relay_sink_add(relay_sink *k, uint8_t *storage, const uint8_t *buf, uint32_t size,
                   char *err, size_t errlen);
/* relay_sink_add without the wait for the .etl: the session has the buffer when this returns,
 * the writer saves it soon after, and relay_sink_completed passes it only once it is saved.
 * A failed write shows in relay_sink_failed and in the next call's -1. */
int relay_sink_add_unsaved(relay_sink *k, uint8_t *storage, const uint8_t *buf, uint32_t size,
                           char *err, size_t errlen);
/* Wakes the writer for buffers taken and not yet written (a decoding session's writer is
 * otherwise woken only every few buffers, or by a wait): for an adder that goes quiet. */
void relay_sink_write_soon(relay_sink *k);
/* The adding thread's batches (the lock round trips and wake-ups are per batch, not per
 * buffer): a block of storage_size bytes, reused from a retired buffer when one is kept
 * (relay_sink_keep_storage), else malloc'd (NULL: out of memory). */
uint8_t *relay_sink_storage(relay_sink *k, uint32_t storage_size);
/* Keeps a few retired blocks for relay_sink_storage while a connection reads (on), or frees
 * them and keeps none (off: the connection left). */
void relay_sink_keep_storage(relay_sink *k, int on);
/* Stages a buffer for the next relay_sink_flush, taking ownership of storage (storage_size:
 * as given to relay_sink_storage, 0 for another block); at most relay_sink_batch_full. */
void relay_sink_stage(relay_sink *k, uint8_t *storage, uint32_t storage_size, const uint8_t *buf,
                      uint32_t size);
/* Buffers staged (the adding thread's). */
uint32_t relay_sink_staged(const relay_sink *k);
/* True when the stage holds as many buffers or bytes as one hand-off takes. */
int relay_sink_batch_full(const relay_sink *k);
/* True when the session decodes and has (almost) nothing left to process: staged buffers should
 * go now rather than when the batch is full (its thread would wait for them). */
int relay_sink_hungry(const relay_sink *k);
/* Hands the staged buffers to the stream session (one call, one wake-up); the writer thread
 * appends those it took to the .etl. 0, or -1 with err filled: a buffer was refused (the ones
 * before it are taken; it and those after it are dropped), or the .etl cannot be written. */
int relay_sink_flush(relay_sink *k, char *err, size_t errlen);
/* Sequence number below which every buffer is completed (processed). */
uint64_t relay_sink_completed(relay_sink *k);
/* What may be acknowledged (docs/wire-protocol.md §6): with an .etl, every buffer written to
 * it; without one, every buffer completed. */
uint64_t relay_sink_durable(relay_sink *k);
/* The window negotiated with the sender (before the first buffer). */
void relay_sink_set_window(relay_sink *k, uint32_t window);
/* Buffers (and their bytes) staged or taken but not retired; for the adding thread. */
uint32_t relay_sink_in_flight(relay_sink *k);
uint64_t relay_sink_bytes_in_flight(relay_sink *k);
/* Sequence number the next added buffer gets (where a reconnecting sender resumes). */
uint64_t relay_sink_next_seq(relay_sink *k);
/* Ends the stream and waits for ProcessTrace to drain it: every buffer is then complete. */
void relay_sink_end(relay_sink *k);
/* Waits up to ms for a buffer to retire. */
void relay_sink_wait(relay_sink *k, int ms);
/* Waits up to ms for the bytes in flight to drop below `bytes` (staged ones flushed first): the
 * wake-up comes once, not per retired buffer. */
void relay_sink_wait_below(relay_sink *k, uint64_t bytes, int ms);
/* Waits up to ms for relay_sink_durable to move past seen (returns at once when every buffer
 * taken is durable, or a write failed). */
void relay_sink_wait_durable(relay_sink *k, uint64_t seen, int ms);
/* The adding thread's wake-up descriptor (etw_wake_pipe's write end; -1: none, before it closes it):
 * relay_sink_arm(k, at) says it sleeps until durable reaches at (0: it has already, do not
 * sleep), and then the pipe is signalled once; relay_sink_disarm when it woke for another
 * reason. */
void relay_sink_set_notify(relay_sink *k, int fd);
int relay_sink_arm(relay_sink *k, uint64_t at);
void relay_sink_disarm(relay_sink *k);
/* Waits up to ms until every buffer taken is in the .etl (or a write failed). */
void relay_sink_wait_written(relay_sink *k, int ms);
/* The failed .etl write's message (relay_sink_failed). */
void relay_sink_write_error(relay_sink *k, char *err, size_t errlen);
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
