/* Optional zstd compression of BUFFER frames (docs/wire-protocol.md §5). Without
 * ETWIRE_HAVE_ZSTD, relay_zstd_available() is 0 and neither side negotiates it. */
#ifndef ETWIRE_RELAY_ZSTD_H
#define ETWIRE_RELAY_ZSTD_H

#include <stddef.h>
#include <stdint.h>

int relay_zstd_available(void);
/* Compresses src into dst (cap bytes); returns the size, or 0 if it did not fit or saved nothing. */
size_t relay_zstd_compress(void *dst, size_t cap, const void *src, size_t n, int level);
/* Decompresses one frame into exactly raw_size bytes; 0 on success, -1 otherwise. */
int relay_zstd_decompress(void *dst, size_t raw_size, const void *src, size_t n);

#endif
