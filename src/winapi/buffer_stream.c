/* ProcessTraceAddBufferToBufferStream and the etwire session extensions. */
#include <string.h>

#include "session/handles.h"
#include "winapi/references.h"

ETWIRE_API ULONG WMIAPI ProcessTraceAddBufferToBufferStream(PROCESSTRACE_HANDLE TraceHandle,
                                                            const ETW_BUFFER_HEADER *Buffer,
                                                            ULONG BufferSize)
{
    etw_session *s = etw_handle_lock_session(TraceHandle);
    if (!s)
        return ERROR_INVALID_HANDLE;
    ULONG rc = ERROR_SUCCESS;
    etw_status refused = ETW_OK;
    uint64_t refused_index = 0, refused_offset = 0;
    ETWIRE_DIAGNOSTIC_CALLBACK diag = s->diag_cb;
    void *diag_ctx = s->diag_ctx;
    int caller_adds = s->src.ops->caller_adds;
    if (!caller_adds || s->closed || s->ended) {
        rc = caller_adds ? ERROR_INVALID_HANDLE : ERROR_INVALID_PARAMETER;
    } else if (!Buffer) {
        rc = ERROR_INVALID_PARAMETER;
    } else {
        const uint8_t *p = (const uint8_t *)(const void *)Buffer;
        uint64_t offset = s->next_offset;
        etw_status st = etw_session_accept(s, p, BufferSize, offset, UINT64_MAX, 0, 1);
        if (st == ETW_OK) {
            s->next_offset += BufferSize;
            etw_session_wake(s);
        } else {
            s->stats.BuffersRejected++;
            refused = st;
            refused_index = s->next_index;
            refused_offset = offset;
            rc = etw_status_win32(st);
        }
    }
    pthread_mutex_unlock(&s->mu);
    /* Reported outside the lock: the callback may call back into the API. */
    if (refused != ETW_OK)
        etw_report_to(diag, diag_ctx, refused, refused_index, refused_offset, 0, "buffer not taken");
    return rc;
}

ETWIRE_API ULONG etwire_stream_end(PROCESSTRACE_HANDLE TraceHandle)
{
    etw_session *s = etw_handle_lock_session(TraceHandle);
    if (!s)
        return ERROR_INVALID_HANDLE;
    int caller_adds = s->src.ops->caller_adds;
    ULONG rc = caller_adds ? ERROR_SUCCESS : ERROR_INVALID_PARAMETER;
    if (caller_adds) {
        s->ended = 1;
        etw_session_wake(s);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Stream settings can change until ProcessTrace starts. */
static ULONG set_stream_setting(PROCESSTRACE_HANDLE h, ULONG64 value, int is_window)
{
    etw_session *s = etw_handle_lock_session(h);
    if (!s)
        return ERROR_INVALID_HANDLE;
    ULONG rc = ERROR_SUCCESS;
    if (!s->src.ops->caller_adds || s->processing)
        rc = ERROR_INVALID_PARAMETER;
    else if (is_window)
        s->window_100ns = value;
    else
        s->mem_limit = value;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

ETWIRE_API ULONG etwire_stream_set_reorder_window(PROCESSTRACE_HANDLE TraceHandle, ULONG64 Window)
{
    return set_stream_setting(TraceHandle, Window, 1);
}

ETWIRE_API ULONG etwire_stream_set_memory_limit(PROCESSTRACE_HANDLE TraceHandle, ULONG64 Bytes)
{
    return set_stream_setting(TraceHandle, Bytes, 0);
}

ETWIRE_API ULONG etwire_session_get_stats(PROCESSTRACE_HANDLE TraceHandle, ETWIRE_SESSION_STATS *Stats)
{
    if (!Stats)
        return ERROR_INVALID_PARAMETER;
    etw_session *s = etw_handle_lock_session(TraceHandle);
    if (!s)
        return ERROR_INVALID_HANDLE;
    *Stats = s->stats;
    pthread_mutex_unlock(&s->mu);
    return ERROR_SUCCESS;
}

ETWIRE_API ULONG etwire_session_get_header(PROCESSTRACE_HANDLE TraceHandle, TRACE_LOGFILE_HEADER *Header)
{
    if (!Header)
        return ERROR_INVALID_PARAMETER;
    etw_session *s = etw_handle_lock_session(TraceHandle);
    if (!s)
        return ERROR_INVALID_HANDLE;
    ULONG rc = s->have_header ? ERROR_SUCCESS : ERROR_NOT_FOUND;
    if (s->have_header)
        *Header = s->header;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

ETWIRE_API ULONG etwire_session_set_diagnostic_callback(PROCESSTRACE_HANDLE TraceHandle,
                                                        ETWIRE_DIAGNOSTIC_CALLBACK Callback,
                                                        void *Context)
{
    etw_session *s = etw_handle_lock_session(TraceHandle);
    if (!s)
        return ERROR_INVALID_HANDLE;
    s->diag_cb = Callback;
    s->diag_ctx = Context;
    pthread_mutex_unlock(&s->mu);
    return ERROR_SUCCESS;
}
