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

#include "loaded_buffers.h"


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
    loaded_buffers l;
    if (loaded_buffers_load(argv[1], &l) != 0) {
        loaded_buffers_free(&l);
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
               argv[1], l.n, refused, (double)l.len / 1e6, events, completions,
               (unsigned long)rc, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
    }
    loaded_buffers_free(&l);
    return 0;
}
