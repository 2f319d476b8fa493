/* Rebuilding TRACE_EVENT_INFO blobs from schema pack event bodies (docs/format/schema-pack.md
 * §4, §5): the event found by binary search among its provider's, its body decoded twice
 * (pack_sink.h: once to measure and validate, once to write into a blob of exactly that size)
 * and the result checked like a schema from a trace. Maps: pack_build_map.c. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "tdh/decode/prop_walk.h"
#include "tdh/store/pack_codec.h"
#include "tdh/store/pack_format.h"
#include "tdh/store/pack_read.h"
#include "tdh/store/pack_sink.h"
#include "tdh/store/schema_cache.h"

#define TEI_FIXED 112u
#define EPI_SIZE 24u

static void props(etw_pack_sink *s, size_t pos, TRACE_EVENT_INFO *tei, uint32_t *count)
{
    uint32_t n = etw_pack_sink_uv(s, &pos, ETW_PACK_MAX_PROPS), top = etw_pack_sink_uv(s, &pos, n);
    *count = n;
    if (s->out) {
        tei->PropertyCount = n;
        tei->TopLevelPropertyCount = top;
    }
    for (uint32_t i = 0; i < n && !s->bad; i++) {
        EVENT_PROPERTY_INFO e = {0};
        e.Flags = (PROPERTY_FLAGS)etw_pack_sink_uv(s, &pos, UINT32_MAX);
        e.NameOffset = etw_pack_sink_string(s, etw_pack_sink_uv(s, &pos, UINT32_MAX));
        uint16_t x = (uint16_t)etw_pack_sink_uv(s, &pos, UINT16_MAX), y = (uint16_t)etw_pack_sink_uv(s, &pos, UINT16_MAX);
        if (e.Flags & PropertyStruct) {
            e.structType.StructStartIndex = x;
            e.structType.NumOfStructMembers = y;
        } else {
            e.nonStructType.InType = x;
            e.nonStructType.OutType = y;
            e.nonStructType.MapNameOffset = etw_pack_sink_string(s, etw_pack_sink_uv(s, &pos, UINT32_MAX));
        }
        e.count = (USHORT)etw_pack_sink_uv(s, &pos, UINT16_MAX);
        e.length = (USHORT)etw_pack_sink_uv(s, &pos, UINT16_MAX);
        e.Reserved = etw_pack_sink_uv(s, &pos, UINT32_MAX);
        if (s->out && TEI_FIXED + (size_t)EPI_SIZE * (i + 1) <= s->fixed)
            tei->EventPropertyInfoArray[i] = e;
        else if (s->out)
            s->bad = 1;
    }
}

/* Decodes an event body; returns the property count in *nprops (measuring) and fills tei. */
static void guid(etw_pack_sink *s, size_t *pos, GUID *g)
{
    if (!etw_range_ok(s->nbody, *pos, 16)) {
        s->bad = 1;
        return;
    }
    memcpy(g, s->body + *pos, 16);
    *pos += 16;
}

static void event(etw_pack_sink *s, size_t pos, const GUID *provider, TRACE_EVENT_INFO *tei, uint32_t *nprops)
{
    TRACE_EVENT_INFO h;
    memset(&h, 0, sizeof h);
    h.ProviderGuid = *provider;
    uint32_t presence = etw_pack_sink_uv(s, &pos, ETW_PACK_EV_EVENT_GUID | ETW_PACK_EV_PROPS | ETW_PACK_EV_PROVIDER_GUID);
    if (presence & ETW_PACK_EV_EVENT_GUID)
        guid(s, &pos, &h.EventGuid);
    if (presence & ETW_PACK_EV_PROVIDER_GUID)
        guid(s, &pos, &h.ProviderGuid);
    if (s->bad)
        return;
    EVENT_DESCRIPTOR *d = &h.EventDescriptor;
    d->Id = (USHORT)etw_pack_sink_uv(s, &pos, UINT16_MAX);
    d->Version = (UCHAR)etw_pack_sink_uv(s, &pos, UINT8_MAX);
    d->Channel = (UCHAR)etw_pack_sink_uv(s, &pos, UINT8_MAX);
    d->Level = (UCHAR)etw_pack_sink_uv(s, &pos, UINT8_MAX);
    d->Opcode = (UCHAR)etw_pack_sink_uv(s, &pos, UINT8_MAX);
    d->Task = (USHORT)etw_pack_sink_uv(s, &pos, UINT16_MAX);
    uint64_t kw = 0;
    if (!s->bad && !etw_pack_get_uv(s->body, s->nbody, &pos, &kw))
        s->bad = 1;
    d->Keyword = kw;
    h.DecodingSource = (DECODING_SOURCE)etw_pack_sink_uv(s, &pos, UINT32_MAX);
    h.Flags = (TEMPLATE_FLAGS)etw_pack_sink_uv(s, &pos, UINT32_MAX);
    ULONG *str_fields[ETW_PACK_TEI_STRINGS] = {
        &h.ProviderNameOffset,    &h.LevelNameOffset,  &h.ChannelNameOffset, &h.KeywordsNameOffset,
        &h.TaskNameOffset,        &h.OpcodeNameOffset, &h.EventMessageOffset,
        &h.ProviderMessageOffset, &h.EventNameOffset,  &h.EventAttributesOffset};
    for (unsigned i = 0; i < ETW_PACK_TEI_STRINGS; i++)
        *str_fields[i] = etw_pack_sink_string(s, etw_pack_sink_uv(s, &pos, UINT32_MAX));
    uint32_t plist = presence & ETW_PACK_EV_PROPS ? etw_pack_sink_uv(s, &pos, UINT32_MAX) : UINT32_MAX;
    if (s->out) {
        size_t keep = offsetof(TRACE_EVENT_INFO, EventPropertyInfoArray);
        memcpy(tei, &h, keep);
    }
    *nprops = 0;
    if (plist != UINT32_MAX && !s->bad) {
        if (plist >= s->nbody)
            s->bad = 1;
        else
            props(s, plist, tei, nprops);
    }
}

