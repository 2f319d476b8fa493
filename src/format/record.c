/* Record parsing: the marker dispatch of docs/etw-format.md B.5 and the layouts of B.6 - B.8. */
#include "format/record.h"

#include <string.h>

#include "base/bytes.h"
#include "base/text.h"

#define MARKER_TRACE_HEADER 0x80u /* flags byte: a trace header, not a WNODE */
#define MARKER_EVENT_TRACE 0x40u  /* flags byte: one of the typed headers */
#define MARKER_MESSAGE 0x10u      /* flags byte: WPP message header */

#define CLASSIC32 (EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_32_BIT_HEADER)
#define CLASSIC64 (EVENT_HEADER_FLAG_CLASSIC_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER)

typedef struct header_kind header_kind;
typedef etw_status (*kind_parser)(const uint8_t *p, etw_record *rec, const header_kind *k);

/* Per header type: kind, fixed size, where the u16 total size is, producer is 64-bit, the
 * flags a consumer sees on every record of the type (EVENT_HEADER records add their own), and
 * the parser of its fields (below). */
struct header_kind {
    uint8_t kind;
    uint8_t fixed;
    uint8_t size_at;
    uint8_t is64;
    uint16_t flags;
    kind_parser parse;
};

static etw_status parse_event(const uint8_t *p, etw_record *rec, const header_kind *k);
static etw_status parse_kernel(const uint8_t *p, etw_record *rec, const header_kind *k);
static etw_status parse_classic(const uint8_t *p, etw_record *rec, const header_kind *k);
static etw_status parse_message(const uint8_t *p, etw_record *rec, const header_kind *k);
static etw_status parse_skip(const uint8_t *p, etw_record *rec, const header_kind *k);

/* Indexed by header type; fixed 0 marks a type that is not a record kind. */
static const header_kind kinds[0x16] = {
    [0x01] = {ETW_REC_SYSTEM, 0x20, 4, 0, CLASSIC32, parse_kernel},
    [0x02] = {ETW_REC_SYSTEM, 0x20, 4, 1, CLASSIC64, parse_kernel},
    [0x03] = {ETW_REC_COMPACT, 0x18, 4, 0, CLASSIC32, parse_kernel},
    [0x04] = {ETW_REC_COMPACT, 0x18, 4, 1, CLASSIC64, parse_kernel},
    [0x0A] = {ETW_REC_FULL, 0x30, 0, 0, CLASSIC32, parse_classic},
    [0x14] = {ETW_REC_FULL, 0x30, 0, 1, CLASSIC64, parse_classic},
    [0x0B] = {ETW_REC_INSTANCE, 0x48, 0, 0, CLASSIC32, parse_classic},
    [0x15] = {ETW_REC_INSTANCE, 0x48, 0, 1, CLASSIC64, parse_classic},
    [0x10] = {ETW_REC_PERFINFO, 0x10, 4, 0, CLASSIC32, parse_kernel},
    [0x11] = {ETW_REC_PERFINFO, 0x10, 4, 1, CLASSIC64, parse_kernel},
    [0x12] = {ETW_REC_EVENT, 0x50, 0, 0, EVENT_HEADER_FLAG_32_BIT_HEADER, parse_event},
    [0x13] = {ETW_REC_EVENT, 0x50, 0, 1, EVENT_HEADER_FLAG_64_BIT_HEADER, parse_event},
    /* TIMED, ERROR and WNODE records: layout unknown beyond a leading size (B.5). */
    [0x0C] = {ETW_REC_SKIP, 0x08, 0, 0, 0, parse_skip},
    [0x0D] = {ETW_REC_SKIP, 0x08, 0, 0, 0, parse_skip},
    [0x0E] = {ETW_REC_SKIP, 0x08, 0, 0, 0, parse_skip},
};

/* WPP messages: any header type under the message marker. */
static const header_kind message_kind = {ETW_REC_MESSAGE, 0x08, 0, 0,
                                         EVENT_HEADER_FLAG_TRACE_MESSAGE, parse_message};

/* SYSTEM/COMPACT/PERFINFO: bytes of PEBS index and PMC counters after the fixed header, from
 * the version word (B.7). */
