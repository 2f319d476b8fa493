/* The OpenTrace family: argument checks, then a session fed by a file or by the caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/text.h"
#include "etl/file_session.h"
#include "session/handles.h"
#include "winapi/last_error.h"
#include "winapi/realtime.h"
#include "winapi/session_end.h"
#include "winapi/tdh_session_hooks.h"

static PROCESSTRACE_HANDLE fail(etw_session *s, etw_status st, const char *detail)
{
    etw_api_session_destroy(s);
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

ETWIRE_API PROCESSTRACE_HANDLE etwire_trace_open_file(const char *PathUtf8,
                                                      const ETW_OPEN_TRACE_OPTIONS *Options,
                                                      TRACE_LOGFILE_HEADER *LogFileHeader)
{
    if (!PathUtf8 || !Options)
        return fail(NULL, ETW_E_PARAM, NULL);
    char err[512] = "";
    etw_status st;
    etw_session *s = etw_file_session_open(PathUtf8, &st, err, sizeof err);
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
    etw_session *s = etw_session_create((etw_source){&etw_stream_source_ops, NULL});
    if (!s)
        return fail(NULL, ETW_E_NOMEM, NULL);
    /* A stream cannot look ahead: events wait at most this long for proof of order. */
    s->window_100ns = ETWIRE_REORDER_DEFAULT;
    s->mem_limit = ETWIRE_MEMORY_LIMIT_DEFAULT;
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
    if (!Options)
        return fail(NULL, ETW_E_PARAM, NULL);
    etw_strbuf name = {0};
    if (!wide_path(LoggerName, &name)) {
        etw_strbuf_free(&name);
        return fail(NULL, ETW_E_PARAM, "no logger name");
    }
    PROCESSTRACE_HANDLE h = etw_realtime_open(name.data, ETW_API_OPTIONS, Options, NULL, LogFileHeader);
    etw_strbuf_free(&name);
    return h;
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
                        "a LoggerName needs PROCESS_TRACE_MODE_REAL_TIME (a live session, docs/api/live.md)");
        etw_set_last_win32(ERROR_BAD_PATHNAME, "no LogFileName and no LoggerName");
        return INVALID_PROCESSTRACE_HANDLE;
    }
    char err[512] = "";
    etw_status st;
    etw_session *s = etw_file_session_open(path, &st, err, sizeof err);
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
    if (!ok && Logfile->LoggerName && (Logfile->ProcessTraceMode & PROCESS_TRACE_MODE_REAL_TIME)) {
        etw_strbuf name = {0};
        PROCESSTRACE_HANDLE h = INVALID_PROCESSTRACE_HANDLE;
        if (wide_path(Logfile->LoggerName, &name))
            h = etw_realtime_open(name.data, ETW_API_LOGFILE_W, NULL, Logfile, NULL);
        else
            etw_set_last_error(ETW_E_PARAM, "no logger name");
        etw_strbuf_free(&name);
        etw_strbuf_free(&path);
        return h;
    }
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
    if (!path && Logfile->LoggerName && (Logfile->ProcessTraceMode & PROCESS_TRACE_MODE_REAL_TIME))
        return etw_realtime_open(Logfile->LoggerName, ETW_API_LOGFILE_A, NULL, Logfile, NULL);
    return open_classic(path, Logfile->LoggerName != NULL, ETW_API_LOGFILE_A, Logfile);
}
