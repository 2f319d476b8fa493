/* etw_pack_writer_finish: keeps the last definition of each key, walks providers in GUID order
 * (their events by key, their maps by name) assigning string offsets and encoding bodies as it
 * meets them, shares identical property lists and map bodies, then writes header, directory
 * and sections (docs/format/schema-pack.md). */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/crc32.h"
#include "tdh/store/pack_codec.h"
#include "tdh/store/pack_write_internal.h"

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
    int failed;
} bytes;

static void put(bytes *b, const void *p, size_t n)
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

static void put_uv(bytes *b, uint64_t v)
{
    uint8_t tmp[10];
    put(b, tmp, etw_pack_put_uv(tmp, v));
}

static void put32(bytes *b, uint32_t v)
{
    uint8_t tmp[4];
    etw_wr32(tmp, v);
    put(b, tmp, 4);
}

typedef struct layout {
    etw_pack_writer *w;
    bytes strings, providers, events, maps, bodies;
    /* Shared bodies: open addressing over (hash, offset, length) of BODIES ranges. */
    struct shared {
        uint64_t h;
        uint32_t off, len;
    } *shared;
    size_t nshared, nslots;
    bytes scratch;
} layout;

/* The string's offset in STRINGS, placing it on first use. */
static uint32_t str_ref(layout *l, uint32_t id)
{
    if (!id)
        return 0;
    etw_pw_string *s = &l->w->strings.v[id];
    if (!s->off) {
        s->off = (uint32_t)l->strings.n;
        put(&l->strings, s->s, (size_t)s->len + 1);
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
static uint32_t shared_body(layout *l)
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
    put(&l->bodies, p, n);
    l->shared[j] = (struct shared){h, off, (uint32_t)n};
    l->nshared++;
    return off;
}

static uint32_t props_body(layout *l, const etw_pw_event *e)
{
    bytes *b = &l->scratch;
    b->n = 0;
    put_uv(b, e->nprops);
    put_uv(b, e->top);
    for (uint32_t i = 0; i < e->nprops; i++) {
        const etw_pw_prop *p = &e->props[i];
        put_uv(b, p->flags);
        put_uv(b, str_ref(l, p->name));
        put_uv(b, p->x);
        put_uv(b, p->y);
        if (!(p->flags & PropertyStruct))
            put_uv(b, str_ref(l, p->map));
        put_uv(b, p->count);
        put_uv(b, p->length);
        put_uv(b, p->tags);
    }
    return shared_body(l);
}

static void event_body(layout *l, const etw_pw_event *e)
{
    uint32_t props = e->nprops ? props_body(l, e) : 0;
    uint32_t off = (uint32_t)l->bodies.n;
    bytes *b = &l->bodies;
    put_uv(b, e->presence);
    if (e->presence & ETW_PACK_EV_EVENT_GUID)
        put(b, &e->event_guid, 16); /* GUID fields are little-endian on every host we build for */
    if (e->presence & ETW_PACK_EV_PROVIDER_GUID)
        put(b, &e->provider_guid, 16);
    const EVENT_DESCRIPTOR *d = &e->desc;
    put_uv(b, d->Id), put_uv(b, d->Version), put_uv(b, d->Channel), put_uv(b, d->Level);
    put_uv(b, d->Opcode), put_uv(b, d->Task), put_uv(b, d->Keyword);
    put_uv(b, e->decoding_source);
    put_uv(b, e->flags);
    for (unsigned i = 0; i < ETW_PACK_TEI_STRINGS; i++)
        put_uv(b, str_ref(l, e->str[i]));
    if (e->presence & ETW_PACK_EV_PROPS)
        put_uv(b, props);
    uint8_t rec[ETW_PACK_EVENT_SIZE] = {e->kind};
    etw_wr16(rec + 2, e->a);
    etw_wr16(rec + 4, e->b);
    etw_wr32(rec + 8, off);
    put(&l->events, rec, sizeof rec);
}

static void map_body(layout *l, const etw_pw_map *m)
{
    bytes *b = &l->scratch;
    b->n = 0;
    int pattern = (m->flag & EVENTMAP_INFO_FLAG_MANIFEST_PATTERNMAP) != 0;
    int str_input = pattern || m->second == EVENTMAP_ENTRY_VALUETYPE_STRING;
    put_uv(b, m->flag);
    put_uv(b, pattern ? str_ref(l, m->second) : m->second);
    put_uv(b, m->n);
    for (uint32_t i = 0; i < m->n; i++) {
        put_uv(b, str_ref(l, m->ent[i].out));
        put_uv(b, str_input ? str_ref(l, m->ent[i].in) : m->ent[i].in);
    }
    uint32_t name = str_ref(l, m->name);
    uint32_t off = shared_body(l);
    put32(&l->maps, name);
    put32(&l->maps, off);
}

/* Sorting: by GUID bytes, then key; equal keys by seq so the last added comes last. */
static const etw_pw_strings *sort_strings;

static int cmp_event(const void *x, const void *y)
{
    const etw_pw_event *a = x, *b = y;
    int c = memcmp(&a->guid, &b->guid, sizeof a->guid);
    if (c)
        return c;
    uint64_t ka = (uint64_t)a->kind << 32 | (uint32_t)a->a << 16 | a->b;
    uint64_t kb = (uint64_t)b->kind << 32 | (uint32_t)b->a << 16 | b->b;
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_map(const void *x, const void *y)
{
    const etw_pw_map *a = x, *b = y;
    int c = memcmp(&a->guid, &b->guid, sizeof a->guid);
    if (c)
        return c;
    c = strcmp(sort_strings->v[a->name].s, sort_strings->v[b->name].s);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_provider(const void *x, const void *y)
{
    const etw_pw_provider *a = x, *b = y;
    int c = memcmp(&a->guid, &b->guid, sizeof a->guid);
    return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Keeps the last of each run of equal keys (the list is sorted with seq last); drop() frees
 * what a replaced element owns. */
static size_t keep_last(void *v, size_t n, size_t elem, int (*same)(const void *, const void *),
                        void (*drop)(void *))
{
    uint8_t *b = v;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && same(b + i * elem, b + (i + 1) * elem)) {
            if (drop)
                drop(b + i * elem);
            continue;
        }
        if (out != i)
            memcpy(b + out * elem, b + i * elem, elem);
        out++;
    }
    return out;
}

static int same_event(const void *x, const void *y)
{
    const etw_pw_event *a = x, *b = y;
    return !memcmp(&a->guid, &b->guid, sizeof a->guid) && a->kind == b->kind && a->a == b->a && a->b == b->b;
}

static int same_map(const void *x, const void *y)
{
    const etw_pw_map *a = x, *b = y;
    return !memcmp(&a->guid, &b->guid, sizeof a->guid) && a->name == b->name;
}

static int same_provider(const void *x, const void *y)
{
    const etw_pw_provider *a = x, *b = y;
    return !memcmp(&a->guid, &b->guid, sizeof a->guid);
}

static void drop_event(void *x)
{
    free(((etw_pw_event *)x)->props);
}

static void drop_map(void *x)
{
    free(((etw_pw_map *)x)->ent);
}

static int guid_cmp(const GUID *a, const GUID *b)
{
    return memcmp(a, b, sizeof *a);
}

/* Walks the providers (the union of the GUIDs of events, maps and named providers) in GUID
 * order, writing each one's record, events and maps. */
static void walk(layout *l)
{
    etw_pack_writer *w = l->w;
    size_t ie = 0, im = 0, ip = 0;
    while (ie < w->events.n || im < w->maps.n || ip < w->providers.n) {
        const GUID *g = NULL;
        if (ie < w->events.n)
            g = &w->events.v[ie].guid;
        if (im < w->maps.n && (!g || guid_cmp(&w->maps.v[im].guid, g) < 0))
            g = &w->maps.v[im].guid;
        if (ip < w->providers.n && (!g || guid_cmp(&w->providers.v[ip].guid, g) < 0))
            g = &w->providers.v[ip].guid;
        GUID guid = *g;
        size_t e0 = ie, m0 = im;
        uint64_t newest = 0;
        uint32_t name = 0, origin = 0;
        for (; ie < w->events.n && !guid_cmp(&w->events.v[ie].guid, &guid); ie++)
            if (w->events.v[ie].seq > newest && w->events.v[ie].str[0]) {
                newest = w->events.v[ie].seq;
                name = w->events.v[ie].str[0];
            }
        for (; im < w->maps.n && !guid_cmp(&w->maps.v[im].guid, &guid); im++)
            ;
        if (ip < w->providers.n && !guid_cmp(&w->providers.v[ip].guid, &guid)) {
            name = w->providers.v[ip].name ? w->providers.v[ip].name : name;
            origin = w->providers.v[ip].origin;
            ip++;
        }
        put(&l->providers, &guid, 16);
        put32(&l->providers, str_ref(l, name));
        put32(&l->providers, str_ref(l, origin));
        put32(&l->providers, (uint32_t)e0);
        put32(&l->providers, (uint32_t)(ie - e0));
        put32(&l->providers, (uint32_t)m0);
        put32(&l->providers, (uint32_t)(im - m0));
        for (size_t i = e0; i < ie; i++)
            event_body(l, &w->events.v[i]);
        for (size_t i = m0; i < im; i++)
            map_body(l, &w->maps.v[i]);
    }
}

static void pad8(bytes *b)
{
    static const uint8_t zero[8];
    put(b, zero, etw_align8(b->n) - b->n);
}

static int assemble(layout *l, uint8_t **out, size_t *n)
{
    etw_pack_writer *w = l->w;
    struct sec {
        uint32_t type, count;
        const uint8_t *p;
        size_t n;
    } sec[ETW_PACK_MAX_SECTIONS];
    uint32_t ns = 0;
    sec[ns++] = (struct sec){ETW_PACK_SEC_STRINGS, w->strings.n - 1, l->strings.p, l->strings.n};
    sec[ns++] = (struct sec){ETW_PACK_SEC_PROVIDERS, (uint32_t)(l->providers.n / ETW_PACK_PROVIDER_SIZE),
                                 l->providers.p, l->providers.n};
    sec[ns++] = (struct sec){ETW_PACK_SEC_EVENTS, (uint32_t)w->events.n, l->events.p, l->events.n};
    sec[ns++] = (struct sec){ETW_PACK_SEC_MAPS, (uint32_t)w->maps.n, l->maps.p, l->maps.n};
    sec[ns++] = (struct sec){ETW_PACK_SEC_BODIES, 0, l->bodies.p, l->bodies.n};
    for (size_t i = 0; i < w->sections.n; i++)
        sec[ns++] = (struct sec){w->sections.v[i].type, 0, w->sections.v[i].p, w->sections.v[i].n};
    bytes f = {0};
    uint8_t hdr[ETW_PACK_HEADER_SIZE] = {0};
    put(&f, hdr, sizeof hdr);
    size_t dir = f.n;
    uint8_t ent[ETW_PACK_DIR_ENTRY] = {0};
    for (uint32_t i = 0; i < ns; i++)
        put(&f, ent, sizeof ent);
    for (uint32_t i = 0; i < ns && !f.failed; i++) {
        pad8(&f);
        if (f.n > ETW_PACK_MAX_SIZE || sec[i].n > ETW_PACK_MAX_SIZE - f.n) {
            f.failed = 1;
            break;
        }
        uint32_t off = (uint32_t)f.n;
        put(&f, sec[i].p, sec[i].n);
        if (f.failed)
            break;
        uint8_t *e = f.p + dir + (size_t)i * ETW_PACK_DIR_ENTRY;
        etw_wr32(e, sec[i].type);
        etw_wr32(e + 4, off);
        etw_wr32(e + 8, (uint32_t)sec[i].n);
        etw_wr32(e + 12, sec[i].count);
    }
    if (f.failed) {
        free(f.p);
        return 0;
    }
    memcpy(f.p, ETW_PACK_MAGIC, 8);
    etw_wr32(f.p + ETW_PACK_OFF_VERSION, ETW_PACK_VERSION);
    etw_wr32(f.p + ETW_PACK_OFF_HEADER_SIZE, ETW_PACK_HEADER_SIZE);
    etw_wr64(f.p + ETW_PACK_OFF_FILE_SIZE, f.n);
    etw_wr32(f.p + ETW_PACK_OFF_SECTIONS, ns);
    etw_wr32(f.p + ETW_PACK_OFF_CRC, etw_crc32(0, f.p + ETW_PACK_HEADER_SIZE, f.n - ETW_PACK_HEADER_SIZE));
    *out = f.p;
    *n = f.n;
    return 1;
}

int etw_pack_writer_finish(etw_pack_writer *w, uint8_t **out, size_t *n)
{
    if (!w || !out || !n)
        return 0;
    sort_strings = &w->strings;
    if (w->events.n)
        qsort(w->events.v, w->events.n, sizeof *w->events.v, cmp_event);
    if (w->maps.n)
        qsort(w->maps.v, w->maps.n, sizeof *w->maps.v, cmp_map);
    if (w->providers.n)
        qsort(w->providers.v, w->providers.n, sizeof *w->providers.v, cmp_provider);
    w->events.n = keep_last(w->events.v, w->events.n, sizeof *w->events.v, same_event, drop_event);
    w->maps.n = keep_last(w->maps.v, w->maps.n, sizeof *w->maps.v, same_map, drop_map);
    w->providers.n = keep_last(w->providers.v, w->providers.n, sizeof *w->providers.v, same_provider, NULL);
    for (uint32_t i = 1; i < w->strings.n; i++)
        w->strings.v[i].off = 0;
    layout l = {.w = w};
    put(&l.strings, "", 1); /* offset 0 = absent */
    walk(&l);
    int ok = !(l.strings.failed || l.providers.failed || l.events.failed || l.maps.failed || l.bodies.failed ||
               l.scratch.failed) &&
             assemble(&l, out, n);
    free(l.strings.p), free(l.providers.p), free(l.events.p), free(l.maps.p), free(l.bodies.p);
    free(l.scratch.p), free(l.shared);
    return ok;
}
