/* ProcessTrace and CloseTrace: handle checks, then the merge of session/merge.c. */
#include <stdlib.h>
#include <string.h>

#include "session/handles.h"
#include "session/run.h"
#include "winapi/last_error.h"
#include "winapi/references.h"
#include "winapi/session_end.h"

#define MAX_HANDLES 64

static int64_t filetime_value(const FILETIME *t)
{
    return (int64_t)(((uint64_t)t->dwHighDateTime << 32) | t->dwLowDateTime);
}

/* Claims every handle for this call, or none. */
static ULONG claim(PROCESSTRACE_HANDLE *handles, ULONG n, etw_session **out, etw_waiter *w)
{
    etw_handles_lock();
    for (ULONG i = 0; i < n; i++) {
        out[i] = etw_handle_find_locked(handles[i]);
        if (!out[i]) {
            etw_handles_unlock();
            return ERROR_INVALID_HANDLE;
        }
        for (ULONG j = 0; j < i; j++)
            if (out[j] == out[i]) {
                etw_handles_unlock();
                return ERROR_INVALID_PARAMETER;
            }
        if (out[i]->processing) {
            etw_handles_unlock();
            return ERROR_BUSY;
        }
    }
    for (ULONG i = 0; i < n; i++) {
        pthread_mutex_lock(&out[i]->mu);
        out[i]->processing = 1;
        out[i]->waiter = w;
        out[i]->index_in_call = i;
        out[i]->bound_dirty = 1;
        pthread_mutex_unlock(&out[i]->mu);
    }
    etw_handles_unlock();
    return ERROR_SUCCESS;
}

ETWIRE_API ULONG WMIAPI ProcessTrace(PROCESSTRACE_HANDLE *HandleArray, ULONG HandleCount,
                                     LPFILETIME StartTime, LPFILETIME EndTime)
{
    if (!HandleArray)
        return ERROR_INVALID_PARAMETER;
    if (HandleCount == 0 || HandleCount > MAX_HANDLES)
        return ERROR_BAD_LENGTH;
    if (StartTime && EndTime && filetime_value(EndTime) < filetime_value(StartTime))
        return ERROR_INVALID_TIME;

    etw_session *sessions[MAX_HANDLES];
    etw_run r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.waiter.mu, NULL);
    pthread_cond_init(&r.waiter.cv, NULL);
    ULONG rc = claim(HandleArray, HandleCount, sessions, &r.waiter);
    if (rc != ERROR_SUCCESS) {
        pthread_cond_destroy(&r.waiter.cv);
        pthread_mutex_destroy(&r.waiter.mu);
        return rc;
    }
    r.sessions = sessions;
    r.count = HandleCount;
    r.start_ft = StartTime ? filetime_value(StartTime) : INT64_MIN;
    r.end_ft = EndTime ? filetime_value(EndTime) : INT64_MAX;
    r.newest_flush_ft = INT64_MIN;
    r.last.ft = INT64_MIN; /* below every delivered key */
    /* Each source starts: a file processed before is read again from its first buffer. */
    etw_status st = ETW_OK;
    for (ULONG i = 0; i < HandleCount && st == ETW_OK; i++) {
        etw_session *s = sessions[i];
        s->observed = etw_session_wants_buffers(s);
        s->merges = etw_session_wants_events(s);
        etw_session_pick_callback(s);
        if (s->src.ops->begin)
            st = s->src.ops->begin(s->src.impl, s, s->processed);
    }

    if (st == ETW_OK)
        st = etw_run_process(&r);
    int corrupt = 0;
    for (ULONG i = 0; i < HandleCount; i++) {
        etw_session *s = sessions[i];
        corrupt |= s->corrupt;
        etw_session_release_all(s); /* only buffers left by an early stop remain */
        etw_references_wait(s);
        pthread_mutex_lock(&s->mu);
        etw_session_fold_live(s);
        s->processing = 0;
        s->processed = 1;
        s->waiter = NULL;
        int closed = s->closed;
        pthread_mutex_unlock(&s->mu);
        if (closed)
            etw_api_session_destroy(s); /* CloseTrace returned ERROR_CTX_CLOSE_PENDING earlier */
    }
    free(r.heap);
    pthread_cond_destroy(&r.waiter.cv);
    pthread_mutex_destroy(&r.waiter.mu);
    if (st != ETW_OK)
        return etw_status_win32(st);
    return corrupt ? ERROR_FILE_CORRUPT : ERROR_SUCCESS;
}

static void wake(etw_session *s)
{
    if (!s->waiter)
        return;
    pthread_mutex_lock(&s->waiter->mu);
    s->waiter->seq++;
    pthread_cond_broadcast(&s->waiter->cv);
    pthread_mutex_unlock(&s->waiter->mu);
}

void etw_session_wake(etw_session *s)
{
    wake(s);
}

ETWIRE_API ULONG WMIAPI CloseTrace(PROCESSTRACE_HANDLE TraceHandle)
{
    if (TraceHandle == 0 || TraceHandle == INVALID_PROCESSTRACE_HANDLE)
        return ERROR_INVALID_HANDLE;
    etw_session *s = etw_handle_remove(TraceHandle);
    if (!s)
        return ERROR_INVALID_HANDLE;
    pthread_mutex_lock(&s->mu);
    if (s->processing) {
        /* ProcessTrace drains what is queued, returns, and frees the session. */
        s->closed = 1;
        wake(s);
        pthread_mutex_unlock(&s->mu);
        return ERROR_CTX_CLOSE_PENDING;
    }
    pthread_mutex_unlock(&s->mu);
    etw_api_session_destroy(s);
    return ERROR_SUCCESS;
}
