/* WEVT_TEMPLATE resources (format notes §3.2): the CRIM blob mc.exe compiles from a manifest.
 * All offsets are CRIM-relative and every one is checked. What is known is decoded: events
 * (descriptor, template), task and opcode names, template items (in/out types, count, length,
 * names). The item descriptor's first u32 is read as PROPERTY_FLAGS — ParamLength/ParamCount
 * then make count/length property indexes [inferred, notes §3.2 hypothesis]; templates with
 * structs (flag 0x1) are skipped because their encoding is unknown. Provider names and map
 * strings live in message tables, which are not read: such providers are named by GUID. */
#include <string.h>

#include "base/bytes.h"
#include "tdh/sources/manifest.h"
#include "tdh/sources/pe_resource.h"
#include "tdh/store/schema_cache.h"
#include "tdh/store/tei_build.h"

#define EVNT_RECORD 48u
#define ITEM_SIZE 20u
#define MAX_ITEMS 1024u

typedef struct crim {
    const uint8_t *p;
    size_t n;
} crim;

/* A CRIM string {u32 size incl. itself; UTF-16 NUL} as UTF-16 bytes (no NUL). */
static size_t crim_str(const crim *c, uint32_t off, const uint8_t **s)
{
    if (off == 0 || !etw_range_ok(c->n, off, 4))
        return 0;
    uint32_t size = etw_rd32(c->p + off);
    if (size < 4 || !etw_range_ok(c->n, off, size))
        return 0;
    *s = c->p + off + 4;
    size_t len = 0;
    while (len + 2 <= size - 4 && ((*s)[len] | (*s)[len + 1]))
        len += 2;
    return len;
}

static uint32_t add_crim_str(etw_teib *b, const crim *c, uint32_t off)
{
    const uint8_t *s;
    size_t len = crim_str(c, off, &s);
    return len ? etw_teib_wstr(b, s, len) : 0;
}

static int add_template(etw_teib *b, const crim *c, uint32_t temp)
{
    if (!etw_range_ok(c->n, temp, 40) || memcmp(c->p + temp, "TEMP", 4) != 0)
        return 0;
    uint32_t count = etw_rd32(c->p + temp + 8), items = etw_rd32(c->p + temp + 16);
    if (count > MAX_ITEMS || (count && !etw_range_ok(c->n, items, (uint64_t)count * ITEM_SIZE)))
        return 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *it = c->p + items + ITEM_SIZE * i;
        uint32_t flags = etw_rd32(it);
        if (flags & PropertyStruct)
            return 0;
        int32_t k = etw_teib_add(b, -1, "", it[4], it[5]);
        if (k < 0)
            return 0;
        EVENT_PROPERTY_INFO *e = &b->props[k].epi;
        e->NameOffset = add_crim_str(b, c, etw_rd32(it + 16));
        e->Flags = (PROPERTY_FLAGS)(flags & (PropertyParamLength | PropertyParamCount |
                                             PropertyParamFixedLength | PropertyParamFixedCount));
        e->count = etw_rd16(it + 12);
        e->length = etw_rd16(it + 14);
        /* References must name an earlier item (the walk reads them before). */
        if (((e->Flags & PropertyParamCount) && e->countPropertyIndex >= i) ||
            ((e->Flags & PropertyParamLength) && e->lengthPropertyIndex >= i))
            return 0;
    }
    return 1;
}

