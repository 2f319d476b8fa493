/* Tests of the [MS-XCA] decoders (src/format/xca*.c): the spec's worked examples, round trips
 * through the test compressor, every length encoding and flag-word boundary, overlapping
 * matches, every error path, a differential check against a byte-at-a-time reference decoder,
 * and every compressed buffer of the real corpus. */
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
#include "format/xca.h"
#include "xca_compress.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void *xmalloc(size_t n)
{
    if (n > SIZE_MAX / 4) {
        fail(); /* a size computed wrongly */
        abort(); /* tells the compiler n is sane beyond here (fail() is not noreturn) */
    }
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

enum data_kind { DATA_RANDOM, DATA_ZERO, DATA_PERIODIC, DATA_TEXT, DATA_RECORDS, DATA_KINDS };

/* Fills p with n bytes of one kind, seeded so failures reproduce. */
static void fill(uint8_t *p, size_t n, enum data_kind kind, uint64_t seed)
{
    static const char *const words[] = {"event", "trace", "buffer", "provider", "the", "of",
                                        "Microsoft-Windows-Kernel", "thread", "0x", "\r\n"};
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t period = 1 + rng() % 7;
    for (size_t i = 0; i < n;) {
        switch (kind) {
        case DATA_RANDOM:
            p[i++] = (uint8_t)rng();
            break;
        case DATA_ZERO:
            p[i++] = 0;
            break;
        case DATA_PERIODIC:
            p[i] = (uint8_t)(i % period * 37);
            i++;
            break;
        case DATA_TEXT: {
            const char *word = words[rng() % 10];
            for (size_t k = 0; word[k] && i < n; k++)
                p[i++] = (uint8_t)word[k];
            if (i < n)
                p[i++] = ' ';
            break;
        }
        case DATA_RECORDS: {
            /* ETW-like: a fixed header with a counter and timestamp, small random payload. */
            uint8_t rec[48] = {0x30, 0x00, 0x13, 0xC0, 0x0A, 0x00, 0x02, 0x00};
            etw_wr64(rec + 8, (uint64_t)i * 977);
            etw_wr32(rec + 16, (uint32_t)(i / 48));
            size_t payload_end = 24 + rng() % 24;
            for (size_t k = 24; k < payload_end; k++)
                rec[k] = (uint8_t)rng();
            for (size_t k = 0; k < sizeof rec && i < n; k++)
                p[i++] = rec[k];
            break;
        }
        default:
            fail();
        }
    }
}

/* Compresses with the test compressor; the result is heap memory of *n bytes. */
static uint8_t *compress(const uint8_t *src, size_t n, size_t *c_n, const etw_test_lz77_opts *opts)
{
    size_t cap = etw_test_lz77_bound(n);
    uint8_t *c = xmalloc(cap);
    *c_n = etw_test_lz77_compress(src, n, c, cap, opts);
    assert_true(*c_n >= 4);
    return c;
}

/* Decodes c into a buffer of exactly `cap` bytes (heap, so ASan sees any write past it). */
static int decode(const uint8_t *c, size_t c_n, size_t cap, uint8_t **out, size_t *out_n)
{
    *out = xmalloc(cap);
    *out_n = 12345;
    return etw_xca_decompress(ETW_XCA_XPRESS, c, c_n, cap ? *out : NULL, cap, out_n);
}

/* Round trip src through the compressor and the decoder, checking the exact-size, roomy and
 * one-byte-short output buffers. */
static void roundtrip(const uint8_t *src, size_t n, const etw_test_lz77_opts *opts)
{
    size_t c_n, out_n;
    uint8_t *c = compress(src, n, &c_n, opts);
    uint8_t *out;

    /* Copy the stream to an exactly sized block so reads past it are caught. */
    uint8_t *exact = xmalloc(c_n);
    memcpy(exact, c, c_n);

    assert_int_equal(decode(exact, c_n, n, &out, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, n);
    assert_memory_equal(out, src, n);
    free(out);

    assert_int_equal(decode(exact, c_n, n + 100, &out, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, n);
    assert_memory_equal(out, src, n);
    free(out);

    if (n > 0) {
        assert_int_equal(decode(exact, c_n, n - 1, &out, &out_n), ETW_XCA_EOVERFLOW);
        assert_int_equal(out_n, 0);
        free(out);
    }
    free(exact);
    free(c);
}

/* Byte-at-a-time decoder written straight from the §2.4.4 pseudocode: the oracle for the
 * optimised one. Same return codes. */
static int reference_lz77(const uint8_t *in, size_t in_n, uint8_t *out, size_t cap, size_t *out_n)
{
    size_t ip = 0, op = 0, half = 0;
    uint32_t flags = 0;
    int count = 0;
    *out_n = 0;
    for (;;) {
        if (count == 0) {
            if (in_n - ip < 4)
                return ETW_XCA_ECORRUPT;
            flags = etw_rd32(in + ip);
            ip += 4;
            count = 32;
        }
        count--;
        if (!(flags & (1u << count))) {
            if (ip >= in_n)
                return ETW_XCA_ECORRUPT;
            if (op >= cap)
                return ETW_XCA_EOVERFLOW;
            out[op++] = in[ip++];
            continue;
        }
        if (ip == in_n) {
            *out_n = op;
            return ETW_XCA_OK;
        }
        if (in_n - ip < 2)
            return ETW_XCA_ECORRUPT;
        uint64_t len = etw_rd16(in + ip);
        ip += 2;
        size_t dist = (size_t)(len / 8) + 1;
        len %= 8;
        if (len == 7) {
            if (half == 0) {
                if (ip >= in_n)
                    return ETW_XCA_ECORRUPT;
                len = in[ip] % 16;
                half = ip++;
            } else {
                len = in[half] / 16;
                half = 0;
            }
            if (len == 15) {
                if (ip >= in_n)
                    return ETW_XCA_ECORRUPT;
                len = in[ip++];
                if (len == 255) {
                    if (in_n - ip < 2)
                        return ETW_XCA_ECORRUPT;
                    len = etw_rd16(in + ip);
                    ip += 2;
                    if (len == 0) {
                        if (in_n - ip < 4)
                            return ETW_XCA_ECORRUPT;
                        len = etw_rd32(in + ip);
                        ip += 4;
                    }
                    if (len < 15 + 7)
                        return ETW_XCA_ECORRUPT;
                    len -= 15 + 7;
                }
                len += 15;
            }
            len += 7;
        }
        len += 3;
        if (dist > op)
            return ETW_XCA_ECORRUPT;
        if (len > cap - op)
            return ETW_XCA_EOVERFLOW;
        for (uint64_t i = 0; i < len; i++, op++)
            out[op] = out[op - dist];
    }
}

/* Decodes with both decoders into exactly `cap` bytes: same status, same bytes. */
static void check_against_reference(const uint8_t *c, size_t c_n, size_t cap)
{
    uint8_t *want = xmalloc(cap), *got;
    size_t want_n, got_n;
    int want_rc = reference_lz77(c, c_n, want, cap, &want_n);
    int got_rc = decode(c, c_n, cap, &got, &got_n);
    assert_int_equal(got_rc, want_rc);
    if (want_rc == ETW_XCA_OK) {
        assert_int_equal(got_n, want_n);
        assert_memory_equal(got, want, want_n);
    }
    free(got);
    free(want);
}

static void expect_decode(const uint8_t *c, size_t c_n, size_t cap, int want, const void *want_out,
                          size_t want_n)
{
    uint8_t *out;
    size_t out_n;
    uint8_t *exact = xmalloc(c_n);
    if (c_n)
        memcpy(exact, c, c_n);
    assert_int_equal(decode(exact, c_n, cap, &out, &out_n), want);
    if (want == ETW_XCA_OK) {
        assert_int_equal(out_n, want_n);
        assert_memory_equal(out, want_out, want_n);
    } else {
        assert_int_equal(out_n, 0);
    }
    free(out);
    free(exact);
}

/* ---- the spec's worked examples ([MS-XCA] §3.1) ------------------------------------------ */

static const uint8_t alphabet_stream[] = {
    0x3f, 0x00, 0x00, 0x00, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm',
    'n',  'o',  'p',  'q',  'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z'};

static void test_spec_example_literals(void **state)
{
    (void)state;
    const char *text = "abcdefghijklmnopqrstuvwxyz";
    expect_decode(alphabet_stream, sizeof alphabet_stream, 26, ETW_XCA_OK, text, 26);
    /* The test compressor writes the very bytes the spec shows. */
    uint8_t c[64];
    size_t c_n = etw_test_lz77_compress((const uint8_t *)text, 26, c, sizeof c, NULL);
    assert_int_equal(c_n, sizeof alphabet_stream);
    assert_memory_equal(c, alphabet_stream, c_n);
}

static void test_spec_example_abc300(void **state)
{
    (void)state;
    /* "abc" x 100: three literals, then one match (distance 3, length 297) whose length takes
     * the nibble (15), the byte (255) and the 16-bit field (297 - 3 = 0x126). */
    static const uint8_t stream[] = {0xff, 0xff, 0xff, 0x1f, 'a',  'b', 'c',
                                     0x17, 0x00, 0x0f, 0xff, 0x26, 0x01};
    uint8_t text[300];
    for (size_t i = 0; i < 300; i++)
        text[i] = (uint8_t)("abc"[i % 3]);
    expect_decode(stream, sizeof stream, 300, ETW_XCA_OK, text, 300);
    uint8_t c[64];
    size_t c_n = etw_test_lz77_compress(text, 300, c, sizeof c, NULL);
    assert_int_equal(c_n, sizeof stream);
    assert_memory_equal(c, stream, c_n);
}

/* ---- round trips ------------------------------------------------------------------------ */

static void test_roundtrip_kinds_and_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = {0,   1,   2,    3,    4,    31,    32,    33,      63, 64,
                                   65,  100, 255,  256,  1000, 4095,  4096,  8191,    8192,
                                   8193, 65535, 65536, 65537, 200000, 1 << 20};
    for (size_t k = 0; k < DATA_KINDS; k++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s];
            uint8_t *src = xmalloc(n);
            fill(src, n, (enum data_kind)k, n + k);
            roundtrip(src, n, NULL);
            free(src);
        }
    }
}

