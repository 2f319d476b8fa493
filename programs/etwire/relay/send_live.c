/* etwire send --live SOURCE/SESSION: forwards a collector's live session to another collector
 * through the public API only, the path a Windows agent runs against a Windows session:
 * OpenTraceFromRealTimeLogger, a BufferCallback that hands each raw buffer (the header buffer
 * first) to the relay sender, ProcessTrace until the sender of the live session ends it. */
#include "send_live.h"

#include "cli_common.h"

#include <stdio.h>
#include <string.h>

typedef struct forward {
    etwire_relay_sender *x;
    int failed;
} forward;

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                             const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    forward *f = ctx;
    (void)info;
    if (etwire_relay_sender_push(f->x, b, size, 0) != 0) {
        f->failed = 1;
        return FALSE; /* ProcessTrace stops: nothing more can be sent */
    }
    return TRUE;
}

static void on_diag(const ETWIRE_DIAGNOSTIC *d, void *ctx)
{
    fprintf(stderr, "etwire send: %s: %s\n", (const char *)ctx, d->Message);
}

int send_live(const char *name, ETWIRE_RELAY_SENDER_OPTIONS *po)
{
    char err[512] = "";
    forward f = {0};
    if (!(f.x = etwire_relay_sender_new(po, err, sizeof err))) {
        fprintf(stderr, "etwire send: %s/%s: %s\n", po->Source, po->Session, err);
        return 1;
    }
    if (cli_live_tls() != 0) {
        etwire_relay_sender_free(f.x);
        return 1;
    }
    WCHAR wide[300];
    size_t n = strlen(name);
    if (n >= sizeof wide / sizeof wide[0])
        n = sizeof wide / sizeof wide[0] - 1;
    for (size_t i = 0; i < n; i++) /* relay names are ASCII */
        wide[i] = (WCHAR)(unsigned char)name[i];
    wide[n] = 0;
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.BufferCallback = on_buffer;
    o.BufferCallbackContext = &f;
    PROCESSTRACE_HANDLE h = OpenTraceFromRealTimeLogger(wide, &o, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE) {
        fprintf(stderr, "etwire send: %s (%s)\n", etwire_last_error_message(),
                etwire_strerror(etwire_last_error()));
        etwire_relay_sender_free(f.x);
        return 1;
    }
    etwire_session_set_diagnostic_callback(h, on_diag, (void *)name);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    int failed = f.failed || (rc != ERROR_SUCCESS && rc != ERROR_CANCELLED);
    if (rc != ERROR_SUCCESS && !f.failed)
        fprintf(stderr, "etwire send: %s: the live session did not end cleanly: %s (%u)\n", name,
                etwire_strerror(rc), rc);
    /* Whatever arrived is delivered and ended (a cut live session is a complete, shorter one). */
    if (!f.failed && etwire_relay_sender_finish(f.x) != 0)
        failed = 1;
    if (f.failed || failed)
        fprintf(stderr, "etwire send: %s/%s: %s\n", po->Source, po->Session, etwire_relay_sender_error(f.x));
    etwire_relay_sender_free(f.x);
    return failed ? 1 : 0;
}
