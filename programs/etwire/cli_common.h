/* Shared pieces of the dump and stats commands: opening traces, progress, diagnostics, time. */
#ifndef ETWIRE_CLI_COMMON_H
#define ETWIRE_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include <etwire/etwire.h>

#include "cli_time.h"

#define CLI_MAX_FILES 64

typedef struct cli_traces {
    PROCESSTRACE_HANDLE handles[CLI_MAX_FILES];
    TRACE_LOGFILE_HEADER headers[CLI_MAX_FILES];
    const char *paths[CLI_MAX_FILES];
    uint64_t total_bytes;
    unsigned count;
} cli_traces;

/* Opens every path with the given options (each handle's contexts point at opts' contexts).
 * Prints the error and returns -1 on the first failure (closing what was opened). */
int cli_open_traces(cli_traces *t, char **paths, int n, const ETW_OPEN_TRACE_OPTIONS *opts);
/* Remote live collectors (ETWIRE_LIVE=tls:HOST:PORT): the client certificate, key and CA from
 * ETWIRE_LIVE_TLS_CERT, _KEY, _CA when set; 0, or -1 after printing why. TLS lives in
 * libetwire-relay: etwire-relay registers it (relay/live_tls.c); etwire, which has no OpenSSL,
 * hands the whole command over to etwire-relay when one of them is set (handoff/). */
int cli_live_tls(void);
/* Attaches to the live session SOURCE/SESSION (OpenTraceFromRealTimeLogger, $ETWIRE_LIVE). */
int cli_open_live(cli_traces *t, const char *name, const ETW_OPEN_TRACE_OPTIONS *opts);
void cli_close_traces(cli_traces *t);
/* Runs ProcessTrace over all handles; prints the result on failure; returns the exit code. */
int cli_process(cli_traces *t, LPFILETIME start, LPFILETIME end);

/* Progress on stderr when it is a terminal: call from the BufferCallback. */
void cli_progress(uint64_t buffers, uint64_t bytes, uint64_t total, uint64_t events);
void cli_progress_done(void);

#endif
