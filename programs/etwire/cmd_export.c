/* etwire export FORMAT TRACE... -o OUT: converts traces into another tool's format (export.h)
 * while reading them once, in time order, with the process of every event known. A format that
 * finds it needs facts the traces state later asks for a scan: the same files are opened again
 * and read through once, nested in the reading that writes, before it goes on. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "event_filters.h"
#include "export.h"

static const export_format *const formats[] = {&export_pcapng_format, &export_timeline_format};

typedef struct export_run {
    const export_format *format;
    void *state;
    export_context cx;
    event_filter filter;
    int filtering;
    char **paths;
    int n_paths;
    int scanned;
    uint64_t events, buffers, bytes, total;
} export_run;

uint64_t export_unix_100ns(int64_t filetime)
{
    const int64_t unix_epoch = 116444736000000000LL;
    return filetime > unix_epoch ? (uint64_t)(filetime - unix_epoch) : 0;
}

static void WINAPI on_event(PEVENT_RECORD er)
{
    export_run *r = er->UserContext;
    etwire_process_tracker_add(r->cx.processes, er);
    r->events++;
    if (r->filtering && !event_filter_match(&r->filter, er))
        return;
    r->format->event(r->state, er, &r->cx);
}

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                             const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    export_run *r = ctx;
    (void)b;
    (void)info;
    r->buffers++;
    r->bytes += size;
    cli_progress(r->buffers, r->bytes, r->total, r->events);
    return !ferror(r->cx.out);
}

static void WINAPI on_scan_event(PEVENT_RECORD er)
{
    export_run *r = er->UserContext;
    r->format->scan(r->state, er);
}

/* export_context.scan_traces: every event of every file to the format's scan, once, quietly
 * (the reading that writes reports what is wrong with the files). Progress is not shown. */
static void scan_traces(export_context *cx)
{
    export_run *r = cx->run;
    if (r->scanned || !r->format->scan)
        return;
    r->scanned = 1;
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    opts.EventCallback = on_scan_event;
    opts.EventCallbackContext = r;
    cli_traces t;
    t.count = 0;
    for (int i = 0; i < r->n_paths; i++) {
        t.handles[i] = etwire_trace_open_file(r->paths[i], &opts, &t.headers[i]);
        t.count = (unsigned)i;
        if (t.handles[i] == INVALID_PROCESSTRACE_HANDLE)
            break;
        t.count = (unsigned)i + 1;
    }
    if (t.count == (unsigned)r->n_paths)
        (void)ProcessTrace(t.handles, t.count, NULL, NULL);
    cli_close_traces(&t);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: etwire export FORMAT [options] FILE... -o OUT\n"
                 "Converts the events of the traces, merged in time order, into OUT.\n\nformats:\n");
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        fprintf(out, "  %-10s %s\n", formats[i]->name, formats[i]->summary);
    fprintf(out, "\n  -o, --output FILE        where to write (required; '-' is stdout)\n%s", event_filter_usage());
}

int cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        EVENT_FILTER_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    export_run r;
    memset(&r, 0, sizeof r);
    event_filter_init(&r.filter);
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (!strcmp(argv[1], formats[i]->name))
            r.format = formats[i];
    if (!r.format) {
        fprintf(stderr, "etwire export: unknown format '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    argc--;
    argv++;
    const char *out_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            if (event_filter_option(&r.filter, c, optarg) == 0)
                break;
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc || !out_path) {
        usage(stderr);
        return 2;
    }
    r.filtering = event_filter_active(&r.filter);
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    opts.EventCallback = on_event;
    opts.EventCallbackContext = &r;
    opts.BufferCallback = on_buffer;
    opts.BufferCallbackContext = &r;
    cli_traces t;
    if (cli_open_traces(&t, argv + optind, argc - optind, &opts) != 0)
        return 1;
    r.total = t.total_bytes;
    r.paths = argv + optind;
    r.n_paths = argc - optind;
    r.cx.scan_traces = scan_traces;
    r.cx.run = &r;
    r.cx.out_path = out_path;
    r.cx.out = strcmp(out_path, "-") ? fopen(out_path, "wb") : stdout;
    r.cx.processes = etwire_process_tracker_create();
    event_filter_use_tracker(&r.filter, r.cx.processes);
    if (!r.cx.out || !r.cx.processes) {
        fprintf(stderr, "etwire export: cannot write %s\n", out_path);
        if (r.cx.out && r.cx.out != stdout)
            fclose(r.cx.out);
        etwire_process_tracker_destroy(r.cx.processes);
        cli_close_traces(&t);
        return 1;
    }
    static char outbuf[1 << 20];
    setvbuf(r.cx.out, outbuf, _IOFBF, sizeof outbuf);
    int rc = 1;
    r.state = r.format->begin(&r.cx);
    if (r.state) {
        rc = cli_process(&t, event_filter_start(&r.filter), event_filter_end(&r.filter));
        if (r.format->end(r.state, &r.cx) != 0)
            rc = 1;
    }
    cli_close_traces(&t);
    event_filter_free(&r.filter);
    etwire_process_tracker_destroy(r.cx.processes);
    int write_failed = fflush(r.cx.out) != 0 || ferror(r.cx.out);
    if (r.cx.out != stdout && fclose(r.cx.out) != 0)
        write_failed = 1;
    if (write_failed) {
        fprintf(stderr, "etwire export: cannot write %s\n", out_path);
        rc = 1;
    }
    return rc;
}
