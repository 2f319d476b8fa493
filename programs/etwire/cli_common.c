/* Shared CLI helpers (see cli_common.h). */
#include "cli_common.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


static void print_diagnostic(const ETWIRE_DIAGNOSTIC *d, void *ctx)
{
    cli_progress_done();
    fprintf(stderr, "etwire: %s: %s\n", (const char *)ctx, d->Message);
}

int cli_open_traces(cli_traces *t, char **paths, int n, const ETW_OPEN_TRACE_OPTIONS *opts)
{
    memset(t, 0, sizeof *t);
    if (n > CLI_MAX_FILES) {
        fprintf(stderr, "etwire: at most %d files at once\n", CLI_MAX_FILES);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        PROCESSTRACE_HANDLE h = etwire_trace_open_file(paths[i], opts, &t->headers[i]);
        if (h == INVALID_PROCESSTRACE_HANDLE) {
            fprintf(stderr, "etwire: %s (%s)\n", etwire_last_error_message(),
                    etwire_strerror(etwire_last_error()));
            cli_close_traces(t);
            return -1;
        }
        t->handles[i] = h;
        t->paths[i] = paths[i];
        t->count = (unsigned)i + 1;
        etwire_session_set_diagnostic_callback(h, print_diagnostic, paths[i]);
        struct stat st;
        if (stat(paths[i], &st) == 0)
            t->total_bytes += (uint64_t)st.st_size;
    }
    return 0;
}

int cli_open_live(cli_traces *t, const char *name, const ETW_OPEN_TRACE_OPTIONS *opts)
{
    memset(t, 0, sizeof *t);
    if (cli_live_tls() != 0)
        return -1;
    WCHAR wide[300];
    size_t n = strlen(name);
    if (n >= sizeof wide / sizeof wide[0]) {
        fprintf(stderr, "etwire: %s: not a live session name (SOURCE/SESSION)\n", name);
        return -1;
    }
    for (size_t i = 0; i <= n; i++) /* relay names are ASCII */
        wide[i] = (WCHAR)(unsigned char)name[i];
    PROCESSTRACE_HANDLE h = OpenTraceFromRealTimeLogger(wide, opts, &t->headers[0]);
    if (h == INVALID_PROCESSTRACE_HANDLE) {
        fprintf(stderr, "etwire: %s (%s)\n", etwire_last_error_message(),
                etwire_strerror(etwire_last_error()));
        return -1;
    }
    t->handles[0] = h;
    t->paths[0] = name;
    t->count = 1;
    etwire_session_set_diagnostic_callback(h, print_diagnostic, (void *)name);
    return 0;
}

void cli_close_traces(cli_traces *t)
{
    for (unsigned i = 0; i < t->count; i++)
        CloseTrace(t->handles[i]);
    t->count = 0;
}

int cli_process(cli_traces *t, LPFILETIME start, LPFILETIME end)
{
    ULONG rc = ProcessTrace(t->handles, t->count, start, end);
    cli_progress_done();
    if (rc == ERROR_SUCCESS)
        return 0;
    if (rc == ERROR_FILE_CORRUPT) {
        fprintf(stderr, "etwire: some records could not be read (reported above)\n");
        return 1;
    }
    if (rc == ERROR_CANCELLED)
        return 0;
    fprintf(stderr, "etwire: processing failed: %s (%u)\n", etwire_strerror(rc), rc);
    return 1;
}

static int progress_shown;
static time_t progress_last;

void cli_progress(uint64_t buffers, uint64_t bytes, uint64_t total, uint64_t events)
{
    if (!isatty(2))
        return;
    time_t now = time(NULL);
    if (now == progress_last)
        return;
    progress_last = now;
    progress_shown = 1;
    fprintf(stderr, "\r%llu buffers, %llu events, %.1f%% of %.1f MB", (unsigned long long)buffers,
            (unsigned long long)events, total ? 100.0 * (double)bytes / (double)total : 0.0,
            (double)total / 1e6);
}

void cli_progress_done(void)
{
    if (progress_shown) {
        fprintf(stderr, "\r\033[K");
        progress_shown = 0;
    }
}
