/* Schema pack writer (pack_write.h): schemas are decomposed into strings and fields on add;
 * finish() keeps the last definition of every key, interns strings in the order a sorted walk
 * meets them (so the output depends only on the final set of schemas), shares identical
 * property lists and maps between events, and lays out the sections of pack_format.h. */
#include "tdh/store/pack_write.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/crc32.h"
#include "tdh/decode/prop_walk.h"
#include "tdh/store/pack_codec.h"
#include "tdh/store/pack_format.h"
#include "tdh/store/pack_write_internal.h"

etw_pack_writer *etw_pack_writer_create(void)
{
    etw_pack_writer *w = calloc(1, sizeof *w);
    if (w && !etw_pw_strings_init(&w->strings)) {
        free(w);
        return NULL;
    }
    return w;
}

void etw_pack_writer_destroy(etw_pack_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->events.n; i++)
        free(w->events.v[i].props);
    for (size_t i = 0; i < w->maps.n; i++)
        free(w->maps.v[i].ent);
    for (size_t i = 0; i < w->sections.n; i++)
        free(w->sections.v[i].p);
    free(w->events.v), free(w->maps.v), free(w->providers.v), free(w->sections.v);
    etw_pw_strings_free(&w->strings);
    free(w);
}

/* A UTF-16 string at off in blob (0 = absent) interned; 0 on failure (sets *why). */
static int blob_string(etw_pack_writer *w, const uint8_t *blob, size_t size, uint32_t off, uint32_t *id,
                       const char **why)
{
    *id = 0;
    if (off == 0)
        return 1;
    if (off >= size || (off & 1)) {
        *why = "string offset outside the blob";
        return 0;
    }
    size_t units = 0;
    while (off + 2 * units + 1 < size && etw_rd16(blob + off + 2 * units))
        units++;
    if (off + 2 * units + 1 >= size) {
        *why = "unterminated string";
        return 0;
    }
    if (!etw_pw_intern_utf16(&w->strings, blob + off, units, id)) {
        *why = "out of memory";
        return 0;
    }
    return 1;
}

static int add_event(etw_pack_writer *w, const etw_schema_key *key, const uint8_t *blob, size_t size,
                     const char **why)
{
    if (!etw_tei_check(blob, size)) {
        *why = "TRACE_EVENT_INFO does not validate";
        return 0;
    }
    const TRACE_EVENT_INFO *tei = (const TRACE_EVENT_INFO *)blob;
    etw_pw_event *e = ETW_PW_PUSH(w, events);
    if (!e) {
        *why = "out of memory";
        return 0;
    }
    e->guid = key->guid;
    e->kind = key->kind;
    e->a = key->a;
    e->b = key->b;
    e->seq = ++w->seq;
    e->event_guid = tei->EventGuid;
    static const GUID zero;
    e->presence = memcmp(&zero, &tei->EventGuid, sizeof zero) ? ETW_PACK_EV_EVENT_GUID : 0;
    e->provider_guid = tei->ProviderGuid;
    if (memcmp(&key->guid, &tei->ProviderGuid, sizeof key->guid))
        e->presence |= ETW_PACK_EV_PROVIDER_GUID;
    e->desc = tei->EventDescriptor;
    e->decoding_source = (uint32_t)tei->DecodingSource;
    e->flags = (uint32_t)tei->Flags;
    const uint32_t offs[ETW_PACK_TEI_STRINGS] = {
        tei->ProviderNameOffset,    tei->LevelNameOffset,  tei->ChannelNameOffset, tei->KeywordsNameOffset,
        tei->TaskNameOffset,        tei->OpcodeNameOffset, tei->EventMessageOffset,
        tei->ProviderMessageOffset, tei->EventNameOffset,  tei->EventAttributesOffset};
    for (unsigned i = 0; i < ETW_PACK_TEI_STRINGS; i++)
        if (!blob_string(w, blob, size, offs[i], &e->str[i], why))
            return 0;
    e->nprops = tei->PropertyCount;
    e->top = tei->TopLevelPropertyCount;
    if (e->nprops) {
        e->presence |= ETW_PACK_EV_PROPS;
        e->props = calloc(e->nprops, sizeof *e->props);
        if (!e->props) {
            *why = "out of memory";
            return 0;
        }
    }
    for (uint32_t i = 0; i < e->nprops; i++) {
        const EVENT_PROPERTY_INFO *s = &tei->EventPropertyInfoArray[i];
        etw_pw_prop *d = &e->props[i];
        if (s->Flags & PropertyHasCustomSchema) {
            *why = "custom-schema properties are not kept in packs";
            return 0;
        }
        d->flags = (uint32_t)s->Flags;
        if (!blob_string(w, blob, size, s->NameOffset, &d->name, why))
            return 0;
        if (s->Flags & PropertyStruct) {
            d->x = s->structType.StructStartIndex;
            d->y = s->structType.NumOfStructMembers;
        } else {
            d->x = s->nonStructType.InType;
            d->y = s->nonStructType.OutType;
            if (!blob_string(w, blob, size, s->nonStructType.MapNameOffset, &d->map, why))
                return 0;
        }
        d->count = s->count;
        d->length = s->length;
        d->tags = s->Reserved;
    }
    return 1;
}

