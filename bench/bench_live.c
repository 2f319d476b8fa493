/* Live sessions: latency from a buffer leaving the sender (loopback, so about its arrival at
 * the collector) to the subscriber's BufferCallback for it (all its events delivered), median
 * and 99th percentile at a paced rate; and the subscriber's throughput with the sender
 * unpaced, beside the same buffers through an in-process buffer stream (the baseline: what
 * the consumer side costs without the collector and the socket). Usage: bench_live [EVENTS] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <etwire/relay.h>

#include "gen/trace_gen.h"

typedef struct bufs {
    uint8_t **data;
    uint32_t *size;
    size_t n, cap;
} bufs;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int keep(const uint8_t *p, size_t n, void *ctx)
{
    bufs *b = ctx;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->data = realloc(b->data, b->cap * sizeof *b->data);
        b->size = realloc(b->size, b->cap * sizeof *b->size);
    }
    b->data[b->n] = malloc(n);
    memcpy(b->data[b->n], p, n);
    b->size[b->n++] = (uint32_t)n;
    return 0;
}

static double *pushed_at, *seen_at;
static size_t seen;
static uint64_t events;

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                             const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)b, (void)size, (void)info, (void)ctx;
    size_t i = __atomic_fetch_add(&seen, 1, __ATOMIC_RELAXED);
    seen_at[i] = now_s();
    return TRUE;
}

static void WINAPI on_event(PEVENT_RECORD er)
{
    (void)er;
    events++;
}

static void *consume(void *arg)
{
    PROCESSTRACE_HANDLE *h = arg;
    ProcessTrace(h, 1, NULL, NULL);
    return NULL;
}

static void *run_collector(void *c)
{
    etwire_relay_collector_run(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One session: subscribe, push every buffer (paced: gap seconds apart), wait for the end. */
static double run(etwire_relay_collector *c, const char *to, const bufs *b, const char *session,
                  double gap)
{
    (void)c;
    ETWIRE_RELAY_SENDER_OPTIONS so = {0};
    so.To = to;
    so.Plain = 1;
    so.Source = "bench";
    so.Session = session;
    so.Window = 1024;
    char err[256];
    etwire_relay_sender *s = etwire_relay_sender_new(&so, err, sizeof err);
    if (!s || etwire_relay_sender_push(s, b->data[0], b->size[0], 0) != 0) {
        fprintf(stderr, "sender: %s\n", s ? etwire_relay_sender_error(s) : err);
        exit(1);
    }
    char name[64];
    snprintf(name, sizeof name, "bench/%s", session);
    WCHAR w[64];
    for (size_t i = 0; i <= strlen(name); i++)
        w[i] = (WCHAR)name[i];
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = on_event;
    o.BufferCallback = on_buffer;
    PROCESSTRACE_HANDLE h = INVALID_PROCESSTRACE_HANDLE;
    for (int tries = 0; tries < 2000 && h == INVALID_PROCESSTRACE_HANDLE; tries++) {
        h = OpenTraceFromRealTimeLogger(w, &o, NULL); /* live once the header arrived */
        if (h == INVALID_PROCESSTRACE_HANDLE)
            usleep(1000);
    }
    if (h == INVALID_PROCESSTRACE_HANDLE) {
        fprintf(stderr, "attach: %s\n", etwire_last_error_message());
        exit(1);
    }
    /* Room for the whole trace, as the in-process stream has: a real-time session loses what
     * does not fit, and a throughput figure wants every buffer. */
    etwire_stream_set_memory_limit(h, ETWIRE_MEMORY_LIMIT_DEFAULT);
    seen = 0;
    events = 0;
    pthread_t t;
    pthread_create(&t, NULL, consume, &h);
    double t0 = now_s();
    pushed_at[0] = t0; /* the header buffer: not measured */
    for (size_t i = 1; i < b->n; i++) {
        if (gap > 0)
            while (now_s() < t0 + gap * (double)i)
                ;
        pushed_at[i] = now_s();
        etwire_relay_sender_push(s, b->data[i], b->size[i], 0);
    }
    etwire_relay_sender_finish(s);
    pthread_join(t, NULL);
    double elapsed = now_s() - t0;
    TRACE_LOGFILE_HEADER hdr;
    if (etwire_session_get_header(h, &hdr) == ERROR_SUCCESS && hdr.BuffersLost)
        printf("%s: %lu buffers lost\n", session, (unsigned long)hdr.BuffersLost);
    CloseTrace(h);
    etwire_relay_sender_free(s);
    return elapsed;
}

