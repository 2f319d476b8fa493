/* etwire dump: every event of one or more traces, merged in time order, one line each (text
 * or JSON lines with stable field names). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

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
    event_filter filter;
} dump_state;

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
    etw_strbuf_reset(&d->line);
    if (d->json == 2)
        event_view_csv(&d->line, er);
    else if (d->json)
        event_view_json(&d->line, er);
    else
        event_view_text(&d->line, er);
    etw_strbuf_putc(&d->line, '\n');
    fwrite(d->line.data, 1, d->line.len, stdout);
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
    return !ferror(stdout);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: etwire dump [options] FILE...\n"
            "Prints every event of the traces, merged in time order, one per line.\n\n"
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
        {"help", no_argument, NULL, 'h'},
        EVENT_FILTER_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    dump_state d;
    memset(&d, 0, sizeof d);
    event_filter_init(&d.filter);
    ETW_OPEN_TRACE_OPTIONS opts = {0};
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
        case 'h': usage(stdout); return 0;
        default:
            if (event_filter_option(&d.filter, c, optarg) == 0)
                break;
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    opts.EventCallback = on_event;
    opts.EventCallbackContext = &d;
    opts.BufferCallback = on_buffer;
    opts.BufferCallbackContext = &d;
    cli_traces t;
    if (cli_open_traces(&t, argv + optind, argc - optind, &opts) != 0)
        return 1;
    d.total = t.total_bytes;
    if (d.json == 2)
        fputs(event_view_csv_header(), stdout);
    int rc = cli_process(&t, event_filter_start(&d.filter), event_filter_end(&d.filter));
    cli_close_traces(&t);
    if (fflush(stdout) != 0 || ferror(stdout)) {
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