static void test_roundtrip_compressor_settings(void **state)
{
    (void)state;
    /* Short windows and capped lengths give many more items and flag words per byte. */
    const etw_test_lz77_opts opts[] = {{0, 0, 0}, {1, 0, 1}, {3, 0, 4}, {64, 9, 8},
                                       {8192, 24, 32}, {300, 279, 16}, {8192, 280, 16}};
    size_t n = 70000;
    uint8_t *src = xmalloc(n);
    for (size_t k = 0; k < DATA_KINDS; k++) {
        fill(src, n, (enum data_kind)k, 99 + k);
        for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++)
            roundtrip(src, n, &opts[o]);
    }
    free(src);
}

/* ---- overlapping matches and the copy paths --------------------------------------------- */

/* want[0, n) as LZ77: literals before `prefix`, one match (dist, len) there, literals after
 * it; the compressed bytes (freed by the caller) and their count. */
static uint8_t *encode_one_match(const uint8_t *want, size_t n, size_t prefix, size_t dist, uint64_t len,
                                 size_t *c_n)
{
    size_t cap = etw_test_lz77_bound(n) + 16;
    uint8_t *c = xmalloc(cap);
    etw_test_lz77_writer w;
    etw_test_lz77_writer_init(&w, c, cap);
    for (size_t i = 0; i < prefix; i++)
        etw_test_lz77_put_literal(&w, want[i]);
    etw_test_lz77_put_match(&w, dist, len);
    for (size_t i = prefix + (size_t)len; i < n; i++)
        etw_test_lz77_put_literal(&w, want[i]);
    *c_n = etw_test_lz77_finish(&w);
    assert_true(*c_n > 0);
    return c;
}

/* Writes `prefix` random literals then one match (dist, len); checks the output against a
 * naive copy, with the output buffer exact (slow tail path) and roomy (word-copy path). */
static void check_single_match(size_t prefix, size_t dist, uint64_t len)
{
    size_t n = prefix + (size_t)len;
    uint8_t *want = xmalloc(n);
    rng_state = prefix * 31 + dist * 7 + len;
    for (size_t i = 0; i < prefix; i++)
        want[i] = (uint8_t)rng();
    for (size_t i = prefix; i < n; i++)
        want[i] = want[i - dist];

    size_t c_n;
    uint8_t *c = encode_one_match(want, n, prefix, dist, len, &c_n);

    expect_decode(c, c_n, n, ETW_XCA_OK, want, n);
    expect_decode(c, c_n, n + 1000, ETW_XCA_OK, want, n);
    expect_decode(c, c_n, n - 1, ETW_XCA_EOVERFLOW, NULL, 0);
    free(c);
    free(want);
}

/* One match (dist, len) after `prefix` random literals and before 400 more: with input left
 * behind it, the match is copied by the fast loop's word copies (the careful loop only takes
 * the last few hundred bytes), checked against a naive copy. */
