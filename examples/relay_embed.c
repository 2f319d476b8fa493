/* libetwire-relay embedded in a program (docs/api/relay.md): a collector on loopback whose
 * sessions hand their events to this program, and a sender fed from a BufferCallback while
 * the program reads a trace with ProcessTrace, the way a live Windows consumer would forward
 * its buffers. Prints how many events the collector's session delivered.
 * Build: cc relay_embed.c $(pkg-config --cflags --libs etwire-relay) -lpthread
 * Run:   ./relay_embed trace.etl */
#include <pthread.h>
#include <stdio.h>

#include <etwire/relay.h>

static unsigned long long events;

static void *on_open(void *ctx, const ETWIRE_RELAY_SESSION *s)
{
    printf("session %s/%s opened\n", s->Source, s->Label);
    return ctx;
}

static void on_event(void *ctx, PEVENT_RECORD ev)
{
    (void)ctx, (void)ev;
    events++; /* one session: its callbacks run on one thread */
}

static void on_close(void *ctx, const ETWIRE_RELAY_SESSION *s, const ETWIRE_SESSION_STATS *st)
{
    (void)ctx, (void)st;
    printf("session %s/%s closed: %llu events\n", s->Source, s->Label, events);
}

static void *run_collector(void *c)
{
    etwire_relay_collector_run(c);
    return NULL;
}

typedef struct forward {
    etwire_relay_sender *s;
    ULONG64 frequency;
    int failed;
} forward;

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *buf, ULONG size,
                             const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    forward *f = ctx;
    (void)info;
    if (etwire_relay_sender_push(f->s, buf, size, f->frequency) != 0) {
        f->failed = 1;
        return FALSE;
    }
    return TRUE;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s trace.etl\n", argv[0]);
        return 2;
    }
    char err[512];
    ETWIRE_RELAY_COLLECTOR_OPTIONS co = {.Listen = "127.0.0.1:0", .Plain = 1};
    co.Sessions = (ETWIRE_RELAY_SESSION_CALLBACKS){.Open = on_open, .Event = on_event, .Close = on_close};
    etwire_relay_collector *c = etwire_relay_collector_new(&co, err, sizeof err);
    if (!c) {
        fprintf(stderr, "collector: %s\n", err);
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, run_collector, c);

    char to[32];
    snprintf(to, sizeof to, "127.0.0.1:%d", etwire_relay_collector_port(c));
    ETWIRE_RELAY_SENDER_OPTIONS so = {.To = to, .Plain = 1, .Source = "example", .Session = "trace"};
    forward f = {.s = etwire_relay_sender_new(&so, err, sizeof err)};
    int rc = 1;
    if (!f.s) {
        fprintf(stderr, "sender: %s\n", err);
    } else {
        ETW_OPEN_TRACE_OPTIONS opts = {0};
        opts.BufferCallback = on_buffer;
        opts.BufferCallbackContext = &f;
        TRACE_LOGFILE_HEADER h;
        PROCESSTRACE_HANDLE trace = etwire_trace_open_file(argv[1], &opts, &h);
        if (trace == INVALID_PROCESSTRACE_HANDLE) {
            fprintf(stderr, "%s: %s\n", argv[1], etwire_last_error_message());
        } else {
            f.frequency = (ULONG64)h.PerfFreq.QuadPart;
            ProcessTrace(&trace, 1, NULL, NULL);
            CloseTrace(trace);
            if (!f.failed && etwire_relay_sender_finish(f.s) == 0)
                rc = 0;
            else
                fprintf(stderr, "sender: %s\n", etwire_relay_sender_error(f.s));
        }
        etwire_relay_sender_free(f.s);
    }
    etwire_relay_collector_stop(c);
    pthread_join(t, NULL);
    etwire_relay_collector_free(c); /* closes the session: on_close prints */
    return rc;
}