static void *feed(void *arg)
{
    void **a = arg;
    const bufs *b = a[0];
    PROCESSTRACE_HANDLE h = *(PROCESSTRACE_HANDLE *)a[1];
    for (size_t i = 0; i < b->n; i++)
        ProcessTraceAddBufferToBufferStream(h, (const ETW_BUFFER_HEADER *)(void *)b->data[i], b->size[i]);
    etwire_stream_end(h);
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t n_events = argc > 1 ? strtoull(argv[1], NULL, 10) : 400000;
    etw_gen_config cfg;
    etw_gen_config_default(&cfg);
    cfg.seed = 9;
    cfg.events = n_events;
    bufs b = {0};
    etw_gen_sinks sinks = {keep, NULL, &b, NULL};
    if (etw_gen_run_ex(&cfg, &sinks) != 0)
        return 1;
    pushed_at = calloc(b.n, sizeof *pushed_at);
    seen_at = calloc(b.n + 16, sizeof *seen_at);
    uint64_t bytes = 0;
    for (size_t i = 0; i < b.n; i++)
        bytes += b.size[i];

    char dir[] = "/tmp/etwire-bench-live-XXXXXX", addr[128], to[64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(addr, sizeof addr, "unix:%s/live.sock", dir);
    setenv("ETWIRE_LIVE", addr, 1);
    ETWIRE_RELAY_COLLECTOR_OPTIONS co = {0};
    co.Listen = "127.0.0.1:0";
    co.Plain = 1;
    co.Live = addr;
    co.Window = 1024;
    co.LiveQueue = 4096;
    char err[256];
    etwire_relay_collector *c = etwire_relay_collector_new(&co, err, sizeof err);
    if (!c) {
        fprintf(stderr, "collector: %s\n", err);
        return 1;
    }
    snprintf(to, sizeof to, "127.0.0.1:%d", etwire_relay_collector_port(c));
    pthread_t ct;
    pthread_create(&ct, NULL, run_collector, c);

    /* Baseline: the same buffers through an in-process buffer stream. */
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = on_event;
    events = 0;
    double t0 = now_s();
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, NULL, NULL);
    void *fa[2] = {&b, &h};
    pthread_t ft;
    pthread_create(&ft, NULL, feed, fa);
    ProcessTrace(&h, 1, NULL, NULL);
    pthread_join(ft, NULL);
    CloseTrace(h);
    double base = now_s() - t0;
    uint64_t base_events = events;

    double live = run(c, to, &b, "fast", 0);
    uint64_t live_events = events;
    printf("buffers %zu x %u bytes, %llu events\n", b.n, b.size[0], (unsigned long long)live_events);
    printf("throughput: in-process buffer stream %.0f MB/s (%.2f M events/s); live subscriber %.0f MB/s "
           "(%.2f M events/s); ratio %.2f\n",
           (double)bytes / base / 1e6, (double)base_events / base / 1e6, (double)bytes / live / 1e6,
           (double)live_events / live / 1e6, base / live);

    /* Latency, paced at one buffer per millisecond. */
    run(c, to, &b, "paced", 0.001);
    size_t m = seen < b.n ? seen : b.n;
    double *lat = calloc(m, sizeof *lat);
    size_t k = 0;
    for (size_t i = 1; i < m; i++)
        lat[k++] = (seen_at[i] - pushed_at[i]) * 1e3;
    qsort(lat, k, sizeof *lat, cmp_double);
    if (k)
        printf("latency push -> subscriber BufferCallback (1 buffer/ms, %zu buffers): median %.3f ms, "
               "p99 %.3f ms, max %.3f ms\n", k, lat[k / 2], lat[k * 99 / 100], lat[k - 1]);
    etwire_relay_collector_stop(c);
    pthread_join(ct, NULL);
    etwire_relay_collector_free(c);
    rmdir(dir);
    for (size_t i = 0; i < b.n; i++)
        free(b.data[i]);
    free(b.data);
    free(b.size);
    free(lat);
    free(pushed_at);
    free(seen_at);
    return 0;
}