static void check_match_in_fast_loop(size_t prefix, size_t dist, uint64_t len)
{
    const size_t trailer = 400;
    size_t n = prefix + (size_t)len + trailer;
    uint8_t *want = xmalloc(n);
    rng_state = prefix * 131 + dist * 17 + len;
    for (size_t i = 0; i < n; i++)
        want[i] = (uint8_t)rng();
    for (size_t i = prefix; i < prefix + len; i++)
        want[i] = want[i - dist];

    size_t c_n;
    uint8_t *c = encode_one_match(want, n, prefix, dist, len, &c_n);

    expect_decode(c, c_n, n, ETW_XCA_OK, want, n);
    expect_decode(c, c_n, n + 100, ETW_XCA_OK, want, n);
    free(c);
    free(want);
}

/* Every period from 1 to 40 (the 8-byte pattern, the 8-byte blocks for periods 8-15, the
 * 16-byte blocks) at every length around the 32-byte first copy, in the fast loop's first
 * 8 KiB (distances checked) and past them (not checked). */
static void test_overlapping_matches_fast_loop(void **state)
{
    (void)state;
    static const uint64_t lens[] = {3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 39, 40, 41,
                                    47, 48, 49, 63, 64, 65, 100, 1000, 5000};
    for (size_t dist = 1; dist <= 40; dist++) {
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            check_match_in_fast_loop(500 + dist, dist, lens[i]);
            check_match_in_fast_loop(8300 + dist, dist, lens[i]);
        }
    }
}

static void test_overlapping_matches(void **state)
{
    (void)state;
    for (size_t dist = 1; dist <= 40; dist++) {
        for (uint64_t len = 3; len <= 70; len++)
            check_single_match(dist, dist, len);
        check_single_match(dist + 5, dist, 1000);
        check_single_match(dist, dist, 70000); /* 32-bit length field */
    }
    /* The farthest distance the format can say, with and without overlap. */
    check_single_match(8192, 8192, 3);
    check_single_match(8192, 8192, 9000);
    check_single_match(10000, 8192, 100);
}

/* ---- length encodings ------------------------------------------------------------------- */

/* Stream size for "1 literal + one match of len" tells which length encoding was used. */
static size_t single_match_stream_size(uint64_t len)
{
    uint8_t c[64];
    etw_test_lz77_writer w;
    etw_test_lz77_writer_init(&w, c, sizeof c);
    etw_test_lz77_put_literal(&w, 'x');
    etw_test_lz77_put_match(&w, 1, len);
    return etw_test_lz77_finish(&w);
}

static void test_length_encoding_boundaries(void **state)
{
    (void)state;
    /* flag word + literal + token = 7; then nibble byte, length byte, 16-bit, 0 + 32-bit. */
    static const struct {
        uint64_t len;
        size_t size;
    } cases[] = {{3, 7},    {9, 7},      {10, 8},     {24, 8},    {25, 9},
                 {279, 9},  {280, 11},   {65538, 11}, {65539, 15}, {300000, 15}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(single_match_stream_size(cases[i].len), cases[i].size);
        check_single_match(1, 1, cases[i].len);
        check_single_match(5, 3, cases[i].len);
    }
}

static void test_shared_length_nibble(void **state)
{
    (void)state;
    /* Hand-built from §2.4.4: 'a', then two length-7 matches of distance 1. The first takes the
     * low nibble of the byte after its token (0 -> length 10), the second the high nibble of
     * that same byte (14 -> length 24) and adds no byte of its own. Flags: 0,1,1 then 1s. */
    static const uint8_t stream[] = {0xff, 0xff, 0xff, 0x7f, 'a', 0x07, 0x00, 0xe0, 0x07, 0x00};
    uint8_t want[35];
    memset(want, 'a', sizeof want);
    expect_decode(stream, sizeof stream, sizeof want, ETW_XCA_OK, want, sizeof want);

    /* A third long match opens a new shared byte: low nibble 15 -> byte follows (0 -> 25). */
    static const uint8_t stream3[] = {0xff, 0xff, 0xff, 0x7f, 'a',  0x07, 0x00, 0xe0,
                                      0x07, 0x00, 0x07, 0x00, 0x0f, 0x00};
    uint8_t want3[60];
    memset(want3, 'a', sizeof want3);
    expect_decode(stream3, sizeof stream3, sizeof want3, ETW_XCA_OK, want3, sizeof want3);
}

/* ---- flag words -------------------------------------------------------------------------- */

static void test_flag_word_boundaries(void **state)
{
    (void)state;
    uint8_t src[100], c[256];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 7 + 1); /* no repeats: literals only */
    /* 32 literals fill the first flag word; the end marker needs a word of its own. */
    size_t c_n = etw_test_lz77_compress(src, 32, c, sizeof c, NULL);
    assert_int_equal(c_n, 4 + 32 + 4);
    assert_int_equal(etw_rd32(c), 0);
    assert_int_equal(etw_rd32(c + 36), 0xFFFFFFFFu);
    expect_decode(c, c_n, 32, ETW_XCA_OK, src, 32);
    /* Without it the stream is cut short (the spec's reader fails on the missing word). */
    expect_decode(c, c_n - 4, 32, ETW_XCA_ECORRUPT, NULL, 0);

    for (size_t n = 0; n <= sizeof src; n++) {
        etw_test_lz77_opts lit = {0, 0, 0};
        roundtrip(src, n, &lit);
    }

    /* A match as the 32nd, 33rd and 64th item. */
    for (size_t lits = 30; lits <= 64; lits++) {
        uint8_t want[200];
        etw_test_lz77_writer w;
        etw_test_lz77_writer_init(&w, c, sizeof c);
        for (size_t i = 0; i < lits; i++) {
            want[i] = src[i % sizeof src];
            etw_test_lz77_put_literal(&w, want[i]);
        }
        etw_test_lz77_put_match(&w, 2, 30);
        for (size_t i = lits; i < lits + 30; i++)
            want[i] = want[i - 2];
        want[lits + 30] = 0x55;
        etw_test_lz77_put_literal(&w, 0x55);
        c_n = etw_test_lz77_finish(&w);
        expect_decode(c, c_n, lits + 31, ETW_XCA_OK, want, lits + 31);
    }
}

/* ---- error paths ------------------------------------------------------------------------ */

static void test_errors_short_input(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t out_n = 77;
    assert_int_equal(etw_xca_decompress(ETW_XCA_XPRESS, NULL, 0, out, sizeof out, &out_n),
                     ETW_XCA_ECORRUPT);
    assert_int_equal(out_n, 0);
    static const uint8_t three[] = {0xff, 0xff, 0xff};
    for (size_t n = 0; n <= 3; n++)
        expect_decode(three, n, 16, ETW_XCA_ECORRUPT, NULL, 0);
    /* A flag word of only 1s and nothing else is the empty stream. */
    static const uint8_t empty[] = {0xff, 0xff, 0xff, 0xff};
    expect_decode(empty, sizeof empty, 0, ETW_XCA_OK, "", 0);
    expect_decode(empty, sizeof empty, 16, ETW_XCA_OK, "", 0);
    /* A literal flag with no literal byte. */
    static const uint8_t no_literal[] = {0x00, 0x00, 0x00, 0x00};
    expect_decode(no_literal, sizeof no_literal, 16, ETW_XCA_ECORRUPT, NULL, 0);
}

