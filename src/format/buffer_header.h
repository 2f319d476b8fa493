/* The 72-byte WMI_BUFFER_HEADER that starts every ETW buffer (docs/etw-format.md B.2, B.3). */
#ifndef ETWIRE_FORMAT_BUFFER_HEADER_H
#define ETWIRE_FORMAT_BUFFER_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

#define ETW_BUFFER_HEADER_SIZE 72u
#define ETW_BUFFER_TYPE_HEADER 4u
#define ETW_MAX_BUFFER_SIZE (16u << 20) /* the largest buffer a session can be given */

typedef struct etw_buffer_header {
    uint32_t buffer_size;  /* +0x00 bytes this buffer occupies in the file or stream */
    uint32_t saved_offset; /* +0x04 unreliable: 0 in old header buffers (part E) */
    uint64_t timestamp;    /* +0x10 flush time, raw session clock */
    uint64_t sequence;     /* +0x18 */
    uint16_t processor;    /* from +0x28, layout chosen by flag 0x20 (part E) */
    uint16_t logger_id;    /* +0x2A */
    uint32_t state;        /* +0x2C */
    uint32_t filled;       /* +0x30 end of valid data, header included (decompressed size) */
    uint16_t flags;        /* +0x34 ETW_BUFFER_FLAG_* */
    uint16_t type;         /* +0x36 ETW_BUFFER_TYPE_* */
} etw_buffer_header;

/* Parses the header of a buffer of n bytes; reads only its first min(n, 72) bytes (so a caller
 * may pass just the header read from a file, with n the bytes the buffer has there). Checks
 * only what the header alone can tell: n >= 72 and, for an uncompressed buffer,
 * 72 <= filled <= min(n, buffer_size). */
etw_status etw_buffer_header_parse(const uint8_t *p, size_t n, etw_buffer_header *out);

#endif
