/* The record walk a buffer stream gives each buffer it takes (src/format/record_walk.h:
 * inline for the common kinds) must refuse exactly the buffers a walk with etw_record_parse
 * refuses, at the same record and with the same code, and step over good records as the merge
 * does. Compared on every uncompressed buffer of generated traces (every record kind, both
 * pointer sizes) and of the corpus (skipped when absent), and on copies of buffers with one
 * record's deciding bytes changed (marker, type, both size fields, flags and options, the
 * kernel version word, the first extended item's header) or the buffer's filled offset cut
 * inside a record. A sample of the mutated buffers also goes through
 * ProcessTraceAddBufferToBufferStream, whose answer must be the reference's Win32 code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collect.h"

#include "harness.h"

#include "base/bytes.h"
#include "format/buffer_header.h"
#include "format/record.h"
#include "gen_trace.h"
#include "format/record_walk.h"

static uint64_t buffers_compared, refusals, added;

/* The reference: the merge's parse on every record, as the walk before record_walk.h did it. */
static etw_status reference_walk(const uint8_t *d, uint32_t filled, uint32_t *bad_at)
{
    uint32_t off = ETW_BUFFER_HEADER_SIZE;
    while (off + 4 <= filled && etw_rd32(d + off) != 0xFFFFFFFFu) {
        etw_record rec;
        etw_status st = etw_record_parse(d + off, filled - off, &rec);
        if (st != ETW_OK) {
            *bad_at = off;
            return st;
        }
        off += (uint32_t)etw_align8(rec.size);
    }
    return ETW_OK;
}

/* A stream that has taken a header buffer: mutated buffers are added to it. */
typedef struct adder {
    PROCESSTRACE_HANDLE h;
    uint8_t **kept; /* what the session took stays alive until CloseTrace */
    size_t nkept, cap;
} adder;

static etw_status same_verdict(const uint8_t *b, size_t n, adder *a)
{
    etw_buffer_header h;
    if (etw_buffer_header_parse(b, n, &h) != ETW_OK || (h.flags & ETW_BUFFER_FLAG_COMPRESSED))
        return ETW_OK;
    uint32_t want_at = 0, got_at = 0;
    etw_status want = reference_walk(b, h.filled, &want_at);
    etw_status got = etw_records_walk(b, h.filled, &got_at);
    if (want != got || want_at != got_at)
        fail_msg("buffer of %u filled bytes: reference %d at +%u, walk %d at +%u", h.filled, want,
                 want_at, got, got_at);
    buffers_compared++;
    if (want != ETW_OK)
        refusals++;
    if (a && a->nkept < a->cap) {
        uint8_t *copy = malloc(n);
        assert_non_null(copy);
        memcpy(copy, b, n);
        ULONG rc = ProcessTraceAddBufferToBufferStream(a->h, (const ETW_BUFFER_HEADER *)(void *)copy,
                                                       (ULONG)n);
        assert_int_equal(rc, want == ETW_OK ? ERROR_SUCCESS : etw_status_win32(want));
        if (rc == ERROR_SUCCESS)
            a->kept[a->nkept++] = copy;
        else
            free(copy);
        added++;
    }
    return want;
}

/* Copies of b with the record at off changed, one deciding byte at a time, and cut short. */
static void mutations(const uint8_t *b, size_t n, uint32_t off, uint16_t rec_size, adder *a)
{
    uint8_t *copy = malloc(n);
    assert_non_null(copy);
    static const uint32_t at[] = {0, 1, 2, 3, 4, 5, 6, 7, 0x50, 0x51, 0x54, 0x56, 0x57};
    static const uint8_t values[] = {0x00, 0x01, 0x08, 0x10, 0x7F, 0x80, 0xC0, 0xFF};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        if (off + at[i] >= n)
            continue;
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(copy, b, n);
            copy[off + at[i]] = values[v];
            (void)same_verdict(copy, n, a);
        }
    }
    /* The filled offset inside the record: at every 4 bytes up to its end. */
    for (uint32_t cut = 4; cut < rec_size && off + cut <= n; cut += 4) {
        memcpy(copy, b, n);
        uint32_t filled = off + cut;
        memcpy(copy + 0x30, &filled, 4);
        (void)same_verdict(copy, n, a);
    }
    free(copy);
}

