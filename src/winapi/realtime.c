/* Real-time consumers of live sessions (docs/api/live.md): OpenTraceFromRealTimeLogger and
 * OpenTrace* with a LoggerName subscribe to SOURCE/SESSION at the collector named by
 * $ETWIRE_LIVE. The handle is a buffer-stream session fed by a reader thread of its own
 * (realtime_reader.c) with the buffers that arrive after the attach; ProcessTrace runs it as
 * any stream: ERROR_SUCCESS at the sender's END, ERROR_FILE_CORRUPT after a diagnostic when the
 * connection is lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/wire/live_proto.h"
#include "session/handles.h"
#include "winapi/last_error.h"
#include "winapi/realtime.h"
#include "winapi/realtime_conn.h"
#include "winapi/realtime_reader.h"
#include "winapi/tdh_session_hooks.h"

/* The default memory limit (etwire_stream_set_memory_limit): 64 buffers, at least 16 MiB (a
 * time-ordered merge of small buffers needs a flush timer's worth of them). At the limit the
 * merge lets events go without waiting for a processor gone quiet (in time order: session.h,
 * lose_late); the session holds at most a quarter more (buffers handed to it, not completed),
 * and a buffer arriving beyond that is lost whole, as a Windows real-time session loses the
 * buffers a slow consumer leaves no room for. */
#define DEFAULT_HELD_BUFFERS 64u
#define DEFAULT_HELD_MIN (16ull << 20)

static int is_kernel_logger(const TRACE_LOGFILE_HEADER *h)
{
    static const char kernel_logger[] = "NT Kernel Logger";
    const WCHAR *n = h->LoggerName;
    for (size_t i = 0; i < sizeof kernel_logger; i++)
        if (!n || n[i] != (WCHAR)(unsigned char)kernel_logger[i])
            return 0;
    return 1;
}

/* Subscribes and waits for ATTACHED: the header buffer (rt_block_copy) and its size, or the last
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
        if (!(*hdr = rt_block_copy(m.data, m.size))) {
            free(body);
            etw_set_last_win32(ERROR_NOT_ENOUGH_MEMORY, NULL);
            return -1;
        }
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
    rt_reader *r;
    etw_session *s = rt_reader_session_new(fd, hdr_size, &r);
    if (!s) {
        free(hdr);
        close(fd);
        etw_set_last_win32(ERROR_NOT_ENOUGH_MEMORY, NULL);
        return INVALID_PROCESSTRACE_HANDLE;
    }
    s->api = api;
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
    etw_status st = etw_session_accept(s, hdr + RT_SIZE_PREFIX, hdr_size, 0, UINT64_MAX, 0, 1);
    if (st == ETW_OK)
        s->next_offset += hdr_size;
    pthread_mutex_unlock(&s->mu);
    if (st != ETW_OK) { /* not taken: no completion comes */
        snprintf(msg, sizeof msg, "%s: header buffer: %s", name, etw_status_message(st));
        free(hdr);
        rt_reader_header_refused(r);
        rt_reader_abandon(r);
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
        rt_reader_abandon(r);
        etw_session_destroy(s); /* completes the header buffer, closes the source: frees it */
        etw_set_last_win32(ERROR_NOT_ENOUGH_MEMORY, NULL);
        return INVALID_PROCESSTRACE_HANDLE;
    }
    uint64_t limit = (uint64_t)DEFAULT_HELD_BUFFERS * buffer_size;
    etwire_stream_set_memory_limit(h, limit > DEFAULT_HELD_MIN ? limit : DEFAULT_HELD_MIN);
    /* As any buffer stream: a processor that has gone quiet holds events back at most this
     * long in trace time (and what it sends later than that is lost whole, see above). */
    etwire_stream_set_reorder_window(h, ETWIRE_REORDER_DEFAULT);
    if (rt_reader_start(r, h) != 0) {
        rt_reader_abandon(r);
        etwire_stream_end(h); /* ProcessTrace delivers the header and returns */
    }
    etw_set_last_win32(ERROR_SUCCESS, NULL);
    return h;
}
