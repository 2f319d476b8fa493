/* Test-only [MS-XCA] §2.3 Plain LZ77 writer and a small greedy compressor built on it, so that
 * decoder tests can round-trip any data and hand-place every kind of item (literal, match of
 * any length encoding, flag-word boundary). Not tuned: clarity over ratio and speed. */
#ifndef ETWIRE_TESTS_XCA_COMPRESS_H
#define ETWIRE_TESTS_XCA_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

/* Item-level writer. Errors (output full, invalid match) latch `failed`. */
typedef struct {
    uint8_t *out;
    size_t cap;
    size_t pos;      /* next free byte */
    size_t flag_pos; /* where the current flag word goes */
    uint32_t flags;  /* flags collected so far, newest in bit 0 */
    unsigned nflags; /* how many */
    size_t half_pos; /* byte whose high nibble is free for the next long match; 0 = none */
    int failed;
} etw_test_lz77_writer;

void etw_test_lz77_writer_init(etw_test_lz77_writer *w, uint8_t *out, size_t cap);
void etw_test_lz77_put_literal(etw_test_lz77_writer *w, uint8_t byte);
/* dist 1..8192, len 3..2^32+2 (the longest the format can say). */
void etw_test_lz77_put_match(etw_test_lz77_writer *w, size_t dist, uint64_t len);
/* Pads the last flag word with 1 bits (the end marker). Returns the stream size, 0 on failure. */
size_t etw_test_lz77_finish(etw_test_lz77_writer *w);

typedef struct {
    size_t max_distance; /* 1..8192; 0 means 8192 */
    uint64_t max_length; /* longest match emitted; 0 means unlimited */
    unsigned chain;      /* candidates tried per position; 0 = literals only */
} etw_test_lz77_opts;

/* Worst-case compressed size of n bytes. */
size_t etw_test_lz77_bound(size_t n);
/* Greedy hash-chain compressor. opts may be NULL (defaults: 8192, unlimited, 16). Returns the
 * compressed size, or 0 if cap is too small or memory ran out. */
size_t etw_test_lz77_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                              const etw_test_lz77_opts *opts);

#endif
