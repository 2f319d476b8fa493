/* String access inside schema blobs (see tei_text.h). */
#include "tdh/decode/tei_text.h"

#include "base/bytes.h"
#include "base/text.h"
#include "tdh/decode/text_out.h"

size_t etw_blob_wstr(const void *blob, size_t n, uint32_t off, const uint8_t **s)
{
    if (!blob || off == 0 || off >= n)
        return 0;
    *s = (const uint8_t *)blob + off;
    return etw_utf16_span(*s, n - off, NULL);
}

int etw_blob_wstr_append(etw_strbuf *out, const void *blob, size_t n, uint32_t off, int esc)
{
    const uint8_t *s;
    size_t len = etw_blob_wstr(blob, n, off, &s);
    if (!len)
        return 0;
    etw_text_utf16(out, s, len, esc);
    return 1;
}

int etw_blob_wstr_eq(const void *blob, size_t n, uint32_t off, const WCHAR *w)
{
    const uint8_t *s;
    size_t len = etw_blob_wstr(blob, n, off, &s), i = 0;
    if (!w)
        return 0;
    for (; i < len / 2; i++)
        if (w[i] != etw_rd16(s + 2 * i))
            return 0;
    return w[i] == 0;
}
