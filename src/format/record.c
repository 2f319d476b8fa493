/* Record parsing: the marker dispatch of docs/etw-format.md B.5 and the layouts of B.6 - B.8. */
#include "format/record.h"

#include <string.h>

#include "base/bytes.h"
#include "base/text.h"

#define MARKER_TRACE_HEADER 0x80u /* flags byte: a trace header, not a WNODE */
#define MARKER_EVENT_TRACE 0x40u  /* flags byte: one of the typed headers */
#define MARKER_MESSAGE 0x10u      /* flags byte: WPP message header */

/* Per header type: kind, fixed size, where the u16 total size is, producer is 64-bit. */
typedef struct header_kind {
    uint8_t kind;
    uint8_t fixed;
    uint8_t size_at;
    uint8_t is64;
} header_kind;

/* Indexed by header type; fixed 0 marks a type that is not a record kind. */
static const header_kind kinds[0x16] = {
    [0x01] = {ETW_REC_SYSTEM, 0x20, 4, 0},   [0x02] = {ETW_REC_SYSTEM, 0x20, 4, 1},
    [0x03] = {ETW_REC_COMPACT, 0x18, 4, 0},  [0x04] = {ETW_REC_COMPACT, 0x18, 4, 1},
    [0x0A] = {ETW_REC_FULL, 0x30, 0, 0},     [0x14] = {ETW_REC_FULL, 0x30, 0, 1},
    [0x0B] = {ETW_REC_INSTANCE, 0x48, 0, 0}, [0x15] = {ETW_REC_INSTANCE, 0x48, 0, 1},
    [0x10] = {ETW_REC_PERFINFO, 0x10, 4, 0}, [0x11] = {ETW_REC_PERFINFO, 0x10, 4, 1},
    [0x12] = {ETW_REC_EVENT, 0x50, 0, 0},    [0x13] = {ETW_REC_EVENT, 0x50, 0, 1},
    /* TIMED, ERROR and WNODE records: layout unknown beyond a leading size (B.5). */
    [0x0C] = {ETW_REC_SKIP, 0x08, 0, 0},     [0x0D] = {ETW_REC_SKIP, 0x08, 0, 0},
    [0x0E] = {ETW_REC_SKIP, 0x08, 0, 0},
};

/* SYSTEM/COMPACT/PERFINFO: bytes of PEBS index and PMC counters after the fixed header, from
 * the version word (B.7). */
static uint32_t kernel_ext_len(uint16_t version)
{
    return ((version & 0x8000) ? 8u : 0u) + 8u * ((version >> 8) & 7u);
}

static etw_status parse_kernel_ext(const uint8_t *p, etw_record *rec, uint32_t fixed)
{
    uint16_t version = etw_rd16(p);
    rec->has_pebs = (version & 0x8000) != 0;
    rec->pmc_count = (uint8_t)((version >> 8) & 7);
    uint32_t ext = kernel_ext_len(version);
    if (fixed + ext > rec->size)
        return ETW_E_REC_EXT;
    rec->ext_off = fixed;
    rec->ext_len = ext;
    rec->ext_count = (uint16_t)(rec->has_pebs + (rec->pmc_count ? 1 : 0));
    rec->payload_off = fixed + ext;
    rec->hook_id = etw_rd16(p + 6);
    rec->h.EventDescriptor.Version = (UCHAR)(version & 0xFF);
    rec->h.EventDescriptor.Opcode = (UCHAR)(rec->hook_id & 0xFF);
    rec->h.ProviderId = etw_kernel_group_guid(rec->hook_id);
    return ETW_OK;
}

/* EVENT_HEADER extended items: 8-byte item headers whose first u16 is the item's total
 * (aligned) size and whose Linkage bit says another follows (B.8). */
static etw_status walk_event_ext(const uint8_t *p, uint16_t size, uint32_t *end, uint16_t *n)
{
    uint32_t off = 0x50;
    uint16_t count = 0;
    for (;;) {
        if (!etw_range_ok(size, off, 8))
            return ETW_E_REC_EXT;
        uint16_t total = etw_rd16(p + off);
        uint16_t linkage = etw_rd16(p + off + 4) & 1;
        uint16_t data = etw_rd16(p + off + 6);
        if (total < 8 || data > total - 8u || !etw_range_ok(size, off, total))
            return ETW_E_REC_EXT;
        off += total;
        count++;
        if (!linkage)
            break;
    }
    *end = off;
    *n = count;
    return ETW_OK;
}

