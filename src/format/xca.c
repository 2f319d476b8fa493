/* Entry point over the [MS-XCA] decoders, chosen by Windows' COMPRESSION_FORMAT_* number, and
 * the messages for their return codes. */
#include "format/xca.h"

int etw_xca_decompress(int format, const uint8_t *in, size_t in_n, uint8_t *out, size_t out_cap,
                       size_t *out_n)
{
    *out_n = 0;
    switch (format) {
    case ETW_XCA_XPRESS:
        return etw_xca_lz77_decompress(in, in_n, out, out_cap, out_n);
    case ETW_XCA_XPRESS_HUFF:
        return etw_xca_huffman_decompress(in, in_n, out, out_cap, out_n);
    case ETW_XCA_LZNT1:
        return etw_xca_lznt1_decompress(in, in_n, out, out_cap, out_n);
    default:
        return ETW_XCA_EFORMAT;
    }
}

const char *etw_xca_strerror(int code)
{
    switch (code) {
    case ETW_XCA_OK:
        return "success";
    case ETW_XCA_ECORRUPT:
        return "compressed data is corrupt or truncated";
    case ETW_XCA_EOVERFLOW:
        return "decompressed data is larger than the output buffer";
    case ETW_XCA_EFORMAT:
        return "unsupported compression format";
    default:
        return "unknown decompression error";
    }
}
