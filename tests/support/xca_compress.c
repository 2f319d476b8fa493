/* Test-only Plain LZ77 writer and greedy compressor ([MS-XCA] §2.3); see xca_compress.h. */
#include "xca_compress.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DISTANCE 8192u
#define HASH_BITS 15u

static void put_le(etw_test_lz77_writer *w, size_t at, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        w->out[at + i] = (uint8_t)(v >> (8 * i));
}

static int reserve(etw_test_lz77_writer *w, size_t bytes)
{
    if (w->failed || w->cap - w->pos < bytes) {
        w->failed = 1;
        return 0;
    }
    return 1;
}

void etw_test_lz77_writer_init(etw_test_lz77_writer *w, uint8_t *out, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->cap = cap;
    if (reserve(w, 4))
        w->pos = 4; /* the first flag word */
}

/* Records one flag; after the 32nd the word is stored and the next one reserved right away,
 * because the reader fetches a flag word before the item it describes. */
static void push_flag(etw_test_lz77_writer *w, unsigned bit)
{
    w->flags = (w->flags << 1) | bit;
    if (++w->nflags < 32)
        return;
    put_le(w, w->flag_pos, w->flags, 4);
    w->flags = 0;
    w->nflags = 0;
    if (reserve(w, 4)) {
        w->flag_pos = w->pos;
        w->pos += 4;
    }
}

void etw_test_lz77_put_literal(etw_test_lz77_writer *w, uint8_t byte)
{
    if (!reserve(w, 1))
        return;
    w->out[w->pos++] = byte;
    push_flag(w, 0);
}

void etw_test_lz77_put_match(etw_test_lz77_writer *w, size_t dist, uint64_t len)
{
    if (dist < 1 || dist > MAX_DISTANCE || len < 3 || len > (uint64_t)UINT32_MAX + 3) {
        w->failed = 1;
        return;
    }
    uint64_t rest = len - 3;
    size_t need = 2;
    if (rest >= 7)
        need += (w->half_pos == 0) + (rest >= 7 + 15 ? 1 : 0) +
                (rest >= 7 + 15 + 255 ? (len - 3 <= 0xFFFF ? 2 : 6) : 0);
    if (!reserve(w, need))
        return;
    put_le(w, w->pos, ((dist - 1) << 3) | (rest < 7 ? rest : 7), 2);
    w->pos += 2;
    if (rest >= 7) {
        rest -= 7;
        uint8_t nibble = (uint8_t)(rest < 15 ? rest : 15);
        if (w->half_pos == 0) {
            w->half_pos = w->pos;
            w->out[w->pos++] = nibble;
        } else {
            w->out[w->half_pos] |= (uint8_t)(nibble << 4);
            w->half_pos = 0;
        }
        if (rest >= 15) {
            rest -= 15;
            if (rest < 255) {
                w->out[w->pos++] = (uint8_t)rest;
            } else {
                w->out[w->pos++] = 255;
                uint64_t whole = len - 3; /* the wide fields carry the length minus 3 */
                if (whole <= 0xFFFF) {
                    put_le(w, w->pos, whole, 2);
                    w->pos += 2;
                } else {
                    put_le(w, w->pos, 0, 2);
                    put_le(w, w->pos + 2, whole, 4);
                    w->pos += 6;
                }
            }
        }
    }
    push_flag(w, 1);
}

size_t etw_test_lz77_finish(etw_test_lz77_writer *w)
{
    if (w->failed)
        return 0;
    unsigned free_bits = 32 - w->nflags;
    uint32_t word = free_bits == 32 ? 0xFFFFFFFFu
                                    : (w->flags << free_bits) | ((1u << free_bits) - 1u);
    put_le(w, w->flag_pos, word, 4);
    return w->pos;
}

size_t etw_test_lz77_bound(size_t n)
{
    return n + 4 * (n / 32 + 2);
}

static uint32_t hash3(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

size_t etw_test_lz77_compress(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                              const etw_test_lz77_opts *opts)
{
    etw_test_lz77_opts o = {MAX_DISTANCE, 0, 16};
    if (opts)
        o = *opts;
    if (o.max_distance == 0 || o.max_distance > MAX_DISTANCE)
        o.max_distance = MAX_DISTANCE;
    if (o.max_length == 0 || o.max_length > (uint64_t)UINT32_MAX + 3)
        o.max_length = (uint64_t)UINT32_MAX + 3;

    size_t *head = malloc(sizeof(size_t) << HASH_BITS);
    size_t *prev = malloc(sizeof(size_t) * (n ? n : 1));
    if (!head || !prev) {
        free(head);
        free(prev);
        return 0;
    }
    for (size_t i = 0; i < ((size_t)1 << HASH_BITS); i++)
        head[i] = SIZE_MAX;

    etw_test_lz77_writer w;
    etw_test_lz77_writer_init(&w, out, cap);
    size_t i = 0, inserted = 0;
    while (i < n) {
        /* Index every position before i so chains see all earlier candidates. */
        for (; inserted < i && inserted + 3 <= n; inserted++) {
            uint32_t h = hash3(in + inserted);
            prev[inserted] = head[h];
            head[h] = inserted;
        }
        size_t best_len = 0, best_dist = 0;
        if (o.chain && i + 3 <= n) {
            size_t cand = head[hash3(in + i)];
            for (unsigned tries = 0; cand != SIZE_MAX && tries < o.chain; tries++) {
                size_t dist = i - cand;
                if (dist > o.max_distance)
                    break;
                size_t len = 0;
                while (i + len < n && len < o.max_length && in[cand + len] == in[i + len])
                    len++;
                if (len > best_len) {
                    best_len = len;
                    best_dist = dist;
                }
                cand = prev[cand];
            }
        }
        if (best_len >= 3) {
            etw_test_lz77_put_match(&w, best_dist, best_len);
            i += best_len;
        } else {
            etw_test_lz77_put_literal(&w, in[i]);
            i++;
        }
        if (w.failed)
            break;
    }
    free(head);
    free(prev);
    return etw_test_lz77_finish(&w);
}
