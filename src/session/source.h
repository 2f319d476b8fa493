/* Where a session's buffers come from: the one interface between the session and its input
 * (docs/design.md). A file (src/etl/file_session.c) is read by the merge one buffer at a time
 * when it needs more; a buffer stream (stream_source.c) is fed by its caller from any thread
 * through etw_session_accept, and the merge waits for it. The session knows nothing else of
 * either: no file/stream branches, only what each source says it can do. */
#ifndef ETWIRE_SESSION_SOURCE_H
#define ETWIRE_SESSION_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef struct etw_session etw_session;

typedef enum etw_source_result {
    ETW_SOURCE_QUEUED, /* a buffer went into the session's incoming queue */
    ETW_SOURCE_WAIT,   /* nothing now: only another thread can add (a stream) */
    ETW_SOURCE_END     /* no more buffers */
} etw_source_result;

typedef struct etw_source_ops {
    /* Buffers come from the API's caller (ProcessTraceAddBufferToBufferStream). */
    int caller_adds;
    /* The source told the session up front how many buffers each processor has
     * (etw_session_expect_buffer), so the merge knows when a processor has no more; otherwise
     * any processor the header announces may still send data until the input ends. */
    int counts_buffers;
    /* ProcessTrace starts; `again`: the session was processed before. A source that can be
     * read again starts over from its first buffer and reports again what it found before
     * processing. May be NULL. */
    etw_status (*begin)(void *impl, etw_session *s, int again);
    /* Queues the next buffer through etw_session_accept (a buffer that cannot be read or
     * taken is reported with etw_session_skip_buffer and the next one tried). `slot` is the
     * processor slot (processor + 1) whose data the merge waits for, or UINT32_MAX: a source
     * that can may read that processor's next buffer out of flush order (events are merged,
     * etw_session.merges), which keeps about one buffer per processor in flight. */
    etw_source_result (*next)(void *impl, etw_session *s, uint32_t slot);
    /* The lowest flush position (the pos given to etw_session_accept) of the buffers still to
     * come, UINT64_MAX when none: a buffer completes only once every buffer flushed before it
     * has, so a source that reads out of flush order holds later ones back this way. NULL:
     * buffers arrive in flush order. */
    uint64_t (*first_pending)(void *impl);
    /* Reads the buffer at flush position pos (as given to etw_session_accept) again, into
     * memory given back with done(): a buffer whose events are out but whose callbacks must
     * wait for earlier-flushed buffers gives its memory back meanwhile (complete.c), so what
     * is held stays about one buffer per processor. NULL: buffers cannot be read again. */
    etw_status (*reread)(void *impl, uint64_t pos, const uint8_t **p, size_t *n);
    /* The buffer at p completed: its memory may be used again. May be NULL. */
    void (*done)(void *impl, const uint8_t *p);
    /* A consumer referenced a buffer (ProcessTraceBufferIncrementReference): from now on no
     * buffer's memory is used again before close. NULL: buffers cannot be referenced. */
    void (*keep)(void *impl);
    void (*close)(void *impl);
    /* The compressed buffer at p (n bytes) just given to etw_session_accept, already
     * decompressed by the source (etl/decompress_ahead.h): a malloc'd block of the session's
     * BufferSize holding its header and filled - 72 decompressed bytes, now the session's; NULL
     * when the source has none (the session decompresses it). May be NULL. */
    uint8_t *(*inflated)(void *impl, const uint8_t *p, size_t n);
} etw_source_ops;

typedef struct etw_source {
    const etw_source_ops *ops;
    void *impl;
} etw_source;

/* A buffer stream: its caller adds buffers, the merge waits for them. */
extern const etw_source_ops etw_stream_source_ops;

#endif