static etw_status parse_event_ext(const uint8_t *p, etw_record *rec)
{
    uint32_t off;
    uint16_t count;
    etw_status st = walk_event_ext(p, rec->size, &off, &count);
    if (st != ETW_OK)
        return st;
    rec->ext_off = 0x50;
    rec->ext_len = off - 0x50;
    rec->ext_count = count;
    rec->payload_off = off;
    return ETW_OK;
}

static void guid_at(GUID *g, const uint8_t *p)
{
    g->Data1 = etw_rd32(p);
    g->Data2 = etw_rd16(p + 4);
    g->Data3 = etw_rd16(p + 6);
    memcpy(g->Data4, p + 8, 8);
}

static void parse_classic_common(const uint8_t *p, etw_record *rec)
{
    EVENT_HEADER *h = &rec->h;
    h->EventDescriptor.Opcode = p[4];
    h->EventDescriptor.Level = p[5];
    h->EventDescriptor.Version = (UCHAR)etw_rd16(p + 6);
    h->ThreadId = etw_rd32(p + 8);
    h->ProcessId = etw_rd32(p + 0x0C);
    h->TimeStamp.QuadPart = (LONGLONG)etw_rd64(p + 0x10);
    guid_at(&h->ProviderId, p + 0x18);
    h->ProcessorTime = etw_rd64(p + 0x28);
}

/* An EVENT_HEADER record's first 0x50 bytes are the EVENT_HEADER a consumer sees, but for the
 * type word and the flags (set by the caller). */
static etw_status parse_event_header(const uint8_t *p, etw_record *rec)
{
    EVENT_HEADER *h = &rec->h;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    _Static_assert(sizeof(EVENT_HEADER) == 0x50 && offsetof(EVENT_HEADER, ActivityId) == 0x40,
                   "EVENT_HEADER has the stored layout");
    memcpy(h, p, sizeof *h);
#else
    h->EventProperty = etw_rd16(p + 6);
    h->ThreadId = etw_rd32(p + 8);
    h->ProcessId = etw_rd32(p + 0x0C);
    h->TimeStamp.QuadPart = (LONGLONG)etw_rd64(p + 0x10);
    guid_at(&h->ProviderId, p + 0x18);
    h->EventDescriptor.Id = etw_rd16(p + 0x28);
    h->EventDescriptor.Version = p[0x2A];
    h->EventDescriptor.Channel = p[0x2B];
    h->EventDescriptor.Level = p[0x2C];
    h->EventDescriptor.Opcode = p[0x2D];
    h->EventDescriptor.Task = etw_rd16(p + 0x2E);
    h->EventDescriptor.Keyword = etw_rd64(p + 0x30);
    h->ProcessorTime = etw_rd64(p + 0x38);
    guid_at(&h->ActivityId, p + 0x40);
#endif
    rec->flags = etw_rd16(p + 4);
    rec->payload_off = 0x50;
    if (rec->flags & EVENT_HEADER_FLAG_EXTENDED_INFO)
        return parse_event_ext(p, rec);
    return ETW_OK;
}

/* WPP: optional items follow the 8-byte header in a fixed order chosen by OptionFlags. */
static etw_status parse_message(const uint8_t *p, etw_record *rec)
{
    uint16_t opts = etw_rd16(p + 6);
    uint32_t off = 8;
    EVENT_HEADER *h = &rec->h;
    h->EventDescriptor.Id = etw_rd16(p + 4);
    rec->is64 = (opts & ETW_MSG_POINTER64) != 0;
    h->ThreadId = h->ProcessId = 0xFFFFFFFFu;
    if (opts & ETW_MSG_SEQUENCE) {
        if (!etw_range_ok(rec->size, off, 4))
            return ETW_E_REC_SIZE;
        rec->wpp_sequence = etw_rd32(p + off);
        off += 4;
    }
    if (opts & ETW_MSG_COMPONENTID) {
        if (!etw_range_ok(rec->size, off, 4))
            return ETW_E_REC_SIZE;
        h->ProviderId.Data1 = etw_rd32(p + off); /* the component id, as a GUID's first field */
        off += 4;
    } else if (opts & ETW_MSG_GUID) {
        if (!etw_range_ok(rec->size, off, 16))
            return ETW_E_REC_SIZE;
        guid_at(&h->ProviderId, p + off);
        off += 16;
    }
    if (opts & (ETW_MSG_TIMESTAMP | ETW_MSG_PERF_TIMESTAMP)) {
        if (!etw_range_ok(rec->size, off, 8))
            return ETW_E_REC_SIZE;
        h->TimeStamp.QuadPart = (LONGLONG)etw_rd64(p + off);
        rec->has_timestamp = (opts & ETW_MSG_TIMESTAMP) != 0;
        off += 8;
    }
    if (opts & ETW_MSG_SYSTEMINFO) {
        if (!etw_range_ok(rec->size, off, 8))
            return ETW_E_REC_SIZE;
        h->ThreadId = etw_rd32(p + off);
        h->ProcessId = etw_rd32(p + off + 4);
        off += 8;
    }
    rec->payload_off = off;
    return ETW_OK;
}

