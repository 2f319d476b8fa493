/* [MS-XCA] §2.3–2.4 "Plain LZ77" (COMPRESSION_FORMAT_XPRESS) decoder: the format every
 * compressed ETW buffer in the corpus uses (docs/format/compression.md).
 *
 * Stream layout (§2.4.4): a 32-bit little-endian flag word, read from its most significant
 * bit down, announces the next 32 items; a 0 bit is one literal byte, a 1 bit a 16-bit match
 * token (distance - 1 in the top 13 bits, a length code in the low 3). Length code 7 means
 * "longer": the extra length comes from a half byte (two matches share one byte: low nibble
 * first, high nibble for the next), then a byte, then a 16-bit and finally a 32-bit field.
 * The stream ends at a match flag with no input left; the writer pads the last flag word
 * with 1 bits so that this always happens.
 *
 * Two loops share one state. The fast loop runs while a whole flag word's worth of input and
 * a margin of output are left, so it checks neither per item: each step copies the literal
 * run before a match as one 32-byte block and the match in whole 8/16-byte words (no branch
 * on literal-or-match, the costliest misprediction in ETW data, where runs average two
 * literals; none on whether a match's period is under 16 bytes either); past the first 8 KiB
 * of output it no longer checks match distances, which cannot reach further back (6.7% fewer
 * instructions). The careful loop finishes the stream's last few hundred bytes exactly,
 * checking every read and write; it also decides every error, so both agree on what a stream
 * means. */
#include "format/xca.h"

#include "base/bytes.h"

#if defined(__GNUC__) || defined(__clang__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

/* Literal runs are copied as one 32-byte block (a run is at most 32 literals). */
#define LITERAL_BLOCK 32

/* The most input one item can take: a token (2), the byte of a shared length nibble (1), a
 * length byte (1), a 16-bit (2) and a 32-bit (4) length field. */
#define ITEM_IN_MAX 10
/* Input the fast loop needs before it loads a flag word: the word, its 32 items at their
 * largest, and the literal block read past the last one. */
#define FAST_WORD_IN (4 + 32 * ITEM_IN_MAX + LITERAL_BLOCK)
/* Output room at the start of a fast step: a literal block, then a match of up to
 * FAST_MATCH_SLACK bytes with its word-sized over-write (longer ones are checked). */
#define FAST_MATCH_SLACK 32
#define FAST_OUT (LITERAL_BLOCK + FAST_MATCH_SLACK)

/* The flag word lives in the top half of a 64-bit register with a 1 bit just below it; each
 * consumed flag shifts left, so the next flag is always bit 63 and the word is used up exactly
 * when only that sentinel is left. A run of literals is then the count of leading zeros, and
 * the sentinel stops it at the end of the word by itself. */
#define FLAGS_EMPTY ((uint64_t)1 << 63)

/* The shared length nibble waiting for the next long match: NIBBLE_PENDING | nibble, or 0. */
#define NIBBLE_PENDING 16u

