/* etw_record_parse inline, for the merge's per-event loop (src/session/run.h): the good
 * records of every deliverable kind are parsed here without a call, straight into the
 * etw_record the merge hands over; what it declines (bad records, the undeliverable kinds,
 * kernel records with PEBS or PMC data, a big-endian host) goes to etw_record_parse, the
 * reference, which also reports why a record is bad. A record it takes comes out exactly
 * as etw_record_parse would leave it, with the buffer's context (etw_record_ctx, record.h)
 * written in: with a zero context, byte for byte but for padding (tests/format and
 * fuzz/fuzz_buffer.c compare the two). Layouts: docs/etw-format.md B.5 - B.8. */
#ifndef ETWIRE_FORMAT_RECORD_HOT_H
#define ETWIRE_FORMAT_RECORD_HOT_H

#include <string.h>

#include "format/record.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ETW_RECORD_HOT 1 /* the stored fields are read with memcpy in host order */
#else
#define ETW_RECORD_HOT 0
#endif

/* What etw_record_parse sets beyond the EventHeader: the sizes and places, the kind, and the
 * EVENT_RECORD fields its finish() writes. Always called with mostly constant arguments. */
typedef struct etw_record_hot_tail {
    uint32_t payload_off, ext_off, ext_len, instance_off, wpp_sequence;
    uint16_t hook_id, stored_flags, ext_count;
    uint8_t kind, is64, has_timestamp, pmc_count, has_pebs;
    USHORT flags; /* the consumer's EventHeader.Flags, EXTENDED_INFO added when ext_count */
} etw_record_hot_tail;

static inline __attribute__((always_inline)) void
etw_record_hot_finish(const uint8_t *p, etw_record *rec, uint16_t size, etw_record_hot_tail t,
                      const etw_record_ctx *ctx)
{
    EVENT_RECORD *er = &rec->er;
    er->EventHeader.Size = size;
    er->EventHeader.HeaderType = 0;
    er->EventHeader.Flags = (USHORT)(t.flags | ctx->event_flags |
                                     (t.ext_count ? EVENT_HEADER_FLAG_EXTENDED_INFO : 0));
    er->BufferContext = ctx->context;
    er->ExtendedDataCount = 0;
    er->UserDataLength = (USHORT)(size - t.payload_off);
    er->ExtendedData = NULL;
    er->UserData = (PVOID)(p + t.payload_off);
    er->UserContext = ctx->user_context;
    rec->size = size;
    rec->kind = t.kind;
    rec->header_type = p[2];
    rec->is64 = t.is64;
    rec->has_timestamp = t.has_timestamp;
    rec->pmc_count = t.pmc_count;
    rec->has_pebs = t.has_pebs;
    rec->hook_id = t.hook_id;
    rec->flags = t.stored_flags;
    rec->ext_count = t.ext_count;
    rec->ext_off = t.ext_off;
    rec->ext_len = t.ext_len;
    rec->payload_off = t.payload_off;
    rec->payload_len = size - t.payload_off;
    rec->instance_off = t.instance_off;
    rec->wpp_sequence = t.wpp_sequence;
}

#define ETW_HOT_CLASSIC(is64)                                                                     \
    (USHORT)(EVENT_HEADER_FLAG_CLASSIC_HEADER |                                                   \
             ((is64) ? EVENT_HEADER_FLAG_64_BIT_HEADER : EVENT_HEADER_FLAG_32_BIT_HEADER))

/* SYSTEM (0x20 bytes), COMPACT (0x18), PERFINFO (0x10): the size at +4, the hook id at +6
 * (B.7). One copy per header type (constant kind, fixed, is64). */
static inline __attribute__((always_inline)) int
etw_record_hot_kernel(const uint8_t *p, size_t n, etw_record *rec, const etw_record_ctx *ctx,
                      uint8_t kind, uint32_t fixed, uint8_t is64)
{
    uint16_t size, version, hook_id;
    memcpy(&size, p + 4, 2);
    memcpy(&version, p, 2);
    memcpy(&hook_id, p + 6, 2);
    if (size < fixed || size > n)
        return 0;
    etw_record_hot_tail t = {.payload_off = fixed, .ext_off = fixed, .hook_id = hook_id,
                             .kind = kind, .is64 = is64, .has_timestamp = 1,
                             .flags = ETW_HOT_CLASSIC(is64)};
    /* A PEBS index or PMC counters (rare) go the long way. */
    if (version & 0x8700u)
        return 0;
    EVENT_HEADER *h = &rec->er.EventHeader;
    *h = (EVENT_HEADER){0};
    if (kind == ETW_REC_PERFINFO) {
        /* No thread or process in the header: consumers see -1 for both. */
        h->ThreadId = h->ProcessId = 0xFFFFFFFFu;
        memcpy(&h->TimeStamp.QuadPart, p + 8, 8);
    } else {
        memcpy(&h->ThreadId, p + 8, 4);
        memcpy(&h->ProcessId, p + 0x0C, 4);
        memcpy(&h->TimeStamp.QuadPart, p + 0x10, 8);
        if (kind == ETW_REC_SYSTEM)
            memcpy(&h->ProcessorTime, p + 0x18, 8);
    }
    h->EventDescriptor.Version = (UCHAR)(version & 0xFF);
    h->EventDescriptor.Opcode = (UCHAR)(hook_id & 0xFF);
    const GUID *group = etw_kernel_group_ref(hook_id);
    if (group)
        h->ProviderId = *group;
    etw_record_hot_finish(p, rec, size, t, ctx);
    return 1;
}