static void test_errors_truncated_fields(void **state)
{
    (void)state;
    /* 'a', then a match with every length field present (distance 1, length 70000). Cutting
     * inside the token, the nibble byte, the length byte, the 16-bit or the 32-bit field must
     * fail; so must a cut inside a literal run. */
    uint8_t c[64];
    etw_test_lz77_writer w;
    etw_test_lz77_writer_init(&w, c, sizeof c);
    etw_test_lz77_put_literal(&w, 'a');
    etw_test_lz77_put_match(&w, 1, 70000);
    size_t c_n = etw_test_lz77_finish(&w);
    assert_int_equal(c_n, 15);
    for (size_t cut = 6; cut < c_n; cut++)
        expect_decode(c, cut, 70001, ETW_XCA_ECORRUPT, NULL, 0);

    /* Every prefix of a real stream either fails or, when the cut falls just before a match
     * flag, ends cleanly with a prefix of the data: the format cannot tell that case apart. */
    size_t n = 5000;
    uint8_t *src = xmalloc(n);
    fill(src, n, DATA_TEXT, 3);
    size_t full_n;
    uint8_t *full = compress(src, n, &full_n, NULL);
    size_t clean_ends = 0;
    for (size_t cut = 0; cut < full_n; cut++) {
        uint8_t *prefix = xmalloc(cut);
        memcpy(prefix, full, cut);
        uint8_t *out;
        size_t out_n;
        int rc = decode(prefix, cut, n, &out, &out_n);
        if (rc == ETW_XCA_OK) {
            clean_ends++;
            assert_true(out_n < n);
            assert_memory_equal(out, src, out_n);
        } else {
            assert_int_equal(rc, ETW_XCA_ECORRUPT);
        }
        free(out);
        free(prefix);
    }
    assert_true(clean_ends > 0);
    assert_true(clean_ends < full_n);
    free(full);
    free(src);
}

static void test_errors_distance_before_start(void **state)
{
    (void)state;
    /* A match as the very first item: distance 1 with no output yet. */
    static const uint8_t first[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00};
    expect_decode(first, sizeof first, 100, ETW_XCA_ECORRUPT, NULL, 0);
    /* Three literals then distance 4 (token 3 << 3). Distance 3 is fine. */
    static const uint8_t far[] = {0xff, 0xff, 0xff, 0x1f, 'a', 'b', 'c', 0x18, 0x00};
    expect_decode(far, sizeof far, 100, ETW_XCA_ECORRUPT, NULL, 0);
    static const uint8_t ok[] = {0xff, 0xff, 0xff, 0x1f, 'a', 'b', 'c', 0x10, 0x00};
    expect_decode(ok, sizeof ok, 100, ETW_XCA_OK, "abcabc", 6);
    /* The largest distance (8192) after 8191 bytes of output. */
    uint8_t c[64];
    etw_test_lz77_writer w;
    etw_test_lz77_writer_init(&w, c, sizeof c);
    etw_test_lz77_put_literal(&w, 'q');
    etw_test_lz77_put_match(&w, 1, 8190);
    etw_test_lz77_put_match(&w, 8192, 3);
    size_t c_n = etw_test_lz77_finish(&w);
    expect_decode(c, c_n, 9000, ETW_XCA_ECORRUPT, NULL, 0);

    /* The same limit deep in a long stream, where the decoder's fast loop meets it: a match
     * reaching exactly to the first byte is fine, one byte further is corrupt; short and long
     * periods, short and long lengths. */
    static const size_t prefixes[] = {1, 3, 7, 8, 15, 16, 31, 100, 2000};
    static const uint64_t lens[] = {3, 10, 40, 300};
    uint8_t big[4096];
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            for (size_t beyond = 0; beyond <= 1; beyond++) {
                etw_test_lz77_writer_init(&w, big, sizeof big);
                for (size_t b = 0; b < prefixes[i]; b++)
                    etw_test_lz77_put_literal(&w, (uint8_t)(b * 7 + 1));
                etw_test_lz77_put_match(&w, prefixes[i] + beyond, lens[k]);
                for (size_t b = 0; b < 600; b++)
                    etw_test_lz77_put_literal(&w, (uint8_t)b);
                c_n = etw_test_lz77_finish(&w);
                assert_true(c_n > 600);
                uint8_t *exact = xmalloc(c_n);
                memcpy(exact, big, c_n);
                size_t want_n = prefixes[i] + (size_t)lens[k] + 600;
                uint8_t *out;
                size_t out_n;
                int rc = decode(exact, c_n, want_n + 100, &out, &out_n);
                assert_int_equal(rc, beyond ? ETW_XCA_ECORRUPT : ETW_XCA_OK);
                if (!beyond)
                    assert_int_equal(out_n, want_n);
                free(out);
                check_against_reference(exact, c_n, want_n);
                free(exact);
            }
        }
    }
}

static void test_errors_output_overflow(void **state)
{
    (void)state;
    uint8_t *out;
    size_t out_n;
    /* No output buffer at all. */
    assert_int_equal(decode(alphabet_stream, sizeof alphabet_stream, 0, &out, &out_n),
                     ETW_XCA_EOVERFLOW);
    free(out);
    assert_int_equal(etw_xca_decompress(ETW_XCA_XPRESS, alphabet_stream, sizeof alphabet_stream,
                                        NULL, 5, &out_n),
                     ETW_XCA_EOVERFLOW);
    for (size_t cap = 0; cap < 26; cap++)
        expect_decode(alphabet_stream, sizeof alphabet_stream, cap, ETW_XCA_EOVERFLOW, NULL, 0);
}

