/* etwire dump: every event of one or more traces, merged in time order, one line each (text
 * or JSON lines with stable field names). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "base/text.h"
#include "cli_common.h"
#include "commands.h"
#include "event_filters.h"
#include "event_view.h"

typedef struct dump_state {
    int json; /* 0 text, 1 JSON lines, 2 CSV */
    ETWIRE_PROCESS_TRACKER *processes; /* made at the first event; every event teaches it */
    int tracking;
    etw_strbuf line;
    uint64_t events, buffers, bytes, total;
    int live;      /* a live session: each buffer's events are written out at once */
    event_filter filter;
    cli_traces *traces;
    int write_failed;
} dump_state;

#define OUTPUT_BLOCK (1u << 18) /* 256 KiB: stays in L2, and 1 MiB cost small traces 200 page faults */

/* A failed write ends processing: CloseTrace from the callback lets ProcessTrace return once
 * what is queued went out (docs/api/lifetime.md); the rest is not written. */
static void write_block(dump_state *d)
{
    if (d->line.len && !d->write_failed && fwrite(d->line.data, 1, d->line.len, stdout) != d->line.len) {
        d->write_failed = errno == EPIPE ? 2 : 1;
        for (unsigned i = 0; d->traces && i < d->traces->count; i++)
            CloseTrace(d->traces->handles[i]);
    }
    etw_strbuf_reset(&d->line);
}

static void WINAPI on_event(PEVENT_RECORD er)
{
    dump_state *d = er->UserContext;
    if (!d->tracking) {
        /* Process names for the views and --process, from the first event on (a failed
         * allocation leaves events unnamed). */
        d->tracking = 1;
        d->processes = etwire_process_tracker_create();
        event_filter_use_tracker(&d->filter, d->processes);
        event_view_set_processes(d->processes);
    }
    etwire_process_tracker_add(d->processes, er);
    if (!event_filter_match(&d->filter, er))
        return;
    /* Lines collect in one block written when it passes OUTPUT_BLOCK bytes: one write per
     * block, not one stdio call per event. */
    if (d->json == 2)
        event_view_csv(&d->line, er);
    else if (d->json)
        event_view_json(&d->line, er);
    else
        event_view_text(&d->line, er);
    etw_strbuf_putc(&d->line, '\n');
    if (d->line.len >= OUTPUT_BLOCK)
        write_block(d);
    d->events++;
}

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                             const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    dump_state *d = ctx;
    (void)b;
    (void)info;
    d->buffers++;
    d->bytes += size;
    cli_progress(d->buffers, d->bytes, d->total, d->events);
    if (d->live) { /* a live session's events go out as their buffer completes */
        write_block(d);
        if (!d->write_failed && fflush(stdout) != 0)
            d->write_failed = errno == EPIPE ? 2 : 1;
    }
    return !d->write_failed;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: etwire dump [options] FILE...\n"
            "       etwire dump [options] --live SOURCE/SESSION\n"
            "Prints every event of the traces, merged in time order, one per line; with --live,\n"
            "the events of a collector's live session as they arrive (collector: $ETWIRE_LIVE,\n"
            "default unix:$XDG_RUNTIME_DIR/etwire/live.sock), until the sender ends it.\n\n"
            "  -f, --format text|json|csv  output format (default text)\n"
            "      --raw-timestamp      keep the session's raw clock values\n"
            "%s",
            event_filter_usage());
}

int cmd_dump(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"raw-timestamp", no_argument, NULL, 'r'},
        {"live", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        EVENT_FILTER_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    dump_state d;
    memset(&d, 0, sizeof d);
    event_filter_init(&d.filter);
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    const char *live = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "json"))
                d.json = 1;
            else if (!strcmp(optarg, "csv"))
                d.json = 2;
            else if (strcmp(optarg, "text")) {
                fprintf(stderr, "etwire dump: unknown format '%s'\n", optarg);
                return 2;
            }
            break;
        case 'r':
            opts.ProcessTraceModes = ETW_PROCESS_TRACE_MODE_RAW_TIMESTAMP;
            event_view_raw_time = 1;
            break;
        case 'L': live = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            if (event_filter_option(&d.filter, c, optarg) == 0)
                break;
            usage(stderr);
            return 2;
        }
    }
    if (live ? optind < argc : optind >= argc) {
        usage(stderr);
        return 2;
    }
    d.live = live != NULL;
    if (etw_strbuf_reserve(&d.line, OUTPUT_BLOCK + 4096) != 0) {
        fprintf(stderr, "etwire dump: out of memory\n");
        return 1;
    }
    opts.EventCallback = on_event;
    opts.EventCallbackContext = &d;
    /* The buffer callback shows progress on a terminal and flushes a live session's events.
     * Without one the library reads each processor's buffers as the merge needs them and frees
     * them at once (less memory). */
    if (isatty(2) || d.live) {
        opts.BufferCallback = on_buffer;
        opts.BufferCallbackContext = &d;
    }
    cli_traces t;
    if (live ? cli_open_live(&t, live, &opts) != 0
             : cli_open_traces(&t, argv + optind, argc - optind, &opts) != 0)
        return 1;
    d.traces = &t;
    d.total = t.total_bytes;
    if (d.json == 2)
        fputs(event_view_csv_header(), stdout);
    int rc = cli_process(&t, event_filter_start(&d.filter), event_filter_end(&d.filter));
    write_block(&d);
    if (!d.write_failed)
        cli_close_traces(&t);
    /* A reader that went away (`etwire dump ... | head`) ends the output, as it ends a pipe's
     * other programs, but is no failure of ours: exit 0 and say nothing. */
    if (d.write_failed == 2 || (!d.write_failed && fflush(stdout) != 0 && errno == EPIPE)) {
        clearerr(stdout);
    } else if (d.write_failed || fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "etwire dump: cannot write the output\n");
        rc = 1;
    }
    etw_strbuf_free(&d.line);
    event_view_set_processes(NULL);
    event_filter_free(&d.filter);
    etwire_process_tracker_destroy(d.processes);
    event_view_release();
    return rc;
}
