/* Test helpers (see collect.h). */
#include "collect.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/xca.h"

static void walk(const char *dir, char ***paths, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "invalid"))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk(p, paths, n, cap);
        } else if (strlen(p) > 4 && !strcmp(p + strlen(p) - 4, ".etl")) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                *paths = realloc(*paths, *cap * sizeof **paths);
            }
            (*paths)[(*n)++] = strdup(p);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t test_corpus_files(char ***paths)
{
    size_t n = 0, cap = 0;
    *paths = NULL;
    const char *dir = test_corpus_dir();
    if (dir)
        walk(dir, paths, &n, &cap);
    if (n)
        qsort(*paths, n, sizeof **paths, cmp_str);
    return n;
}

void test_free_paths(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(sz > 0 ? (size_t)sz : 1);
    if (d && sz > 0 && fread(d, 1, (size_t)sz, f) != (size_t)sz) {
        free(d);
        d = NULL;
    }
    fclose(f);
    *len = (size_t)sz;
    return d;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

int test_file_is_compressed(const char *path)
{
    size_t len;
    uint8_t *d = read_all(path, &len);
    int c = 0;
    for (size_t off = 0; d && off + 72 <= len && rd32(d + off) >= 72; off += rd32(d + off))
        c |= (rd16(d + off + 0x34) & 0x40) != 0;
    free(d);
    return c;
}

/* Size of the record at p from its marker alone (docs/etw-format.md B.5), 0 if unknown. */
static uint32_t record_size(const uint8_t *p)
{
    uint8_t flags = p[3], type = p[2];
    if ((flags & 0xC0) == 0xC0) {
        if (type <= 4 || type == 0x10 || type == 0x11)
            return rd16(p + 4);
        return rd16(p);
    }
    if ((flags & 0x90) == 0x90)
        return rd16(p);
    return 0;
}

uint64_t test_count_records(const char *path)
{
    size_t len;
    uint8_t *d = read_all(path, &len);
    uint64_t count = 0;
    for (size_t off = 0; d && off + 72 <= len && rd32(d + off) >= 72; off += rd32(d + off)) {
        uint32_t size = rd32(d + off), filled = rd32(d + off + 0x30);
        const uint8_t *b = d + off;
        uint8_t *plain = NULL;
        if (rd16(d + off + 0x34) & 0x40) {
            plain = malloc(filled);
            size_t got = 0;
            memcpy(plain, b, 72);
            if (etw_xca_decompress(ETW_XCA_XPRESS, b + 72, size - 72, plain + 72, filled - 72, &got) != 0)
                got = 0;
            b = plain;
        } else if (off + size > len || filled > size) {
            break;
        }
        for (uint32_t r = 72; r + 4 <= filled && rd32(b + r) != 0xFFFFFFFFu;) {
            uint32_t rs = record_size(b + r);
            if (rs < 8 || r + rs > filled)
                break;
            count++;
            r += (rs + 7) & ~7u;
        }
        free(plain);
    }
    free(d);
    return count;
}

void test_events_add(test_events *t, const EVENT_RECORD *er)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->v = realloc(t->v, t->cap * sizeof *t->v);
    }
    test_event *e = &t->v[t->n++];
    memset(e, 0, sizeof *e);
    e->time = er->EventHeader.TimeStamp.QuadPart;
    e->pid = er->EventHeader.ProcessId;
    e->tid = er->EventHeader.ThreadId;
    e->cpu = GetEventProcessorIndex(er);
    e->len = er->UserDataLength;
    e->flags = er->EventHeader.Flags;
    e->ext_count = er->ExtendedDataCount;
    e->provider = er->EventHeader.ProviderId;
    e->desc = er->EventHeader.EventDescriptor;
    uint32_t h = 2166136261u;
    const uint8_t *p = er->UserData;
    for (unsigned i = 0; i < er->UserDataLength; i++)
        h = (h ^ p[i]) * 16777619u;
    e->payload_hash = h;
}

