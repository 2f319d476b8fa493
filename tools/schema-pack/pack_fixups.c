/* Repairs of what the reference manifests lost (docs/decoding.md, "The built-in schemas").
 * They were regenerated from registered provider metadata, and that regeneration dropped
 * every fixed length and count, every out-type, and the value maps of most fields of
 * templates after the first version of an event. Applied to the pack writer's decomposed
 * schemas before it lays the pack out:
 *
 * 1. A field without a map takes the map of the field with the same name and in-type in
 *    another version of the same event (the newest version that has one).
 * 2. Else a field takes the provider's map named exactly <field name>Map (ModuleFlags ->
 *    ModuleFlagsMap), the manifests' own naming of maps that belong to one field.
 * 3. Field types the corpus establishes where the manifests lost them (a win:Binary without
 *    its length cannot be decoded at all; addresses and ports without their out-type read as
 *    plain, byte-swapped numbers): the table below, with its evidence. */
#include "pack_fixups.h"

#include <stdlib.h>
#include <string.h>

#include <etwire/tdh.h>

#include "base/text.h"
#include "tdh/store/pack_write_internal.h"

static int countable(uint16_t in)
{
    return in >= TDH_INTYPE_INT8 && in <= TDH_INTYPE_UINT64 && in != TDH_INTYPE_FLOAT;
}

static const etw_pack_writer *sort_w; /* qsort has no context argument */

/* Event indexes by (provider, kind, id), newest version first. */
static int by_event(const void *x, const void *y)
{
    const etw_pw_event *a = &sort_w->events.v[*(const size_t *)x], *b = &sort_w->events.v[*(const size_t *)y];
    int c = memcmp(&a->guid, &b->guid, sizeof a->guid);
    if (c)
        return c;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    if (a->b != b->b)
        return a->b > b->b ? -1 : 1; /* newest version first */
    return a->seq > b->seq ? -1 : a->seq < b->seq;
}

/* Rule 1 within one run of the same event's versions. */
static size_t inherit_in_run(etw_pack_writer *w, const size_t *run, size_t n)
{
    size_t fixed = 0;
    for (size_t i = 0; i < n; i++) {
        etw_pw_event *e = &w->events.v[run[i]];
        for (uint32_t k = 0; k < e->nprops; k++) {
            etw_pw_prop *p = &e->props[k];
            if ((p->flags & PropertyStruct) || p->map || !countable(p->x))
                continue;
            for (size_t j = 0; j < n && !p->map; j++) {
                const etw_pw_event *o = &w->events.v[run[j]];
                for (uint32_t l = 0; l < o->nprops; l++) {
                    const etw_pw_prop *q = &o->props[l];
                    if (!(q->flags & PropertyStruct) && q->map && q->name == p->name && q->x == p->x) {
                        p->map = q->map;
                        fixed++;
                        break;
                    }
                }
            }
        }
    }
    return fixed;
}

/* Map indexes by (provider, name). */
static int by_map(const void *x, const void *y)
{
    const etw_pw_map *a = &sort_w->maps.v[*(const size_t *)x], *b = &sort_w->maps.v[*(const size_t *)y];
    int c = memcmp(&a->guid, &b->guid, sizeof a->guid);
    return c ? c : strcmp(sort_w->strings.v[a->name].s, sort_w->strings.v[b->name].s);
}

typedef struct map_key {
    const GUID *guid;
    const char *name;
} map_key;

static int find_map(const void *k, const void *x)
{
    const map_key *key = k;
    const etw_pw_map *m = &sort_w->maps.v[*(const size_t *)x];
    int c = memcmp(key->guid, &m->guid, sizeof m->guid);
    return c ? c : strcmp(key->name, sort_w->strings.v[m->name].s);
}

/* Rule 2: the provider's map named <field>Map, if the provider has one. */
static size_t own_maps(etw_pack_writer *w)
{
    size_t fixed = 0, *idx = malloc((w->maps.n + 1) * sizeof *idx);
    char want[600];
    if (!idx)
        return 0;
    for (size_t i = 0; i < w->maps.n; i++)
        idx[i] = i;
    qsort(idx, w->maps.n, sizeof *idx, by_map);
    for (size_t i = 0; i < w->events.n; i++) {
        etw_pw_event *e = &w->events.v[i];
        for (uint32_t k = 0; k < e->nprops; k++) {
            etw_pw_prop *p = &e->props[k];
            if ((p->flags & PropertyStruct) || p->map || !countable(p->x) || !p->name)
                continue;
            const etw_pw_string *s = &w->strings.v[p->name];
            if (s->len + 4 >= sizeof want)
                continue;
            memcpy(want, s->s, s->len);
            memcpy(want + s->len, "Map", 4);
            map_key key = {&e->guid, want};
            const size_t *hit = bsearch(&key, idx, w->maps.n, sizeof *idx, find_map);
            if (hit) {
                p->map = w->maps.v[*hit].name;
                fixed++;
            }
        }
    }
    free(idx);
    return fixed;
}