static inline unsigned leading_zeros64(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_clzll(x);
#else
    unsigned n = 0;
    while (!(x & FLAGS_EMPTY)) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

static inline uint64_t load_flags(const uint8_t *ip)
{
    return ((uint64_t)etw_rd32(ip) << 32) | ((uint64_t)1 << 31);
}

static inline void copy16(uint8_t *dst, const uint8_t *src)
{
    memcpy(dst, src, 16);
}

static inline void copy8(uint8_t *dst, const uint8_t *src)
{
    memcpy(dst, src, 8);
}

/* For a period d < 8: REPEAT[d] copies the period's d low bytes of a little-endian 64-bit value
 * all over it (the copies do not overlap, so the product has no carries), and STEP[d] is the
 * largest multiple of d that is at most 8, so that each 8-byte store of the pattern starts at
 * the same phase of the period. */
static const uint64_t REPEAT[8] = {
    0,
    0x0101010101010101ull,
    0x0001000100010001ull,
    0x0001000001000001ull,
    0x0000000100000001ull,
    0x0000010000000001ull,
    0x0001000000000001ull,
    0x0100000000000001ull,
};
static const uint8_t STEP[8] = {0, 8, 8, 6, 8, 5, 6, 7};

/* Appends the match [op - dist, +len) with whole-word stores. Requires 1 <= dist <= op - out
 * start and len + FAST_MATCH_SLACK <= room to the output end; writes at most that far. */
static inline uint8_t *fast_match(uint8_t *op, size_t dist, size_t len)
{
    const uint8_t *src = op - dist;
    uint8_t *end = op + len;
    if (LIKELY(dist >= 8)) {
        /* The first 32 bytes as four 8-byte blocks, each reading only bytes already written
         * (it starts at op - dist + 8k and dist >= 8), so periods of 8-15 take the same path
         * as the common far matches: a branch on dist >= 16 here was mispredicted often enough
         * (15% of the matches of net.4.5.2.x86.etl are nearer) that this is 8-10% faster
         * than two 16-byte blocks (docs/benchmarks.md, fourth round). Most matches are done. */
        copy8(op, src);
        copy8(op + 8, src + 8);
        copy8(op + 16, src + 16);
        copy8(op + 24, src + 24);
        if (UNLIKELY(len > 32)) {
            uint8_t *d = op + 32;
            src += 32;
            if (dist >= 16) {
                do {
                    copy16(d, src);
                    d += 16;
                    src += 16;
                } while (d < end);
            } else {
                do {
                    copy8(d, src);
                    d += 8;
                    src += 8;
                } while (d < end);
            }
        }
    } else {
        /* Period shorter than a word: the period's bytes, read as one word (the bytes after
         * them, not written yet, are masked off), spread over 8 bytes by one multiplication,
         * stored every STEP bytes. */
        uint64_t period = etw_rd64(src) & (((uint64_t)1 << (8 * dist)) - 1);
        uint64_t pattern = period * REPEAT[dist];
        size_t step = STEP[dist];
        uint8_t *d = op;
        do {
            etw_wr64(d, pattern);
            d += step;
        } while (d < end);
    }
    return end;
}

/* Careful decoding of a long match's length (code 7, §2.4.4), every read checked. Returns 0 on
 * truncation or on a 16/32-bit field too small to be valid, else the full length
 * (10 .. 2^32 + 2). */
static uint64_t long_match_length(const uint8_t **ipp, const uint8_t *ip_end, unsigned *pending)
{
    const uint8_t *ip = *ipp;
    uint64_t len;
    if (*pending) {
        len = *pending & 15u;
        *pending = 0;
    } else {
        if (ip == ip_end)
            return 0;
        len = *ip & 15u;
        *pending = NIBBLE_PENDING | (unsigned)(*ip >> 4);
        ip++;
    }
    if (len == 15) {
        if (ip == ip_end)
            return 0;
        len = *ip++;
        if (len == 255) {
            if (ip_end - ip < 2)
                return 0;
            len = etw_rd16(ip);
            ip += 2;
            if (len == 0) {
                if (ip_end - ip < 4)
                    return 0;
                len = etw_rd32(ip);
                ip += 4;
            }
            /* These two fields hold the whole length minus 3, never less than 15 + 7. */
            if (len < 15 + 7)
                return 0;
            len -= 15 + 7;
        }
        len += 15;
    }
    *ipp = ip;
    return len + 7 + 3;
}

/* The fast loop's state, kept in registers once fast_loop is inlined. */
typedef struct {
    const uint8_t *ip;
    uint8_t *op;
    uint64_t flags;
    unsigned pending;
} lz_state;

/* A match's distance is at most 8192 (13 bits + 1): past the first 8 KiB of output no match can
 * reach before the start, so the fast loop runs in two copies, the first checking distances
 * (and stopping at 8 KiB), the second not. Returns ETW_XCA_OK when the careful loop must take
 * over (or, with `checked`, the second copy), else an error. */
#define MAX_DISTANCE 8192u

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

static ALWAYS_INLINE int fast_loop(lz_state *st, const uint8_t *out, const uint8_t *ip_end,
                                   uint8_t *op_end, const int checked)
{
    const uint8_t *ip = st->ip;
    uint8_t *op = st->op;
    uint64_t flags = st->flags;
    unsigned pending = st->pending;
    int rc = ETW_XCA_OK;
    /* A flag word is loaded only with FAST_WORD_IN bytes of input left, which its items
     * cannot use up, and each step starts with FAST_OUT bytes of output room. */
    for (;;) {
        if (flags == FLAGS_EMPTY) {
            if ((size_t)(ip_end - ip) < FAST_WORD_IN)
                break;
            flags = load_flags(ip);
            ip += 4;
        }
        if (UNLIKELY((size_t)(op_end - op) < FAST_OUT))
            break;
        if (checked && (size_t)(op - out) >= MAX_DISTANCE)
            break;
        /* The literals before the next match (often none), copied as one block. */
        unsigned run = leading_zeros64(flags);
        memcpy(op, ip, LITERAL_BLOCK);
        op += run;
        ip += run;
        flags <<= run;
        if (UNLIKELY(flags == FLAGS_EMPTY))
            continue; /* the word ended in literals */

        flags <<= 1;
        unsigned token = etw_rd16(ip);
        ip += 2;
        size_t dist = (size_t)(token >> 3) + 1;
        /* Length code 7 (a third of the matches in ETW data, in no pattern) takes the shared
         * nibble: computed with masks, not branches, for every match and used only by those.
         * The nibble byte is read either way (the input margin covers it). */
        unsigned code = token & 7u, byte = *ip;
        unsigned is_long = 0u - ((code + 1u) >> 3);   /* all ones for code 7 */
        unsigned have = 0u - (pending >> 4);           /* all ones: a nibble is waiting */
        unsigned use_old = is_long & have, use_new = is_long & ~have;
        unsigned nibble = ((pending & use_old) | (byte & use_new)) & 15u;
        pending = (pending & ~is_long) | ((NIBBLE_PENDING | (byte >> 4)) & use_new);
        ip += use_new & 1u;
        uint64_t len = code + 3u + nibble;
        if (UNLIKELY(nibble == 15)) {
            len = *ip++;
            if (len == 255) {
                len = etw_rd16(ip);
                ip += 2;
                if (len == 0) {
                    len = etw_rd32(ip);
                    ip += 4;
                }
                if (len < 15 + 7) {
                    rc = ETW_XCA_ECORRUPT;
                    break;
                }
                len -= 15 + 7;
            }
            len += 15 + 7 + 3;
        }
        if (checked && UNLIKELY(dist > (size_t)(op - out))) {
            rc = ETW_XCA_ECORRUPT; /* reaches before the start of the output */
            break;
        }
        size_t room = (size_t)(op_end - op); /* >= FAST_MATCH_SLACK after the literals */
        if (UNLIKELY(len > room - FAST_MATCH_SLACK)) {
            if (len > room) {
                rc = ETW_XCA_EOVERFLOW;
                break;
            }
            op = etw_xca_copy_match(op, op_end, dist, (size_t)len);
            continue;
        }
        op = fast_match(op, dist, (size_t)len);
    }
    st->ip = ip;
    st->op = op;
    st->flags = flags;
    st->pending = pending;
    return rc;
}

int etw_xca_lz77_decompress(const uint8_t *in, size_t in_n, uint8_t *out, size_t out_cap,
                            size_t *out_n)
{
    static uint8_t no_output;
    *out_n = 0;
    if (in == NULL || in_n < 4)
        return ETW_XCA_ECORRUPT; /* not even the first flag word */
    if (out == NULL) {
        if (out_cap != 0)
            return ETW_XCA_EOVERFLOW;
        out = &no_output; /* keeps the pointer arithmetic below defined */
    }

    const uint8_t *const ip_end = in + in_n;
    uint8_t *const op_end = out + out_cap;
    lz_state st = {in, out, FLAGS_EMPTY, 0};
    int rc = fast_loop(&st, out, ip_end, op_end, 1);
    if (rc == ETW_XCA_OK && (size_t)(st.op - out) >= MAX_DISTANCE)
        rc = fast_loop(&st, out, ip_end, op_end, 0);
    if (rc != ETW_XCA_OK)
        return rc;
    const uint8_t *ip = st.ip;
    uint8_t *op = st.op;
    uint64_t flags = st.flags;
    unsigned pending = st.pending;

    /* Careful loop: the end of the stream, every read and write checked. */
    for (;;) {
        if (flags == FLAGS_EMPTY) {
            if (UNLIKELY(ip_end - ip < 4))
                return ETW_XCA_ECORRUPT;
            flags = load_flags(ip);
            ip += 4;
        }

        if (!(flags & FLAGS_EMPTY)) {
            /* A run of 0 bits: that many literals in a row (at most 32). */
            unsigned run = leading_zeros64(flags);
            if (ip_end - ip >= LITERAL_BLOCK && op_end - op >= LITERAL_BLOCK) {
                memcpy(op, ip, LITERAL_BLOCK);
            } else {
                size_t avail_in = (size_t)(ip_end - ip), avail_out = (size_t)(op_end - op);
                if (run > avail_in || run > avail_out) {
                    /* The first literal that cannot be done decides the error. */
                    return avail_in <= avail_out ? ETW_XCA_ECORRUPT : ETW_XCA_EOVERFLOW;
                }
                memcpy(op, ip, run);
            }
            ip += run;
            op += run;
            flags <<= run;
            continue;
        }

        flags <<= 1;
        if (ip_end - ip < 2) {
            if (ip == ip_end) {
                *out_n = (size_t)(op - out);
                return ETW_XCA_OK;
            }
            return ETW_XCA_ECORRUPT;
        }
        unsigned token = etw_rd16(ip);
        ip += 2;
        size_t dist = (size_t)(token >> 3) + 1;
        uint64_t len = (token & 7u) + 3u;
        if ((token & 7u) == 7u) {
            len = long_match_length(&ip, ip_end, &pending);
            if (len == 0)
                return ETW_XCA_ECORRUPT;
        }
        if (dist > (size_t)(op - out))
            return ETW_XCA_ECORRUPT; /* reaches before the start of the output */
        if (len > (uint64_t)(op_end - op))
            return ETW_XCA_EOVERFLOW;
        op = etw_xca_copy_match(op, op_end, dist, (size_t)len);
    }
}