static const uint8_t *find_event(const etw_pack *pk, uint32_t provider, uint64_t key, uint32_t *index)
{
    const uint8_t *r = pk->p + pk->providers.off + (size_t)provider * ETW_PACK_PROVIDER_SIZE;
    uint32_t lo = etw_rd32(r + 24), hi = lo + etw_rd32(r + 28);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = pk->p + pk->events.off + (size_t)mid * ETW_PACK_EVENT_SIZE;
        uint64_t k = (uint64_t)e[0] << 32 | (uint32_t)etw_rd16(e + 2) << 16 | etw_rd16(e + 4);
        if (k == key) {
            *index = mid;
            return e;
        }
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    *index = lo; /* where key would go */
    return NULL;
}

static TRACE_EVENT_INFO *build_at(const etw_pack *pk, uint32_t provider, uint32_t body, size_t *size)
{
    etw_pack_sink s = {.pk = pk, .body = pk->p + pk->bodies.off, .nbody = pk->bodies.size};
    GUID g;
    memcpy(&g, pk->p + pk->providers.off + (size_t)provider * ETW_PACK_PROVIDER_SIZE, 16);
    uint32_t n = 0;
    event(&s, body, &g, NULL, &n);
    if (s.bad)
        return NULL;
    s.fixed = TEI_FIXED + (size_t)EPI_SIZE * n;
    size_t total = s.fixed + s.str;
    if (total > ETW_PACK_MAX_BLOB)
        return NULL;
    TRACE_EVENT_INFO *tei = calloc(1, total);
    if (!tei)
        return NULL;
    s.out = (uint8_t *)tei;
    s.cap = total;
    s.str = 0;
    event(&s, body, &g, tei, &n);
    if (s.bad || s.fixed + s.str != total || !etw_tei_check((const uint8_t *)tei, total)) {
        free(tei);
        return NULL;
    }
    *size = total;
    return tei;
}

static int provider_ok(const etw_pack *pk, uint32_t provider)
{
    return pk && pk->p && provider < pk->providers.count;
}

TRACE_EVENT_INFO *etw_pack_build_event(const etw_pack *pk, uint32_t provider, uint8_t kind, uint16_t a,
                                       uint16_t b, size_t *size)
{
    uint32_t at;
    const uint8_t *e = provider_ok(pk, provider)
                           ? find_event(pk, provider, (uint64_t)kind << 32 | (uint32_t)a << 16 | b, &at)
                           : NULL;
    return e ? build_at(pk, provider, etw_rd32(e + 8), size) : NULL;
}

TRACE_EVENT_INFO *etw_pack_build_event_at_most(const etw_pack *pk, uint32_t provider, uint8_t kind,
                                               uint16_t a, uint16_t b, uint16_t *version_out, size_t *size)
{
    if (!provider_ok(pk, provider))
        return NULL;
    uint32_t at;
    const uint8_t *e = find_event(pk, provider, (uint64_t)kind << 32 | (uint32_t)a << 16 | b, &at);
    const uint8_t *r = pk->p + pk->providers.off + (size_t)provider * ETW_PACK_PROVIDER_SIZE;
    if (!e && at > etw_rd32(r + 24)) {
        const uint8_t *prev = pk->p + pk->events.off + (size_t)(at - 1) * ETW_PACK_EVENT_SIZE;
        if (prev[0] == kind && etw_rd16(prev + 2) == a)
            e = prev; /* sorted by (kind, a, b): the newest version below b */
    }
    if (!e)
        return NULL;
    *version_out = etw_rd16(e + 4);
    return build_at(pk, provider, etw_rd32(e + 8), size);
}
