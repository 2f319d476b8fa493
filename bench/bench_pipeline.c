/* End-to-end file consumption cost, beside the cost of merely reading the same bytes.
 *
 * For each input (a real trace, and a ~400 MB generated one) three phases run, each in its own
 * forked child so the peak RSS printed is that phase's alone:
 *   read    read() the file from the page cache into a 1 MiB buffer (the floor any consumer
 *           of a file pays),
 *   events  etwire_trace_open_file + ProcessTrace + CloseTrace with an empty EventCallback,
 *   relay   the same with only a BufferCallback (EventCallback NULL): what a forwarder pays,
 *   stream  the file's buffers (in flush order, from memory, loaded untimed) handed to a buffer
 *           stream with ProcessTraceAddBufferToBufferStream, which checks every record, then
 *           ProcessTrace with an empty EventCallback: the stream path, Add's checks included
 *           (files up to 128 MB).
 * The page cache is warmed first, each phase runs RUNS times and the median is printed.
 *
 * usage: bench_pipeline [real.etl] [generated-MB]
 *   real.etl defaults to the corpus trace below (skipped with a message if absent);
 *   generated-MB defaults to 400 (0 skips the generated trace). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <etwire/etwire.h>

#include "gen/trace_gen.h"
#include "loaded_buffers.h"

#define RUNS 5
#define READ_CHUNK (1u << 20)
#define DEFAULT_REAL "/work/shared/corpus/traceevent/net.4.5.x86-PerfViewData.etl"
#define DEFAULT_GEN_MB 400u

enum { PHASE_READ, PHASE_EVENTS, PHASE_RELAY, PHASE_STREAM, PHASE_COUNT };
static const char *const phase_names[PHASE_COUNT] = {"read", "events", "relay", "stream"};

/* The stream phase holds the whole trace in memory: only files up to this size. */
#define STREAM_MAX_BYTES (128u << 20)

/* What a child reports back through its pipe. */
typedef struct {
    int ok;
    ULONG rc;         /* ProcessTrace's result (pipeline phases) */
    double seconds;   /* median of RUNS */
    uint64_t events;  /* EventsDelivered of the last run */
    uint64_t buffers; /* BuffersCompleted of the last run */
    long maxrss_kb;
} phase_result;

static char gen_path[64]; /* removed at exit and on SIGINT/SIGTERM */

static void remove_generated(void)
{
    if (gen_path[0])
        unlink(gen_path);
}

static void on_signal(int sig)
{
    if (gen_path[0])
        unlink(gen_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Reads the whole file; returns a byte sum (one byte per 4 KiB page) or -1. */
static long long plain_read(const char *path, unsigned char *buf)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long long sum = 0;
    for (;;) {
        ssize_t got = read(fd, buf, READ_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            close(fd);
            return got < 0 ? -1 : sum;
        }
        for (ssize_t i = 0; i < got; i += 4096)
            sum += buf[i];
    }
}

static VOID WINAPI empty_event(PEVENT_RECORD ev)
{
    (void)ev;
}

static BOOL WINAPI keep_buffer(const ETW_BUFFER_HEADER *b, ULONG n,
                               const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)b, (void)n, (void)info, (void)ctx;
    return TRUE;
}

/* Runs the session to its end, keeps its result and counts, and closes it. */
static void process_and_count(PROCESSTRACE_HANDLE h, phase_result *r)
{
    r->rc = ProcessTrace(&h, 1, NULL, NULL);
    ETWIRE_SESSION_STATS st;
    if (etwire_session_get_stats(h, &st) == ERROR_SUCCESS) {
        r->events = st.EventsDelivered;
        r->buffers = st.BuffersCompleted;
    }
    CloseTrace(h);
}

/* One open/process/close of the file; fills events, buffers and rc. */
static int pipeline_once(const char *path, int relay, phase_result *r)
{
    ETW_OPEN_TRACE_OPTIONS o;
    memset(&o, 0, sizeof o);
    if (relay)
        o.BufferCallback = keep_buffer;
    else
        o.EventCallback = empty_event;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE) {
        fprintf(stderr, "bench_pipeline: %s: %s\n", path, etwire_last_error_message());
        return -1;
    }
    process_and_count(h, r);
    return 0;
}

static int stream_once(const loaded_buffers *l, phase_result *r)
{
    ETW_OPEN_TRACE_OPTIONS o;
    memset(&o, 0, sizeof o);
    o.EventCallback = empty_event;
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, NULL, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return -1;
    size_t off = 0;
    for (size_t i = 0; i < l->n; off += l->sizes[i++])
        (void)ProcessTraceAddBufferToBufferStream(
            h, (const ETW_BUFFER_HEADER *)(const void *)(l->bytes + off), l->sizes[i]);
    etwire_stream_end(h);
    process_and_count(h, r);
    return 0;
}

/* The body of a phase's child process. */
static phase_result run_phase(int phase, const char *path)
{
    phase_result r;
    memset(&r, 0, sizeof r);
    double t[RUNS];
    unsigned char *buf = phase == PHASE_READ ? malloc(READ_CHUNK) : NULL;
    if (phase == PHASE_READ && !buf)
        return r;
    loaded_buffers l;
    memset(&l, 0, sizeof l);
    if (phase == PHASE_STREAM && loaded_buffers_load(path, &l) != 0) {
        loaded_buffers_free(&l);
        return r;
    }
    volatile long long sink = 0;
    for (int i = 0; i < RUNS; i++) {
        double t0 = now();
        if (phase == PHASE_STREAM) {
            if (stream_once(&l, &r) != 0)
                return r;
        } else if (phase == PHASE_READ) {
            long long s = plain_read(path, buf);
            if (s < 0)
                return r;
            sink += s;
        } else if (pipeline_once(path, phase == PHASE_RELAY, &r) != 0) {
            return r;
        }
        t[i] = now() - t0;
    }
    (void)sink;
    free(buf);
    loaded_buffers_free(&l);
    qsort(t, RUNS, sizeof t[0], cmp_double);
    r.seconds = t[RUNS / 2];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r.maxrss_kb = ru.ru_maxrss;
    r.ok = 1;
    return r;
}

