/* Real-time consumers of live sessions (docs/api/live.md): OpenTraceFromRealTimeLogger and
 * OpenTrace* with a LoggerName subscribe to SOURCE/SESSION at the collector named by
 * $ETWIRE_LIVE. The handle is a buffer-stream session, fed by a reader thread of its own with
 * the buffers that arrive after the attach; ProcessTrace runs it as any stream. The reader
 * stops at END (the stream ends: ProcessTrace returns ERROR_SUCCESS), when the connection is
 * lost (ProcessTrace returns ERROR_FILE_CORRUPT after a diagnostic saying so), or at once
 * when the session is gone (CloseTrace: its source's close writes the reader's wake-up pipe).
 * Slow consumers, as Windows' real-time delivery treats them: events only ever in time order,
 * memory bounded, whole buffers lost and counted. The reader always reads; the session holds at
 * most MAX_HELD buffers, and one arriving beyond that is lost; the merge loses a buffer that
 * would come late (session.h, lose_late). Both, and the collector's drops for this subscriber
 * (DROPPED: its reader fell behind), are added to the header's BuffersLost and told to the
 * diagnostic callback (ERROR_BUSY). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "relay/wire/live_proto.h"
#include "session/handles.h"
#include "winapi/last_error.h"
#include "winapi/realtime.h"
#include "winapi/realtime_conn.h"
#include "winapi/references.h"
#include "winapi/tdh_session_hooks.h"

/* The default memory limit (etwire_stream_set_memory_limit): 64 buffers, at least 16 MiB (a
 * time-ordered merge of small buffers needs a flush timer's worth of them). At the limit the
 * merge lets events go without waiting for a processor gone quiet (in time order: session.h,
 * lose_late); the session holds at most a quarter more (buffers handed to it, not completed),
 * and a buffer arriving beyond that is lost whole, as a Windows real-time session loses the
 * buffers a slow consumer leaves no room for. */
#define DEFAULT_HELD_BUFFERS 64u
#define DEFAULT_HELD_MIN (16ull << 20)
/* Each buffer the reader hands over is preceded by its size, for the completion. */
#define SIZE_PREFIX 8u

typedef struct rt_reader {
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
} rt_reader;

