/* ProcessTraceAddBufferToBufferStream, etwire_stream_add_buffers and the etwire session
 * extensions. The adding thread checks a buffer's records before it takes the session's lock:
 * ProcessTrace, on its own thread, takes that lock for every buffer it pulls and completes, so
 * a check done under it would stall the other side for the length of a buffer walk. */
#include <string.h>

#include "base/bytes.h"
#include "format/buffer_header.h"
#include "format/record.h"
#include "session/handles.h"
#include "format/record_walk.h"
#include "winapi/references.h"

/* Every record gets the verdict the merge's parse gives it (format/record_walk.h: inline for
 * the common kinds). 1 when the buffer was checked whole and found good, so the session need
 * not walk it again; 0 when the session must (a compressed buffer, checked once decompressed,
 * or one with a problem: the session finds and reports it). */
static int records_good(const uint8_t *p, size_t n)
{
    etw_buffer_header h;
    if (etw_buffer_header_parse(p, n, &h) != ETW_OK || (h.flags & ETW_BUFFER_FLAG_COMPRESSED))
        return 0;
    uint32_t bad_at;
    return etw_records_walk(p, h.filled, &bad_at) == ETW_OK;
}

/* Adds buffers[0..count) in order until one is refused; the caller holds the session's lock
 * and wakes ProcessTrace once for all. Returns how many were taken; *refused, *index and
 * *offset describe the one refused. */
static uint32_t add_locked(etw_session *s, const ETW_BUFFER_HEADER *const *buffers, const ULONG *sizes,
                           const uint8_t *checked, uint32_t count, ULONG *rc, etw_status *refused,
                           uint64_t *index, uint64_t *offset)
{
    if (!s->src.ops->caller_adds || s->closed || s->ended) {
        *rc = s->src.ops->caller_adds ? ERROR_INVALID_HANDLE : ERROR_INVALID_PARAMETER;
        return 0;
    }
    uint32_t taken = 0;
    for (; taken < count; taken++) {
        if (!buffers[taken]) {
            *rc = ERROR_INVALID_PARAMETER;
            break;
        }
        const uint8_t *p = (const uint8_t *)(const void *)buffers[taken];
        uint64_t at = s->next_offset;
        etw_status st = etw_session_accept(s, p, sizes[taken], at, UINT64_MAX, 0, !checked[taken]);
        if (st != ETW_OK) {
            s->stats.BuffersRejected++;
            *refused = st;
            *index = s->next_index;
            *offset = at;
            *rc = etw_status_win32(st);
            break;
        }
        s->next_offset += sizes[taken];
    }
    return taken;
}

#define ADD_BATCH_MAX 64 /* buffers checked ahead per lock: a bounded array on the stack */

ETWIRE_API ULONG etwire_stream_add_buffers(PROCESSTRACE_HANDLE TraceHandle,
                                           const ETW_BUFFER_HEADER *const *Buffers, const ULONG *Sizes,
                                           ULONG Count, ULONG *Taken)
{
    if (Taken)
        *Taken = 0;
    if (!Buffers || !Sizes || !Taken)
        return ERROR_INVALID_PARAMETER;
    ULONG rc = ERROR_SUCCESS;
    do { /* at least once: the handle is checked even for no buffers */
        uint32_t n = Count - *Taken < ADD_BATCH_MAX ? Count - *Taken : ADD_BATCH_MAX;
        const ETW_BUFFER_HEADER *const *b = Buffers + *Taken;
        const ULONG *sz = Sizes + *Taken;
        uint8_t checked[ADD_BATCH_MAX];
        for (uint32_t i = 0; i < n; i++)
            checked[i] = b[i] && records_good((const uint8_t *)(const void *)b[i], sz[i]);
        etw_session *s = etw_handle_lock_session(TraceHandle);
        if (!s)
            return ERROR_INVALID_HANDLE;
        etw_status refused = ETW_OK;
        uint64_t refused_index = 0, refused_offset = 0;
        ETWIRE_DIAGNOSTIC_CALLBACK diag = s->diag_cb;
        void *diag_ctx = s->diag_ctx;
        uint32_t taken = add_locked(s, b, sz, checked, n, &rc, &refused, &refused_index, &refused_offset);
        if (taken)
            etw_session_wake(s); /* once for the batch: ProcessTrace pulls all that is queued */
        pthread_mutex_unlock(&s->mu);
        *Taken += taken;
        /* Reported outside the lock: the callback may call back into the API. */
        if (refused != ETW_OK)
            etw_report_to(diag, diag_ctx, refused, refused_index, refused_offset, 0, "buffer not taken");
    } while (*Taken < Count && rc == ERROR_SUCCESS);
    return rc;
}

ETWIRE_API ULONG WMIAPI ProcessTraceAddBufferToBufferStream(PROCESSTRACE_HANDLE TraceHandle,
                                                            const ETW_BUFFER_HEADER *Buffer,
                                                            ULONG BufferSize)
{
    ULONG taken;
    return etwire_stream_add_buffers(TraceHandle, &Buffer, &BufferSize, 1, &taken);
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
