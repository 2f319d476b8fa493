/* The OpenTrace family: argument checks, then a session fed by a file or by the caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/text.h"
#include "etl/file_source.h"
#include "session/handles.h"
#include "session/run.h"
#include "winapi/last_error.h"
#include "winapi/tdh_session_hooks.h"

static PROCESSTRACE_HANDLE fail(etw_session *s, etw_status st, const char *detail)
{
    etw_session_destroy(s);
    etw_set_last_error(st, detail);
    return INVALID_PROCESSTRACE_HANDLE;
}

static PROCESSTRACE_HANDLE publish(etw_session *s)
{
    etw_tdh_install_session_hooks(s);
    PROCESSTRACE_HANDLE h = etw_handle_add(s);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return fail(s, ETW_E_NOMEM, NULL);
    etw_set_last_error(ETW_OK, NULL);
    return h;
}

/* Opens the file, reads its header buffer (so the caller gets the header at once) and counts
 * each processor's buffers for the merge. */
static etw_session *open_file_session(const char *path, etw_status *st, char *err, size_t errlen)
{
    etw_session *s = etw_session_create(0);
    if (!s) {
        *st = ETW_E_NOMEM;
        return NULL;
    }
    if ((*st = etw_file_source_open(path, &s->file, err, errlen)) != ETW_OK) {
        etw_session_destroy(s);
        return NULL;
    }
    const etw_file_entry *e;
    const uint8_t *p;
    etw_file_source_next(s->file, &e, &p, st);
    if (p)
        *st = etw_session_accept(s, p, e->size, e->offset, 0, 0);
    if (*st != ETW_OK) {
        snprintf(err, errlen, "%s: buffer 0 at offset 0: %s", path, etw_status_message(*st));
        etw_session_destroy(s);
        return NULL;
    }
    for (size_t i = 1; i < s->file->count; i++) {
        etw_proc *proc = etw_proc_slot(s, (uint32_t)s->file->entries[i].proc + 1);
        if (!proc) {
            *st = ETW_E_NOMEM;
            etw_session_destroy(s);
            return NULL;
        }
        proc->unfed++;
    }
    return s;
}

ETWIRE_API PROCESSTRACE_HANDLE etwire_trace_open_file(const char *PathUtf8,
                                                      const ETW_OPEN_TRACE_OPTIONS *Options,
                                                      TRACE_LOGFILE_HEADER *LogFileHeader)
{
    if (!PathUtf8 || !Options)
        return fail(NULL, ETW_E_PARAM, NULL);
    char err[512] = "";
    etw_status st;
    etw_session *s = open_file_session(PathUtf8, &st, err, sizeof err);
    if (!s)
        return fail(NULL, st, err);
    s->api = ETW_API_OPTIONS;
    s->options = *Options;
    s->raw_timestamp = (Options->ProcessTraceModes & ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP) != 0;
    if (LogFileHeader)
        *LogFileHeader = s->header;
    return publish(s);
}

static int wide_path(PCWSTR w, etw_strbuf *out)
{
    if (!w)
        return 0;
    etw_wstr_to_utf8(out, w);
    return !out->failed && out->len > 0;
}

ETWIRE_API PROCESSTRACE_HANDLE WMIAPI OpenTraceFromFile(PCWSTR LogFileName,
                                                        const ETW_OPEN_TRACE_OPTIONS *Options,
                                                        TRACE_LOGFILE_HEADER *LogFileHeader)
{
    etw_strbuf path = {0};
    if (!wide_path(LogFileName, &path)) {
        etw_strbuf_free(&path);
        return fail(NULL, ETW_E_PARAM, "no log-file name");
    }
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path.data, Options, LogFileHeader);
    etw_strbuf_free(&path);
    return h;
}

ETWIRE_API PROCESSTRACE_HANDLE WMIAPI OpenTraceFromBufferStream(
    const ETW_OPEN_TRACE_OPTIONS *Options, PETW_BUFFER_COMPLETION_CALLBACK BufferCompletionCallback,
    void *BufferCompletionContext)
{
    if (!Options)
        return fail(NULL, ETW_E_PARAM, NULL);
    etw_session *s = etw_session_create(1);
    if (!s)
        return fail(NULL, ETW_E_NOMEM, NULL);
    s->api = ETW_API_OPTIONS;
    s->options = *Options;
    s->raw_timestamp = (Options->ProcessTraceModes & ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP) != 0;
    s->completion_cb = BufferCompletionCallback;
    s->completion_ctx = BufferCompletionContext;
    return publish(s);
}