/* EVENT_HEADER extended items, walked as etw_record_parse walks them; 0 when they do not fit
 * (the reference then says so). */
static inline int etw_record_hot_items(const uint8_t *p, uint16_t size, uint32_t *end,
                                       uint16_t *count)
{
    uint32_t off = 0x50;
    uint16_t k = 0;
    for (;;) {
        if (off + 8u > size)
            return 0;
        uint16_t total, link, data;
        memcpy(&total, p + off, 2);
        memcpy(&link, p + off + 4, 2);
        memcpy(&data, p + off + 6, 2);
        if (total < 8 || data > total - 8u || off + total > size)
            return 0;
        off += total;
        k++;
        if (!(link & 1))
            break;
    }
    *end = off;
    *count = k;
    return 1;
}

/* EVENT_HEADER: its first 0x50 bytes are the one a consumer sees, extended items may follow. */
static inline __attribute__((always_inline)) int
etw_record_hot_event(const uint8_t *p, size_t n, etw_record *rec, const etw_record_ctx *ctx,
                     uint8_t is64)
{
    uint16_t size, stored;
    memcpy(&size, p, 2);
    memcpy(&stored, p + 4, 2);
    if (size < 0x50u || size > n)
        return 0;
    USHORT flags = (USHORT)(stored & (USHORT) ~(EVENT_HEADER_FLAG_32_BIT_HEADER |
                                                EVENT_HEADER_FLAG_64_BIT_HEADER));
    flags |= is64 ? EVENT_HEADER_FLAG_64_BIT_HEADER : EVENT_HEADER_FLAG_32_BIT_HEADER;
    etw_record_hot_tail t = {.payload_off = 0x50, .stored_flags = stored, .kind = ETW_REC_EVENT,
                             .is64 = is64, .has_timestamp = 1, .flags = flags};
    if (stored & EVENT_HEADER_FLAG_EXTENDED_INFO) {
        uint32_t end;
        if (!etw_record_hot_items(p, size, &end, &t.ext_count))
            return 0;
        t.ext_off = 0x50;
        t.ext_len = end - 0x50;
        t.payload_off = end;
    }
    memcpy(&rec->er.EventHeader, p, sizeof rec->er.EventHeader);
    etw_record_hot_finish(p, rec, size, t, ctx);
    return 1;
}

/* EVENT_TRACE_HEADER (0x30 bytes) and EVENT_INSTANCE_GUID_HEADER (0x48: the instance GUIDs,
 * an extended item, at 0x30). */
static inline __attribute__((always_inline)) int
etw_record_hot_classic(const uint8_t *p, size_t n, etw_record *rec, const etw_record_ctx *ctx,
                       uint8_t is64, int instance)
{
    uint16_t size;
    memcpy(&size, p, 2);
    uint32_t fixed = instance ? 0x48u : 0x30u;
    if (size < fixed || size > n)
        return 0;
    EVENT_HEADER *h = &rec->er.EventHeader;
    *h = (EVENT_HEADER){0};
    h->EventDescriptor.Opcode = p[4];
    h->EventDescriptor.Level = p[5];
    h->EventDescriptor.Version = p[6];
    memcpy(&h->ThreadId, p + 8, 4);
    memcpy(&h->ProcessId, p + 0x0C, 4);
    memcpy(&h->TimeStamp.QuadPart, p + 0x10, 8);
    memcpy(&h->ProviderId, p + 0x18, 16);
    memcpy(&h->ProcessorTime, p + 0x28, 8);
    etw_record_hot_tail t = {.payload_off = fixed, .instance_off = instance ? 0x30u : 0u,
                             .ext_count = instance ? 1 : 0,
                             .kind = instance ? ETW_REC_INSTANCE : ETW_REC_FULL, .is64 = is64,
                             .has_timestamp = 1, .flags = ETW_HOT_CLASSIC(is64)};
    etw_record_hot_finish(p, rec, size, t, ctx);
    return 1;
}

/* WPP MESSAGE_TRACE_HEADER: optional items in a fixed order chosen by OptionFlags (B.6.5).
 * A message without a time stamp item keeps has_timestamp 1 and TimeStamp 0, as
 * etw_record_parse leaves it. */
