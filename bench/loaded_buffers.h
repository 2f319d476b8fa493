/* A trace's buffers in flush order, as a relay's BufferCallback sees them, loaded untimed into
 * one block, for the benchmarks that replay them as a buffer stream (bench_pipeline's stream
 * phase, bench_stream_replay). Header-only: each benchmark is one file. */
#ifndef ETWIRE_BENCH_LOADED_BUFFERS_H
#define ETWIRE_BENCH_LOADED_BUFFERS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <etwire/etwire.h>

typedef struct loaded_buffers {
    uint8_t *bytes;   /* the buffers back to back */
    size_t len, cap;
    ULONG *sizes;     /* each buffer's size, in order */
    size_t n, ncap;
} loaded_buffers;

static BOOL WINAPI loaded_buffers_add(const ETW_BUFFER_HEADER *b, ULONG n,
                                      const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    loaded_buffers *l = ctx;
    (void)info;
    if (l->len + n > l->cap || l->n == l->ncap)
        return FALSE;
    memcpy(l->bytes + l->len, b, n);
    l->len += n;
    l->sizes[l->n++] = n;
    return TRUE;
}

/* 0, or -1 when the file cannot be read whole; l is zeroed first and freed with
 * loaded_buffers_free either way. */
static inline int loaded_buffers_load(const char *path, loaded_buffers *l)
{
    struct stat st;
    memset(l, 0, sizeof *l);
    if (stat(path, &st) != 0)
        return -1;
    l->cap = (size_t)st.st_size;
    l->ncap = l->cap / 512 + 1; /* no buffer is smaller than 512 bytes */
    l->bytes = malloc(l->cap);
    l->sizes = malloc(l->ncap * sizeof *l->sizes);
    if (!l->bytes || !l->sizes)
        return -1;
    ETW_OPEN_TRACE_OPTIONS o;
    memset(&o, 0, sizeof o);
    o.BufferCallback = loaded_buffers_add;
    o.BufferCallbackContext = l;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return -1;
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    return rc == ERROR_SUCCESS || rc == ERROR_FILE_CORRUPT ? 0 : -1;
}

static inline void loaded_buffers_free(loaded_buffers *l)
{
    free(l->bytes);
    free(l->sizes);
    memset(l, 0, sizeof *l);
}

#endif
