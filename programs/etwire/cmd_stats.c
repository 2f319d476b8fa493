/* etwire stats: what a trace holds: buffers, events per provider and event and per process,
 * time span, processors, lost events and compression. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/text.h"
#include "cli_common.h"
#include "commands.h"
#include "event_filters.h"
#include "event_view.h"
#include "stats_processes.h"
#include "tdh/decode/event_text.h"

typedef struct stat_key {
    GUID provider;
    USHORT id;
    UCHAR opcode;
    UCHAR version;
    uint64_t count;
    uint64_t undecoded;
    int used;
    char name[112]; /* "Provider/Event" as decoding names it, taken from the first event */
} stat_key;

typedef struct stats_state {
    stat_key *table;
    size_t cap, used;
    stats_processes processes; /* made at the first event; every event teaches its tracker */
    int tracking;
    uint64_t events, buffers, bytes, total;
    int64_t first, last;
    uint8_t cpus[2048];
    event_filter filter;
    int oom;
    int undecoded_mode; /* decode every event and count what has no schema */
    size_t top;         /* rows of the per-event table (0 = all) */
    uint64_t undecoded;
} stats_state;

static size_t hash_key(const GUID *g, USHORT id, UCHAR op, UCHAR v)
{
    uint64_t h = g->Data1 * 0x9E3779B97F4A7C15ull ^ ((uint64_t)g->Data2 << 16 | g->Data3);
    h ^= (uint64_t)id << 32 | (uint64_t)op << 8 | v;
    return (size_t)(h * 0xff51afd7ed558ccdull >> 17);
}

static int grow(stats_state *s)
{
    size_t cap = s->cap ? s->cap * 2 : 256;
    stat_key *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        stat_key *k = &s->table[i];
        if (!k->used)
            continue;
        size_t j = hash_key(&k->provider, k->id, k->opcode, k->version) & (cap - 1);
        while (t[j].used)
            j = (j + 1) & (cap - 1);
        t[j] = *k;
    }
    free(s->table);
    s->table = t;
    s->cap = cap;
    return 0;
}

static void name_key(stat_key *k, const EVENT_RECORD *er)
{
    etw_strbuf provider = {0}, event = {0};
    etw_event_describe(er, &provider, &event);
    snprintf(k->name, sizeof k->name, "%s/%s", provider.data ? provider.data : "",
             event.data ? event.data : "");
    etw_strbuf_free(&provider);
    etw_strbuf_free(&event);
}

static stat_key *count(stats_state *s, const EVENT_RECORD *er)
{
    const EVENT_DESCRIPTOR *d = &er->EventHeader.EventDescriptor;
    if (s->used * 2 >= s->cap && grow(s) != 0) {
        s->oom = 1;
        return NULL;
    }
    size_t j = hash_key(&er->EventHeader.ProviderId, d->Id, d->Opcode, d->Version) & (s->cap - 1);
    for (;;) {
        stat_key *k = &s->table[j];
        if (!k->used) {
            memset(k, 0, sizeof *k);
            k->provider = er->EventHeader.ProviderId;
            k->id = d->Id;
            k->opcode = d->Opcode;
            k->version = d->Version;
            k->count = 1;
            k->used = 1;
            name_key(k, er);
            s->used++;
            return k;
        }
        if (k->id == d->Id && k->opcode == d->Opcode && k->version == d->Version &&
            etw_guid_equal(&k->provider, &er->EventHeader.ProviderId)) {
            k->count++;
            return k;
        }
        j = (j + 1) & (s->cap - 1);
    }
}

static void WINAPI on_event(PEVENT_RECORD er)
{
    stats_state *s = er->UserContext;
    if (!s->tracking) {
        s->tracking = 1;
        if (stats_processes_init(&s->processes) == 0)
            event_filter_use_tracker(&s->filter, s->processes.tracker);
    }
    etwire_process_tracker_add(s->processes.tracker, er);
    if (!event_filter_match(&s->filter, er))
        return;
    stats_processes_count(&s->processes, er);
    int64_t t = er->EventHeader.TimeStamp.QuadPart;
    if (!s->events || t < s->first)
        s->first = t;
    if (!s->events || t > s->last)
        s->last = t;
    s->events++;
    s->cpus[GetEventProcessorIndex(er) & 2047] = 1;
    stat_key *k = count(s, er);
    if (s->undecoded_mode && !event_view_decode(er, 0)) {
        s->undecoded++;
        if (k)
            k->undecoded++;
    } else if (!s->undecoded_mode) {
        /* Schema events embedded in merged traces must be seen to name what follows. */
        etwire_tdh_observe(er);
    }
}

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                             const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    stats_state *s = ctx;
    (void)b;
    (void)info;
    s->buffers++;
    s->bytes += size;
    cli_progress(s->buffers, s->bytes, s->total, s->events);
    return TRUE;
}

static int by_count(const void *a, const void *b)
{
    const stat_key *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return memcmp(&x->provider, &y->provider, sizeof x->provider);
}

