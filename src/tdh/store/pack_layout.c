/* etw_pack_writer_finish: keeps the last definition of each key, walks providers in GUID order
 * (their events by key, then their maps by name) having pack_bodies.c encode each as it is met,
 * then writes header, directory and sections (docs/format/schema-pack.md). */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/crc32.h"
#include "tdh/store/pack_write_internal.h"

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
static void walk(etw_pack_layout *l)
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
        etw_pack_put(&l->providers, &guid, 16);
        etw_pack_put32(&l->providers, etw_pack_str_ref(l, name));
        etw_pack_put32(&l->providers, etw_pack_str_ref(l, origin));
        etw_pack_put32(&l->providers, (uint32_t)e0);
        etw_pack_put32(&l->providers, (uint32_t)(ie - e0));
        etw_pack_put32(&l->providers, (uint32_t)m0);
        etw_pack_put32(&l->providers, (uint32_t)(im - m0));
        for (size_t i = e0; i < ie; i++)
            etw_pack_event_body(l, &w->events.v[i]);
        for (size_t i = m0; i < im; i++)
            etw_pack_map_body(l, &w->maps.v[i]);
    }
}

static void pad8(etw_pack_bytes *b)
{
    static const uint8_t zero[8];
    etw_pack_put(b, zero, etw_align8(b->n) - b->n);
}

static int assemble(etw_pack_layout *l, uint8_t **out, size_t *n)
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
    etw_pack_bytes f = {0};
    uint8_t hdr[ETW_PACK_HEADER_SIZE] = {0};
    etw_pack_put(&f, hdr, sizeof hdr);
    size_t dir = f.n;
    uint8_t ent[ETW_PACK_DIR_ENTRY] = {0};
    for (uint32_t i = 0; i < ns; i++)
        etw_pack_put(&f, ent, sizeof ent);
    for (uint32_t i = 0; i < ns && !f.failed; i++) {
        pad8(&f);
        if (f.n > ETW_PACK_MAX_SIZE || sec[i].n > ETW_PACK_MAX_SIZE - f.n) {
            f.failed = 1;
            break;
        }
        uint32_t off = (uint32_t)f.n;
        etw_pack_put(&f, sec[i].p, sec[i].n);
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
    etw_pack_layout l = {.w = w};
    etw_pack_put(&l.strings, "", 1); /* offset 0 = absent */
    walk(&l);
    int ok = !(l.strings.failed || l.providers.failed || l.events.failed || l.maps.failed || l.bodies.failed ||
               l.scratch.failed) &&
             assemble(&l, out, n);
    free(l.strings.p), free(l.providers.p), free(l.events.p), free(l.maps.p), free(l.bodies.p);
    free(l.scratch.p), free(l.shared);
    return ok;
}
