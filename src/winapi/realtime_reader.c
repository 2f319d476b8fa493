/* A real-time handle's reader thread (realtime_reader.h): it reads the subscription's frames
 * and hands the buffers to the handle's buffer-stream session, always reading, whatever the
 * consumer's callbacks do. Slow consumers, as Windows' real-time delivery treats them: events
 * only ever in time order, memory bounded, whole buffers lost and counted. The session holds
 * at most its memory limit and a quarter (buffers handed to it, not yet completed); a buffer
 * arriving beyond that is lost; the merge loses a buffer that would come late (session.h,
 * lose_late). Both, and the collector's drops for this subscriber (DROPPED: the reader fell
 * behind, or the process was stuck), are added to the header's BuffersLost and told to the
 * diagnostic callback (ERROR_BUSY). The reader stops at END, when the connection is lost
 * (the stream ends corrupt after a diagnostic saying why), or at once when the session is
 * destroyed: its source's close signals the reader's wake-up descriptor, which the reader waits on
 * together with its socket. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fd_io.h"
#include "relay/wire/live_proto.h"
#include "session/handles.h"
#include "winapi/realtime_conn.h"
#include "winapi/realtime_reader.h"
#include "winapi/references.h"

struct rt_reader {
    int fd;
    int wake[2];          /* written when the session goes away: the reader stops at once */
    PROCESSTRACE_HANDLE h;
    pthread_mutex_t mu;
    uint32_t outstanding; /* (mu) buffers handed to the session, not yet completed */
    uint64_t bytes_out;   /* (mu) their bytes */
    int reader_gone;      /* (mu) the reader thread let go of it */
    int session_gone;     /* (mu) the session closed its source */
    etw_live_client pc;
    uint64_t received;
    uint64_t lost_untold; /* buffers lost here since the first of their run, not yet told */
    int losing;           /* the last buffer was lost here */
};

