/* Fuzz target for etw_xca_decompress. Input: byte 0 picks the format (low 2 bits: LZNT1,
 * XPRESS, XPRESS_HUFF, XPRESS) and a capacity scale (bits 2-3); bytes 1-2 are the output
 * capacity (little-endian, shifted left by the scale, so up to 512 KiB); the rest is the
 * compressed stream. Besides memory safety (run under ASan/UBSan) it checks the decoder's
 * promises and aborts if one breaks: *out_n within capacity and 0 on error; for the
 * self-terminating formats, decoding again into exactly *out_n bytes gives the same bytes and
 * one byte less overflows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/xca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int formats[4] = {ETW_XCA_LZNT1, ETW_XCA_XPRESS, ETW_XCA_XPRESS_HUFF,
                                   ETW_XCA_XPRESS};
    if (size < 3)
        return 0;
    int format = formats[data[0] & 3];
    size_t cap = (size_t)(data[1] | (data[2] << 8)) << ((data[0] >> 2) & 3);
    const uint8_t *in = data + 3;
    size_t in_n = size - 3;

    /* Exactly sized heap blocks, so ASan flags a single byte written past the capacity. */
    uint8_t *out = malloc(cap ? cap : 1);
    if (!out)
        return 0;
    size_t out_n = (size_t)-1;
    int rc = etw_xca_decompress(format, in, in_n, cap ? out : NULL, cap, &out_n);
    if (rc != ETW_XCA_OK && rc != ETW_XCA_ECORRUPT && rc != ETW_XCA_EOVERFLOW)
        abort();
    if (rc != ETW_XCA_OK ? out_n != 0 : out_n > cap)
        abort();

    if (rc == ETW_XCA_OK && format != ETW_XCA_XPRESS_HUFF) {
        uint8_t *again = malloc(out_n ? out_n : 1);
        if (again) {
            size_t n2 = 0;
            if (etw_xca_decompress(format, in, in_n, out_n ? again : NULL, out_n, &n2) !=
                    ETW_XCA_OK ||
                n2 != out_n || memcmp(again, out, out_n) != 0)
                abort();
            if (out_n > 0 &&
                etw_xca_decompress(format, in, in_n, again, out_n - 1, &n2) != ETW_XCA_EOVERFLOW)
                abort();
            free(again);
        }
    }
    free(out);
    return 0;
}