void test_events_free(test_events *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

int test_event_same(const test_event *a, const test_event *b)
{
    return a->time == b->time && a->pid == b->pid && a->tid == b->tid && a->cpu == b->cpu &&
           a->len == b->len && a->flags == b->flags && a->payload_hash == b->payload_hash &&
           a->ext_count == b->ext_count && !memcmp(&a->provider, &b->provider, sizeof a->provider) &&
           !memcmp(&a->desc, &b->desc, sizeof a->desc);
}

void WINAPI test_on_event(PEVENT_RECORD er)
{
    test_events_add(er->UserContext, er);
}

BOOL WINAPI test_on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                           const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    test_events *t = ctx;
    (void)b;
    (void)size;
    (void)info;
    t->buffer_callbacks++;
    return !(t->stop_after_buffers && t->buffer_callbacks >= (uint64_t)t->stop_after_buffers);
}

ULONG test_collect_file(const char *path, test_events *out, ETWIRE_SESSION_STATS *stats)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = out;
    o.BufferCallback = test_on_buffer;
    o.BufferCallbackContext = out;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return etwire_last_error();
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    if (stats)
        etwire_session_get_stats(h, stats);
    CloseTrace(h);
    return rc;
}

static BOOL WINAPI capture(const ETW_BUFFER_HEADER *b, ULONG size,
                           const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx)
{
    test_buffers *t = ctx;
    (void)info;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->data = realloc(t->data, t->cap * sizeof *t->data);
        t->size = realloc(t->size, t->cap * sizeof *t->size);
    }
    t->data[t->n] = malloc(size);
    memcpy(t->data[t->n], b, size);
    t->size[t->n++] = size;
    return TRUE;
}

ULONG test_capture_buffers(const char *path, test_buffers *out)
{
    memset(out, 0, sizeof *out);
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.BufferCallback = capture;
    o.BufferCallbackContext = out;
    PROCESSTRACE_HANDLE h = etwire_trace_open_file(path, &o, NULL);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return etwire_last_error();
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    CloseTrace(h);
    return rc;
}

void test_buffers_free(test_buffers *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->data[i]);
    free(b->data);
    free(b->size);
    memset(b, 0, sizeof *b);
}

typedef struct feeder {
    const test_buffers *in;
    PROCESSTRACE_HANDLE h;
    ULONG first_error;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    for (size_t i = 0; i < f->in->n; i++) {
        ULONG rc = ProcessTraceAddBufferToBufferStream(
            f->h, (const ETW_BUFFER_HEADER *)(const void *)f->in->data[i], f->in->size[i]);
        if (rc != ERROR_SUCCESS && !f->first_error)
            f->first_error = rc;
    }
    etwire_stream_end(f->h);
    return NULL;
}

static void WINAPI on_complete(const ETW_BUFFER_HEADER *b, void *ctx)
{
    (void)b;
    ((test_events *)ctx)->completions++;
}

ULONG test_collect_stream(const test_buffers *in, uint64_t window, test_events *out,
                          ETWIRE_SESSION_STATS *stats)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    o.EventCallback = test_on_event;
    o.EventCallbackContext = out;
    o.BufferCallback = test_on_buffer;
    o.BufferCallbackContext = out;
    PROCESSTRACE_HANDLE h = OpenTraceFromBufferStream(&o, on_complete, out);
    if (h == INVALID_PROCESSTRACE_HANDLE)
        return etwire_last_error();
    etwire_stream_set_reorder_window(h, window);
    feeder f = {in, h, 0};
    pthread_t t;
    pthread_create(&t, NULL, feed, &f);
    ULONG rc = ProcessTrace(&h, 1, NULL, NULL);
    pthread_join(t, NULL);
    if (stats)
        etwire_session_get_stats(h, stats);
    CloseTrace(h);
    return f.first_error ? f.first_error : rc;
}
