/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib and PNG compute it), used to
 * check records that etwire writes and reads back later (the sender's spool). */
#ifndef ETWIRE_BASE_CRC32_H
#define ETWIRE_BASE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc (0 to start) over n bytes. */
uint32_t etw_crc32(uint32_t crc, const void *p, size_t n);

#endif
