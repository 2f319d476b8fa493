/* The record walk a buffer gets when a buffer stream takes it (and when a compressed stream
 * buffer is decompressed): every record's verdict as etw_record_parse would give it, at the
 * cost of the file path's inline parse (format/record_hot.h) rather than a call per record.
 * The common good records are recognised inline from their marker, type, size and (EVENT_HEADER
 * extended items, WPP options) the few words that decide; anything not recognised so (bad
 * records, kernel records with PEBS or PMC data, a big-endian host) goes to etw_record_check,
 * which gives the reference's verdict and code. So the walk accepts and refuses exactly what
 * the old one did (tests/session/test_record_walk.c compares it with etw_record_parse). */
#ifndef ETWIRE_FORMAT_RECORD_WALK_H
#define ETWIRE_FORMAT_RECORD_WALK_H

#include <stdint.h>
#include <string.h>

#include "base/bytes.h"
#include "format/buffer_header.h"
#include "format/record.h"
#include "format/record_hot.h"

/* The size of the good record at p[0..n) when it is one of the common kinds; 0 otherwise
 * (the caller then asks etw_record_check). A size given here is the one etw_record_parse
 * finds, and the record is one it accepts. */
static inline __attribute__((always_inline)) uint32_t etw_record_walk_size(const uint8_t *p,
                                                                           size_t n)
{
#if ETW_RECORD_HOT
    if (n < 8)
        return 0;
    uint16_t w0, w2, w4, w6;
    memcpy(&w0, p, 2);
    memcpy(&w2, p + 2, 2);
    memcpy(&w4, p + 4, 2);
    memcpy(&w6, p + 6, 2);
    uint8_t marker = (uint8_t)(w2 >> 8);
    uint32_t fixed;
    uint16_t size = w0;
    if ((marker & 0xC0u) != 0xC0u) {
        if ((marker & 0x90u) != 0x90u)
            return 0;
        /* WPP message: the optional items fit in the record. */
        uint32_t items = ((w6 & ETW_MSG_SEQUENCE) ? 4u : 0u) +
                         ((w6 & ETW_MSG_COMPONENTID) ? 4u : (w6 & ETW_MSG_GUID) ? 16u : 0u) +
                         ((w6 & (ETW_MSG_TIMESTAMP | ETW_MSG_PERF_TIMESTAMP)) ? 8u : 0u) +
                         ((w6 & ETW_MSG_SYSTEMINFO) ? 8u : 0u);
        return size >= 8u + items && size <= n ? size : 0;
    }
    switch (w2 & 0xFFu) {
    case 0x01:
    case 0x02: fixed = 0x20; goto kernel;
    case 0x03:
    case 0x04: fixed = 0x18; goto kernel;
    case 0x10:
    case 0x11: fixed = 0x10; goto kernel;
    case 0x12:
    case 0x13:
        if (size < 0x50u || size > n)
            return 0;
        if (w4 & EVENT_HEADER_FLAG_EXTENDED_INFO) {
            uint32_t end;
            uint16_t count;
            if (!etw_record_hot_items(p, size, &end, &count))
                return 0;
        }
        return size;
    case 0x0A:
    case 0x14: fixed = 0x30; break;
    case 0x0B:
    case 0x15: fixed = 0x48; break;
    case 0x0C:
    case 0x0D:
    case 0x0E: fixed = 0x08; break; /* TIMED, ERROR, WNODE: size only */
    default: return 0;
    }
    return size >= fixed && size <= n ? size : 0;
kernel:
    size = w4;
    /* PEBS index or PMC counters (rare): the reference checks they fit. */
    if (w0 & 0x8700u)
        return 0;
    return size >= fixed && size <= n ? size : 0;
#else
    (void)p, (void)n;
    return 0;
#endif
}

/* Walks d's records from the header in 8-byte steps to filled or 0xFFFFFFFF (B.4), d holding
 * at least filled bytes. ETW_OK when every record is good; otherwise the first bad record's
 * code (etw_record_parse's) and its offset in *bad_at. */
static inline etw_status etw_records_walk(const uint8_t *d, uint32_t filled, uint32_t *bad_at)
{
    uint32_t off = ETW_BUFFER_HEADER_SIZE;
    while (off + 4 <= filled && etw_rd32(d + off) != 0xFFFFFFFFu) {
        uint32_t size = etw_record_walk_size(d + off, filled - off);
        if (__builtin_expect(size == 0, 0)) {
            uint16_t checked;
            etw_status st = etw_record_check(d + off, filled - off, &checked);
            if (st != ETW_OK) {
                *bad_at = off;
                return st;
            }
            size = checked;
        }
        off += (uint32_t)etw_align8(size);
    }
    return ETW_OK;
}

#endif
