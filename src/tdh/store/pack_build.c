/* Rebuilding TRACE_EVENT_INFO and EVENT_MAP_INFO blobs from schema pack bodies
 * (docs/format/schema-pack.md §4). Each body is decoded twice: once to measure (and validate),
 * once to write into a blob of exactly that size; strings are converted back to UTF-16 and
 * placed after the fixed part. The result is checked like a schema from a trace. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "tdh/decode/prop_walk.h"
#include "tdh/store/pack_codec.h"
#include "tdh/store/pack_format.h"
#include "tdh/store/pack_read.h"
#include "tdh/store/schema_cache.h"

#define TEI_FIXED 112u
#define EPI_SIZE 24u
#define EMI_FIXED 16u

/* A body being decoded into a blob (out NULL: measuring). */
typedef struct sink {
    const etw_pack *pk;
    const uint8_t *body; /* the BODIES section */
    size_t nbody;
    uint8_t *out;
    size_t cap;   /* bytes at out: the measured size (the write pass re-checks every write) */
    size_t fixed; /* bytes before the string area */
    size_t str;   /* string area bytes so far */
    int bad;
} sink;

static uint32_t uv(sink *s, size_t *pos, uint32_t max)
{
    uint32_t v = 0;
    if (!s->bad && !etw_pack_get_u32(s->body, s->nbody, pos, max, &v))
        s->bad = 1;
    return v;
}

/* Places the string of reference ref; returns its blob offset (0 for ref 0). */
static uint32_t string(sink *s, uint32_t ref)
{
    if (!ref || s->bad)
        return 0;
    if (ref >= s->pk->strings.size) {
        s->bad = 1;
        return 0;
    }
    const uint8_t *p = s->pk->p + s->pk->strings.off + ref; /* the section ends with NUL */
    size_t at = s->fixed + s->str;
    while (*p) {
        uint16_t u[2];
        unsigned units = 0;
        size_t used = etw_pack_utf8_unit(p, u, &units);
        if (!used || s->str > ETW_PACK_MAX_BLOB) {
            s->bad = 1;
            return 0;
        }
        for (unsigned i = 0; i < units; i++, s->str += 2) {
            if (s->out && s->fixed + s->str + 2 > s->cap) {
                s->bad = 1; /* the bytes changed under us (a pack file rewritten while mapped) */
                return 0;
            }
            if (s->out)
                etw_wr16(s->out + s->fixed + s->str, u[i]);
        }
        p += used;
    }
    if (s->out && s->fixed + s->str + 2 > s->cap) {
        s->bad = 1;
        return 0;
    }
    if (s->out)
        etw_wr16(s->out + s->fixed + s->str, 0);
    s->str += 2;
    return (uint32_t)at;
}

static void props(sink *s, size_t pos, TRACE_EVENT_INFO *tei, uint32_t *count)
{
    uint32_t n = uv(s, &pos, ETW_PACK_MAX_PROPS), top = uv(s, &pos, n);
    *count = n;
    if (s->out) {
        tei->PropertyCount = n;
        tei->TopLevelPropertyCount = top;
    }
    for (uint32_t i = 0; i < n && !s->bad; i++) {
        EVENT_PROPERTY_INFO e = {0};
        e.Flags = (PROPERTY_FLAGS)uv(s, &pos, UINT32_MAX);
        e.NameOffset = string(s, uv(s, &pos, UINT32_MAX));
        uint16_t x = (uint16_t)uv(s, &pos, UINT16_MAX), y = (uint16_t)uv(s, &pos, UINT16_MAX);
        if (e.Flags & PropertyStruct) {
            e.structType.StructStartIndex = x;
            e.structType.NumOfStructMembers = y;
        } else {
            e.nonStructType.InType = x;
            e.nonStructType.OutType = y;
            e.nonStructType.MapNameOffset = string(s, uv(s, &pos, UINT32_MAX));
        }
        e.count = (USHORT)uv(s, &pos, UINT16_MAX);
        e.length = (USHORT)uv(s, &pos, UINT16_MAX);
        e.Reserved = uv(s, &pos, UINT32_MAX);
        if (s->out && TEI_FIXED + (size_t)EPI_SIZE * (i + 1) <= s->fixed)
            tei->EventPropertyInfoArray[i] = e;
        else if (s->out)
            s->bad = 1;
    }
}

/* Decodes an event body; returns the property count in *nprops (measuring) and fills tei. */
static void guid(sink *s, size_t *pos, GUID *g)
{
    if (!etw_range_ok(s->nbody, *pos, 16)) {
        s->bad = 1;
        return;
    }
    memcpy(g, s->body + *pos, 16);
    *pos += 16;
}