static uint32_t kernel_ext_len(uint16_t version)
{
    return ((version & 0x8000) ? 8u : 0u) + 8u * ((version >> 8) & 7u);
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

/* The marker, the kind and the record's size: what both parse and check decide first. */
static inline etw_status frame(const uint8_t *p, size_t n, const header_kind **kp, uint16_t *size)
{
    if (n < 8)
        return ETW_E_REC_SHORT;
    uint8_t marker = p[3];
    const header_kind *k;
    if ((marker & (MARKER_TRACE_HEADER | MARKER_EVENT_TRACE)) ==
        (MARKER_TRACE_HEADER | MARKER_EVENT_TRACE)) {
        if (p[2] >= sizeof kinds / sizeof kinds[0] || !kinds[p[2]].fixed)
            return ETW_E_REC_MARKER;
        k = &kinds[p[2]];
    } else if ((marker & (MARKER_TRACE_HEADER | MARKER_MESSAGE)) ==
               (MARKER_TRACE_HEADER | MARKER_MESSAGE)) {
        k = &message_kind;
    } else {
        return ETW_E_REC_MARKER;
    }
    *kp = k;
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
    const header_kind *k = NULL;
    etw_status st = frame(p, n, &k, size);
    if (st != ETW_OK)
        return st;
    uint32_t end;
    uint16_t count;
    switch (k->kind) {
    case ETW_REC_SYSTEM:
    case ETW_REC_COMPACT:
    case ETW_REC_PERFINFO:
        return k->fixed + kernel_ext_len(etw_rd16(p)) > *size ? ETW_E_REC_EXT : ETW_OK;
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

/* Parsing: etw_record_parse frames the record, then hands it to its kind's parser, which
 * fills every field of the EVENT_RECORD the record says and ends with finish(). Each kind's
 * parser is a function of its own (a tail call): the common entry stays small, with no
 * registers to save. */

static void guid_at(GUID *g, const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    _Static_assert(sizeof(GUID) == 16, "GUID has the stored layout");
    memcpy(g, p, sizeof *g); /* the stored fields are little-endian, in GUID's order */
#else
    g->Data1 = etw_rd32(p);
    g->Data2 = etw_rd16(p + 4);
    g->Data3 = etw_rd16(p + 6);
    memcpy(g->Data4, p + 8, 8);
#endif
}

/* What every kind ends with: the flags, the sizes, the payload, and zero for what the
 * deliverer sets. */
static inline etw_status finish(const uint8_t *p, etw_record *rec, USHORT flags)
{
    if (rec->ext_count)
        flags |= EVENT_HEADER_FLAG_EXTENDED_INFO;
    rec->payload_len = rec->size - rec->payload_off;
    EVENT_RECORD *er = &rec->er;
    er->EventHeader.Size = rec->size;
    er->EventHeader.HeaderType = 0;
    er->EventHeader.Flags = flags;
    er->BufferContext.ProcessorIndex = 0;
    er->BufferContext.LoggerId = 0;
    er->ExtendedDataCount = 0;
    er->UserDataLength = (USHORT)rec->payload_len;
    er->ExtendedData = NULL;
    er->UserData = (PVOID)(p + rec->payload_off);
    er->UserContext = NULL;
    return ETW_OK;
}

/* EVENT_HEADER records with extended items (apart, so that parse_event saves no registers). */
__attribute__((noinline)) static etw_status parse_event_ext(const uint8_t *p, etw_record *rec,
                                                            USHORT flags)
{
    uint32_t end;
    uint16_t count;
    etw_status st = walk_event_ext(p, rec->size, &end, &count);
    if (st != ETW_OK)
        return st;
    rec->ext_off = 0x50;
    rec->ext_len = end - 0x50;
    rec->ext_count = count;
    rec->payload_off = end;
    return finish(p, rec, flags);
}

/* An EVENT_HEADER record's first 0x50 bytes are the EVENT_HEADER a consumer sees, but for the
 * type word and the flags (finish sets them). */
static etw_status parse_event(const uint8_t *p, etw_record *rec, const header_kind *k)
{
    USHORT flags = k->flags;
    EVENT_HEADER *h = &rec->er.EventHeader;
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
    flags |= rec->flags & (USHORT) ~(EVENT_HEADER_FLAG_32_BIT_HEADER | EVENT_HEADER_FLAG_64_BIT_HEADER);
    if (rec->flags & EVENT_HEADER_FLAG_EXTENDED_INFO)
        return parse_event_ext(p, rec, flags);
    return finish(p, rec, flags);
}

/* SYSTEM, COMPACT and PERFINFO: the hook id names group and type; PEBS index and PMC counters
 * may follow the fixed header (B.7). */
static etw_status parse_kernel(const uint8_t *p, etw_record *rec, const header_kind *k)
{
    EVENT_HEADER *h = &rec->er.EventHeader;
    *h = (EVENT_HEADER){0};
    if (k->kind == ETW_REC_PERFINFO) {
        /* No thread or process in the header: consumers see -1 for both. */
        h->ThreadId = h->ProcessId = 0xFFFFFFFFu;
        h->TimeStamp.QuadPart = (LONGLONG)etw_rd64(p + 8);
    } else {
        h->ThreadId = etw_rd32(p + 8);
        h->ProcessId = etw_rd32(p + 0x0C);
        h->TimeStamp.QuadPart = (LONGLONG)etw_rd64(p + 0x10);
        if (k->kind == ETW_REC_SYSTEM)
            h->ProcessorTime = etw_rd64(p + 0x18);
    }
    uint16_t version = etw_rd16(p);
    uint32_t ext = 0;
    if (version & 0x8700) { /* PEBS index or PMC counters (most records have neither) */
        rec->has_pebs = (version & 0x8000) != 0;
        rec->pmc_count = (uint8_t)((version >> 8) & 7);
        ext = kernel_ext_len(version);
        if (k->fixed + ext > rec->size)
            return ETW_E_REC_EXT;
        rec->ext_count = (uint16_t)(rec->has_pebs + (rec->pmc_count ? 1 : 0));
    }
    rec->ext_off = k->fixed;
    rec->ext_len = ext;
    rec->payload_off = k->fixed + ext;
    rec->hook_id = etw_rd16(p + 6);
    h->EventDescriptor.Version = (UCHAR)(version & 0xFF);
    h->EventDescriptor.Opcode = (UCHAR)(rec->hook_id & 0xFF);
    const GUID *group = etw_kernel_group_ref(rec->hook_id);
    if (group)
        h->ProviderId = *group;
    return finish(p, rec, k->flags);
}

/* EVENT_TRACE_HEADER (FULL) and EVENT_INSTANCE_GUID_HEADER (INSTANCE). */
static etw_status parse_classic(const uint8_t *p, etw_record *rec, const header_kind *k)
{
    EVENT_HEADER *h = &rec->er.EventHeader;
    *h = (EVENT_HEADER){0};
    h->EventDescriptor.Opcode = p[4];
    h->EventDescriptor.Level = p[5];
    h->EventDescriptor.Version = (UCHAR)etw_rd16(p + 6);
    h->ThreadId = etw_rd32(p + 8);
    h->ProcessId = etw_rd32(p + 0x0C);
    h->TimeStamp.QuadPart = (LONGLONG)etw_rd64(p + 0x10);
    guid_at(&h->ProviderId, p + 0x18);
    h->ProcessorTime = etw_rd64(p + 0x28);
    if (k->kind == ETW_REC_INSTANCE) {
        rec->instance_off = 0x30;
        rec->ext_count = 1;
        rec->payload_off = 0x48;
    } else {
        rec->payload_off = 0x30;
    }
    return finish(p, rec, k->flags);
}

/* WPP: optional items follow the 8-byte header in a fixed order chosen by OptionFlags. */
static etw_status parse_message(const uint8_t *p, etw_record *rec, const header_kind *k)
{
    USHORT flags = k->flags;
    uint16_t opts = etw_rd16(p + 6);
    uint32_t off = 8;
    EVENT_HEADER *h = &rec->er.EventHeader;
    *h = (EVENT_HEADER){0};
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
    flags |= rec->is64 ? EVENT_HEADER_FLAG_64_BIT_HEADER : EVENT_HEADER_FLAG_32_BIT_HEADER;
    return finish(p, rec, flags);
}

/* TIMED, ERROR and WNODE records: only their size is known. */
static etw_status parse_skip(const uint8_t *p, etw_record *rec, const header_kind *k)
{
    rec->er.EventHeader = (EVENT_HEADER){0};
    rec->has_timestamp = 0;
    rec->payload_off = rec->size;
    return finish(p, rec, k->flags);
}

/* A record parse refuses: everything zero but what the framing found. */
__attribute__((noinline)) static etw_status refused(const uint8_t *p, size_t n, etw_record *rec,
                                                    etw_status st, const header_kind *k)
{
    memset(rec, 0, sizeof *rec);
    if (st == ETW_E_REC_SIZE || (st == ETW_E_REC_SHORT && n >= 8)) {
        rec->size = etw_rd16(p + k->size_at);
        rec->kind = k->kind;
        rec->header_type = p[2];
        rec->is64 = k->is64;
        rec->has_timestamp = 1;
    }
    return st;
}

etw_status etw_record_parse(const uint8_t *p, size_t n, etw_record *rec)
{
    const header_kind *k = NULL;
    uint16_t size;
    etw_status st = frame(p, n, &k, &size);
    if (st != ETW_OK)
        return refused(p, n, rec, st, k);
    /* What only some kinds set starts at zero (a fixed-size clear the compiler writes as a
     * few wide stores); the EVENT_RECORD is each kind parser's. */
    memset(&rec->size, 0, sizeof *rec - offsetof(etw_record, size));
    rec->size = size;
    rec->kind = k->kind;
    rec->header_type = p[2];
    rec->is64 = k->is64;
    rec->has_timestamp = 1;
    return k->parse(p, rec, k);
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