/* The marker, the kind and the record's size: what both parse and check decide first. */
static inline etw_status frame(const uint8_t *p, size_t n, header_kind *k, uint16_t *size)
{
    if (n < 8)
        return ETW_E_REC_SHORT;
    uint8_t marker = p[3];
    if ((marker & (MARKER_TRACE_HEADER | MARKER_EVENT_TRACE)) ==
        (MARKER_TRACE_HEADER | MARKER_EVENT_TRACE)) {
        if (p[2] >= sizeof kinds / sizeof kinds[0] || !kinds[p[2]].fixed)
            return ETW_E_REC_MARKER;
        *k = kinds[p[2]];
    } else if ((marker & (MARKER_TRACE_HEADER | MARKER_MESSAGE)) ==
               (MARKER_TRACE_HEADER | MARKER_MESSAGE)) {
        *k = (header_kind){ETW_REC_MESSAGE, 0x08, 0, 0};
    } else {
        return ETW_E_REC_MARKER;
    }
    *size = etw_rd16(p + k->size_at);
    if (*size < k->fixed)
        return ETW_E_REC_SIZE;
    if (*size > n)
        return ETW_E_REC_SHORT;
    return ETW_OK;
}

/* WPP: the optional items' total length (parse_message reads them in this order). */
static uint32_t message_items_len(uint16_t opts)
{
    uint32_t len = 0;
    if (opts & ETW_MSG_SEQUENCE)
        len += 4;
    if (opts & ETW_MSG_COMPONENTID)
        len += 4;
    else if (opts & ETW_MSG_GUID)
        len += 16;
    if (opts & (ETW_MSG_TIMESTAMP | ETW_MSG_PERF_TIMESTAMP))
        len += 8;
    if (opts & ETW_MSG_SYSTEMINFO)
        len += 8;
    return len;
}

etw_status etw_record_check(const uint8_t *p, size_t n, uint16_t *size)
{
    header_kind k;
    etw_status st = frame(p, n, &k, size);
    if (st != ETW_OK)
        return st;
    uint32_t end;
    uint16_t count;
    switch (k.kind) {
    case ETW_REC_SYSTEM:
    case ETW_REC_COMPACT:
    case ETW_REC_PERFINFO:
        return k.fixed + kernel_ext_len(etw_rd16(p)) > *size ? ETW_E_REC_EXT : ETW_OK;
    case ETW_REC_EVENT:
        if (etw_rd16(p + 4) & EVENT_HEADER_FLAG_EXTENDED_INFO)
            return walk_event_ext(p, *size, &end, &count);
        return ETW_OK;
    case ETW_REC_MESSAGE:
        return 8u + message_items_len(etw_rd16(p + 6)) > *size ? ETW_E_REC_SIZE : ETW_OK;
    default:
        return ETW_OK;
    }
}

