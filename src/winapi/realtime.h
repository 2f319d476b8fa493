/* The real-time open path (realtime.c): a live session of a collector as a buffer-stream
 * session fed by a reader thread. */
#ifndef ETWIRE_WINAPI_REALTIME_H
#define ETWIRE_WINAPI_REALTIME_H

#include "session/session.h"

/* name is SOURCE/SESSION (UTF-8); logfile is the EVENT_TRACE_LOGFILEW/A for those APIs (its
 * header fields are filled), options the ETW_OPEN_TRACE_OPTIONS for ETW_API_OPTIONS. Sets the
 * last error either way. */
PROCESSTRACE_HANDLE etw_realtime_open(const char *name, etw_api api,
                                      const ETW_OPEN_TRACE_OPTIONS *options, void *logfile,
                                      TRACE_LOGFILE_HEADER *header_out);

#endif
