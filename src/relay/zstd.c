/* zstd for relay frames (see zstd.h). One-shot calls with no shared context, so every
 * frame stands alone and can be resent after a reconnect as it is. */
#include "relay/zstd.h"

#ifdef ETWIRE_HAVE_ZSTD
#include <zstd.h>

int relay_zstd_available(void)
{
    return 1;
}

size_t relay_zstd_compress(void *dst, size_t cap, const void *src, size_t n, int level)
{
    size_t r = ZSTD_compress(dst, cap, src, n, level);
    return ZSTD_isError(r) || r >= n ? 0 : r;
}

int relay_zstd_decompress(void *dst, size_t raw_size, const void *src, size_t n)
{
    /* The declared content size, if present, must agree before anything is written. */
    unsigned long long declared = ZSTD_getFrameContentSize(src, n);
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != raw_size)
        return -1;
    size_t r = ZSTD_decompress(dst, raw_size, src, n);
    return !ZSTD_isError(r) && r == raw_size ? 0 : -1;
}

#else

int relay_zstd_available(void)
{
    return 0;
}

size_t relay_zstd_compress(void *dst, size_t cap, const void *src, size_t n, int level)
{
    return 0;
}

int relay_zstd_decompress(void *dst, size_t raw_size, const void *src, size_t n)
{
    return -1;
}

#endif
