/* Decompressors for the [MS-XCA] formats an ETW writer may use for compressed buffers
 * (buffer flag 0x40, see docs/format/compression.md): Plain LZ77 ("XPRESS"), LZ77+Huffman
 * ("XPRESS_HUFF") and LZNT1. Pure functions: no allocation, no I/O, no global state.
 *
 * Contract shared by every format:
 *  - never reads in[in_n] or beyond, never writes out[out_cap] or beyond;
 *  - bytes of out between *out_n and out_cap may be overwritten (the fast copy paths write
 *    whole words), so callers must not keep data there;
 *  - always terminates: every loop iteration consumes input or produces output, both bounded;
 *  - on error *out_n is 0 and the output content is unspecified. */
#ifndef ETWIRE_FORMAT_XCA_H
#define ETWIRE_FORMAT_XCA_H

#include <stddef.h>
#include <stdint.h>

/* Values are the Windows COMPRESSION_FORMAT_* numbers. */
enum { ETW_XCA_LZNT1 = 2, ETW_XCA_XPRESS = 3, ETW_XCA_XPRESS_HUFF = 4 };

enum {
    ETW_XCA_OK = 0,
    ETW_XCA_ECORRUPT = -1,  /* malformed or truncated stream, or a match before the output start */
    ETW_XCA_EOVERFLOW = -2, /* the stream decodes to more than out_cap bytes */
    ETW_XCA_EFORMAT = -3,   /* unknown format number */
};

/* Decompress in[0..in_n) into out[0..out_cap) (the two must not overlap; out may be NULL only
 * when out_cap is 0). On success *out_n = bytes written.
 * XPRESS and LZNT1 streams carry their own end; an XPRESS_HUFF stream does not, so for it
 * out_cap must be the exact uncompressed size (as Windows requires too). */
int etw_xca_decompress(int format, const uint8_t *in, size_t in_n, uint8_t *out, size_t out_cap,
                       size_t *out_n);

/* Static English message for a return code of etw_xca_decompress. */
const char *etw_xca_strerror(int code);

/* The per-format decoders behind etw_xca_decompress (same contract). */
int etw_xca_lz77_decompress(const uint8_t *in, size_t in_n, uint8_t *out, size_t out_cap,
                            size_t *out_n);
int etw_xca_huffman_decompress(const uint8_t *in, size_t in_n, uint8_t *out, size_t out_cap,
                               size_t *out_n);
int etw_xca_lznt1_decompress(const uint8_t *in, size_t in_n, uint8_t *out, size_t out_cap,
                             size_t *out_n);

/* ---- Internal: the match copy shared by the three decoders (kept inline for speed). ---- */

#include <string.h>

/* Bytes of slack past a match's end that let the copy below write whole words. */
#define ETW_XCA_COPY_SLACK 16

/* Appends len bytes copied from dist bytes back (LZ77 semantics: the source may overlap the
 * bytes being written, which repeats the last dist bytes). Requires 1 <= dist <= op - start of
 * output and len <= op_end - op; the caller checks both. Returns the new output position.
 * With ETW_XCA_COPY_SLACK bytes of room past the match it writes whole 8/16-byte words and may
 * scribble on up to that many bytes past the match end (they are rewritten later or lie past
 * the final output size); otherwise it copies exactly. */
static inline uint8_t *etw_xca_copy_match(uint8_t *op, uint8_t *op_end, size_t dist, size_t len)
{
    const uint8_t *src = op - dist;
    uint8_t *end = op + len;
    if ((size_t)(op_end - end) >= ETW_XCA_COPY_SLACK) {
        if (dist >= 16) {
            /* The common case in ETW data: each 16-byte block reads only bytes already written. */
            do {
                memcpy(op, src, 16);
                op += 16;
                src += 16;
            } while (op < end);
        } else if (dist >= 8) {
            do {
                memcpy(op, src, 8);
                op += 8;
                src += 8;
            } while (op < end);
        } else {
            /* Period shorter than a word: build 8 bytes of the repeating pattern, then store
             * it every `step` bytes, step being the largest multiple of the period <= 8, so
             * that each store starts at the same phase of the pattern. */
            uint8_t pattern[8];
            for (size_t i = 0; i < 8; i++)
                pattern[i] = i < dist ? src[i] : pattern[i - dist];
            size_t step = 8 - 8 % dist;
            do {
                memcpy(op, pattern, 8);
                op += step;
            } while (op < end);
        }
        return end;
    }
    /* Near the end of the output: exact copy, never a byte past end. */
    if (dist >= len) {
        memcpy(op, src, len);
    } else {
        while (op < end)
            *op++ = *src++;
    }
    return end;
}

#endif
