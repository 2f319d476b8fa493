/* Schema pack bodies (docs/format/schema-pack.md §4), as etw_pack_writer_finish meets them:
 * strings placed in STRINGS on first use, event bodies, property lists and map bodies
 * encoded as varints, and identical property lists and map bodies shared (the reference
 * manifests repeat templates across versions, builds and providers). */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "tdh/store/pack_codec.h"
#include "tdh/store/pack_write_internal.h"

void etw_pack_put(etw_pack_bytes *b, const void *p, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (n > b->cap - b->n) {
        size_t c = b->cap ? b->cap : 4096;
        while (n > c - b->n)
            c *= 2;
        uint8_t *g = realloc(b->p, c);
        if (!g) {
            b->failed = 1;
            return;
        }
        b->p = g;
        b->cap = c;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_uv(etw_pack_bytes *b, uint64_t v)
{
    uint8_t tmp[10];
    etw_pack_put(b, tmp, etw_pack_put_uv(tmp, v));
}

void etw_pack_put32(etw_pack_bytes *b, uint32_t v)
{
    uint8_t tmp[4];
    etw_wr32(tmp, v);
    etw_pack_put(b, tmp, 4);
}

uint32_t etw_pack_str_ref(etw_pack_layout *l, uint32_t id)
{
    if (!id)
        return 0;
    etw_pw_string *s = &l->w->strings.v[id];
    if (!s->off) {
        s->off = (uint32_t)l->strings.n;
        etw_pack_put(&l->strings, s->s, (size_t)s->len + 1);
    }
    return s->off;
}

static uint64_t bytes_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Appends the scratch body to BODIES unless an identical one is there; returns its offset. */
static uint32_t shared_body(etw_pack_layout *l)
{
    const uint8_t *p = l->scratch.p;
    size_t n = l->scratch.n;
    if ((l->nshared + 1) * 2 > l->nslots) {
        size_t ns = l->nslots ? l->nslots * 2 : 4096;
        struct shared *s = calloc(ns, sizeof *s);
        if (!s) {
            l->bodies.failed = 1;
            return 0;
        }
        for (size_t i = 0; i < l->nslots; i++) {
            if (!l->shared[i].len)
                continue;
            size_t j = (size_t)l->shared[i].h & (ns - 1);
            while (s[j].len)
                j = (j + 1) & (ns - 1);
            s[j] = l->shared[i];
        }
        free(l->shared);
        l->shared = s;
        l->nslots = ns;
    }
    uint64_t h = bytes_hash(p, n);
    size_t j = (size_t)h & (l->nslots - 1);
    for (; l->shared[j].len; j = (j + 1) & (l->nslots - 1))
        if (l->shared[j].h == h && l->shared[j].len == n && memcmp(l->bodies.p + l->shared[j].off, p, n) == 0)
            return l->shared[j].off;
    uint32_t off = (uint32_t)l->bodies.n;
    etw_pack_put(&l->bodies, p, n);
    l->shared[j] = (struct shared){h, off, (uint32_t)n};
    l->nshared++;
    return off;
}

static uint32_t props_body(etw_pack_layout *l, const etw_pw_event *e)
{
    etw_pack_bytes *b = &l->scratch;
    b->n = 0;
    put_uv(b, e->nprops);
    put_uv(b, e->top);
    for (uint32_t i = 0; i < e->nprops; i++) {
        const etw_pw_prop *p = &e->props[i];
        put_uv(b, p->flags);
        put_uv(b, etw_pack_str_ref(l, p->name));
        put_uv(b, p->x);
        put_uv(b, p->y);
        if (!(p->flags & PropertyStruct))
            put_uv(b, etw_pack_str_ref(l, p->map));
        put_uv(b, p->count);
        put_uv(b, p->length);
        put_uv(b, p->tags);
    }
    return shared_body(l);
}

void etw_pack_event_body(etw_pack_layout *l, const etw_pw_event *e)
{
    uint32_t props = e->nprops ? props_body(l, e) : 0;
    uint32_t off = (uint32_t)l->bodies.n;
    etw_pack_bytes *b = &l->bodies;
    put_uv(b, e->presence);
    if (e->presence & ETW_PACK_EV_EVENT_GUID)
        etw_pack_put(b, &e->event_guid, 16); /* GUID fields are little-endian on every host we build for */
    if (e->presence & ETW_PACK_EV_PROVIDER_GUID)
        etw_pack_put(b, &e->provider_guid, 16);
    const EVENT_DESCRIPTOR *d = &e->desc;
    put_uv(b, d->Id), put_uv(b, d->Version), put_uv(b, d->Channel), put_uv(b, d->Level);
    put_uv(b, d->Opcode), put_uv(b, d->Task), put_uv(b, d->Keyword);
    put_uv(b, e->decoding_source);
    put_uv(b, e->flags);
    for (unsigned i = 0; i < ETW_PACK_TEI_STRINGS; i++)
        put_uv(b, etw_pack_str_ref(l, e->str[i]));
    if (e->presence & ETW_PACK_EV_PROPS)
        put_uv(b, props);
    uint8_t rec[ETW_PACK_EVENT_SIZE] = {e->kind};
    etw_wr16(rec + 2, e->a);
    etw_wr16(rec + 4, e->b);
    etw_wr32(rec + 8, off);
    etw_pack_put(&l->events, rec, sizeof rec);
}

void etw_pack_map_body(etw_pack_layout *l, const etw_pw_map *m)
{
    etw_pack_bytes *b = &l->scratch;
    b->n = 0;
    int pattern = (m->flag & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) != 0;
    int str_input = pattern || m->second == EVENTMAP_ENTRY_VALUETYPE_STRING;
    put_uv(b, m->flag);
    put_uv(b, pattern ? etw_pack_str_ref(l, m->second) : m->second);
    put_uv(b, m->n);
    for (uint32_t i = 0; i < m->n; i++) {
        put_uv(b, etw_pack_str_ref(l, m->ent[i].out));
        put_uv(b, str_input ? etw_pack_str_ref(l, m->ent[i].in) : m->ent[i].in);
    }
    uint32_t name = etw_pack_str_ref(l, m->name);
    uint32_t off = shared_body(l);
    etw_pack_put32(&l->maps, name);
    etw_pack_put32(&l->maps, off);
}
