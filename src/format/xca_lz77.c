/* [MS-XCA] §2.3–2.4 "Plain LZ77" (COMPRESSION_FORMAT_XPRESS) decoder: the format every
 * compressed ETW buffer in the corpus uses (docs/format/compression.md).
 *
 * Stream layout (§2.4.4): a 32-bit little-endian flag word, read from its most significant
 * bit down, announces the next 32 items; a 0 bit is one literal byte, a 1 bit a 16-bit match
 * token (distance - 1 in the top 13 bits, a length code in the low 3). Length code 7 means
 * "longer": the extra length comes from a half byte (two matches share one byte: low nibble
 * first, high nibble for the next), then a byte, then a 16-bit and finally a 32-bit field.
 * The stream ends at a match flag with no input left; the writer pads the last flag word
 * with 1 bits so that this always happens. */
#include "format/xca.h"

#include "base/bytes.h"

#if defined(__GNUC__) || defined(__clang__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

/* Literal runs are copied as one 32-byte block when both buffers have that much room. */
#define LITERAL_BLOCK 32

/* Decodes the length of a match whose token has length code 7 (§2.4.4). *half remembers the
 * byte whose high nibble the next such match will use. Returns 0 on truncation or on a 16/32-bit
 * field too small to be valid, else the full length (10 .. 2^32 + 2). */
static uint64_t long_match_length(const uint8_t **ipp, const uint8_t *ip_end, const uint8_t **half)
{
    const uint8_t *ip = *ipp;
    uint64_t len;
    if (*half == NULL) {
        if (ip == ip_end)
            return 0;
        *half = ip;
        len = *ip++ & 15u;
    } else {
        len = **half >> 4;
        *half = NULL;
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

/* The flag word lives in the top half of a 64-bit register with a 1 bit just below it; each
 * consumed flag shifts left, so the next flag is always bit 63 and the word is used up exactly
 * when only that sentinel is left. A run of literals is then the count of leading zeros, and
 * the sentinel stops it at the end of the word by itself. */
#define FLAGS_EMPTY ((uint64_t)1 << 63)

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

    const uint8_t *ip = in;
    const uint8_t *const ip_end = in + in_n;
    uint8_t *op = out;
    uint8_t *const op_end = out + out_cap;
    const uint8_t *half = NULL;
    uint64_t flags = FLAGS_EMPTY;

    for (;;) {
        if (flags == FLAGS_EMPTY) {
            if (UNLIKELY(ip_end - ip < 4))
                return ETW_XCA_ECORRUPT;
            flags = ((uint64_t)etw_rd32(ip) << 32) | ((uint64_t)1 << 31);
            ip += 4;
        }

        if (!(flags & FLAGS_EMPTY)) {
            /* A run of 0 bits: that many literals in a row (at most 32). */
            unsigned run = leading_zeros64(flags);
            if (LIKELY(ip_end - ip >= LITERAL_BLOCK && op_end - op >= LITERAL_BLOCK)) {
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
        if (UNLIKELY(ip_end - ip < 2)) {
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
        if (UNLIKELY((token & 7u) == 7u)) {
            len = long_match_length(&ip, ip_end, &half);
            if (len == 0)
                return ETW_XCA_ECORRUPT;
        }
        if (UNLIKELY(dist > (size_t)(op - out)))
            return ETW_XCA_ECORRUPT; /* reaches before the start of the output */
        if (UNLIKELY(len > (uint64_t)(op_end - op)))
            return ETW_XCA_EOVERFLOW;
        op = etw_xca_copy_match(op, op_end, dist, (size_t)len);
    }
}