static void print_stats(stats_state *s, cli_traces *t)
{
    char a[40], b[40];
    ETWIRE_SESSION_STATS sum;
    memset(&sum, 0, sizeof sum);
    for (unsigned i = 0; i < t->count; i++) {
        ETWIRE_SESSION_STATS st;
        if (etwire_session_get_stats(t->handles[i], &st) != ERROR_SUCCESS)
            continue;
        const TRACE_LOGFILE_HEADER *h = &t->headers[i];
        printf("file:        %s\n", t->paths[i]);
        printf("  os build:  %u.%u.%u, %u-bit, %u processors, buffer size %u\n",
               h->VersionDetail.MajorVersion, h->VersionDetail.MinorVersion, h->ProviderVersion,
               h->PointerSize * 8, h->NumberOfProcessors, h->BufferSize);
        printf("  log mode:  0x%x%s\n", h->LogFileMode,
               (h->LogFileMode & EVENT_TRACE_COMPRESSED_MODE) ? " (compressed)" : "");
        if (st.BuffersCompressed)
            printf("  compressed: %llu buffers, %llu -> %llu bytes (ratio %.2f)\n",
                   (unsigned long long)st.BuffersCompressed, (unsigned long long)st.CompressedBytes,
                   (unsigned long long)st.DecompressedBytes,
                   st.CompressedBytes ? (double)st.DecompressedBytes / (double)st.CompressedBytes : 0.0);
        sum.BuffersAccepted += st.BuffersAccepted;
        sum.EventsLost += st.EventsLost;
        sum.BuffersLostFlagged += st.BuffersLostFlagged;
        sum.BadRecords += st.BadRecords;
        sum.BuffersRejected += st.BuffersRejected;
        sum.EventsLate += st.EventsLate;
    }
    unsigned cpus = 0;
    for (size_t i = 0; i < sizeof s->cpus; i++)
        cpus += s->cpus[i];
    cli_format_filetime(s->first, a, sizeof a);
    cli_format_filetime(s->last, b, sizeof b);
    printf("buffers:     %llu\n", (unsigned long long)sum.BuffersAccepted);
    printf("events:      %llu\n", (unsigned long long)s->events);
    printf("time span:   %s .. %s (%.3f s)\n", a, b, (double)(s->last - s->first) / 1e7);
    printf("processors:  %u with events\n", cpus);
    printf("lost:        %llu events (header), %llu buffers flagged\n",
           (unsigned long long)sum.EventsLost, (unsigned long long)sum.BuffersLostFlagged);
    if (sum.BadRecords || sum.BuffersRejected)
        printf("unreadable:  %llu records, %llu buffers\n", (unsigned long long)sum.BadRecords,
               (unsigned long long)sum.BuffersRejected);
    qsort(s->table, s->cap, sizeof *s->table, by_count);
    if (s->undecoded_mode)
        printf("decoded:     %llu of %llu events (%.1f%%)\n",
               (unsigned long long)(s->events - s->undecoded), (unsigned long long)s->events,
               s->events ? 100.0 * (double)(s->events - s->undecoded) / (double)s->events : 100.0);
    printf("events by provider / event (id, opcode, version):\n");
    size_t shown = 0;
    for (size_t i = 0; i < s->cap && s->table[i].used; i++) {
        const stat_key *k = &s->table[i];
        if (s->top && shown++ == s->top) {
            printf("  ... %zu more (--top 0 lists all)\n", s->used - s->top);
            break;
        }
        char g[37];
        etw_guid_format(&k->provider, g);
        printf("  %10llu  %s  {%s} id=%u op=%u v=%u", (unsigned long long)k->count, k->name, g,
               k->id, k->opcode, k->version);
        if (k->undecoded)
            printf("  undecoded=%llu", (unsigned long long)k->undecoded);
        putchar('\n');
    }
    stats_processes_print(&s->processes, s->top);
}

int cmd_stats(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"undecoded", no_argument, NULL, 'u'},
        {"top", required_argument, NULL, 't'},
        EVENT_FILTER_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    stats_state *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    event_filter_init(&s->filter);
    s->top = 30;
    int c;
    while ((c = getopt_long(argc, argv, "hut:", longopts, NULL)) != -1) {
        if (c == 'u') {
            s->undecoded_mode = 1;
            continue;
        }
        if (c == 't') {
            s->top = (size_t)strtoul(optarg, NULL, 10);
            continue;
        }
        if (c == 'h') {
            printf("usage: etwire stats [options] FILE...\n  -u, --undecoded      decode every event; count those without a schema\n%s", event_filter_usage());
            free(s);
            return 0;
        }
        if (event_filter_option(&s->filter, c, optarg) != 0) {
            fprintf(stderr, "usage: etwire stats [options] FILE...\n%s", event_filter_usage());
            free(s);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: etwire stats [options] FILE...\n");
        free(s);
        return 2;
    }
    ETW_OPEN_TRACE_OPTIONS opts = {0};
    opts.EventCallback = on_event;
    opts.EventCallbackContext = s;
    /* The buffer callback only shows progress on a terminal (the counts come from the session
     * statistics); without one the library reads buffers per processor and frees them early. */
    if (isatty(2)) {
        opts.BufferCallback = on_buffer;
        opts.BufferCallbackContext = s;
    }
    cli_traces t;
    int rc = 1;
    if (cli_open_traces(&t, argv + optind, argc - optind, &opts) == 0) {
        s->total = t.total_bytes;
        rc = cli_process(&t, event_filter_start(&s->filter), event_filter_end(&s->filter));
        print_stats(s, &t);
        cli_close_traces(&t);
    }
    if (s->oom)
        fprintf(stderr, "etwire stats: out of memory counting events\n");
    event_filter_free(&s->filter);
    stats_processes_free(&s->processes);
    free(s->table);
    free(s);
    event_view_release();
    return rc;
}