static int map_input_is_string(uint32_t flag, uint32_t second)
{
    return (flag & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) || second == EVENTMAP_ENTRY_VALUETYPE_STRING;
}

static int add_map(etw_pack_writer *w, const etw_schema_key *key, const uint8_t *blob, size_t size,
                   const char **why)
{
    if (size < 16 || etw_rd32(blob + 8) > (size - 16) / 8 || !key->blob_len || (key->blob_len & 1)) {
        *why = "EVENT_MAP_INFO does not validate";
        return 0;
    }
    etw_pw_map *m = ETW_PW_PUSH(w, maps);
    if (!m) {
        *why = "out of memory";
        return 0;
    }
    m->guid = key->guid;
    m->seq = ++w->seq;
    if (!etw_pw_intern_utf16(&w->strings, key->blob, key->blob_len / 2, &m->name)) {
        *why = "out of memory";
        return 0;
    }
    m->flag = etw_rd32(blob + 4);
    m->n = etw_rd32(blob + 8);
    uint32_t second = etw_rd32(blob + 12);
    m->second = second;
    int pattern = (m->flag & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) != 0;
    if (pattern && !blob_string(w, blob, size, second, &m->second, why))
        return 0;
    m->ent = m->n ? calloc(m->n, sizeof *m->ent) : NULL;
    if (m->n && !m->ent) {
        *why = "out of memory";
        return 0;
    }
    int str_input = map_input_is_string(m->flag, second);
    for (uint32_t i = 0; i < m->n; i++) {
        const uint8_t *ent = blob + 16 + 8 * (size_t)i;
        if (!blob_string(w, blob, size, etw_rd32(ent), &m->ent[i].out, why))
            return 0;
        m->ent[i].in = etw_rd32(ent + 4);
        if (str_input && !blob_string(w, blob, size, m->ent[i].in, &m->ent[i].in, why))
            return 0;
    }
    return 1;
}

int etw_pack_writer_add(etw_pack_writer *w, const etw_schema_key *key, const void *info, size_t size,
                        const char **why)
{
    const char *dummy;
    why = why ? why : &dummy;
    *why = NULL;
    if (!w || !key || !info || size > ETW_PACK_MAX_BLOB) {
        *why = "invalid parameter";
        return 0;
    }
    if (key->kind == ETW_KEY_MANIFEST || key->kind == ETW_KEY_CLASSIC)
        return add_event(w, key, info, size, why);
    if (key->kind == ETW_KEY_MAP)
        return add_map(w, key, info, size, why);
    *why = "only manifest, classic and map schemas go into packs";
    return 0;
}

int etw_pack_writer_provider(etw_pack_writer *w, const GUID *guid, const char *name, const char *origin)
{
    etw_pw_provider *p = ETW_PW_PUSH(w, providers);
    if (!p)
        return 0;
    p->guid = *guid;
    p->seq = ++w->seq;
    return etw_pw_intern_utf8(&w->strings, name, &p->name) && etw_pw_intern_utf8(&w->strings, origin, &p->origin);
}

int etw_pack_writer_section(etw_pack_writer *w, uint32_t type, const void *p, size_t n)
{
    if (type < ETW_PACK_SEC_EXTENSION || n > ETW_PACK_MAX_SIZE || w->sections.n >= ETW_PACK_MAX_SECTIONS - 5)
        return 0;
    etw_pw_section *s = ETW_PW_PUSH(w, sections);
    if (!s || !(s->p = malloc(n ? n : 1)))
        return 0;
    memcpy(s->p, p, n);
    s->n = n;
    s->type = type;
    return 1;
}