static void reader_free(rt_reader *r)
{
    close(r->wake[0]);
    close(r->wake[1]);
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
    uint8_t *block = (uint8_t *)(uintptr_t)b - SIZE_PREFIX;
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

/* The session behind a handle, locked, or NULL once closed. */
static etw_session *lock_handle(PROCESSTRACE_HANDLE h)
{
    etw_handles_lock();
    etw_session *s = etw_handle_find_locked(h);
    if (s)
        pthread_mutex_lock(&s->mu);
    etw_handles_unlock();
    return s;
}

/* The reader lost its collector: the diagnostic callback hears why, then the stream ends and
 * ProcessTrace returns ERROR_FILE_CORRUPT. */
static void lost(rt_reader *r, const char *why)
{
    etw_session *s = lock_handle(r->h);
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
    if (!(s = lock_handle(r->h)))
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
    etw_session *s = lock_handle(r->h);
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
    etw_session *s = lock_handle(r->h);
    if (!s)
        return UINT64_MAX;
    uint64_t limit = s->mem_limit;
    pthread_mutex_unlock(&s->mu);
    return limit > UINT64_MAX / 5 * 4 ? UINT64_MAX : limit + limit / 4;
}

/* Hands the buffer at block + SIZE_PREFIX to the session, or loses it whole when the session
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
    ULONG arc = ProcessTraceAddBufferToBufferStream(r->h, (const ETW_BUFFER_HEADER *)(void *)(block + SIZE_PREFIX), len);
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
        int rc = rt_read_frame(r->fd, ETW_FD_NO_DEADLINE, r->wake[0], SIZE_PREFIX, &type, &body,
                               &len, &why);
        if (rc == -2)
            break; /* CloseTrace */
        etw_live_msg m;
        if (rc != 0 || etw_live_client_frame(&r->pc, type, body ? body + SIZE_PREFIX : NULL, len, &m, &why) != 0) {
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

static int is_kernel_logger(const TRACE_LOGFILE_HEADER *h)
{
    static const char kernel_logger[] = "NT Kernel Logger";
    const WCHAR *n = h->LoggerName;
    for (size_t i = 0; i < sizeof kernel_logger; i++)
        if (!n || n[i] != (WCHAR)(unsigned char)kernel_logger[i])
            return 0;
    return 1;
}

/* Subscribes and waits for ATTACHED: the header buffer (malloc'd after SIZE_PREFIX bytes holding
 * its size, as every buffer handed over) and its size, or the last
 * error set and -1. */
static int subscribe(int fd, const char *name, uint8_t **hdr, uint32_t *hdr_size)
{
    char msg[600];
    if (rt_send_request(fd, ETW_LIVE_SUBSCRIBE, name) != 0) {
        etw_set_last_win32(ERROR_CONNECTION_ABORTED, "the collector closed the connection");
        return -1;
    }
    uint8_t type, *body;
    uint32_t len;
    const char *why = NULL;
    etw_live_client pc;
    etw_live_msg m;
    etw_live_client_init(&pc, 0);
    int rc = rt_read_frame(fd, etw_mono_ms() + ATTACH_DEADLINE_MS, -1, 0, &type, &body, &len, &why);
    if (rc == 0 && etw_live_client_frame(&pc, type, body, len, &m, &why) == 0) {
        if (type == ETW_LIVE_REFUSED) {
            snprintf(msg, sizeof msg, "%.*s", (int)(m.size > 400 ? 400 : m.size), (const char *)m.data);
            etw_set_last_win32(m.code ? m.code : ERROR_ACCESS_DENIED, msg);
            free(body);
            return -1;
        }
        if (!(*hdr = malloc(SIZE_PREFIX + m.size))) {
            free(body);
            etw_set_last_win32(ERROR_NOT_ENOUGH_MEMORY, NULL);
            return -1;
        }
        uint64_t size = m.size;
        memcpy(*hdr, &size, sizeof size);
        memcpy(*hdr + SIZE_PREFIX, m.data, m.size);
        *hdr_size = m.size;
        free(body);
        return 0;
    }
    free(body);
    snprintf(msg, sizeof msg, "subscribing to %s: %s", name, why ? why : "protocol error");
    etw_set_last_win32(ERROR_CONNECTION_ABORTED, msg);
    return -1;
}

PROCESSTRACE_HANDLE etw_realtime_open(const char *name, etw_api api,
                                      const ETW_OPEN_TRACE_OPTIONS *options, void *logfile,
                                      TRACE_LOGFILE_HEADER *header_out)
{
    char source[129], session[129], msg[400];
    if (!name || etw_live_name_split(name, strlen(name), source, session) != 0) {
        snprintf(msg, sizeof msg, "%s: a live session is named SOURCE/SESSION", name ? name : "(null)");
        etw_set_last_win32(ERROR_WMI_INSTANCE_NOT_FOUND, msg);
        return INVALID_PROCESSTRACE_HANDLE;
    }
    int fd = rt_connect_live(NULL);
    if (fd < 0)
        return INVALID_PROCESSTRACE_HANDLE;
    uint8_t *hdr = NULL;
    uint32_t hdr_size = 0;
    if (subscribe(fd, name, &hdr, &hdr_size) != 0) {
        close(fd);
        return INVALID_PROCESSTRACE_HANDLE;
    }
    rt_reader *r = calloc(1, sizeof *r);
    if (r && etw_wake_pipe(r->wake) != 0) {
        free(r);
        r = NULL;
    }
    etw_session *s = r ? etw_session_create((etw_source){&realtime_source_ops, r}) : NULL;
    if (!s) {
        if (r) {
            close(r->wake[0]);
            close(r->wake[1]);
        }
        free(r);
        free(hdr);
        close(fd);
        etw_set_last_win32(ERROR_NOT_ENOUGH_MEMORY, NULL);
        return INVALID_PROCESSTRACE_HANDLE;
    }
    r->fd = fd;
    pthread_mutex_init(&r->mu, NULL);
    etw_live_client_init(&r->pc, 0);
    r->pc.state = ETW_LIVE_C_STREAMING;
    r->outstanding = 1; /* the header buffer */
    r->bytes_out = hdr_size;
    s->lose_late = 1;
    s->api = api;
    s->completion_cb = on_complete;
    s->completion_ctx = r;
    if (api == ETW_API_OPTIONS) {
        s->options = *options;
        s->raw_timestamp = (options->ProcessTraceModes & ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP) != 0;
    } else if (api == ETW_API_LOGFILE_W) {
        s->logfile_w = logfile;
        s->raw_timestamp = (s->logfile_w->ProcessTraceMode & PROCESS_TRACE_MODE_RAW_TIMESTAMP) != 0;
    } else {
        s->logfile_a = logfile;
        s->raw_timestamp = (s->logfile_a->ProcessTraceMode & PROCESS_TRACE_MODE_RAW_TIMESTAMP) != 0;
    }
    pthread_mutex_lock(&s->mu);
    etw_status st = etw_session_accept(s, hdr + SIZE_PREFIX, hdr_size, 0, UINT64_MAX, 0, 1);
    if (st == ETW_OK)
        s->next_offset += hdr_size;
    pthread_mutex_unlock(&s->mu);
    if (st != ETW_OK) { /* not taken: no completion comes */
        snprintf(msg, sizeof msg, "%s: header buffer: %s", name, etw_status_message(st));
        free(hdr);
        r->outstanding = 0;
        r->reader_gone = 1;
        close(fd);
        etw_session_destroy(s); /* closes its source: frees the reader */
        etw_set_last_win32(etw_status_win32(st), msg);
        return INVALID_PROCESSTRACE_HANDLE;
    }
    if (api == ETW_API_LOGFILE_W) {
        EVENT_TRACE_LOGFILEW *w = logfile;
        w->LogfileHeader = s->header;
        w->BufferSize = s->header.BufferSize;
        w->IsKernelTrace = (ULONG)is_kernel_logger(&s->header);
        w->BuffersRead = 0;
        w->CurrentTime = 0;
    } else if (api == ETW_API_LOGFILE_A) {
        EVENT_TRACE_LOGFILEA *a = logfile;
        a->LogfileHeader = s->header;
        a->BufferSize = s->header.BufferSize;
        a->IsKernelTrace = (ULONG)is_kernel_logger(&s->header);
        a->BuffersRead = 0;
        a->CurrentTime = 0;
    }
    if (header_out)
        *header_out = s->header;
    ULONG buffer_size = s->header.BufferSize ? s->header.BufferSize : hdr_size;
    etw_tdh_install_session_hooks(s); /* embedded schemas are learned as on any other session */
    PROCESSTRACE_HANDLE h = etw_handle_add(s);
    if (h == INVALID_PROCESSTRACE_HANDLE) {
        pthread_mutex_lock(&r->mu);
        r->reader_gone = 1;
        pthread_mutex_unlock(&r->mu);
        close(fd);
        etw_session_destroy(s); /* completes the header buffer, closes the source: frees it */
        etw_set_last_win32(ERROR_NOT_ENOUGH_MEMORY, NULL);
        return INVALID_PROCESSTRACE_HANDLE;
    }
    r->h = h;
    uint64_t limit = (uint64_t)DEFAULT_HELD_BUFFERS * buffer_size;
    etwire_stream_set_memory_limit(h, limit > DEFAULT_HELD_MIN ? limit : DEFAULT_HELD_MIN);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int trc = pthread_create(&t, &attr, reader_main, r);
    pthread_attr_destroy(&attr);
    if (trc != 0) {
        close(fd);
        pthread_mutex_lock(&r->mu);
        r->reader_gone = 1;
        unlock_maybe_free(r);
        etwire_stream_end(h); /* ProcessTrace delivers the header and returns */
    }
    etw_set_last_win32(ERROR_SUCCESS, NULL);
    return h;
}
