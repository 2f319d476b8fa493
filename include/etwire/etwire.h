/* etwire: the Windows ETW consumer API (evntrace.h, evntcons.h) plus the few extensions that
 * Windows has no equivalent for: a buffer stream's reorder window, memory bound and explicit
 * end, session statistics, diagnostics naming buffer and offset, and a UTF-8 file path.
 * Lifetimes and callback rules: docs/api/lifetime.md. */
#ifndef ETWIRE_ETWIRE_H
#define ETWIRE_ETWIRE_H

#include <etwire/evntrace.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A reorder window that never releases an event early: a stream replay then delivers exactly
 * the order of reading the same buffers as a file. */
#define ETWIRE_REORDER_UNBOUNDED UINT64_MAX
/* Default window of a buffer stream, in 100 ns units of trace time (2 s): real-time sessions
 * flush every second, so a processor's data is rarely older than that when it arrives. */
#define ETWIRE_REORDER_DEFAULT 20000000ull
/* Default bound on the bytes a stream session holds before it releases events early. */
#define ETWIRE_MEMORY_LIMIT_DEFAULT (256ull << 20)

typedef struct ETWIRE_SESSION_STATS {
    ULONG64 BuffersAccepted;    /* buffers taken (file buffers read, stream buffers added) */
    ULONG64 BuffersCompleted;   /* completion callbacks fired / buffers released */
    ULONG64 BuffersRejected;    /* stream buffers refused with an error */
    ULONG64 BuffersCompressed;  /* accepted buffers that were compressed */
    ULONG64 CompressedBytes;    /* payload bytes of compressed buffers as stored */
    ULONG64 DecompressedBytes;  /* the same payloads decompressed */
    ULONG64 EventsDelivered;    /* EventCallback calls (including the header event) */
    ULONG64 EventsFiltered;     /* outside ProcessTrace's StartTime/EndTime window */
    ULONG64 EventsLate;         /* older than an event already delivered: delivered by
                                   buffer streams, dropped by real-time handles */
    ULONG64 EventsLost;         /* the producer's count: log-file header EventsLost */
    ULONG64 BuffersLostFlagged; /* buffers flagged EVENTS_LOST or BUFFER_LOST by the producer */
    ULONG64 BadRecords;         /* records that could not be parsed (reported, then skipped) */
    ULONG64 BytesHeld;          /* buffer bytes the session holds now */
    ULONG64 BytesHeldPeak;      /* the most it ever held */
} ETWIRE_SESSION_STATS;

/* One problem found in the data, with where it is. Offset is the byte offset of the buffer in
 * its file or stream; RecordOffset the offset of the record inside that buffer (0 if none). */
typedef struct ETWIRE_DIAGNOSTIC {
    ULONG Code;                 /* Win32 code */
    ULONG64 BufferIndex;        /* 0 = the header buffer */
    ULONG64 Offset;
    ULONG RecordOffset;
    const char *Message;        /* human-readable, valid during the callback only */
} ETWIRE_DIAGNOSTIC;
typedef void (*ETWIRE_DIAGNOSTIC_CALLBACK)(const ETWIRE_DIAGNOSTIC *Diagnostic, void *Context);

/* OpenTraceFromFile with a UTF-8 path. */
ETWIRE_API PROCESSTRACE_HANDLE etwire_trace_open_file(const char *PathUtf8,
                                                      const ETW_OPEN_TRACE_OPTIONS *Options,
                                                      TRACE_LOGFILE_HEADER *LogFileHeader);
/* Reorder window (100 ns units) and memory bound of a buffer-stream session. */
ETWIRE_API ULONG etwire_stream_set_reorder_window(PROCESSTRACE_HANDLE TraceHandle, ULONG64 Window);
ETWIRE_API ULONG etwire_stream_set_memory_limit(PROCESSTRACE_HANDLE TraceHandle, ULONG64 Bytes);
/* ProcessTraceAddBufferToBufferStream for Count buffers in order, with one wake-up of
 * ProcessTrace per batch (the lock round trips per buffer are what limits a fast feeder).
 * Stops at the first buffer not taken and returns its code; *Taken says how many were taken
 * (each gets its completion callback, the others none). */
ETWIRE_API ULONG etwire_stream_add_buffers(PROCESSTRACE_HANDLE TraceHandle,
                                           const ETW_BUFFER_HEADER *const *Buffers, const ULONG *Sizes,
                                           ULONG Count, ULONG *Taken);
/* No more buffers will come: ProcessTrace drains what is queued and returns ERROR_SUCCESS,
 * and the handle stays valid (for statistics) until CloseTrace. */
ETWIRE_API ULONG etwire_stream_end(PROCESSTRACE_HANDLE TraceHandle);
ETWIRE_API ULONG etwire_session_get_stats(PROCESSTRACE_HANDLE TraceHandle, ETWIRE_SESSION_STATS *Stats);
/* The session's log-file header once known (ERROR_NOT_FOUND before a stream's first buffer). */
ETWIRE_API ULONG etwire_session_get_header(PROCESSTRACE_HANDLE TraceHandle, TRACE_LOGFILE_HEADER *Header);
/* Called on the ProcessTrace thread (or the AddBuffer caller's thread for a refused buffer). */
ETWIRE_API ULONG etwire_session_set_diagnostic_callback(PROCESSTRACE_HANDLE TraceHandle,
                                                        ETWIRE_DIAGNOSTIC_CALLBACK Callback,
                                                        void *Context);
/* Live sessions (docs/api/live.md): OpenTraceFromRealTimeLogger(L"SOURCE/SESSION") and OpenTrace
 * with that LoggerName attach to the collector named by $ETWIRE_LIVE (default
 * unix:$XDG_RUNTIME_DIR/etwire/live.sock). This lists what it publishes: one line per session,
 * tab-separated: SOURCE/SESSION, instance (16 hex digits), start (Unix seconds), buffers,
 * bytes, events (0 unless the collector decodes), buffers per second. Address NULL: the
 * default. *Text is malloc'd (free it). Errors: ERROR_CONNECTION_REFUSED, ERROR_BAD_NETPATH,
 * ERROR_ACCESS_DENIED, ERROR_INVALID_DATA; etwire_last_error_message() says more. */
ETWIRE_API ULONG etwire_live_sessions(const char *Address, char **Text);
/* Addresses other than unix:PATH go to a connector: it returns a connected stream socket
 * carrying the live protocol, or -1 with *Code (Win32) and Message set. libetwire-relay
 * registers one for TLS (etwire_relay_live_use_tls), so libetwire itself needs no OpenSSL.
 * Set it before opening live sessions; NULL removes it. */
typedef int (*ETWIRE_LIVE_CONNECTOR)(const char *Address, ULONG *Code, char *Message,
                                     size_t MessageSize, void *Context);
ETWIRE_API void etwire_live_set_connector(ETWIRE_LIVE_CONNECTOR Connect, void *Context);
/* The calling thread's last error from OpenTrace*, and a message saying what and where. */
ETWIRE_API ULONG etwire_last_error(void);
ETWIRE_API const char *etwire_last_error_message(void);
ETWIRE_API const char *etwire_strerror(ULONG Code);

#ifdef __cplusplus
}
#endif
#endif