/* The flags a consumer sees, but for EVENT_HEADER_FLAG_PROCESSOR_INDEX (the buffer's). */
static USHORT delivered_flags(const etw_record *rec)
{
    USHORT f;
    switch (rec->kind) {
    case ETW_REC_EVENT:
        f = rec->flags & (USHORT) ~(EVENT_HEADER_FLAG_32_BIT_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
        break;
    case ETW_REC_MESSAGE:
        f = EVENT_HEADER_FLAG_TRACE_MESSAGE;
        break;
    default:
        f = EVENT_HEADER_FLAG_CLASSIC_HEADER;
        break;
    }
    f |= rec->is64 ? EVENT_HEADER_FLAG_64_BIT_HEADER : EVENT_HEADER_FLAG_32_BIT_HEADER;
    if (rec->ext_count)
        f |= EVENT_HEADER_FLAG_EXTENDED_INFO;
    return f;
}

etw_status etw_record_parse(const uint8_t *p, size_t n, etw_record *rec)
{
    /* Every field starts at zero; each kind fills what its header holds (fixed-size stores,
     * no call: this runs once per event). */
    rec->h = (EVENT_HEADER){0};
    rec->size = 0;
    rec->kind = rec->header_type = rec->is64 = rec->has_timestamp = 0;
    rec->pmc_count = rec->has_pebs = 0;
    rec->hook_id = rec->flags = rec->ext_count = 0;
    rec->ext_off = rec->ext_len = rec->payload_off = rec->payload_len = 0;
    rec->instance_off = rec->wpp_sequence = 0;
    header_kind k;
    etw_status fst = frame(p, n, &k, &rec->size);
    if (fst == ETW_E_REC_SHORT && n < 8)
        return fst;
    if (fst == ETW_E_REC_MARKER)
        return fst;
    rec->kind = k.kind;
    rec->header_type = p[2];
    rec->is64 = k.is64;
    rec->has_timestamp = 1;
    if (fst != ETW_OK)
        return fst;

    EVENT_HEADER *h = &rec->h;
    etw_status st = ETW_OK;
    switch (k.kind) {
    case ETW_REC_SYSTEM:
    case ETW_REC_COMPACT:
        h->ThreadId = etw_rd32(p + 8);
        h->ProcessId = etw_rd32(p + 0x0C);
        h->TimeStamp.QuadPart = (LONGLONG)etw_rd64(p + 0x10);
        if (k.kind == ETW_REC_SYSTEM)
            h->ProcessorTime = etw_rd64(p + 0x18);
        st = parse_kernel_ext(p, rec, k.fixed);
        break;
    case ETW_REC_PERFINFO:
        /* No thread or process in the header: consumers see -1 for both. */
        h->ThreadId = h->ProcessId = 0xFFFFFFFFu;
        h->TimeStamp.QuadPart = (LONGLONG)etw_rd64(p + 8);
        st = parse_kernel_ext(p, rec, k.fixed);
        break;
    case ETW_REC_FULL:
        parse_classic_common(p, rec);
        rec->payload_off = 0x30;
        break;
    case ETW_REC_INSTANCE:
        parse_classic_common(p, rec);
        rec->instance_off = 0x30;
        rec->ext_count = 1;
        rec->payload_off = 0x48;
        break;
    case ETW_REC_EVENT:
        st = parse_event_header(p, rec);
        break;
    case ETW_REC_MESSAGE:
        st = parse_message(p, rec);
        break;
    default:
        rec->has_timestamp = 0;
        rec->payload_off = rec->size;
        break;
    }
    if (st != ETW_OK)
        return st;
    rec->payload_len = rec->size - rec->payload_off;
    h->Size = rec->size;
    h->HeaderType = 0;
    h->Flags = delivered_flags(rec);
    return ETW_OK;
}

static void set_item(EVENT_HEADER_EXTENDED_DATA_ITEM *it, uint16_t type, const uint8_t *data,
                     uint16_t size, int more)
{
    memset(it, 0, sizeof *it);
    it->ExtType = type;
    it->Linkage = more ? 1 : 0;
    it->DataSize = size;
    it->DataPtr = (ULONGLONG)(uintptr_t)data;
}

unsigned etw_record_ext_items(const etw_record *rec, const uint8_t *p,
                              EVENT_HEADER_EXTENDED_DATA_ITEM *items, unsigned cap)
{
    unsigned n = 0;
    if (rec->kind == ETW_REC_EVENT) {
        uint32_t off = rec->ext_off, end = rec->ext_off + rec->ext_len;
        while (off < end && n < cap) {
            uint16_t total = etw_rd16(p + off);
            set_item(&items[n], etw_rd16(p + off + 2), p + off + 8, etw_rd16(p + off + 6),
                     off + total < end);
            n++;
            off += total;
        }
    } else if (rec->kind == ETW_REC_INSTANCE && cap > 0) {
        set_item(&items[n++], EVENT_HEADER_EXT_TYPE_INSTANCE_INFO, p + rec->instance_off, 24, 0);
    } else if (rec->ext_count) {
        const uint8_t *q = p + rec->ext_off;
        if (rec->has_pebs && n < cap) {
            set_item(&items[n++], EVENT_HEADER_EXT_TYPE_PEBS_INDEX, q, 8, rec->pmc_count != 0);
            q += 8;
        }
        if (rec->pmc_count && n < cap)
            set_item(&items[n++], EVENT_HEADER_EXT_TYPE_PMC_COUNTERS, q,
                     (uint16_t)(8u * rec->pmc_count), 0);
    }
    return n;
}
