/* [MS-XCA] §2.5–2.6 LZNT1 (COMPRESSION_FORMAT_LZNT1) decoder. No compressed ETW buffer in the
 * corpus uses it, but the log-file header may announce it, so it is decoded rather than
 * refused.
 *
 * Stream layout: chunks, each with a 16-bit header: bits 0-11 = chunk data bytes - 1, bits
 * 12-14 = signature 3, bit 15 = compressed. A zero header (or the end of input) ends the
 * stream. An uncompressed chunk is copied as is. A compressed chunk yields at most 4096 bytes:
 * a flag byte (read from bit 0 up) announces 8 items, a 0 bit a literal byte, a 1 bit a 16-bit
 * token whose split between distance and length depends on how much of the chunk is already
 * decoded: the distance field is just wide enough (at least 4 bits) to reach the chunk start.
 * Matches never reach into an earlier chunk. Chunks are concatenated without padding. */
#include "format/xca.h"

#include "base/bytes.h"

#define CHUNK_OUTPUT 4096u
#define SIGNATURE 3u

/* Decodes one compressed chunk's data p[0..n) to op (room: op_end). Returns the new output
 * position, or NULL with *rc set. */
static uint8_t *chunk(const uint8_t *p, size_t n, uint8_t *op, uint8_t *op_end, int *rc)
{
    uint8_t *const start = op;
    size_t i = 0;
    while (i < n) {
        unsigned flags = p[i++];
        for (unsigned bit = 0; bit < 8 && i < n; bit++, flags >>= 1) {
            size_t done = (size_t)(op - start);
            if (!(flags & 1)) {
                if (done >= CHUNK_OUTPUT || op == op_end) {
                    *rc = done >= CHUNK_OUTPUT ? ETW_XCA_ECORRUPT : ETW_XCA_EOVERFLOW;
                    return NULL;
                }
                *op++ = p[i++];
                continue;
            }
            if (n - i < 2) {
                *rc = ETW_XCA_ECORRUPT;
                return NULL;
            }
            unsigned token = etw_rd16(p + i);
            i += 2;
            unsigned dist_bits = 4;
            while (((size_t)1 << dist_bits) < done)
                dist_bits++;
            unsigned len_bits = 16 - dist_bits;
            size_t dist = (size_t)(token >> len_bits) + 1;
            size_t len = (size_t)(token & ((1u << len_bits) - 1)) + 3;
            if (dist > done || len > CHUNK_OUTPUT - done) {
                *rc = ETW_XCA_ECORRUPT; /* before the chunk start, or past 4096 bytes */
                return NULL;
            }
            if (len > (size_t)(op_end - op)) {
                *rc = ETW_XCA_EOVERFLOW;
                return NULL;
            }
            op = etw_xca_copy_match(op, op_end, dist, len);
        }
    }
    return op;
}

int etw_xca_lznt1_decompress(const uint8_t *in, size_t in_n, uint8_t *out, size_t out_cap,
                             size_t *out_n)
{
    static uint8_t no_output;
    *out_n = 0;
    if (in == NULL && in_n != 0)
        return ETW_XCA_ECORRUPT;
    if (out == NULL) {
        if (out_cap != 0)
            return ETW_XCA_EOVERFLOW;
        out = &no_output;
    }
    uint8_t *op = out;
    uint8_t *const op_end = out + out_cap;
    size_t pos = 0;
    while (pos < in_n) {
        if (in_n - pos < 2)
            return ETW_XCA_ECORRUPT;
        unsigned header = etw_rd16(in + pos);
        pos += 2;
        if (header == 0)
            break;
        if (((header >> 12) & 7u) != SIGNATURE)
            return ETW_XCA_ECORRUPT;
        size_t n = (header & 0xFFFu) + 1;
        if (n > in_n - pos)
            return ETW_XCA_ECORRUPT;
        if (header & 0x8000u) {
            int rc = ETW_XCA_OK;
            op = chunk(in + pos, n, op, op_end, &rc);
            if (op == NULL)
                return rc;
        } else {
            if (n > (size_t)(op_end - op))
                return ETW_XCA_EOVERFLOW;
            memcpy(op, in + pos, n);
            op += n;
        }
        pos += n;
    }
    *out_n = (size_t)(op - out);
    return ETW_XCA_OK;
}
