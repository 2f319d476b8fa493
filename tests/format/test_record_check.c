/* etw_record_check (src/format/record.c), how a buffer stream checks records at Add, must give
 * exactly etw_record_parse's verdict, and the same size: a buffer the merge would find a bad
 * record in must be refused at Add with the same code, and the check's walk must step as the
 * merge does. Likewise etw_record_parse_hot (src/format/record_hot.h), the merge's inline parse:
 * every record it takes must come out byte for byte as etw_record_parse leaves it, and it must
 * take every good record but the kinds it leaves to the reference (undeliverable kinds, kernel
 * records with PEBS or PMC data). Compared on every record of every uncompressed buffer of generated traces (every
 * record kind, both pointer sizes) and of the corpus (skipped when absent), on each record cut
 * short at every length up to its header, and with the bytes that decide the verdict (marker,
 * type, size, flags, kernel version, extended-item headers, WPP options) changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#include "base/bytes.h"
#include "format/buffer_header.h"
#include "format/record.h"
#include "format/record_hot.h"
#include "gen_trace.h"

static uint64_t compared, refused, hot;

/* The inline parse against the reference on the same bytes. Both write into a cleared record
 * and neither writes padding (EVENT_RECORD ends in 4 bytes of it where pointers are 4 bytes),
 * so whole records compare. */
static void same_as_hot(const uint8_t *p, size_t n, etw_status parsed, const etw_record *ref)
{
    etw_record want, got;
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    if (parsed == ETW_OK)
        memcpy(&want, ref, sizeof want);
    const etw_record_ctx none = {0};
    int took = etw_record_parse_hot(p, n, &got, &none);
    if (!ETW_RECORD_HOT) {
        assert_int_equal(took, 0);
        return;
    }
    if (took) {
        assert_int_equal(parsed, ETW_OK);
        if (memcmp(&want, &got, sizeof want) != 0)
            fail_msg("record type 0x%02x marker 0x%02x, %zu bytes: the inline parse differs from "
                     "etw_record_parse", p[2], p[3], n);
        hot++;
    } else if (parsed == ETW_OK) {
        /* Declined a good record: only the kinds it leaves to the reference. */
        int kernel_extra = ref->kind <= ETW_REC_PERFINFO && (ref->has_pebs || ref->pmc_count);
        if (ref->kind != ETW_REC_SKIP && !kernel_extra)
            fail_msg("record type 0x%02x marker 0x%02x, %zu bytes: a good record the inline parse "
                     "declined", p[2], p[3], n);
    }
}

static void same_verdict(const uint8_t *p, size_t n)
{
    etw_record rec;
    uint16_t size = 0;
    memset(&rec, 0, sizeof rec); /* its padding compares too (same_as_hot) */
    etw_status parsed = etw_record_parse(p, n, &rec);
    etw_status checked = etw_record_check(p, n, &size);
    if (parsed != checked || (parsed == ETW_OK && size != rec.size))
        print_error("record type 0x%02x marker 0x%02x, %zu bytes: parse %d (size %u), check %d "
                    "(size %u)\n", n > 3 ? p[2] : 0, n > 3 ? p[3] : 0, n, parsed, rec.size,
                    checked, size);
    assert_int_equal(checked, parsed);
    if (parsed == ETW_OK)
        assert_int_equal(size, rec.size);
    else
        refused++;
    same_as_hot(p, n, parsed, &rec);
    compared++;
}

/* The record at p (n bytes to the buffer's end), then changed copies of it. */
static void mutations(const uint8_t *p, size_t n, size_t rec_size)
{
    uint8_t copy[1024];
    size_t len = n < sizeof copy ? n : sizeof copy;
    /* Cut short: every length up to the longest fixed header and a few past the record. */
    for (size_t cut = 0; cut <= len && cut < 0x60; cut++)
        same_verdict(p, cut);
    if (rec_size < len)
        same_verdict(p, rec_size - 1);
    /* The deciding bytes: marker and type, both size fields, flags and options, the kernel
     * version word, the first extended item's header. */
    static const size_t at[] = {0, 1, 2, 3, 4, 5, 6, 7, 0x50, 0x51, 0x54, 0x56, 0x57};
    static const uint8_t values[] = {0x00, 0x01, 0x08, 0x10, 0x7F, 0x80, 0xC0, 0xFF};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        if (at[i] >= len)
            continue;
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(copy, p, len);
            copy[at[i]] = values[v];
            same_verdict(copy, len);
        }
    }
}

static void buffer_records(const uint8_t *b, size_t n, int mutate)
{
    etw_buffer_header h;
    if (etw_buffer_header_parse(b, n, &h) != ETW_OK || (h.flags & ETW_BUFFER_FLAG_COMPRESSED))
        return;
    size_t end = h.filled < n ? h.filled : n;
    size_t off = ETW_BUFFER_HEADER_SIZE;
    unsigned mutated = 0;
    while (off + 4 <= end && etw_rd32(b + off) != 0xFFFFFFFFu) {
        etw_record rec;
        same_verdict(b + off, end - off);
        if (etw_record_parse(b + off, end - off, &rec) != ETW_OK)
            break;
        if (mutate && mutated++ < 64)
            mutations(b + off, end - off, rec.size);
        off += etw_align8(rec.size);
    }
}

static void generated_every_kind(void **state)
{
    (void)state;
    for (unsigned ptr = 4; ptr <= 8; ptr += 4) {
        etw_gen_config c = gen_config(600 + ptr, 4000);
        c.pointer_size = ptr;
        gen_trace t;
        assert_int_equal(gen_trace_make(&c, &t), 0);
        for (size_t i = 0; i < t.buffers.n; i++)
            buffer_records(t.buffers.data[i], t.buffers.size[i], 1);
        gen_trace_free(&t);
    }
    print_message("%llu verdicts compared, %llu refusals, %llu inline parses\n",
                  (unsigned long long)compared, (unsigned long long)refused,
                  (unsigned long long)hot);
    assert_true(refused > 0); /* the mutations reached the error paths */
    assert_true(!ETW_RECORD_HOT || hot > 0);
}

static void corpus_records(void **state)
{
    (void)state;
    char **paths;
    size_t n = test_corpus_files(&paths);
    if (!n) {
        TEST_SKIP("../shared/corpus is absent");
    }
    compared = refused = 0;
    for (size_t i = 0; i < n; i++) {
        test_buffers b;
        if (test_capture_buffers(paths[i], &b) == ERROR_SUCCESS || b.n) {
            for (size_t k = 0; k < b.n; k++)
                buffer_records(b.data[k], b.size[k], k < 4);
        }
        test_buffers_free(&b);
    }
    test_free_paths(paths, n);
    print_message("%llu verdicts compared, %llu refusals\n", (unsigned long long)compared,
                  (unsigned long long)refused);
    assert_true(compared > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_every_kind),
        cmocka_unit_test(corpus_records),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