static void test_errors_hostile_lengths(void **state)
{
    (void)state;
    /* 16-bit length field below 15 + 7 is invalid ("must not be smaller"), also as 0 + 32-bit. */
    static const uint8_t small16[] = {0xff, 0xff, 0xff, 0x7f, 'a', 0x07, 0x00,
                                      0x0f, 0xff, 0x15, 0x00};
    expect_decode(small16, sizeof small16, 1 << 20, ETW_XCA_ECORRUPT, NULL, 0);
    static const uint8_t ok16[] = {0xff, 0xff, 0xff, 0x7f, 'a', 0x07, 0x00,
                                   0x0f, 0xff, 0x16, 0x00};
    uint8_t want[26];
    memset(want, 'a', sizeof want);
    expect_decode(ok16, sizeof ok16, 100, ETW_XCA_OK, want, sizeof want);
    static const uint8_t small32[] = {0xff, 0xff, 0xff, 0x7f, 'a',  0x07, 0x00, 0x0f,
                                      0xff, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00};
    expect_decode(small32, sizeof small32, 1 << 20, ETW_XCA_ECORRUPT, NULL, 0);
    /* The longest length the format can say (2^32 + 2) is refused at once, not copied. */
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0x7f, 'a',  0x07, 0x00, 0x0f,
                                   0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff};
    expect_decode(huge, sizeof huge, 1 << 20, ETW_XCA_EOVERFLOW, NULL, 0);
    /* A literal then 31 matches filling a whole flag word: fits exactly, or overflows. */
    uint8_t *bomb = xmalloc(4 + 1 + 31 * 2 + 4);
    etw_wr32(bomb, 0x7FFFFFFFu);
    bomb[4] = 'z';
    for (size_t i = 0; i < 31; i++)
        etw_wr16(bomb + 5 + 2 * i, 0x0006); /* distance 1, length 9 */
    etw_wr32(bomb + 67, 0xFFFFFFFFu);
    uint8_t zs[1 + 31 * 9];
    memset(zs, 'z', sizeof zs);
    expect_decode(bomb, 71, sizeof zs, ETW_XCA_OK, zs, sizeof zs);
    expect_decode(bomb, 71, sizeof zs - 1, ETW_XCA_EOVERFLOW, NULL, 0);
    free(bomb);
}

/* ---- differential check against the reference decoder ------------------------------------ */

static void test_random_streams_match_reference(void **state)
{
    (void)state;
    /* Random bytes mostly fail early; streams with mostly-1 flag words and small distances
     * reach deep. Both must agree with the reference in status and output. */
    uint8_t c[600];
    for (unsigned iter = 0; iter < 20000; iter++) {
        rng_state = 0xC0FFEEull + iter;
        size_t c_n = 4 + rng() % (sizeof c - 4);
        for (size_t i = 0; i < c_n; i++)
            c[i] = (uint8_t)rng();
        if (iter & 1) {
            for (size_t i = 0; i + 4 <= c_n; i += 4 + rng() % 40)
                etw_wr32(c + i, rng() | rng() | 0x80000000u);
            for (size_t i = 5; i + 1 < c_n; i += 2 + rng() % 4)
                c[i] &= 0x1F; /* high byte of a token: distance < 8192 / 8 */
        }
        check_against_reference(c, c_n, rng() % 3000);
    }
}

/* Streams long enough for the decoder's fast loop (it runs while a flag word's worth of input,
 * a few hundred bytes, is left), made by the test compressor from every kind of data, then
 * damaged: bytes changed at random places (tokens, flag words, length fields), cut short, or
 * decoded into a too small, exact or roomy output. Every one must decode exactly as the
 * byte-at-a-time reference does, status and bytes, whichever loop meets the damage. */
static void test_damaged_long_streams_match_reference(void **state)
{
    (void)state;
    enum { SRC_MAX = 24 << 10 };
    uint8_t *src = xmalloc(SRC_MAX);
    for (unsigned iter = 0; iter < 600; iter++) {
        size_t n = 600 + (size_t)(iter * 7919u) % (SRC_MAX - 600);
        fill(src, n, (enum data_kind)(iter % DATA_KINDS), iter);
        etw_test_lz77_opts opts = {1 + (size_t)(iter * 131u) % 8192, iter % 3 ? 0 : 300, 8};
        size_t c_n;
        uint8_t *c = compress(src, n, &c_n, &opts);
        rng_state = 0xDA7A5EEDull + iter;
        uint8_t *bad = xmalloc(c_n);
        memcpy(bad, c, c_n);
        unsigned changes = iter % 4 == 0 ? 0 : 1 + rng() % 6;
        for (unsigned k = 0; k < changes; k++)
            bad[rng() % c_n] ^= (uint8_t)(1u << (rng() % 8));
        size_t cut = iter % 5 == 1 ? c_n - 1 - rng() % (c_n < 64 ? c_n - 4 : 60) : c_n;
        size_t caps[3] = {n, n + 1 + rng() % 200, n > 100 ? n - 1 - rng() % 100 : n / 2};
        for (size_t k = 0; k < 3; k++) {
            uint8_t *exact = xmalloc(cut);
            memcpy(exact, bad, cut);
            check_against_reference(exact, cut, caps[k]);
            free(exact);
        }
        free(bad);
        free(c);
    }
    free(src);
}

/* ---- LZNT1 ([MS-XCA] §2.5, example §3.3) ------------------------------------------------- */

static int lznt1(const uint8_t *c, size_t c_n, uint8_t *out, size_t cap, size_t *out_n)
{
    return etw_xca_decompress(ETW_XCA_LZNT1, c, c_n, out, cap, out_n);
}

