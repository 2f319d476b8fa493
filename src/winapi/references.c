/* Buffer references (see references.h). Once a consumer takes one, the file reader stops
 * reusing its blocks (they then live until CloseTrace), so a reference only has to hold
 * ProcessTrace back; the list maps a buffer to its session because DecrementReference is
 * given the buffer alone. */
#include "winapi/references.h"

#include <stdlib.h>

#include "session/handles.h"

typedef struct reference {
    const void *buffer;
    etw_session *s;
} reference;

static pthread_mutex_t refs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t refs_cv = PTHREAD_COND_INITIALIZER;
static reference *refs;
static size_t refs_len, refs_cap;

ETWIRE_API ULONG WMIAPI ProcessTraceBufferIncrementReference(PROCESSTRACE_HANDLE TraceHandle,
                                                             const ETW_BUFFER_HEADER *Buffer)
{
    if (!Buffer)
        return ERROR_INVALID_PARAMETER;
    etw_handles_lock();
    etw_session *s = etw_handle_find_locked(TraceHandle);
    /* Buffer-stream buffers belong to their caller until the completion callback. */
    if (!s || !s->src.ops->keep || !s->processing) {
        etw_handles_unlock();
        return s ? ERROR_INVALID_PARAMETER : ERROR_INVALID_HANDLE;
    }
    s->src.ops->keep(s->src.impl);
    pthread_mutex_lock(&refs_mu);
    ULONG rc = ERROR_SUCCESS;
    if (refs_len == refs_cap) {
        size_t cap = refs_cap ? refs_cap * 2 : 16;
        reference *grown = realloc(refs, cap * sizeof *grown);
        if (grown) {
            refs = grown;
            refs_cap = cap;
        }
    }
    if (refs_len < refs_cap)
        refs[refs_len++] = (reference){Buffer, s};
    else
        rc = ERROR_OUTOFMEMORY;
    pthread_mutex_unlock(&refs_mu);
    etw_handles_unlock();
    return rc;
}

ETWIRE_API ULONG WMIAPI ProcessTraceBufferDecrementReference(const ETW_BUFFER_HEADER *Buffer)
{
    pthread_mutex_lock(&refs_mu);
    for (size_t i = 0; i < refs_len; i++) {
        if (refs[i].buffer == Buffer) {
            refs[i] = refs[--refs_len];
            pthread_cond_broadcast(&refs_cv);
            pthread_mutex_unlock(&refs_mu);
            return ERROR_SUCCESS;
        }
    }
    pthread_mutex_unlock(&refs_mu);
    return ERROR_INVALID_PARAMETER;
}

static int referenced(const etw_session *s)
{
    for (size_t i = 0; i < refs_len; i++)
        if (refs[i].s == s)
            return 1;
    return 0;
}

void etw_references_wait(etw_session *s)
{
    pthread_mutex_lock(&refs_mu);
    while (referenced(s))
        pthread_cond_wait(&refs_cv, &refs_mu);
    pthread_mutex_unlock(&refs_mu);
}
