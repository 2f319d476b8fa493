/* The buffer-stream path alone, for instruction counts (valgrind --tool=callgrind) and times:
 * a trace's buffers are loaded into memory (in flush order, untimed), then handed to
 * OpenTraceFromBufferStream with ProcessTraceAddBufferToBufferStream (which checks every
 * record) and processed by ProcessTrace with an empty EventCallback and a completion callback,
 * as a collector does; or, with "relay", a BufferCallback and no EventCallback. Prints the
 * time of the adds and of ProcessTrace per run; under callgrind, the inclusive counts of
 * ProcessTraceAddBufferToBufferStream and ProcessTrace divided by the buffers and events
 * printed here are the per-buffer and per-event costs (docs/benchmarks.md).
 *
 * usage: bench_stream_replay FILE.etl [events|relay] [runs] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <etwire/etwire.h>

typedef struct loaded {
    unsigned char *bytes;
    ULONG *sizes;
    size_t n, ncap, used, cap;
} loaded;

static BOOL WINAPI load_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                                const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)info;
    loaded *l = ctx;
    if (l->n == l->ncap || l->used + size > l->cap)
        return 0;
    memcpy(l->bytes + l->used, b, size);
    l->sizes[l->n++] = size;
    l->used += size;
    return 1;
}

static int load(const char *path, loaded *l)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    l->cap = (size_t)st.st_size;
    l->ncap = l->cap / 512 + 1;
    l->bytes = malloc(l->cap);
    l->sizes = malloc(l->ncap * sizeof *l->sizes);
    if (!l->bytes || !l->sizes)
        return -1;
    ETW_OPEN_TRACE_OPTIONS o;
    memset(&o, 0, sizeof o);
    o.BufferCallback = load_buffer;
    o.BufferCallbackContext = l;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return -1;
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    return rc == ERROR_SUCCESS || rc == ERROR_FILE_CORRUPT ? 0 : -1;
}

static unsigned long long events, completions;

static void WINAPI on_event(PEVENT_RECORD e)
{
    (void)e;
    events++;
}

static void WINAPI on_complete(const ETW_BUFFER_HEADER *b, void *ctx)
{
    (void)b;
    (void)ctx;
    completions++;
}

static BOOL WINAPI on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                              const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    (void)b, (void)size, (void)info, (void)ctx;
    return 1;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_stream_replay FILE.etl [events|relay] [runs]\n");
        return 2;
    }
    int relay = argc > 2 && strcmp(argv[2], "relay") == 0;
    int runs = argc > 3 ? atoi(argv[3]) : 1;
    loaded l;
    memset(&l, 0, sizeof l);
    if (load(argv[1], &l) != 0) {
        fprintf(stderr, "%s: cannot load its buffers\n", argv[1]);
        return 1;
    }
    for (int run = 0; run < runs; run++) {
        ETW_OPEN_TRACE_OPTIONS o;
        memset(&o, 0, sizeof o);
        if (relay)
            o.BufferCallback = on_buffer;
        else
            o.EventCallback = on_event;
        events = completions = 0;
        PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, on_complete, NULL);
        if (h == INVALID_PROCESSTRACE_HANDLE)
            return 1;
        /* Everything is added before ProcessTrace: no memory bound forces the merge. */
        etwire_stream_set_memory_limit(h, UINT64_MAX);
        double t0 = now();
        size_t off = 0, refused = 0;
        for (size_t i = 0; i < l.n; off += l.sizes[i++])
            refused += ProcessTraceAddBufferToBufferStream(
                           h, (const ETW_BUFFER_HEADER *)(const void *)(l.bytes + off),
                           l.sizes[i]) != ERROR_SUCCESS;
        etwire_stream_end(h);
        double t1 = now();
        ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
        double t2 = now();
        CloseTrace(h);
        printf("%s: %zu buffers (%zu refused), %.1f MB, %llu events, %llu completions, rc %lu; "
               "add %.2f ms, process %.2f ms\n",
               argv[1], l.n, refused, (double)l.used / 1e6, events, completions,
               (unsigned long)rc, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
    }
    free(l.bytes);
    free(l.sizes);
    return 0;
}
