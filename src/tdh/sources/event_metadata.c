/* Schemas embedded in merged traces: KernelTraceControl "MetaData" classic events (format
 * notes §4.1). Opcode 32 (EventInfo) carries a whole TRACE_EVENT_INFO as TDH produced it on the
 * capture machine; opcode 33 (EventMapInfo) a provider GUID then an EVENT_MAP_INFO. Both are
 * copied (the record's payload is only borrowed), validated once and stored in the scope of
 * the trace being decoded (base/decode_scope.h). Delivered events are only kept raw
 * (etw_metadata_capture, embedded_pending.h) and compiled when a lookup of their provider
 * needs them; a record given to TDH or etwire_tdh_observe is compiled at once. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/decode_scope.h"
#include "base/text.h"
#include "tdh/sources/embedded_pending.h"
#include "tdh/decode/map_format.h"
#include "tdh/decode/prop_walk.h"
#include "tdh/store/schema_lookup.h"

/* {bbccf6c1-6cd1-48c4-80ff-839482e37671} */
const GUID etw_metadata_guid = {0xbbccf6c1, 0x6cd1, 0x48c4, {0x80, 0xff, 0x83, 0x94, 0x82, 0xe3, 0x76, 0x71}};

static void *copy(const uint8_t *p, size_t n)
{
    void *c = malloc(n ? n : 1);
    if (c)
        memcpy(c, p, n);
    return c;
}

int etw_metadata_learn_event_info(const uint8_t *p, size_t n)
{
    if (n > (1u << 20) || !etw_tei_check(p, n))
        return 0;
    TRACE_EVENT_INFO *tei = copy(p, n);
    if (!tei)
        return 0;
    etw_schema_key k = {.guid = tei->ProviderGuid, .scope = etw_decode_scope};
    if (tei->DecodingSource == DecodingSourceWbem) {
        /* Classic events are looked up by class GUID and event type (notes §4.1). */
        k.guid = tei->EventGuid;
        k.kind = ETW_KEY_CLASSIC;
        k.a = tei->EventDescriptor.Opcode;
    } else {
        k.kind = ETW_KEY_MANIFEST;
        k.a = tei->EventDescriptor.Id;
    }
    k.b = tei->EventDescriptor.Version;
    return etw_schema_put(&k, tei, (uint32_t)n, ETW_SRC_METADATA, 0);
}

int etw_metadata_learn_map_info(const uint8_t *p, size_t n)
{
    if (n < 16 || n - 16 > (1u << 20) || !etw_map_check(p + 16, n - 16))
        return 0;
    const uint8_t *m = p + 16;
    uint32_t name_off = etw_rd32(m);
    size_t name_len = etw_utf16_span(m + name_off, n - 16 - name_off, NULL);
    etw_schema_key k = {.guid = etw_guid_read(p), .kind = ETW_KEY_MAP, .blob = m + name_off,
                        .blob_len = (uint32_t)name_len, .scope = etw_decode_scope};
    void *c = copy(m, n - 16);
    return c && etw_schema_put(&k, c, (uint32_t)(n - 16), ETW_SRC_METADATA, 0);
}

/* The session shows every event to the learner before its callback, and the callback may
 * decode the same record again (describe, format, TDH calls each observe): learn it once. */
static _Thread_local struct {
    const EVENT_RECORD *rec;
    const void *data;
    LONGLONG time;
    uint32_t scope, len;
    uint8_t opcode;
} seen;

static int seen_before(const EVENT_RECORD *rec)
{
    if (seen.rec == rec && seen.data == rec->UserData && seen.time == rec->EventHeader.TimeStamp.QuadPart &&
        seen.scope == etw_decode_scope && seen.len == rec->UserDataLength &&
        seen.opcode == rec->EventHeader.EventDescriptor.Opcode)
        return 1;
    seen.rec = rec;
    seen.data = rec->UserData;
    seen.time = rec->EventHeader.TimeStamp.QuadPart;
    seen.scope = etw_decode_scope;
    seen.len = rec->UserDataLength;
    seen.opcode = rec->EventHeader.EventDescriptor.Opcode;
    return 0;
}

/* The provider whose lookups a MetaData record can change: the one it is stored under
 * (etw_metadata_learn_*). 0 for a record those would refuse by its size alone. */
static int record_provider(uint8_t opcode, const uint8_t *p, size_t n, GUID *g)
{
    if (opcode == ETW_EMBEDDED_EVENT_INFO) {
        if (n < 52 || n > (1u << 20))
            return 0;
        /* TRACE_EVENT_INFO: ProviderGuid at 0, EventGuid at 16, DecodingSource at 48. */
        *g = etw_guid_read(p + (etw_rd32(p + 48) == DecodingSourceWbem ? 16 : 0));
        return 1;
    }
    if (n < 16 || n - 16 > (1u << 20))
        return 0;
    *g = etw_guid_read(p);
    return 1;
}

/* A MetaData event: kept raw (lazy) or compiled now, after whatever its provider had kept. */
static int take_metadata(const EVENT_RECORD *rec, int lazy)
{
    const uint8_t *p = rec->UserData;
    size_t n = rec->UserDataLength;
    uint8_t opcode = rec->EventHeader.EventDescriptor.Opcode;
    GUID g;
    if ((opcode != ETW_EMBEDDED_EVENT_INFO && opcode != ETW_EMBEDDED_MAP_INFO) || !record_provider(opcode, p, n, &g))
        return 0;
    if (lazy && etw_embedded_keep(etw_decode_scope, opcode, &g, NULL, p, n))
        return 1;
    etw_embedded_compile_for(etw_decode_scope, &g);
    return opcode == ETW_EMBEDDED_EVENT_INFO ? etw_metadata_learn_event_info(p, n) : etw_metadata_learn_map_info(p, n);
}

/* An EventSource manifest chunk or a MetaData event, maybe (the first look passed). Apart, so
 * that the first look saves no registers: it runs on every event. */
__attribute__((noinline)) static int take_candidate(const EVENT_RECORD *rec, int lazy)
{
    if (rec->EventHeader.EventDescriptor.Id == 0xFFFE)
        return seen_before(rec) ? 0 : etw_eventsource_take(rec, lazy);
    /* Called several times per event (session hook, filter, decoder): the first four bytes of
     * the GUID turn other providers away without a call. */
    if (rec->EventHeader.ProviderId.Data1 != etw_metadata_guid.Data1 ||
        !etw_guid_equal(&rec->EventHeader.ProviderId, &etw_metadata_guid) || !rec->UserData || seen_before(rec))
        return 0;
    return take_metadata(rec, lazy);
}

int etw_metadata_observe(const EVENT_RECORD *rec)
{
    return rec && etw_metadata_candidate(rec) ? take_candidate(rec, 0) : 0;
}

int etw_metadata_capture(const EVENT_RECORD *rec)
{
    return etw_metadata_candidate(rec) ? take_candidate(rec, 1) : 0;
}
