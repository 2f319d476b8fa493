/* TRACE_EVENT_INFO / EVENT_MAP_INFO builder (see tei_build.h). */
#include "tdh/store/tei_build.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "tdh/decode/prop_walk.h"

#define TEI_HEADER_SIZE 112u
#define EPI_SIZE 24u
#define EMI_HEADER_SIZE 16u

void etw_teib_init(etw_teib *b)
{
    memset(b, 0, sizeof *b);
}

void etw_teib_free(etw_teib *b)
{
    free(b->props);
    free(b->str);
    memset(b, 0, sizeof *b);
}

static int str_reserve(etw_teib *b, size_t extra)
{
    if (b->failed)
        return 0;
    if (b->slen == 0)
        extra += 4;
    if (extra <= b->scap - b->slen)
        return 1;
    if (b->slen + extra > (1u << 24)) { /* far beyond any real schema: refuse, stay bounded */
        b->failed = 1;
        return 0;
    }
    size_t cap = b->scap ? b->scap : 256;
    while (cap - b->slen < extra)
        cap *= 2;
    uint8_t *p = realloc(b->str, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->str = p;
    b->scap = cap;
    if (b->slen == 0) {
        memset(b->str, 0, 4);
        b->slen = 4;
    }
    return 1;
}

/* Decodes one UTF-8 sequence; malformed input yields U+FFFD and consumes one byte. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0 || (size_t)extra >= n - *i) {
        (*i)++;
        return extra == 0 ? c : 0xFFFD;
    }
    uint32_t cp = extra == 0 ? c : (uint32_t)(c & (0x3F >> extra));
    for (int k = 1; k <= extra; k++) {
        unsigned char d = s[*i + (size_t)k];
        if ((d & 0xC0) != 0x80) {
            (*i)++;
            return 0xFFFD;
        }
        cp = (cp << 6) | (d & 0x3F);
    }
    *i += (size_t)extra + 1;
    return cp > 0x10FFFF ? 0xFFFD : cp;
}

uint32_t etw_teib_str(etw_teib *b, const char *utf8, size_t n)
{
    if (!utf8)
        return 0;
    if (n == SIZE_MAX)
        n = strlen(utf8);
    if (!str_reserve(b, n * 4 + 2))
        return 0;
    uint32_t off = (uint32_t)b->slen;
    const unsigned char *s = (const unsigned char *)utf8;
    for (size_t i = 0; i < n;) {
        uint32_t cp = utf8_next(s, n, &i);
        if (cp == 0)
            break;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            etw_wr16(b->str + b->slen, (uint16_t)(0xD800 + (cp >> 10)));
            etw_wr16(b->str + b->slen + 2, (uint16_t)(0xDC00 + (cp & 0x3FF)));
            b->slen += 4;
        } else {
            etw_wr16(b->str + b->slen, (uint16_t)cp);
            b->slen += 2;
        }
    }
    etw_wr16(b->str + b->slen, 0);
    b->slen += 2;
    return off;
}

uint32_t etw_teib_wstr(etw_teib *b, const uint8_t *utf16, size_t nbytes)
{
    nbytes &= ~(size_t)1;
    if (!str_reserve(b, nbytes + 2))
        return 0;
    uint32_t off = (uint32_t)b->slen;
    for (size_t i = 0; i < nbytes; i += 2) {
        if (utf16[i] == 0 && utf16[i + 1] == 0)
            break;
        b->str[b->slen++] = utf16[i];
        b->str[b->slen++] = utf16[i + 1];
    }
    etw_wr16(b->str + b->slen, 0);
    b->slen += 2;
    return off;
}

static int32_t add_prop(etw_teib *b, int32_t parent, const char *name)
{
    if (b->failed)
        return -1;
    if (b->nprops >= ETW_TEIB_MAX_PROPS || parent >= (int32_t)b->nprops) {
        b->failed = 1;
        return -1;
    }
    if (b->nprops == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 16;
        etw_teib_prop *p = realloc(b->props, cap * sizeof *p);
        if (!p) {
            b->failed = 1;
            return -1;
        }
        b->props = p;
        b->cap = cap;
    }
    etw_teib_prop *p = &b->props[b->nprops];
    memset(p, 0, sizeof *p);
    p->parent = parent;
    p->epi.NameOffset = etw_teib_str(b, name ? name : "", SIZE_MAX);
    p->epi.count = 1;
    return b->failed ? -1 : (int32_t)b->nprops++;
}

int32_t etw_teib_add(etw_teib *b, int32_t parent, const char *name, uint16_t in_type,
                     uint16_t out_type)
{
    int32_t i = add_prop(b, parent, name);
    if (i >= 0) {
        b->props[i].epi.nonStructType.InType = in_type;
        b->props[i].epi.nonStructType.OutType = out_type;
    }
    return i;
}

int32_t etw_teib_add_struct(etw_teib *b, int32_t parent, const char *name)
{
    int32_t i = add_prop(b, parent, name);
    if (i >= 0)
        b->props[i].epi.Flags = PropertyStruct;
    return i;
}

/* Windows order: top-level properties, then for each struct (breadth first) its members. */
static int layout_order(const etw_teib *b, uint32_t *order, uint32_t *newidx, uint32_t *top)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->nprops; i++)
        if (b->props[i].parent < 0)
            order[n++] = i;
    *top = n;
    for (uint32_t q = 0; q < n; q++) {
        uint32_t s = order[q];
        if (!(b->props[s].epi.Flags & PropertyStruct))
            continue;
        for (uint32_t i = 0; i < b->nprops; i++)
            if (b->props[i].parent == (int32_t)s)
                order[n++] = i;
    }
    if (n != b->nprops)
        return 0;
    for (uint32_t k = 0; k < n; k++)
        newidx[order[k]] = k;
    return 1;
}