static void event(sink *s, size_t pos, const GUID *provider, TRACE_EVENT_INFO *tei, uint32_t *nprops)
{
    TRACE_EVENT_INFO h;
    memset(&h, 0, sizeof h);
    h.ProviderGuid = *provider;
    uint32_t presence = uv(s, &pos, ETW_PACK_EV_EVENT_GUID | ETW_PACK_EV_PROPS | ETW_PACK_EV_PROVIDER_GUID);
    if (presence & ETW_PACK_EV_EVENT_GUID)
        guid(s, &pos, &h.EventGuid);
    if (presence & ETW_PACK_EV_PROVIDER_GUID)
        guid(s, &pos, &h.ProviderGuid);
    if (s->bad)
        return;
    EVENT_DESCRIPTOR *d = &h.EventDescriptor;
    d->Id = (USHORT)uv(s, &pos, UINT16_MAX);
    d->Version = (UCHAR)uv(s, &pos, UINT8_MAX);
    d->Channel = (UCHAR)uv(s, &pos, UINT8_MAX);
    d->Level = (UCHAR)uv(s, &pos, UINT8_MAX);
    d->Opcode = (UCHAR)uv(s, &pos, UINT8_MAX);
    d->Task = (USHORT)uv(s, &pos, UINT16_MAX);
    uint64_t kw = 0;
    if (!s->bad && !etw_pack_get_uv(s->body, s->nbody, &pos, &kw))
        s->bad = 1;
    d->Keyword = kw;
    h.DecodingSource = (DECODING_SOURCE)uv(s, &pos, UINT32_MAX);
    h.Flags = (TEMPLATE_FLAGS)uv(s, &pos, UINT32_MAX);
    ULONG *str_fields[ETW_PACK_TEI_STRINGS] = {
        &h.ProviderNameOffset,    &h.LevelNameOffset,  &h.ChannelNameOffset, &h.KeywordsNameOffset,
        &h.TaskNameOffset,        &h.OpcodeNameOffset, &h.EventMessageOffset,
        &h.ProviderMessageOffset, &h.EventNameOffset,  &h.EventAttributesOffset};
    for (unsigned i = 0; i < ETW_PACK_TEI_STRINGS; i++)
        *str_fields[i] = string(s, uv(s, &pos, UINT32_MAX));
    uint32_t plist = presence & ETW_PACK_EV_PROPS ? uv(s, &pos, UINT32_MAX) : UINT32_MAX;
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
    sink s = {.pk = pk, .body = pk->p + pk->bodies.off, .nbody = pk->bodies.size};
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

static void map_entries(sink *s, size_t pos, uint32_t name_ref, EVENT_MAP_INFO *emi, uint32_t *count)
{
    uint32_t flag = uv(s, &pos, UINT32_MAX), second = uv(s, &pos, UINT32_MAX);
    uint32_t n = uv(s, &pos, ETW_PACK_MAX_MAP_ENTRIES);
    *count = n;
    int pattern = (flag & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) != 0;
    int str_input = pattern || second == EVENTMAP_ENTRY_VALUETYPE_STRING;
    uint32_t name = string(s, name_ref);
    if (pattern)
        second = string(s, second);
    if (s->out) {
        emi->NameOffset = name;
        emi->Flag = (MAP_FLAGS)flag;
        emi->EntryCount = n;
        emi->FormatStringOffset = second;
    }
    for (uint32_t i = 0; i < n && !s->bad; i++) {
        uint32_t out = string(s, uv(s, &pos, UINT32_MAX));
        uint32_t in = uv(s, &pos, UINT32_MAX);
        if (str_input)
            in = string(s, in);
        if (s->out && EMI_FIXED + (size_t)8 * (i + 1) <= s->fixed) {
            emi->MapEntryArray[i].OutputOffset = out;
            emi->MapEntryArray[i].Value = in;
        } else if (s->out) {
            s->bad = 1;
        }
    }
}

/* A UTF-16LE name in the stored form, for comparing with map names; 0 if too long. */
static size_t stored_name(const uint8_t *le, size_t nbytes, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i + 1 < nbytes; i += 2) {
        uint32_t c = etw_rd16(le + i);
        if (c >= 0xd800 && c < 0xdc00 && i + 3 < nbytes) {
            uint32_t lo = etw_rd16(le + i + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            }
        }
        if (c == 0 || o + 5 > cap)
            return 0;
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xc0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xe0 | c >> 12);
            out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else {
            out[o++] = (char)(0xf0 | c >> 18);
            out[o++] = (char)(0x80 | (c >> 12 & 0x3f));
            out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
            out[o++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[o] = 0;
    return o;
}

EVENT_MAP_INFO *etw_pack_build_map(const etw_pack *pk, uint32_t provider, const uint8_t *name_utf16,
                                   size_t name_bytes, size_t *size)
{
    char name[1024];
    if (!provider_ok(pk, provider) || !stored_name(name_utf16, name_bytes, name, sizeof name))
        return NULL;
    const uint8_t *r = pk->p + pk->providers.off + (size_t)provider * ETW_PACK_PROVIDER_SIZE;
    uint32_t lo = etw_rd32(r + 32), hi = lo + etw_rd32(r + 36);
    const uint8_t *m = NULL;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = pk->p + pk->maps.off + (size_t)mid * ETW_PACK_MAP_SIZE;
        int c = strcmp((const char *)pk->p + pk->strings.off + etw_rd32(e), name);
        if (c == 0) {
            m = e;
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!m)
        return NULL;
    sink s = {.pk = pk, .body = pk->p + pk->bodies.off, .nbody = pk->bodies.size};
    uint32_t n = 0;
    map_entries(&s, etw_rd32(m + 4), etw_rd32(m), NULL, &n);
    if (s.bad)
        return NULL;
    s.fixed = EMI_FIXED + (size_t)8 * n;
    size_t total = s.fixed + s.str;
    EVENT_MAP_INFO *emi = total <= ETW_PACK_MAX_BLOB ? calloc(1, total) : NULL;
    if (!emi)
        return NULL;
    s.out = (uint8_t *)emi;
    s.cap = total;
    s.str = 0;
    map_entries(&s, etw_rd32(m + 4), etw_rd32(m), emi, &n);
    if (s.bad || s.fixed + s.str != total) {
        free(emi);
        return NULL;
    }
    *size = total;
    return emi;
}
