/* One event record inside a buffer: which of the header kinds it uses, where its payload and
 * extended data are, and the header fields a consumer sees (docs/etw-format.md B.4 - B.8). */
#ifndef ETWIRE_FORMAT_RECORD_H
#define ETWIRE_FORMAT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/evntcons.h>

#include "base/status.h"

typedef enum etw_record_kind {
    ETW_REC_SYSTEM,   /* SYSTEM_TRACE_HEADER, 0x20 */
    ETW_REC_COMPACT,  /* compact SYSTEM_TRACE_HEADER, 0x18 */
    ETW_REC_PERFINFO, /* PERFINFO_TRACE_HEADER, 0x10 */
    ETW_REC_FULL,     /* EVENT_TRACE_HEADER, 0x30 */
    ETW_REC_INSTANCE, /* EVENT_INSTANCE_GUID_HEADER, 0x48 */
    ETW_REC_EVENT,    /* EVENT_HEADER, 0x50 */
    ETW_REC_MESSAGE,  /* MESSAGE_TRACE_HEADER (WPP), 0x08 + optional items */
    ETW_REC_SKIP,     /* a known but undeliverable kind (TIMED, ERROR, WNODE): size only */
    ETW_REC_KIND_COUNT
} etw_record_kind;

/* WPP MESSAGE_TRACE_HEADER OptionFlags (B.6.5). */
#define ETW_MSG_SEQUENCE 0x0001
#define ETW_MSG_GUID 0x0002
#define ETW_MSG_COMPONENTID 0x0004
#define ETW_MSG_TIMESTAMP 0x0008
#define ETW_MSG_PERF_TIMESTAMP 0x0010
#define ETW_MSG_SYSTEMINFO 0x0020
#define ETW_MSG_POINTER32 0x0040
#define ETW_MSG_POINTER64 0x0080

typedef struct etw_record {
    /* The EVENT_RECORD a consumer gets, filled as far as the record itself says, once when
     * it is parsed (the merge hands it over as it is): the EventHeader, with Flags but for
     * EVENT_HEADER_FLAG_PROCESSOR_INDEX (a buffer's flag) and TimeStamp the raw session clock
     * (0 when a WPP message has none), and UserData / UserDataLength (pointing into the bytes
     * parsed). BufferContext, ExtendedData / ExtendedDataCount and UserContext are zero: the
     * deliverer's. */
    EVENT_RECORD er;
    uint16_t size;         /* whole record, header included (EventHeader.Size) */
    uint8_t kind;          /* etw_record_kind */
    uint8_t header_type;   /* raw type byte (byte 2 of the marker) */
    uint8_t is64;          /* the producer's pointer size is 8 */
    uint8_t has_timestamp; /* WPP messages may carry none */
    uint8_t pmc_count;     /* SYSTEM/PERFINFO: PMC counters after the fixed header */
    uint8_t has_pebs;
    uint16_t hook_id;      /* SYSTEM/COMPACT/PERFINFO: group << 8 | type */
    uint16_t flags;        /* EVENT_HEADER_FLAG_* as stored (EVENT_HEADER only) */
    uint16_t ext_count;    /* extended items a consumer will see */
    uint32_t ext_off;      /* record-relative offsets of the stored extended data ... */
    uint32_t ext_len;
    uint32_t payload_off;  /* ... and of the payload */
    uint32_t payload_len;
    uint32_t instance_off; /* INSTANCE: record-relative offset of InstanceId (24 bytes) */
    uint32_t wpp_sequence;
} etw_record;

/* What the deliverer adds to every record of a buffer (etw_record_parse leaves it zero): the
 * buffer context, the flag a buffer gives its events, the consumer's context. Written with the
 * rest, so each field of the EVENT_RECORD is stored once; a zero context gives exactly
 * etw_record_parse's record (format/record_hot.h). */
typedef struct etw_record_ctx {
    ETW_BUFFER_CONTEXT context;
    USHORT event_flags;
    PVOID user_context;
} etw_record_ctx;

/* Parses the record at p[0..n) (n = bytes left before the buffer's filled offset). On success
 * rec->size <= n. Reads nothing past n. */
etw_status etw_record_parse(const uint8_t *p, size_t n, etw_record *rec);

/* The verdict etw_record_parse gives on p[0..n), and the record's size when it is ETW_OK,
 * without reading the fields a consumer sees: what a buffer's records are checked with when a
 * buffer stream takes it (the merge parses each record when it delivers it). */
etw_status etw_record_check(const uint8_t *p, size_t n, uint16_t *size);

/* Fills up to cap extended items for a parsed record, pointing into p (the record's bytes).
 * Returns the number written (rec->ext_count when cap suffices). */
unsigned etw_record_ext_items(const etw_record *rec, const uint8_t *p,
                              EVENT_HEADER_EXTENDED_DATA_ITEM *items, unsigned cap);

/* The provider GUID of a kernel event from its hook id (B.10.2); all zero for a group without
 * one. */
GUID etw_kernel_group_guid(uint16_t hook_id);

/* The same, inline (once per kernel event): the group's GUID, or NULL. */
#define ETW_KERNEL_GROUPS 0x1F
/* By group (kernel_groups.c); hidden like every symbol of the library but its API, said here
 * so that the inline lookup below addresses it directly. */
extern const GUID etw_kernel_groups[ETW_KERNEL_GROUPS] __attribute__((visibility("hidden")));
static inline const GUID *etw_kernel_group_ref(uint16_t hook_id)
{
    /* The legacy image-load event (0x030A) was logged in the process group (3) but belongs
     * to Image (0x14). */
    if (hook_id == 0x030A)
        return &etw_kernel_groups[0x14];
    unsigned group = hook_id >> 8;
    return group < ETW_KERNEL_GROUPS ? &etw_kernel_groups[group] : NULL;
}

#endif