static int add_event(const crim *c, const GUID *prov, const uint8_t *r, uint32_t origin)
{
    etw_teib b;
    etw_teib_init(&b);
    b.hdr.ProviderGuid = *prov;
    b.hdr.DecodingSource = DecodingSourceXMLFile;
    EVENT_DESCRIPTOR *d = &b.hdr.EventDescriptor;
    d->Id = etw_rd16(r);
    d->Version = r[2];
    d->Channel = r[3];
    d->Level = r[4];
    d->Opcode = r[5];
    d->Task = etw_rd16(r + 6);
    d->Keyword = etw_rd64(r + 8);
    uint32_t temp = etw_rd32(r + 20), opco = etw_rd32(r + 24), task = etw_rd32(r + 32);
    if (task && etw_range_ok(c->n, task, 28))
        b.hdr.TaskNameOffset = add_crim_str(&b, c, etw_rd32(c->p + task + 24));
    if (opco && etw_range_ok(c->n, opco, 12))
        b.hdr.OpcodeNameOffset = add_crim_str(&b, c, etw_rd32(c->p + opco + 8));
    int ok = temp == 0 || add_template(&b, c, temp);
    if (temp)
        b.hdr.Flags = TEMPLATE_EVENT_DATA;
    size_t size = 0;
    etw_schema_key k = {.guid = *prov, .kind = ETW_KEY_MANIFEST, .a = d->Id, .b = d->Version};
    TRACE_EVENT_INFO *t = ok ? etw_teib_finish(&b, &size) : NULL;
    etw_teib_free(&b); /* clears b, d with it */
    if (!t)
        return 0;
    return etw_schema_put(&k, t, (uint32_t)size, ETW_SRC_MANIFEST, origin);
}

static size_t load_provider(const crim *c, const GUID *prov, uint32_t wevt, uint32_t origin)
{
    if (!etw_range_ok(c->n, wevt, 20) || memcmp(c->p + wevt, "WEVT", 4) != 0)
        return 0;
    uint32_t ndesc = etw_rd32(c->p + wevt + 12);
    if (!etw_range_ok(c->n, (uint64_t)wevt + 20, (uint64_t)ndesc * 8))
        return 0;
    size_t stored = 0;
    for (uint32_t i = 0; i < ndesc; i++) {
        uint32_t el = etw_rd32(c->p + wevt + 20 + 8 * i);
        if (!etw_range_ok(c->n, el, 16) || memcmp(c->p + el, "EVNT", 4) != 0)
            continue;
        uint32_t count = etw_rd32(c->p + el + 8);
        if (!etw_range_ok(c->n, (uint64_t)el + 16, (uint64_t)count * EVNT_RECORD))
            continue;
        for (uint32_t k = 0; k < count; k++)
            stored += (size_t)add_event(c, prov, c->p + el + 16 + EVNT_RECORD * k, origin);
    }
    return stored;
}

static etw_tdh_status load_crim(const uint8_t *p, size_t n, uint32_t origin)
{
    if (n < 16 || memcmp(p, "CRIM", 4) != 0)
        return ETW_TDH_E_BAD_TEMPLATE;
    crim c = {p, n};
    size_t declared = etw_rd32(p + 4);
    if (declared < c.n)
        c.n = declared;
    uint32_t nprov = etw_rd32(p + 12);
    if (!etw_range_ok(c.n, 16, (uint64_t)nprov * 20))
        return ETW_TDH_E_BAD_TEMPLATE;
    size_t stored = 0;
    for (uint32_t i = 0; i < nprov; i++) {
        const uint8_t *e = p + 16 + 20 * i;
        GUID g;
        g.Data1 = etw_rd32(e);
        g.Data2 = etw_rd16(e + 4);
        g.Data3 = etw_rd16(e + 6);
        memcpy(g.Data4, e + 8, 8);
        stored += load_provider(&c, &g, etw_rd32(e + 16), origin);
    }
    return stored ? ETW_TDH_OK : ETW_TDH_E_UNUSABLE;
}

etw_tdh_status etw_wevt_load_pe(const uint8_t *p, size_t n, uint32_t origin)
{
    const uint8_t *crim_data;
    size_t crim_size;
    if (n >= 4 && memcmp(p, "CRIM", 4) == 0) /* a bare CRIM blob (extracted resource) */
        return load_crim(p, n, origin);
    etw_tdh_status r = etw_pe_find_resource(p, n, "WEVT_TEMPLATE", &crim_data, &crim_size);
    return r == ETW_TDH_OK ? load_crim(crim_data, crim_size, origin) : r;
}
