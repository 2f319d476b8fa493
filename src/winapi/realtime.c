/* Real-time consumers of live sessions (docs/api/live.md): OpenTraceFromRealTimeLogger and
 * OpenTrace* with a LoggerName subscribe to SOURCE/SESSION at the collector named by
 * $ETWIRE_LIVE. The handle is a buffer-stream session, fed by a reader thread of its own with
 * the buffers that arrive after the attach; ProcessTrace runs it as any stream. The reader
 * stops at END (the stream ends: ProcessTrace returns ERROR_SUCCESS), when the connection is
 * lost (ProcessTrace returns ERROR_FILE_CORRUPT after a diagnostic saying so), or once
 * CloseTrace made the handle invalid. Flow control: at most IN_FLIGHT buffers are handed to the
 * session and not completed; beyond that the reader stops reading, the collector's queue for
 * this subscriber fills, and the collector drops whole buffers for it alone (counted: DROPPED,
 * reported through the diagnostic callback and the header's BuffersLost). */
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

#define IN_FLIGHT 128u

typedef struct rt_reader {
    int fd;
    PROCESSTRACE_HANDLE h;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t outstanding; /* (mu) buffers handed to the session, not yet completed */
    int reader_gone;      /* (mu) the last completion after this frees the reader */
    etw_live_client pc;
    uint64_t received;
} rt_reader;
static void reader_free(rt_reader *r)
{
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Every buffer the session took comes back here exactly once (processed, released early, or
 * at CloseTrace): its storage is ours. */
static void WINAPI on_complete(const ETW_BUFFER_HEADER *b, void *ctx)
{
    rt_reader *r = ctx;
    free((void *)b);
    pthread_mutex_lock(&r->mu);
    r->outstanding--;
    int last = r->reader_gone && r->outstanding == 0;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (last)
        reader_free(r);
}
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

/* The collector dropped buffers for this consumer: counted in the header's BuffersLost. */
static void dropped(rt_reader *r, uint64_t n)
{
    etw_handles_lock();
    etw_session *s = etw_handle_find_locked(r->h);
    if (s)
        pthread_mutex_lock(&s->mu);
    etw_handles_unlock();
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
        snprintf(msg, sizeof msg, "live session: %llu buffers dropped by the collector (%lu in all): this consumer fell behind",
                 (unsigned long long)n, (unsigned long)total);
        ETWIRE_DIAGNOSTIC d = {ERROR_BUSY, r->received + 1, offset, 0, msg};
        cb(&d, ctx);
    }
}

/* Waits until the session has room for one more buffer; 0, or -2 once the handle is closed. */
static int wait_room(rt_reader *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->outstanding >= IN_FLIGHT) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += ALIVE_CHECK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) != 0) {
            pthread_mutex_unlock(&r->mu);
            if (!rt_handle_alive(r->h))
                return -2;
            pthread_mutex_lock(&r->mu);
        }
    }
    r->outstanding++;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static void *reader_main(void *arg)
{
    rt_reader *r = arg;
    for (;;) {
        uint8_t type, *body;
        uint32_t len;
        const char *why = NULL;
        int rc = rt_read_frame(r->fd, -1, r->h, &type, &body, &len, &why);
        if (rc == -2)
            break; /* CloseTrace */
        etw_live_msg m;
        if (rc != 0 || etw_live_client_frame(&r->pc, type, body, len, &m, &why) != 0) {
            free(body);
            lost(r, why);
            break;
        }
        if (type == ETW_LIVE_BUFFER) {
            if (wait_room(r) != 0) {
                free(body);
                break;
            }
            r->received++;
            ULONG arc = ProcessTraceAddBufferToBufferStream(r->h, (const ETW_BUFFER_HEADER *)(void *)body, len);
            if (arc != ERROR_SUCCESS) { /* refused (reported by the session), or closed */
                free(body);
                pthread_mutex_lock(&r->mu);
                r->outstanding--;
                pthread_mutex_unlock(&r->mu);
                if (arc == ERROR_INVALID_HANDLE)
                    break;
            }
            continue;
        }
        free(body);
        if (type == ETW_LIVE_DROPPED) {
            dropped(r, m.dropped_new);
            continue;
        }
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
    int last = r->outstanding == 0;
    pthread_mutex_unlock(&r->mu);
    if (last)
        reader_free(r);
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

/* Subscribes and waits for ATTACHED: the header buffer (malloc'd) and its size, or the last
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
    int rc = rt_read_frame(fd, rt_mono_ms() + ATTACH_DEADLINE_MS, 0, &type, &body, &len, &why);
    if (rc == 0 && etw_live_client_frame(&pc, type, body, len, &m, &why) == 0) {
        if (type == ETW_LIVE_REFUSED) {
            snprintf(msg, sizeof msg, "%.*s", (int)(m.size > 400 ? 400 : m.size), (const char *)m.data);
            etw_set_last_win32(m.code ? m.code : ERROR_ACCESS_DENIED, msg);
            free(body);
            return -1;
        }
        if (!(*hdr = malloc(m.size))) {
            free(body);
            etw_set_last_win32(ERROR_NOT_ENOUGH_MEMORY, NULL);
            return -1;
        }
        memcpy(*hdr, m.data, m.size);
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
    etw_session *s = r ? etw_session_create((etw_source){&etw_stream_source_ops, NULL}) : NULL;
    if (!s) {
        free(r);
        free(hdr);
        close(fd);
        etw_set_last_win32(ERROR_NOT_ENOUGH_MEMORY, NULL);
        return INVALID_PROCESSTRACE_HANDLE;
    }
    r->fd = fd;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    etw_live_client_init(&r->pc, 0);
    r->pc.state = ETW_LIVE_C_STREAMING;
    r->outstanding = 1; /* the header buffer */
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
    etw_status st = etw_session_accept(s, hdr, hdr_size, 0, UINT64_MAX, 0, 1);
    if (st == ETW_OK)
        s->next_offset += hdr_size;
    pthread_mutex_unlock(&s->mu);
    if (st != ETW_OK) { /* not taken: no completion comes */
        snprintf(msg, sizeof msg, "%s: header buffer: %s", name, etw_status_message(st));
        free(hdr);
        r->outstanding = 0;
        etw_session_destroy(s);
        close(fd);
        reader_free(r);
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
        etw_session_destroy(s); /* completes the header buffer: frees the reader */
        etw_set_last_win32(ERROR_NOT_ENOUGH_MEMORY, NULL);
        return INVALID_PROCESSTRACE_HANDLE;
    }
    r->h = h;
    /* The session releases early before the reader would stop at IN_FLIGHT buffers, so
     * ProcessTrace never waits for a buffer the reader waits to hand over. */
    etwire_stream_set_memory_limit(h, (ULONG64)(IN_FLIGHT / 2) * buffer_size);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int trc = pthread_create(&t, &attr, reader_main, r);
    pthread_attr_destroy(&attr);
    if (trc != 0) {
        pthread_mutex_lock(&r->mu);
        r->reader_gone = 1;
        pthread_mutex_unlock(&r->mu);
        close(fd);
        etwire_stream_end(h); /* ProcessTrace delivers the header and returns */
    }
    etw_set_last_win32(ERROR_SUCCESS, NULL);
    return h;
}
