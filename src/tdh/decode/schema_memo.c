/* Per-thread memos of schema lookups and of unknown providers' names (see schema_memo.h). */
#include "tdh/decode/schema_memo.h"

#include <string.h>

#include "base/decode_scope.h"
#include "tdh/decode/event_plan.h"
#include "tdh/store/pack_sources.h"
#include "tdh/store/schema_lookup.h"

#define MEMO_SLOTS 256

/* What decides a manifest or classic event's schema (schema_lookup.c: the key, its classic
 * fallback and the kernel tables use provider, id, opcode, version and the classic flag),
 * packed so that a hit is checked with four 64-bit compares and one 32-bit one: the provider
 * GUID as two words, the descriptor fields and the classic flag in one (bit 40 set, so an
 * empty slot's 0 never matches), and the generation. Direct-mapped: a trace has few distinct
 * (provider, event) pairs, and a collision only costs a store lookup. */
typedef struct memo_slot {
    uint64_t guid_lo, guid_hi;
    uint64_t key;
    uint64_t gen; /* 0: empty (generations start at 1) */
    uint32_t scope;
    uint8_t have;
    etw_schema s;
    const etw_event_plan *plan; /* NULL until built (or when memory ran out: asked again) */
} memo_slot;

static _Thread_local memo_slot memo[MEMO_SLOTS];

static int descriptor_keyed(const EVENT_RECORD *rec)
{
    if (rec->EventHeader.Flags & (EVENT_HEADER_FLAG_TRACE_MESSAGE | EVENT_HEADER_FLAG_STRING_ONLY))
        return 0;
    if (!rec->ExtendedDataCount) /* most events: no extended items, so no TraceLogging schema */
        return 1;
    size_t n;
    return etw_event_ext(rec, EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, &n) == NULL;
}

static inline uint64_t descriptor_key(const EVENT_HEADER *h)
{
    const EVENT_DESCRIPTOR *d = &h->EventDescriptor;
    uint64_t classic = (h->Flags & EVENT_HEADER_FLAG_CLASSIC_HEADER) != 0;
    return (uint64_t)d->Id | (uint64_t)d->Opcode << 16 | (uint64_t)d->Version << 24 | classic << 32 | 1ull << 40;
}

int etw_event_schema_planned(const EVENT_RECORD *rec, etw_schema *out, const etw_event_plan **plan)
{
    if (!descriptor_keyed(rec)) {
        int have = etw_schema_for_record(rec, out);
        *plan = have ? etw_event_plan_get(out) : NULL;
        return have;
    }
    const EVENT_HEADER *h = &rec->EventHeader;
    uint64_t lo, hi;
    memcpy(&lo, &h->ProviderId, 8);
    memcpy(&hi, (const char *)&h->ProviderId + 8, 8);
    uint64_t key = descriptor_key(h);
    uint64_t mix = (lo ^ hi) * 0x9E3779B97F4A7C15ull ^ key * 0xC2B2AE3D27D4EB4Full;
    memo_slot *m = &memo[(mix >> 56) & (MEMO_SLOTS - 1)];
    /* Read before the lookup: whatever the lookup (or another thread) stores meanwhile makes
     * the next call ask again. */
    uint64_t gen = etw_schema_generation();
    if (m->key == key && m->guid_lo == lo && m->guid_hi == hi && m->gen == gen && m->scope == etw_decode_scope) {
        *out = m->s;
        if (m->have && !m->plan)
            m->plan = etw_event_plan_get(out);
        *plan = m->plan;
        return m->have;
    }
    int have = etw_schema_for_record(rec, out);
    m->guid_lo = lo;
    m->guid_hi = hi;
    m->key = key;
    m->have = (uint8_t)have;
    m->scope = etw_decode_scope;
    m->gen = gen;
    m->s = have ? *out : (etw_schema){0};
    m->plan = have ? etw_event_plan_get(out) : NULL;
    *plan = m->plan;
    return have;
}

/* How an event without a schema is named: TraceEvent's names of a built-in kernel class
 * (*kprov, *ktask), else the provider's name in a schema pack (*packed), else neither. Both
 * searches (a table scan, a search of every pack) are remembered per thread by provider, while
 * the store's generation holds (packs come and go with store changes). */
#define UNKNOWN_SLOTS 16

typedef struct unknown_slot {
    GUID guid;
    uint64_t gen; /* 0: empty */
    const char *kprov, *ktask, *packed;
} unknown_slot;

static _Thread_local unknown_slot unknown[UNKNOWN_SLOTS];

void etw_unknown_provider_names(const GUID *g, const char **kprov, const char **ktask, const char **packed)
{
    uint64_t gen = etw_schema_generation();
    unknown_slot *u = &unknown[(g->Data1 ^ g->Data1 >> 8 ^ g->Data2) & (UNKNOWN_SLOTS - 1)];
    if (u->gen != gen || memcmp(&u->guid, g, sizeof *g) != 0) {
        u->kprov = u->ktask = u->packed = NULL;
        if (!etw_kernel_class_names(g, &u->kprov, &u->ktask))
            u->packed = etw_pack_sources_provider_name(g);
        u->guid = *g;
        u->gen = gen;
    }
    *kprov = u->kprov;
    *ktask = u->ktask;
    *packed = u->packed;
}
