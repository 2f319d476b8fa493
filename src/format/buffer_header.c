/* WMI_BUFFER_HEADER parsing (docs/etw-format.md B.2, B.3 and part E). */
#include "format/buffer_header.h"

#include <etwire/evntrace.h>

#include "base/bytes.h"

etw_status etw_buffer_header_parse(const uint8_t *p, size_t n, etw_buffer_header *out)
{
    if (n < ETW_BUFFER_HEADER_SIZE)
        return ETW_E_BUF_SHORT;
    out->buffer_size = etw_rd32(p + 0x00);
    out->saved_offset = etw_rd32(p + 0x04);
    out->timestamp = etw_rd64(p + 0x10);
    out->sequence = etw_rd64(p + 0x18);
    out->flags = etw_rd16(p + 0x34);
    out->type = etw_rd16(p + 0x36);
    /* With flag 0x20 the context is {u16 ProcessorIndex, u16 LoggerId}; older writers (Vista,
     * Windows 7) store {u8 ProcessorNumber, u8 Alignment = 8, u16 LoggerId}. */
    if (out->flags & ETW_BUFFER_FLAG_PROC_INDEX)
        out->processor = etw_rd16(p + 0x28) & ETW_PROCESSOR_INDEX_MASK;
    else
        out->processor = p[0x28];
    out->logger_id = etw_rd16(p + 0x2A);
    out->state = etw_rd32(p + 0x2C);
    out->filled = etw_rd32(p + 0x30);
    if (out->buffer_size < ETW_BUFFER_HEADER_SIZE)
        return ETW_E_BUF_SIZE;
    if (out->filled < ETW_BUFFER_HEADER_SIZE)
        return ETW_E_BUF_FILLED;
    /* A compressed buffer's filled offset is its decompressed size and may exceed what is
     * stored; everything else must lie inside the bytes we were given. */
    if (!(out->flags & ETW_BUFFER_FLAG_COMPRESSED) &&
        (out->filled > n || out->filled > out->buffer_size))
        return ETW_E_BUF_FILLED;
    return ETW_OK;
}