static void test_lznt1_spec_example(void **state)
{
    (void)state;
    static const uint8_t stream[] = {
        0x38, 0xb0, 0x88, 0x46, 0x23, 0x20, 0x00, 0x20, 0x47, 0x20, 0x41, 0x00, 0x10, 0xa2, 0x47,
        0x01, 0xa0, 0x45, 0x20, 0x44, 0x00, 0x08, 0x45, 0x01, 0x50, 0x79, 0x00, 0xc0, 0x45, 0x20,
        0x05, 0x24, 0x13, 0x88, 0x05, 0xb4, 0x02, 0x4a, 0x44, 0xef, 0x03, 0x58, 0x02, 0x8c, 0x09,
        0x16, 0x01, 0x48, 0x45, 0x00, 0xbe, 0x00, 0x9e, 0x00, 0x04, 0x01, 0x18, 0x90, 0x00};
    static const char text[] = "F# F# G A A G F# E D D E F# F# E E F# F# G A A G F# E D D E F# E "
                               "D D E E F# D E F# G F# D E F# G F# E D E A F# F# G A A G F# E D "
                               "D E F# E D D";
    assert_int_equal(sizeof stream, 59);
    assert_int_equal(sizeof text, 142); /* with its NUL, as the spec counts */
    uint8_t out[200];
    size_t out_n;
    assert_int_equal(lznt1(stream, sizeof stream, out, sizeof out, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, 142);
    assert_memory_equal(out, text, 142);
    /* Followed by an end-of-stream header (0): same result; exact and short outputs. */
    uint8_t ended[61];
    memcpy(ended, stream, 59);
    ended[59] = ended[60] = 0;
    assert_int_equal(lznt1(ended, sizeof ended, out, 142, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, 142);
    assert_int_equal(lznt1(stream, sizeof stream, out, 141, &out_n), ETW_XCA_EOVERFLOW);
    for (size_t cut = 1; cut < sizeof stream; cut++)
        assert_int_equal(lznt1(stream, cut, out, sizeof out, &out_n), ETW_XCA_ECORRUPT);
}

static void test_lznt1_chunks_and_errors(void **state)
{
    (void)state;
    uint8_t c[8192], out[9000];
    size_t out_n;
    /* An uncompressed chunk (bit 15 clear) of 5 bytes, then a compressed one that refers only
     * to itself: literal 'x', match distance 1 length 3 + 4 (token 0x0004 at position 1). */
    size_t n = 0;
    etw_wr16(c, 0x3000 | 4);
    memcpy(c + 2, "hello", 5);
    n = 7;
    static const uint8_t comp[] = {0x02, 'x', 0x04, 0x00};
    etw_wr16(c + n, (uint16_t)(0xB000 | (sizeof comp - 1)));
    memcpy(c + n + 2, comp, sizeof comp);
    n += 2 + sizeof comp;
    assert_int_equal(lznt1(c, n, out, sizeof out, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, 5 + 8);
    assert_memory_equal(out, "helloxxxxxxxx", 13);
    assert_int_equal(lznt1(c, n, out, 12, &out_n), ETW_XCA_EOVERFLOW);
    assert_int_equal(lznt1(c, n, out, 4, &out_n), ETW_XCA_EOVERFLOW);
    /* Empty input and a lone end marker are the empty stream; a lone odd byte is not. */
    assert_int_equal(lznt1(c, 0, out, sizeof out, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, 0);
    static const uint8_t zero[] = {0, 0, 0x55};
    assert_int_equal(lznt1(zero, 3, out, sizeof out, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, 0);
    assert_int_equal(lznt1(zero + 2, 1, out, sizeof out, &out_n), ETW_XCA_ECORRUPT);
    /* Wrong signature. */
    static const uint8_t badsig[] = {0x00, 0x20, 'a'};
    assert_int_equal(lznt1(badsig, 3, out, sizeof out, &out_n), ETW_XCA_ECORRUPT);
    /* Chunk size past the input. */
    static const uint8_t past[] = {0x05, 0x30, 'a', 'b'};
    assert_int_equal(lznt1(past, 4, out, sizeof out, &out_n), ETW_XCA_ECORRUPT);
    /* A match as the first item of a chunk reaches before the chunk start. The earlier chunk's
     * output does not count: matches never cross chunks. */
    static const uint8_t early[] = {0x00, 0x30, 'q', 0x02, 0xB0, 0x01, 0x00, 0x00};
    assert_int_equal(lznt1(early, 3, out, sizeof out, &out_n), ETW_XCA_OK);
    assert_int_equal(lznt1(early, sizeof early, out, sizeof out, &out_n), ETW_XCA_ECORRUPT);
    /* A compressed chunk may not produce more than 4096 bytes: 'a' then matches of the longest
     * length reachable at each position (the split moves as the chunk grows). */
    size_t k = 2, done = 0;
    c[k++] = 0xFE; /* literal then 7 matches */
    c[k++] = 'a';
    done = 1;
    unsigned items = 1;
    while (done <= 4096) {
        if (items == 8) {
            c[k++] = 0xFF;
            items = 0;
        }
        unsigned dist_bits = 4;
        while (((size_t)1 << dist_bits) < done)
            dist_bits++;
        unsigned len_bits = 16 - dist_bits;
        etw_wr16(c + k, (uint16_t)((1u << len_bits) - 1)); /* distance 1, longest length */
        k += 2;
        done += ((size_t)1 << len_bits) - 1 + 3;
        items++;
    }
    etw_wr16(c, (uint16_t)(0xB000 | (k - 3)));
    assert_int_equal(lznt1(c, k, out, sizeof out, &out_n), ETW_XCA_ECORRUPT);
}

/* ---- LZ77+Huffman ([MS-XCA] §2.1-2.2, example §3.2) ------------------------------------- */

static int huff(const uint8_t *c, size_t c_n, uint8_t *out, size_t cap, size_t *out_n)
{
    return etw_xca_decompress(ETW_XCA_XPRESS_HUFF, c, c_n, out, cap, out_n);
}

static void test_huffman_spec_example(void **state)
{
    (void)state;
    uint8_t stream[256 + 20];
    memset(stream, 0, 256);
    static const uint8_t lens[] = {0x50, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                   0x55, 0x55, 0x55, 0x55, 0x45, 0x44, 0x04};
    memcpy(stream + 48, lens, sizeof lens);
    stream[128] = 0x04; /* symbol 256 (end of stream): 4 bits */
    static const uint8_t bits[] = {0xd8, 0x52, 0x3e, 0xd7, 0x94, 0x11, 0x5b, 0xe9, 0x19, 0x5f,
                                   0xf9, 0xd6, 0x7c, 0xdf, 0x8d, 0x04, 0x00, 0x00, 0x00, 0x00};
    memcpy(stream + 256, bits, sizeof bits);
    uint8_t out[100];
    size_t out_n;
    assert_int_equal(huff(stream, sizeof stream, out, 26, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, 26);
    assert_memory_equal(out, "abcdefghijklmnopqrstuvwxyz", 26);
    /* With room to spare, the end-of-stream symbol stops it at the same place. */
    assert_int_equal(huff(stream, sizeof stream, out, sizeof out, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, 26);
    assert_memory_equal(out, "abcdefghijklmnopqrstuvwxyz", 26);
    /* Cut bit stream or table. */
    for (size_t cut = 0; cut < 256 + 14; cut++)
        assert_int_equal(huff(stream, cut, out, 26, &out_n), ETW_XCA_ECORRUPT);
}

/* A test-only LZ77+Huffman writer with a fixed code: every symbol 9 bits, code = symbol
 * value. Bit words are reserved in the order the §2.2.4 reader fetches them (word k + 1 when
 * the first bit of word k is used), so raw length bytes land where the reader looks. */
typedef struct {
    uint8_t *out;
    size_t pos, slot[4];
    unsigned slots;
    uint32_t acc;
    unsigned nacc;
    size_t words; /* completed words */
} huff_writer;

static void hw_block(huff_writer *w)
{
    for (size_t i = 0; i < 256; i++)
        w->out[w->pos + i] = 0x99; /* 9 bits for every symbol */
    w->pos += 256;
    w->slot[0] = w->pos;
    w->slot[1] = w->pos + 2;
    w->slots = 2;
    w->pos += 4;
    w->acc = 0;
    w->nacc = 0;
    w->words = 0;
}

static void hw_bits(huff_writer *w, uint32_t v, unsigned n)
{
    for (unsigned i = n; i-- > 0;) {
        if (w->nacc == 0 && w->words >= 1) {
            w->slot[w->slots++] = w->pos; /* the reader fetches the next word now */
            w->pos += 2;
        }
        w->acc = (w->acc << 1) | ((v >> i) & 1u);
        if (++w->nacc == 16) {
            etw_wr16(w->out + w->slot[0], (uint16_t)w->acc);
            memmove(w->slot, w->slot + 1, --w->slots * sizeof w->slot[0]);
            w->acc = 0;
            w->nacc = 0;
            w->words++;
        }
    }
}

/* Pads and stores the open words; the next block (or the end) follows. */
static void hw_flush(huff_writer *w)
{
    for (unsigned i = 0; i < w->slots; i++)
        etw_wr16(w->out + w->slot[i], i == 0 ? (uint16_t)(w->acc << (16 - w->nacc)) : 0);
    w->slots = 0;
}

static void hw_match(huff_writer *w, size_t dist, uint64_t len)
{
    unsigned obits = 0;
    while (((size_t)2 << obits) <= dist)
        obits++;
    uint64_t l = len - 3;
    hw_bits(w, 256 + (obits << 4) + (unsigned)(l < 15 ? l : 15), 9);
    if (l >= 15) {
        if (l - 15 < 255) {
            w->out[w->pos++] = (uint8_t)(l - 15);
        } else {
            w->out[w->pos++] = 255;
            if (l <= 0xFFFF) {
                etw_wr16(w->out + w->pos, (uint16_t)l);
                w->pos += 2;
            } else {
                etw_wr16(w->out + w->pos, 0);
                etw_wr32(w->out + w->pos + 2, (uint32_t)l);
                w->pos += 6;
            }
        }
    }
    hw_bits(w, (uint32_t)(dist - ((size_t)1 << obits)), obits);
}

static void test_huffman_matches_and_blocks(void **state)
{
    (void)state;
    uint8_t *c = xmalloc(4096), *want = xmalloc(200000), *out = xmalloc(200000);
    huff_writer w = {c, 0, {0}, 0, 0, 0, 0};
    size_t n = 0, out_n;
    hw_block(&w);
    /* "abc", then distance 3 length 297 (byte 255 + 16-bit field), distance 1 length 4,
     * 'z', length 18 (one raw byte 0), distance 2 length 70000 (32-bit field): 70323 bytes,
     * so the first block ends inside the last match. */
    for (const char *p = "abc"; *p; p++) {
        hw_bits(&w, (uint8_t)*p, 9);
        want[n++] = (uint8_t)*p;
    }
    static const struct {
        size_t dist;
        uint64_t len;
        int literal;
    } items[] = {{3, 297, 0}, {1, 4, 0}, {0, 'z', 1}, {2, 18, 0}, {300, 20, 0}, {2, 70000, 0}};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (items[i].literal) {
            hw_bits(&w, (uint32_t)items[i].len, 9);
            want[n++] = (uint8_t)items[i].len;
            continue;
        }
        hw_match(&w, items[i].dist, items[i].len);
        for (uint64_t k = 0; k < items[i].len; k++, n++)
            want[n] = want[n - items[i].dist];
    }
    hw_flush(&w);
    /* Second block: 'Q', distance 65535 length 3 (15 offset bits), end-of-stream symbol. */
    hw_block(&w);
    hw_bits(&w, 'Q', 9);
    want[n++] = 'Q';
    hw_match(&w, 65535, 3);
    for (int k = 0; k < 3; k++, n++)
        want[n] = want[n - 65535];
    hw_bits(&w, 256, 9);
    hw_flush(&w);
    size_t c_n = w.pos;
    assert_int_equal(huff(c, c_n, out, n, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, n);
    assert_memory_equal(out, want, n);
    assert_int_equal(huff(c, c_n, out, n + 1000, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, n);
    assert_memory_equal(out, want, n);
    assert_int_equal(huff(c, c_n, out, 70000, &out_n), ETW_XCA_EOVERFLOW);
    /* Symbol 256 with all input used is the end (it would otherwise mean distance 1, length
     * 3, which here would reach before the start). */
    memset(&w, 0, sizeof w);
    w.out = c;
    hw_block(&w);
    hw_match(&w, 1, 3);
    hw_flush(&w);
    assert_int_equal(huff(c, w.pos, out, 10, &out_n), ETW_XCA_OK);
    assert_int_equal(out_n, 0);
    /* Distance before the start: the first symbol a match of distance 2. */
    memset(&w, 0, sizeof w);
    w.out = c;
    hw_block(&w);
    hw_match(&w, 2, 3);
    hw_flush(&w);
    assert_int_equal(huff(c, w.pos, out, 10, &out_n), ETW_XCA_ECORRUPT);
    free(c);
    free(want);
    free(out);
}

static void test_huffman_bad_tables(void **state)
{
    (void)state;
    uint8_t c[300], out[64];
    size_t out_n;
    /* Every symbol with a 1-bit code: far more codes than bits. */
    memset(c, 0x11, 256);
    memset(c + 256, 0, sizeof c - 256);
    assert_int_equal(huff(c, sizeof c, out, sizeof out, &out_n), ETW_XCA_ECORRUPT);
    /* No codes at all, or one code of 2 bits whose neighbours are unassigned. */
    memset(c, 0, 256);
    assert_int_equal(huff(c, sizeof c, out, sizeof out, &out_n), ETW_XCA_ECORRUPT);
    c['a' / 2] = 0x20; /* 'a' = 97 is odd: high nibble */
    etw_wr16(c + 256, 0x0000); /* code 00 = 'a' */
    assert_int_equal(huff(c, 260, out, 1, &out_n), ETW_XCA_OK);
    assert_int_equal(out[0], 'a');
    etw_wr16(c + 256, 0x4000); /* 01: unassigned */
    assert_int_equal(huff(c, 260, out, 1, &out_n), ETW_XCA_ECORRUPT);
    /* Using bits past the end of input: 'a' x 32 needs 64 bits, only 32 given. */
    etw_wr16(c + 256, 0);
    assert_int_equal(huff(c, 260, out, 16, &out_n), ETW_XCA_OK);
    assert_int_equal(huff(c, 260, out, 17, &out_n), ETW_XCA_ECORRUPT);
    /* Zero output wanted: nothing is read. */
    assert_int_equal(huff(c, 0, NULL, 0, &out_n), ETW_XCA_OK);
}

/* ---- dispatcher -------------------------------------------------------------------------- */

static void test_dispatch_and_messages(void **state)
{
    (void)state;
    uint8_t out[32];
    size_t out_n = 99;
    static const int bad[] = {0, 1, 5, -1, 0x0102, 0x0103};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out_n = 99;
        assert_int_equal(etw_xca_decompress(bad[i], alphabet_stream, sizeof alphabet_stream, out,
                                            sizeof out, &out_n),
                         ETW_XCA_EFORMAT);
        assert_int_equal(out_n, 0);
    }
    static const int codes[] = {ETW_XCA_OK, ETW_XCA_ECORRUPT, ETW_XCA_EOVERFLOW, ETW_XCA_EFORMAT,
                                -99};
    for (size_t i = 0; i < 5; i++) {
        assert_non_null(etw_xca_strerror(codes[i]));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(etw_xca_strerror(codes[i]), etw_xca_strerror(codes[j]));
    }
}

/* ---- the real corpus --------------------------------------------------------------------- */

/* Walks the event records of a decompressed buffer (records 8-byte aligned from the 72-byte
 * header; size at +0 or +4 depending on the header type). Returns the record count, or -1 if
 * a record is malformed or the walk does not end exactly at `filled`. */
static long walk_records(const uint8_t *buf, size_t filled)
{
    size_t p = 72;
    long count = 0;
    while (p < filled) {
        if (filled - p < 8)
            return -1;
        uint8_t type = buf[p + 2], flags = buf[p + 3];
        size_t size;
        if (flags != 0xC0)
            return -1;
        if (type == 0x0A || type == 0x0B || (type >= 0x12 && type <= 0x15))
            size = etw_rd16(buf + p);
        else if ((type >= 0x01 && type <= 0x04) || type == 0x10 || type == 0x11)
            size = etw_rd16(buf + p + 4);
        else
            return -1;
        if (size < 8 || etw_align8(size) > filled - p)
            return -1;
        p += etw_align8(size);
        count++;
    }
    return p == filled ? count : -1;
}

static void test_corpus_compressed_buffers(void **state)
{
    (void)state;
    /* Compressed-buffer and record counts were established independently of this decoder
     * (docs/format/compression.md). */
    static const struct {
        const char *name;
        int buffers;
        long records;
    } files[] = {
        {"perfview-merged/monogame-PerfViewData-compressed.etl", 12, 102},
        {"perfview-merged/msbuild-PerfViewData-ptr32-compressed.etl", 29, 5869},
        {"pktmon/demikernel-PktMon-compressed.etl", 2, 465},
        {"traceevent/net.4.5.2.x86.etl", 275, 168297},
        {"traceevent/SelfDescribingSingleEvent.etl", 2, 21},
        {"traceevent/smallEtlFile.etl", 1, 1},
    };
    TEST_NEED_CORPUS();
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        const char *path = TEST_NEED_CORPUS_FILE(files[f].name);
        size_t n;
        uint8_t *d = test_read_file(path, &n);
        assert_non_null(d);
        /* The log-file header says COMPRESSED_MODE; the header buffer itself is plain. */
        assert_true(n >= 72 + 0x20 + 0x24);
        assert_true(etw_rd32(d + 72 + 0x20 + 0x20) & 0x04000000u);
        assert_int_equal(etw_rd16(d + 0x34) & 0x40, 0);

        int buffers = 0;
        long records = 0;
        size_t off = 0;
        while (off < n) {
            assert_true(n - off >= 72);
            uint32_t size = etw_rd32(d + off), saved = etw_rd32(d + off + 0x04);
            uint32_t filled = etw_rd32(d + off + 0x30);
            assert_true(size >= 72 && size <= n - off);
            if (etw_rd16(d + off + 0x34) & 0x40) {
                assert_int_equal(saved, filled);
                assert_true(filled >= 72);
                size_t want = filled - 72;
                /* Roomy output: the stream's own end must give exactly the payload size. */
                uint8_t *buf = xmalloc(72 + want + 4096);
                memcpy(buf, d + off, 72);
                size_t out_n;
                int rc = etw_xca_decompress(ETW_XCA_XPRESS, d + off + 72, size - 72, buf + 72,
                                            want + 4096, &out_n);
                assert_int_equal(rc, ETW_XCA_OK);
                assert_int_equal(out_n, want);
                long r = walk_records(buf, 72 + out_n);
                assert_true(r > 0);
                records += r;
                /* Exact output: same result; one byte less must overflow. */
                uint8_t *again = xmalloc(want);
                assert_int_equal(etw_xca_decompress(ETW_XCA_XPRESS, d + off + 72, size - 72,
                                                    again, want, &out_n),
                                 ETW_XCA_OK);
                assert_memory_equal(again, buf + 72, want);
                /* And byte for byte what the reference decoder makes of it. */
                size_t ref_n;
                assert_int_equal(reference_lz77(d + off + 72, size - 72, again, want, &ref_n),
                                 ETW_XCA_OK);
                assert_int_equal(ref_n, want);
                assert_memory_equal(again, buf + 72, want);
                if (want > 0)
                    assert_int_equal(etw_xca_decompress(ETW_XCA_XPRESS, d + off + 72, size - 72,
                                                        again, want - 1, &out_n),
                                     ETW_XCA_EOVERFLOW);
                free(again);
                free(buf);
                buffers++;
            }
            off += size;
        }
        assert_int_equal(off, n); /* no trailing bytes after the last buffer */
        assert_int_equal(buffers, files[f].buffers);
        assert_int_equal(records, files[f].records);
        free(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example_literals),
        cmocka_unit_test(test_spec_example_abc300),
        cmocka_unit_test(test_roundtrip_kinds_and_sizes),
        cmocka_unit_test(test_roundtrip_compressor_settings),
        cmocka_unit_test(test_overlapping_matches),
        cmocka_unit_test(test_overlapping_matches_fast_loop),
        cmocka_unit_test(test_length_encoding_boundaries),
        cmocka_unit_test(test_shared_length_nibble),
        cmocka_unit_test(test_flag_word_boundaries),
        cmocka_unit_test(test_errors_short_input),
        cmocka_unit_test(test_errors_truncated_fields),
        cmocka_unit_test(test_errors_distance_before_start),
        cmocka_unit_test(test_errors_output_overflow),
        cmocka_unit_test(test_errors_hostile_lengths),
        cmocka_unit_test(test_random_streams_match_reference),
        cmocka_unit_test(test_damaged_long_streams_match_reference),
        cmocka_unit_test(test_lznt1_spec_example),
        cmocka_unit_test(test_lznt1_chunks_and_errors),
        cmocka_unit_test(test_huffman_spec_example),
        cmocka_unit_test(test_huffman_matches_and_blocks),
        cmocka_unit_test(test_huffman_bad_tables),
        cmocka_unit_test(test_dispatch_and_messages),
        cmocka_unit_test(test_corpus_compressed_buffers),
    };
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