static inline int etw_record_hot_message(const uint8_t *p, size_t n, etw_record *rec,
                                         const etw_record_ctx *ctx)
{
    uint16_t size, id, opts;
    memcpy(&size, p, 2);
    memcpy(&id, p + 4, 2);
    memcpy(&opts, p + 6, 2);
    if (size < 8 || size > n)
        return 0;
    uint32_t items = ((opts & ETW_MSG_SEQUENCE) ? 4u : 0u) +
                     ((opts & ETW_MSG_COMPONENTID) ? 4u : (opts & ETW_MSG_GUID) ? 16u : 0u) +
                     ((opts & (ETW_MSG_TIMESTAMP | ETW_MSG_PERF_TIMESTAMP)) ? 8u : 0u) +
                     ((opts & ETW_MSG_SYSTEMINFO) ? 8u : 0u);
    if (8u + items > size)
        return 0;
    uint8_t is64 = (opts & ETW_MSG_POINTER64) != 0;
    etw_record_hot_tail t = {.payload_off = 8u + items, .kind = ETW_REC_MESSAGE, .is64 = is64,
                             .has_timestamp = 1,
                             .flags = (USHORT)(EVENT_HEADER_FLAG_TRACE_MESSAGE |
                                               (is64 ? EVENT_HEADER_FLAG_64_BIT_HEADER
                                                     : EVENT_HEADER_FLAG_32_BIT_HEADER))};
    EVENT_HEADER *h = &rec->er.EventHeader;
    *h = (EVENT_HEADER){0};
    h->EventDescriptor.Id = id;
    h->ThreadId = h->ProcessId = 0xFFFFFFFFu;
    uint32_t off = 8;
    if (opts & ETW_MSG_SEQUENCE) {
        memcpy(&t.wpp_sequence, p + off, 4);
        off += 4;
    }
    if (opts & ETW_MSG_COMPONENTID) {
        memcpy(&h->ProviderId.Data1, p + off, 4); /* the component id, as a GUID's first field */
        off += 4;
    } else if (opts & ETW_MSG_GUID) {
        memcpy(&h->ProviderId, p + off, 16);
        off += 16;
    }
    if (opts & (ETW_MSG_TIMESTAMP | ETW_MSG_PERF_TIMESTAMP)) {
        memcpy(&h->TimeStamp.QuadPart, p + off, 8);
        t.has_timestamp = (opts & ETW_MSG_TIMESTAMP) != 0;
        off += 8;
    }
    if (opts & ETW_MSG_SYSTEMINFO) {
        memcpy(&h->ThreadId, p + off, 4);
        memcpy(&h->ProcessId, p + off + 4, 4);
    }
    etw_record_hot_finish(p, rec, size, t, ctx);
    return 1;
}

/* Returns 1 having parsed the record at p[0..n) into *rec as etw_record_parse would (ETW_OK,
 * a deliverable kind), with ctx's fields added; 0, touching nothing, for anything else. */
static inline int etw_record_parse_hot(const uint8_t *p, size_t n, etw_record *rec,
                                       const etw_record_ctx *ctx)
{
#if ETW_RECORD_HOT
    if (n < 8)
        return 0;
    uint8_t marker = p[3];
    if ((marker & 0xC0u) != 0xC0u) {
        /* Not a typed header: a WPP message when its marker says so. */
        if ((marker & 0x90u) == 0x90u)
            return etw_record_hot_message(p, n, rec, ctx);
        return 0;
    }
    switch (p[2]) {
    case 0x01: return etw_record_hot_kernel(p, n, rec, ctx, ETW_REC_SYSTEM, 0x20, 0);
    case 0x02: return etw_record_hot_kernel(p, n, rec, ctx, ETW_REC_SYSTEM, 0x20, 1);
    case 0x03: return etw_record_hot_kernel(p, n, rec, ctx, ETW_REC_COMPACT, 0x18, 0);
    case 0x04: return etw_record_hot_kernel(p, n, rec, ctx, ETW_REC_COMPACT, 0x18, 1);
    case 0x10: return etw_record_hot_kernel(p, n, rec, ctx, ETW_REC_PERFINFO, 0x10, 0);
    case 0x11: return etw_record_hot_kernel(p, n, rec, ctx, ETW_REC_PERFINFO, 0x10, 1);
    case 0x12: return etw_record_hot_event(p, n, rec, ctx, 0);
    case 0x13: return etw_record_hot_event(p, n, rec, ctx, 1);
    case 0x0A: return etw_record_hot_classic(p, n, rec, ctx, 0, 0);
    case 0x14: return etw_record_hot_classic(p, n, rec, ctx, 1, 0);
    case 0x0B: return etw_record_hot_classic(p, n, rec, ctx, 0, 1);
    case 0x15: return etw_record_hot_classic(p, n, rec, ctx, 1, 1);
    default: return 0; /* TIMED, ERROR, WNODE, unknown types */
    }
#else
    (void)p, (void)n, (void)rec, (void)ctx;
    return 0;
#endif
}

#endif
