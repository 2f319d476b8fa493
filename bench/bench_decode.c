/* Decoding cost, measured side by side with the undecoded pipeline on the same file: run A
 * delivers every event and only touches its payload; run B also names it and formats its
 * fields as JSON (etw_event_describe + etw_event_format_fields). Five runs each, medians and
 * the B/A ratio (issue 4 aims at <= 4x).
 * Usage: bench_decode [trace.etl]  (default: the corpus's net.4.5.x86-PerfViewData.etl) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <etwire/etwire.h>
#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/decode/event_text.h"

#define RUNS 5

static unsigned long long events, decoded, sink;
static etw_strbuf prov, name, fields;

static void WINAPI raw_event(PEVENT_RECORD rec)
{
    const unsigned char *p = rec->UserData;
    events++;
    if (p && rec->UserDataLength)
        sink += p[0] + p[rec->UserDataLength - 1];
}

static void WINAPI json_event(PEVENT_RECORD rec)
{
    events++;
    etw_strbuf_reset(&prov);
    etw_strbuf_reset(&name);
    etw_strbuf_reset(&fields);
    etw_event_describe(rec, &prov, &name);
    decoded += (unsigned long long)etw_event_format_fields(rec, 1, &fields);
    sink += fields.len;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(const char *path, PEVENT_RECORD_CALLBACK cb)
{
    ETW_OPEN_TRACE_OPTIONS opts;
    memset(&opts, 0, sizeof opts);
    opts.EventCallback = cb;
    TRACE_LOGFILE_HEADER hdr;
    events = decoded = 0;
    etwire_tdh_reset(); /* each run learns the embedded schemas afresh */
    double t0 = now();
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &opts, &hdr);
    if (h == INVALID_PROCESSTRACE_HANDLE) {
        fprintf(stderr, "cannot open %s: %s\n", path, etwire_strerror(etwire_last_error()));
        exit(1);
    }
    ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    return now() - t0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof *v, cmp);
    return v[RUNS / 2];
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "../shared/corpus/traceevent/net.4.5.x86-PerfViewData.etl";
    double a[RUNS], b[RUNS];
    unsigned long long n = 0, d = 0;
    for (int i = 0; i < RUNS; i++) {
        a[i] = run(path, raw_event);
        b[i] = run(path, json_event);
        n = events;
        d = decoded;
    }
    double ma = median(a), mb = median(b);
    printf("file: %s\nevents: %llu (%llu decoded to fields)\n", path, n, d);
    printf("undecoded pipeline: %.3f s median, %.0f events/s\n", ma, (double)n / ma);
    printf("decode + JSON:      %.3f s median, %.0f events/s\n", mb, (double)n / mb);
    printf("ratio: %.2fx (aim <= 4x)\n", mb / ma);
    etw_strbuf_free(&prov);
    etw_strbuf_free(&name);
    etw_strbuf_free(&fields);
    return sink == 42 ? 2 : 0;
}