static phase_result fork_phase(int phase, const char *path)
{
    phase_result r;
    memset(&r, 0, sizeof r);
    int fds[2];
    if (pipe(fds) != 0)
        return r;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return r;
    }
    if (pid == 0) {
        close(fds[0]);
        phase_result mine = run_phase(phase, path);
        ssize_t w = write(fds[1], &mine, sizeof mine);
        _exit(w == (ssize_t)sizeof mine ? 0 : 1);
    }
    close(fds[1]);
    if (read(fds[0], &r, sizeof r) != (ssize_t)sizeof r)
        r.ok = 0;
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return r;
}

static void bench_file(const char *label, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("%s: %s not found, skipped\n\n", label, path);
        return;
    }
    double mb = (double)st.st_size / 1e6;
    /* Warm the page cache so every phase reads memory, not the disk. */
    unsigned char *buf = malloc(READ_CHUNK);
    if (!buf || plain_read(path, buf) < 0) {
        printf("%s: cannot read %s\n\n", label, path);
        free(buf);
        return;
    }
    free(buf);
    phase_result r[PHASE_COUNT];
    for (int p = 0; p < PHASE_COUNT; p++) {
        if (p == PHASE_STREAM && (size_t)st.st_size > STREAM_MAX_BYTES)
            memset(&r[p], 0, sizeof r[p]);
        else
            r[p] = fork_phase(p, path);
    }
    printf("%s: %s\n  %.1f MB, %llu events, %llu buffers; median of %d runs\n", label, path, mb,
           (unsigned long long)r[PHASE_EVENTS].events, (unsigned long long)r[PHASE_EVENTS].buffers,
           RUNS);
    printf("  %-7s %10s %12s %10s %14s %12s\n", "phase", "seconds", "Mevents/s", "MB/s",
           "vs read (x)", "peak RSS MB");
    for (int p = 0; p < PHASE_COUNT; p++) {
        if (!r[p].ok) {
            printf("  %-7s %s\n", phase_names[p],
                   p == PHASE_STREAM && (size_t)st.st_size > STREAM_MAX_BYTES ? "skipped (over 128 MB)"
                                                                              : "failed");
            continue;
        }
        double s = r[p].seconds;
        /* The relay delivers no events; its rate is the trace's events over its time. */
        double evs = (double)r[PHASE_EVENTS].events / s / 1e6;
        double ratio = r[PHASE_READ].ok ? s / r[PHASE_READ].seconds : 0.0;
        char evtext[32];
        if (p == PHASE_READ)
            snprintf(evtext, sizeof evtext, "-");
        else
            snprintf(evtext, sizeof evtext, "%.2f", evs);
        printf("  %-7s %10.4f %12s %10.0f %14.2f %12.1f", phase_names[p], s, evtext, mb / s, ratio,
               (double)r[p].maxrss_kb / 1024.0);
        if (p != PHASE_READ && r[p].rc != ERROR_SUCCESS)
            printf("  (ProcessTrace returned %lu)", (unsigned long)r[p].rc);
        printf("\n");
    }
    printf("\n");
}

static int count_bytes(const uint8_t *buf, size_t len, void *ctx)
{
    (void)buf;
    *(uint64_t *)ctx += len;
    return 0;
}

/* Writes a generated trace of about mb megabytes; returns 0 or -1. The event count comes from
 * a small sizing run, since bytes per event depend on the mix of record kinds. */
static int make_generated(unsigned mb)
{
    etw_gen_config c;
    etw_gen_config_default(&c);
    c.seed = 20240601;
    c.events = 200000;
    uint64_t bytes = 0;
    if (etw_gen_run(&c, count_bytes, &bytes) != 0 || bytes == 0)
        return -1;
    c.events = (uint64_t)((double)c.events * ((double)mb * 1e6) / (double)bytes);
    snprintf(gen_path, sizeof gen_path, "/tmp/etwire_bench_XXXXXX");
    int fd = mkstemp(gen_path);
    if (fd < 0) {
        gen_path[0] = 0;
        return -1;
    }
    close(fd);
    double t0 = now();
    if (etw_gen_write_file(&c, gen_path) != 0)
        return -1;
    fprintf(stderr, "generated %s (%llu events) in %.1f s\n", gen_path,
            (unsigned long long)c.events, now() - t0);
    return 0;
}

int main(int argc, char **argv)
{
    const char *real = argc > 1 ? argv[1] : DEFAULT_REAL;
    unsigned gen_mb = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : DEFAULT_GEN_MB;
    atexit(remove_generated);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    bench_file("real trace", real);
    if (gen_mb > 0) {
        if (make_generated(gen_mb) != 0) {
            fprintf(stderr, "bench_pipeline: cannot generate the trace: %s\n", strerror(errno));
            return 1;
        }
        bench_file("generated trace", gen_path);
    }
    return 0;
}