ETWIRE_API PROCESSTRACE_HANDLE WMIAPI OpenTraceFromRealTimeLogger(
    PCWSTR LoggerName, const ETW_OPEN_TRACE_OPTIONS *Options, TRACE_LOGFILE_HEADER *LogFileHeader)
{
    (void)LoggerName;
    (void)Options;
    (void)LogFileHeader;
    return fail(NULL, ETW_E_NOT_SUPPORTED,
                "real-time sessions exist only on Windows: relay their buffers to a buffer stream");
}

static int is_kernel_trace(const etw_session *s)
{
    static const char kernel_logger[] = "NT Kernel Logger";
    const WCHAR *n = s->header.LoggerName;
    for (size_t i = 0; i < sizeof kernel_logger; i++)
        if (!n || n[i] != (WCHAR)(unsigned char)kernel_logger[i])
            return 0;
    return 1;
}

/* The classic OpenTrace: a file named in the structure, results written back into it. */
static PROCESSTRACE_HANDLE open_classic(const char *path, int has_logger, etw_api api, void *lf)
{
    if (!path) {
        if (has_logger)
            return fail(NULL, ETW_E_NOT_SUPPORTED,
                        "real-time sessions exist only on Windows: relay their buffers to a buffer stream");
        etw_set_last_win32(ERROR_BAD_PATHNAME, "no LogFileName and no LoggerName");
        return INVALID_PROCESSTRACE_HANDLE;
    }
    char err[512] = "";
    etw_status st;
    etw_session *s = open_file_session(path, &st, err, sizeof err);
    if (!s)
        return fail(NULL, st, err);
    s->api = api;
    if (api == ETW_API_LOGFILE_W) {
        EVENT_TRACE_LOGFILEW *w = lf;
        s->logfile_w = w;
        s->raw_timestamp = (w->ProcessTraceMode & PROCESS_TRACE_MODE_RAW_TIMESTAMP) != 0;
        w->LogfileHeader = s->header;
        w->BufferSize = s->header.BufferSize;
        w->IsKernelTrace = (ULONG)is_kernel_trace(s);
        w->BuffersRead = 0;
        w->CurrentTime = 0;
    } else {
        EVENT_TRACE_LOGFILEA *a = lf;
        s->logfile_a = a;
        s->raw_timestamp = (a->ProcessTraceMode & PROCESS_TRACE_MODE_RAW_TIMESTAMP) != 0;
        a->LogfileHeader = s->header;
        a->BufferSize = s->header.BufferSize;
        a->IsKernelTrace = (ULONG)is_kernel_trace(s);
        a->BuffersRead = 0;
        a->CurrentTime = 0;
    }
    return publish(s);
}

ETWIRE_API PROCESSTRACE_HANDLE WMIAPI OpenTraceW(PEVENT_TRACE_LOGFILEW Logfile)
{
    if (!Logfile)
        return fail(NULL, ETW_E_PARAM, NULL);
    etw_strbuf path = {0};
    int ok = wide_path(Logfile->LogFileName, &path);
    PROCESSTRACE_HANDLE h =
        open_classic(ok ? path.data : NULL, Logfile->LoggerName != NULL, ETW_API_LOGFILE_W, Logfile);
    etw_strbuf_free(&path);
    return h;
}

ETWIRE_API PROCESSTRACE_HANDLE WMIAPI OpenTraceA(PEVENT_TRACE_LOGFILEA Logfile)
{
    if (!Logfile)
        return fail(NULL, ETW_E_PARAM, NULL);
    const char *path = Logfile->LogFileName && *Logfile->LogFileName ? Logfile->LogFileName : NULL;
    return open_classic(path, Logfile->LoggerName != NULL, ETW_API_LOGFILE_A, Logfile);
}