/* Rule 3: field types the corpus establishes. Evidence (tx/KernelNetwork.etl, Windows 8):
 * the TCP/UDP events of Microsoft-Windows-Kernel-Network carry the IPv6 addresses as 16 bytes
 * between size and the ports (payload 56 = 4 + 4 + 16 + 16 + 2 + 2 + 4 + 4 + 4), and ISATAP
 * addresses there end in the IPv4 address the IPv4 events carry in network byte order
 * (...:5efe:a79:6a76 and saddr 0a 79 6a 76 = 10.121.106.118); the ports are in network order
 * too (01 bb = 443 against a 157.x server, 0d 3d = 3389, remote desktop). */
static const struct {
    const char *provider, *field;
    uint16_t in_type, length, out_type;
} types[] = {
    {"7dd42a49-5329-4832-8dfd-43d979153a88", "daddr", TDH_INTYPE_BINARY, 16, TDH_OUTTYPE_IPV6},
    {"7dd42a49-5329-4832-8dfd-43d979153a88", "saddr", TDH_INTYPE_BINARY, 16, TDH_OUTTYPE_IPV6},
    {"7dd42a49-5329-4832-8dfd-43d979153a88", "daddr", TDH_INTYPE_UINT32, 0, TDH_OUTTYPE_IPV4},
    {"7dd42a49-5329-4832-8dfd-43d979153a88", "saddr", TDH_INTYPE_UINT32, 0, TDH_OUTTYPE_IPV4},
    {"7dd42a49-5329-4832-8dfd-43d979153a88", "dport", TDH_INTYPE_UINT16, 0, TDH_OUTTYPE_PORT},
    {"7dd42a49-5329-4832-8dfd-43d979153a88", "sport", TDH_INTYPE_UINT16, 0, TDH_OUTTYPE_PORT},
};

static size_t field_types(etw_pack_writer *w)
{
    size_t fixed = 0;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        GUID g;
        uint32_t name = 0;
        if (!etw_guid_parse(types[t].provider, &g) || !etw_pw_intern_utf8(&w->strings, types[t].field, &name))
            continue;
        for (size_t i = 0; i < w->events.n; i++) {
            etw_pw_event *e = &w->events.v[i];
            if (memcmp(&e->guid, &g, sizeof g))
                continue;
            for (uint32_t k = 0; k < e->nprops; k++) {
                etw_pw_prop *p = &e->props[k];
                if (p->name != name || p->x != types[t].in_type || (p->flags & PropertyStruct) || p->y)
                    continue;
                if (types[t].length) {
                    if ((p->flags & (PropertyParamLength | PropertyParamFixedLength)) || p->length)
                        continue; /* a length the manifest gives stays */
                    p->length = types[t].length;
                    p->flags |= PropertyParamFixedLength;
                }
                p->y = types[t].out_type;
                fixed++;
            }
        }
    }
    return fixed;
}

void pack_fixups_apply(etw_pack_writer *w, pack_fixup_counts *out)
{
    memset(out, 0, sizeof *out);
    size_t *idx = malloc((w->events.n + 1) * sizeof *idx);
    if (!idx)
        return;
    for (size_t i = 0; i < w->events.n; i++)
        idx[i] = i;
    sort_w = w;
    qsort(idx, w->events.n, sizeof *idx, by_event);
    for (size_t i = 0; i < w->events.n;) {
        size_t j = i + 1;
        const etw_pw_event *a = &w->events.v[idx[i]];
        while (j < w->events.n) {
            const etw_pw_event *b = &w->events.v[idx[j]];
            if (memcmp(&a->guid, &b->guid, sizeof a->guid) || a->kind != b->kind || a->a != b->a)
                break;
            j++;
        }
        out->version_maps += inherit_in_run(w, idx + i, j - i);
        i = j;
    }
    free(idx);
    out->named_maps = own_maps(w);
    out->types = field_types(w);
}