static ULONG fix(ULONG off, size_t base)
{
    return off ? (ULONG)(off + base) : 0;
}

TRACE_EVENT_INFO *etw_teib_finish(etw_teib *b, size_t *size)
{
    if (b->failed || !str_reserve(b, 0))
        return NULL;
    uint32_t n = b->nprops;
    uint32_t *order = malloc((n + 1) * 2 * sizeof *order);
    if (!order)
        return NULL;
    uint32_t *newidx = order + n + 1, top = 0;
    size_t base = TEI_HEADER_SIZE + (size_t)EPI_SIZE * n;
    size_t total = etw_align8(base + b->slen);
    TRACE_EVENT_INFO *t = NULL;
    if (!layout_order(b, order, newidx, &top) || !(t = calloc(1, total < sizeof *t ? sizeof *t : total))) {
        free(order);
        return NULL;
    }
    *t = b->hdr;
    t->ProviderNameOffset = fix(b->hdr.ProviderNameOffset, base);
    t->LevelNameOffset = fix(b->hdr.LevelNameOffset, base);
    t->ChannelNameOffset = fix(b->hdr.ChannelNameOffset, base);
    t->KeywordsNameOffset = fix(b->hdr.KeywordsNameOffset, base);
    t->TaskNameOffset = fix(b->hdr.TaskNameOffset, base);
    t->OpcodeNameOffset = fix(b->hdr.OpcodeNameOffset, base);
    t->EventMessageOffset = fix(b->hdr.EventMessageOffset, base);
    t->ProviderMessageOffset = fix(b->hdr.ProviderMessageOffset, base);
    t->EventNameOffset = fix(b->hdr.EventNameOffset, base);
    t->EventAttributesOffset = fix(b->hdr.EventAttributesOffset, base);
    t->PropertyCount = n;
    t->TopLevelPropertyCount = top;
    for (uint32_t k = 0; k < n; k++) {
        const etw_teib_prop *src = &b->props[order[k]];
        EVENT_PROPERTY_INFO e = src->epi;
        e.NameOffset = fix(e.NameOffset, base);
        if (e.Flags & PropertyStruct) {
            /* Members of one struct are contiguous by construction; find the first. */
            uint32_t first = 0, cnt = 0;
            for (uint32_t j = 0; j < n; j++)
                if (b->props[order[j]].parent == (int32_t)order[k] && cnt++ == 0)
                    first = j;
            e.structType.StructStartIndex = (USHORT)first;
            e.structType.NumOfStructMembers = (USHORT)cnt;
            e.structType.padding = 0;
        } else {
            e.nonStructType.MapNameOffset = fix(e.nonStructType.MapNameOffset, base);
        }
        if ((e.Flags & PropertyParamCount) && e.countPropertyIndex < n)
            e.countPropertyIndex = (USHORT)newidx[e.countPropertyIndex];
        if ((e.Flags & PropertyParamLength) && e.lengthPropertyIndex < n)
            e.lengthPropertyIndex = (USHORT)newidx[e.lengthPropertyIndex];
        t->EventPropertyInfoArray[k] = e;
    }
    memcpy((uint8_t *)t + base, b->str, b->slen);
    free(order);
    /* Schemas built from files (manifests, WEVT) pass the same check as embedded ones, so
     * the walker can rely on every stored TRACE_EVENT_INFO being well formed. */
    if (!etw_tei_check((const uint8_t *)t, total)) {
        free(t);
        return NULL;
    }
    *size = total;
    return t;
}

void etw_mapb_init(etw_mapb *m, const char *name, uint32_t flags)
{
    memset(m, 0, sizeof *m);
    etw_teib_init(&m->strs);
    m->hdr.NameOffset = etw_teib_str(&m->strs, name ? name : "", SIZE_MAX);
    m->hdr.Flag = (MAP_FLAGS)flags;
}

int etw_mapb_add(etw_mapb *m, uint32_t value, const char *utf8)
{
    if (m->strs.failed || m->n >= 65536u)
        return 0;
    if (m->n == m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 16;
        EVENT_MAP_ENTRY *e = realloc(m->ent, cap * sizeof *e);
        if (!e)
            return 0;
        m->ent = e;
        m->cap = cap;
    }
    m->ent[m->n].OutputOffset = etw_teib_str(&m->strs, utf8, SIZE_MAX);
    m->ent[m->n].Value = value;
    m->n++;
    return !m->strs.failed;
}

EVENT_MAP_INFO *etw_mapb_finish(etw_mapb *m, size_t *size)
{
    if (m->strs.failed || !str_reserve(&m->strs, 0))
        return NULL;
    size_t base = EMI_HEADER_SIZE + (size_t)8 * m->n;
    size_t total = etw_align8(base + m->strs.slen);
    EVENT_MAP_INFO *e = calloc(1, total < sizeof *e ? sizeof *e : total);
    if (!e)
        return NULL;
    *e = m->hdr;
    e->NameOffset = fix(m->hdr.NameOffset, base);
    e->EntryCount = m->n;
    for (uint32_t i = 0; i < m->n; i++) {
        e->MapEntryArray[i].OutputOffset = fix(m->ent[i].OutputOffset, base);
        e->MapEntryArray[i].Value = m->ent[i].Value;
    }
    memcpy((uint8_t *)e + base, m->strs.str, m->strs.slen);
    *size = total;
    return e;
}

void etw_mapb_free(etw_mapb *m)
{
    free(m->ent);
    etw_teib_free(&m->strs);
    memset(m, 0, sizeof *m);
}
