/* Per-thread memos of schema lookups and of unknown providers' names (see schema_memo.h). */
#include "tdh/decode/schema_memo.h"

#include <string.h>

#include "base/decode_scope.h"
#include "tdh/store/pack_sources.h"
#include "tdh/store/schema_lookup.h"

#define MEMO_SLOTS 256

/* What decides a manifest or classic event's schema (schema_lookup.c: the key, its classic
 * fallback and the kernel tables use provider, id, opcode, version and the classic flag). */
typedef struct memo_slot {
    GUID provider;
    USHORT id;
    UCHAR opcode, version;
    uint8_t classic, have;
    uint32_t scope;
    uint64_t gen; /* 0: empty (generations start at 1) */
    etw_schema s;
} memo_slot;

static _Thread_local memo_slot memo[MEMO_SLOTS];

static int descriptor_keyed(const EVENT_RECORD *rec)
{
    if (rec->EventHeader.Flags & (EVENT_HEADER_FLAG_TRACE_MESSAGE | EVENT_HEADER_FLAG_STRING_ONLY))
        return 0;
    size_t n;
    return etw_event_ext(rec, EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, &n) == NULL;
}

int etw_event_schema(const EVENT_RECORD *rec, etw_schema *out)
{
    if (!descriptor_keyed(rec))
        return etw_schema_for_record(rec, out);
    const EVENT_HEADER *h = &rec->EventHeader;
    const EVENT_DESCRIPTOR *d = &h->EventDescriptor;
    uint8_t classic = (h->Flags & EVENT_HEADER_FLAG_CLASSIC_HEADER) != 0;
    uint32_t mix = h->ProviderId.Data1 ^ (uint32_t)d->Id * 0x9E3779B1u ^ (uint32_t)d->Opcode << 8 ^
                   (uint32_t)d->Version << 16;
    memo_slot *m = &memo[(mix ^ mix >> 8 ^ mix >> 16) & (MEMO_SLOTS - 1)];
    /* Read before the lookup: whatever the lookup (or another thread) stores meanwhile makes
     * the next call ask again. */
    uint64_t gen = etw_schema_generation();
    if (m->gen == gen && m->scope == etw_decode_scope && m->id == d->Id && m->opcode == d->Opcode &&
        m->version == d->Version && m->classic == classic &&
        memcmp(&m->provider, &h->ProviderId, sizeof m->provider) == 0) {
        *out = m->s;
        return m->have;
    }
    int have = etw_schema_for_record(rec, out);
    m->provider = h->ProviderId;
    m->id = d->Id;
    m->opcode = d->Opcode;
    m->version = d->Version;
    m->classic = classic;
    m->have = (uint8_t)have;
    m->scope = etw_decode_scope;
    m->gen = gen;
    m->s = have ? *out : (etw_schema){0};
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