static void buffer(const uint8_t *b, size_t n, unsigned mutate_records, adder *a)
{
    etw_buffer_header h;
    if (same_verdict(b, n, NULL) != ETW_OK || etw_buffer_header_parse(b, n, &h) != ETW_OK ||
        (h.flags & ETW_BUFFER_FLAG_COMPRESSED))
        return;
    uint32_t off = ETW_BUFFER_HEADER_SIZE;
    for (unsigned k = 0; k < mutate_records && off + 4 <= h.filled &&
                         etw_rd32(b + off) != 0xFFFFFFFFu; k++) {
        etw_record rec;
        assert_int_equal(etw_record_parse(b + off, h.filled - off, &rec), ETW_OK);
        mutations(b, n, off, rec.size, a);
        off += (uint32_t)etw_align8(rec.size);
    }
}

static void adder_open(adder *a, const test_buffers *bufs)
{
    ETW_OPEN_TRACE_OPTIONS o = {0};
    a->h = OpenTraceFromBufferStream(&o, NULL, NULL);
    assert_true(a->h != INVALID_PROCESSTRACE_HANDLE);
    a->cap = 4096;
    a->nkept = 0;
    a->kept = calloc(a->cap, sizeof *a->kept);
    assert_non_null(a->kept);
    assert_int_equal(ProcessTraceAddBufferToBufferStream(
                         a->h, (const ETW_BUFFER_HEADER *)(const void *)bufs->data[0],
                         bufs->size[0]),
                     ERROR_SUCCESS);
}

static void adder_close(adder *a)
{
    CloseTrace(a->h);
    for (size_t i = 0; i < a->nkept; i++)
        free(a->kept[i]);
    free(a->kept);
}

static void generated_buffers(void **state)
{
    (void)state;
    buffers_compared = refusals = added = 0;
    for (unsigned ptr = 4; ptr <= 8; ptr += 4) {
        etw_gen_config c = gen_config(700 + ptr, 4000);
        c.pointer_size = ptr;
        gen_trace t;
        assert_int_equal(gen_trace_make(&c, &t), 0);
        adder a;
        adder_open(&a, &t.buffers);
        for (size_t i = 0; i < t.buffers.n; i++)
            buffer(t.buffers.data[i], t.buffers.size[i], i < 40 ? 24 : 0, i % 4 == 1 ? &a : NULL);
        adder_close(&a);
        gen_trace_free(&t);
    }
    print_message("%llu buffers compared, %llu refused, %llu added to a stream\n",
                  (unsigned long long)buffers_compared, (unsigned long long)refusals,
                  (unsigned long long)added);
    assert_true(refusals > 1000); /* the mutations reached the error paths */
    assert_true(added > 1000);
}

static void corpus_buffers(void **state)
{
    (void)state;
    char **paths;
    size_t n = test_corpus_files(&paths);
    if (!n) {
        TEST_SKIP("../shared/corpus is absent");
    }
    buffers_compared = refusals = 0;
    for (size_t i = 0; i < n; i++) {
        test_buffers b;
        if (test_capture_buffers(paths[i], &b) == ERROR_SUCCESS || b.n) {
            for (size_t k = 0; k < b.n; k++)
                buffer(b.data[k], b.size[k], k < 3 ? 16 : 0, NULL);
        }
        test_buffers_free(&b);
    }
    test_free_paths(paths, n);
    print_message("%llu buffers compared, %llu refused\n", (unsigned long long)buffers_compared,
                  (unsigned long long)refusals);
    assert_true(buffers_compared > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_buffers),
        cmocka_unit_test(corpus_buffers),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
