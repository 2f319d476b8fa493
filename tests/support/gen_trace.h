/* Generated traces for tests: the buffers the seeded generator writes, and the events a
 * correct consumer must deliver for them, in delivery order. */
#ifndef ETWIRE_TEST_GEN_TRACE_H
#define ETWIRE_TEST_GEN_TRACE_H

#include "collect.h"
#include "gen/trace_gen.h"

typedef struct gen_expected {
    etw_gen_event *v; /* record pointers are not kept */
    size_t n, cap;
    size_t header_records;
} gen_expected;

typedef struct gen_trace {
    test_buffers buffers;
    gen_expected expected; /* sorted into delivery order */
    etw_gen_summary summary;
    char path[64];         /* written by gen_trace_write_file */
} gen_trace;

/* The generator's defaults with this seed and, when events is not 0, this many events. */
etw_gen_config gen_config(uint64_t seed, uint64_t events);

int gen_trace_make(const etw_gen_config *c, gen_trace *t);
int gen_trace_write_file(gen_trace *t);
/* Generates c straight into a fresh file path ("/tmp/etwire-gen-XXXXXX" filled in; the caller
 * unlinks it), never holding the trace in memory; its summary in *sum. Fails the test when it
 * cannot. */
void gen_trace_stream_file(const etw_gen_config *c, char path[64], etw_gen_summary *sum);
void gen_trace_free(gen_trace *t);

/* Asserts (cmocka) that delivered events match the expected ones, field by field. raw: the
 * session ran with RAW_TIMESTAMP, so delivered timestamps are the raw clock. */
void gen_trace_check(const gen_trace *t, const test_events *got, int raw);

#endif