static void reader_free(rt_reader *r)
{
    etw_wake_close(r->wake);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Frees the reader once the thread, the session and every buffer let go of it; call with mu
 * held, which it releases. */
static void unlock_maybe_free(rt_reader *r)
{
    int last = r->reader_gone && r->session_gone && r->outstanding == 0;
    pthread_mutex_unlock(&r->mu);
    if (last)
        reader_free(r);
}

/* Every buffer the session took comes back here exactly once (processed, released early, or
 * at CloseTrace): its storage is ours. */
static void WINAPI on_complete(const ETW_BUFFER_HEADER *b, void *ctx)
{
    rt_reader *r = ctx;
    uint8_t *block = (uint8_t *)(uintptr_t)b - RT_SIZE_PREFIX;
    uint64_t size;
    memcpy(&size, block, sizeof size);
    free(block);
    pthread_mutex_lock(&r->mu);
    r->outstanding--;
    r->bytes_out -= size;
    unlock_maybe_free(r);
}

/* The session is destroyed (CloseTrace, or after ProcessTrace for a handle closed while it
 * ran): the reader wakes up and stops. */
static void source_close(void *impl)
{
    rt_reader *r = impl;
    pthread_mutex_lock(&r->mu);
    r->session_gone = 1;
    etw_wake_signal(r->wake[1]);
    unlock_maybe_free(r);
}

static etw_source_result source_next(void *impl, etw_session *s, uint32_t slot)
{
    (void)impl, (void)s, (void)slot;
    return ETW_SOURCE_WAIT; /* only the reader adds */
}

/* A buffer stream whose closing the reader hears of. */
static const etw_source_ops realtime_source_ops = {
    .caller_adds = 1,
    .next = source_next,
    .close = source_close,
};

/* The reader lost its collector: the diagnostic callback hears why, then the stream ends and
 * ProcessTrace returns ERROR_FILE_CORRUPT. */
static void lost(rt_reader *r, const char *why)
{
    etw_session *s = etw_handle_lock_session(r->h);
    if (!s)
        return;
    ETWIRE_DIAGNOSTIC_CALLBACK cb = s->diag_cb;
    void *ctx = s->diag_ctx;
    uint64_t offset = s->next_offset;
    pthread_mutex_unlock(&s->mu);
    /* Told before the stream ends, so a program that exits once ProcessTrace returned has
     * heard why. */
    if (cb) {
        char msg[300];
        snprintf(msg, sizeof msg, "live session: %s", why);
        ETWIRE_DIAGNOSTIC d = {ERROR_CONNECTION_ABORTED, r->received + 1, offset, 0, msg};
        cb(&d, ctx);
    }
    if (!(s = etw_handle_lock_session(r->h)))
        return;
    s->corrupt = 1; /* read by ProcessTrace after it saw `ended`, set under the same lock */
    s->ended = 1;
    etw_session_wake(s);
    pthread_mutex_unlock(&s->mu);
}

/* Buffers lost before they reached the session (`who` lost them: the collector's queue for
 * this subscriber, or this reader's bound): counted in the header's BuffersLost, told to the
 * diagnostic callback. */
static void count_lost(rt_reader *r, uint64_t n, const char *who)
{
    etw_session *s = etw_handle_lock_session(r->h);
    if (!s)
        return;
    s->header.BuffersLost += (ULONG)n;
    if (s->logfile_w)
        s->logfile_w->LogfileHeader.BuffersLost = s->header.BuffersLost;
    if (s->logfile_a)
        s->logfile_a->LogfileHeader.BuffersLost = s->header.BuffersLost;
    ETWIRE_DIAGNOSTIC_CALLBACK cb = s->diag_cb;
    void *ctx = s->diag_ctx;
    uint64_t offset = s->next_offset;
    ULONG total = s->header.BuffersLost;
    pthread_mutex_unlock(&s->mu);
    if (cb) {
        char msg[200];
        snprintf(msg, sizeof msg, "live session: %llu buffers lost by %s (%lu in all): this consumer fell behind",
                 (unsigned long long)n, who, (unsigned long)total);
        ETWIRE_DIAGNOSTIC d = {ERROR_BUSY, r->received + 1, offset, 0, msg};
        cb(&d, ctx);
    }
}

/* The rest of a run of buffers lost here, once it ends (the first was told at once). */
static void tell_lost_here(rt_reader *r)
{
    if (r->lost_untold)
        count_lost(r, r->lost_untold, "the consumer (its session was full)");
    r->lost_untold = 0;
    r->losing = 0;
}

/* The most the session may hold: its memory limit and a quarter (no bound when unbounded). */
static uint64_t held_bound(rt_reader *r)
{
    etw_session *s = etw_handle_lock_session(r->h);
    if (!s)
        return UINT64_MAX;
    uint64_t limit = s->mem_limit;
    pthread_mutex_unlock(&s->mu);
    return limit > UINT64_MAX / 5 * 4 ? UINT64_MAX : limit + limit / 4;
}

/* Hands the buffer at block + RT_SIZE_PREFIX to the session, or loses it whole when the session
 * holds what it may; 0, or -1 once the handle is closed. */
static int hand_over(rt_reader *r, uint8_t *block, uint32_t len)
{
    r->received++;
    uint64_t bound = held_bound(r), size = len;
    memcpy(block, &size, sizeof size);
    pthread_mutex_lock(&r->mu);
    int room = r->bytes_out + size <= bound;
    if (room) {
        r->outstanding++;
        r->bytes_out += size;
    }
    pthread_mutex_unlock(&r->mu);
    if (!room) {
        free(block);
        if (r->losing) {
            r->lost_untold++;
        } else { /* told at once, so a consumer hears of it while still behind */
            r->losing = 1;
            count_lost(r, 1, "the consumer (its session was full)");
        }
        return 0;
    }
    tell_lost_here(r); /* before the buffer after the gap */
    ULONG arc = ProcessTraceAddBufferToBufferStream(r->h, (const ETW_BUFFER_HEADER *)(void *)(block + RT_SIZE_PREFIX), len);
    if (arc == ERROR_SUCCESS)
        return 0;
    free(block); /* refused (reported by the session), or closed: no completion comes */
    pthread_mutex_lock(&r->mu);
    r->outstanding--;
    r->bytes_out -= size;
    pthread_mutex_unlock(&r->mu);
    return arc == ERROR_INVALID_HANDLE ? -1 : 0;
}

static void *reader_main(void *arg)
{
    rt_reader *r = arg;
    for (;;) {
        uint8_t type, *body;
        uint32_t len;
        const char *why = NULL;
        /* A quiet session may stay quiet: no deadline for the next frame, only the wake-up. */
        int rc = rt_read_frame(r->fd, ETW_FD_NO_DEADLINE, r->wake[0], RT_SIZE_PREFIX, &type, &body,
                               &len, &why);
        if (rc == -2)
            break; /* CloseTrace */
        etw_live_msg m;
        if (rc != 0 || etw_live_client_frame(&r->pc, type, body ? body + RT_SIZE_PREFIX : NULL, len, &m, &why) != 0) {
            free(body);
            tell_lost_here(r);
            lost(r, why);
            break;
        }
        if (type == ETW_LIVE_BUFFER) {
            if (hand_over(r, body, len) != 0)
                break;
            continue;
        }
        free(body);
        if (type == ETW_LIVE_DROPPED) {
            tell_lost_here(r);
            count_lost(r, m.dropped_new, "the collector");
            continue;
        }
        tell_lost_here(r); /* counted before ProcessTrace may return */
        if (type == ETW_LIVE_END) {
            if (m.code == ETW_LIVE_END_SENDER)
                etwire_stream_end(r->h);
            else
                lost(r, "the collector closed the session before the sender ended it");
        }
        break;
    }
    close(r->fd);
    pthread_mutex_lock(&r->mu);
    r->reader_gone = 1;
    unlock_maybe_free(r);
    return NULL;
}

etw_session *rt_reader_session_new(int fd, uint32_t header_size, rt_reader **out)
{
    rt_reader *r = calloc(1, sizeof *r);
    if (r && etw_wake_pipe(r->wake) != 0) {
        free(r);
        r = NULL;
    }
    etw_session *s = r ? etw_session_create((etw_source){&realtime_source_ops, r}) : NULL;
    if (!s) {
        if (r)
            etw_wake_close(r->wake);
        free(r);
        return NULL;
    }
    r->fd = fd;
    pthread_mutex_init(&r->mu, NULL);
    etw_live_client_init(&r->pc, 0);
    r->pc.state = ETW_LIVE_C_STREAMING;
    r->outstanding = 1; /* the header buffer */
    r->bytes_out = header_size;
    s->lose_late = 1;
    s->completion_cb = on_complete;
    s->completion_ctx = r;
    *out = r;
    return s;
}

void rt_reader_header_refused(rt_reader *r)
{
    pthread_mutex_lock(&r->mu);
    r->outstanding = 0;
    r->bytes_out = 0;
    pthread_mutex_unlock(&r->mu);
}

void rt_reader_abandon(rt_reader *r)
{
    close(r->fd);
    pthread_mutex_lock(&r->mu);
    r->reader_gone = 1;
    unlock_maybe_free(r);
}

int rt_reader_start(rt_reader *r, PROCESSTRACE_HANDLE h)
{
    r->h = h;
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, reader_main, r);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

uint8_t *rt_block_copy(const void *data, uint32_t size)
{
    uint8_t *block = malloc(RT_SIZE_PREFIX + (size_t)size);
    if (block) {
        uint64_t n = size;
        memcpy(block, &n, sizeof n);
        memcpy(block + RT_SIZE_PREFIX, data, size);
    }
    return block;
}
