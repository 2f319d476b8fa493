/* Test helpers: collecting what a session delivers (events,
 * buffers, completions) so tests can compare the paths into the pipeline with each other and
 * with independent expectations. */
#ifndef ETWIRE_TEST_COLLECT_H
#define ETWIRE_TEST_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/etwire.h>

#include "harness.h"

/* Every .etl below the corpus (invalid/ left out), sorted; free with test_free_paths. */
size_t test_corpus_files(char ***paths);
void test_free_paths(char **paths, size_t n);
int test_file_is_compressed(const char *path);

typedef struct test_event {
    int64_t time;
    uint32_t pid, tid;
    uint32_t cpu;
    uint16_t len;
    uint16_t flags;
    uint16_t ext_count;
    GUID provider;
    EVENT_DESCRIPTOR desc;
    uint32_t payload_hash;
} test_event;

typedef struct test_events {
    test_event *v;
    size_t n, cap;
    uint64_t buffer_callbacks;
    uint64_t completions;
    int stop_after_buffers; /* BufferCallback returns FALSE at this count (0 = never) */
} test_events;

void test_events_add(test_events *t, const EVENT_RECORD *er);
void test_events_free(test_events *t);
int test_event_same(const test_event *a, const test_event *b);
void WINAPI test_on_event(PEVENT_RECORD er);
BOOL WINAPI test_on_buffer(const ETW_BUFFER_HEADER *b, ULONG size,
                           const ETW_BUFFER_CALLBACK_INFORMATION *info, void *ctx);

/* Reads a file through etwire_trace_open_file + ProcessTrace; returns ProcessTrace's code (or
 * the open error). */
ULONG test_collect_file(const char *path, test_events *out, ETWIRE_SESSION_STATS *stats);

/* The buffers of a file exactly as a relaying BufferCallback would send them. */
typedef struct test_buffers {
    uint8_t **data;
    uint32_t *size;
    size_t n, cap;
} test_buffers;
ULONG test_capture_buffers(const char *path, test_buffers *out);
void test_buffers_free(test_buffers *b);

/* Feeds captured buffers to a buffer stream from another thread (window in 100 ns, or
 * ETWIRE_REORDER_UNBOUNDED), ending with etwire_stream_end; returns ProcessTrace's code. */
ULONG test_collect_stream(const test_buffers *in, uint64_t window, test_events *out,
                          ETWIRE_SESSION_STATS *stats);

/* Counts records by walking every buffer independently of the library's record parser. */
uint64_t test_count_records(const char *path);

#endif
