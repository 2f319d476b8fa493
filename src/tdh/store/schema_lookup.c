/* Schema lookup for an event record (see schema_lookup.h). */
#include "tdh/store/schema_lookup.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "base/decode_scope.h"
#include "tdh/sources/embedded_pending.h"
#include "tdh/sources/tlg_meta.h"
#include "tdh/store/pack_sources.h"
#include "tdh/store/wpp_table.h"

unsigned etw_event_pointer_size(const EVENT_RECORD *rec, ULONG nctx, const TDH_CONTEXT *ctx)
{
    if (rec && (rec->EventHeader.Flags & EVENT_HEADER_FLAG_32_BIT_HEADER))
        return 4;
    if (rec && (rec->EventHeader.Flags & EVENT_HEADER_FLAG_64_BIT_HEADER))
        return 8;
    for (ULONG i = 0; ctx && i < nctx; i++)
        if (ctx[i].ParameterType == TDH_CONTEXT_POINTERSIZE && (ctx[i].ParameterValue == 4 || ctx[i].ParameterValue == 8))
            return (unsigned)ctx[i].ParameterValue;
    return 8;
}

const uint8_t *etw_event_ext(const EVENT_RECORD *rec, USHORT type, size_t *size)
{
    if (!rec->ExtendedData)
        return NULL;
    for (USHORT i = 0; i < rec->ExtendedDataCount; i++) {
        const EVENT_HEADER_EXTENDED_DATA_ITEM *x = &rec->ExtendedData[i];
        if (x->ExtType == type && x->DataPtr) {
            *size = x->DataSize;
            return (const uint8_t *)(uintptr_t)x->DataPtr;
        }
    }
    return NULL;
}

/* A miss is remembered as an entry without a schema (lowest precedence, so any real schema
 * learned later replaces it); the number of such entries is capped so a stream of random
 * keys cannot grow the store without bound. */
#define MAX_NEGATIVE 65536
static _Atomic unsigned negative_entries;

static int found(const etw_schema_key *k, etw_schema *out, int *negative)
{
    if (!etw_schema_find(k, out))
        return 0;
    *negative = out->info == NULL;
    return 1;
}

static void remember_miss(const etw_schema_key *k)
{
    if (negative_entries < MAX_NEGATIVE && etw_schema_put(k, NULL, 0, ETW_SRC_NONE, 0))
        negative_entries++;
}

void etw_schema_forget_misses(void)
{
    negative_entries = 0;
}

static int tlg_schema(const EVENT_RECORD *rec, const uint8_t *meta, size_t meta_len, etw_schema *out)
{
    etw_schema_key k = {.guid = rec->EventHeader.ProviderId, .kind = ETW_KEY_TLG, .blob = meta,
                        .blob_len = (uint32_t)meta_len};
    /* The traits (provider name) are part of the schema too; TraceLogging events of one
     * provider always carry the same traits, so keying by metadata alone is enough. */
    int neg = 0;
    if (found(&k, out, &neg))
        return !neg;
    size_t traits_len = 0, size = 0;
    const uint8_t *traits = etw_event_ext(rec, EVENT_HEADER_EXT_TYPE_PROV_TRAITS, &traits_len);
    TRACE_EVENT_INFO *tei = etw_tlg_build(&rec->EventHeader.ProviderId, &rec->EventHeader.EventDescriptor,
                                          meta, meta_len, traits, traits_len, &size);
    if (!tei) {
        remember_miss(&k);
        return 0;
    }
    etw_schema_put(&k, tei, (uint32_t)size, ETW_SRC_TLG, 0);
    return found(&k, out, &neg) && !neg;
}

/* The schema the trace being decoded taught for k (it came from the trace itself:
 * EventMetadata, EventSource manifests, so it ranks above the kernel tables and user
 * manifests, as those sources do in the process-wide store), else the process-wide entry,
 * which may be a remembered miss (*negative). */
static int found_scoped(const etw_schema_key *k, etw_schema *out, int *negative)
{
    if (!etw_schema_find_scoped(k, etw_decode_scope, out))
        return 0;
    *negative = out->info == NULL;
    return 1;
}

/* Last in precedence: schemas kept in packs — the schema store (issue 10 item 3: it registers
 * its packs with etw_pack_sources_add(pk, ETW_SRC_STORE), so they are tried first here) and
 * then the built-in pack. The schema found is rebuilt once and cached under the event's key,
 * so later events of that key cost what a manifest-loaded schema costs. An event version
 * newer than any a pack holds gets the newest older one (versions add fields at the end; the
 * decoder ignores trailing bytes), which Windows, holding the same manifests, would refuse. */
static int packed(const etw_schema_key *k, etw_schema *out)
{
    size_t size = 0;
    uint8_t source = 0;
    int neg = 0;
    TRACE_EVENT_INFO *tei = etw_pack_sources_event(&k->guid, k->kind, k->a, k->b, 1, &size, &source);
    if (!tei) {
        remember_miss(k);
        return 0;
    }
    etw_schema_put(k, tei, (uint32_t)size, source, 0);
    return found(k, out, &neg) && !neg;
}

/* EventWriteString events: the payload is the string, whatever the descriptor says. */
static int string_only(const EVENT_HEADER *h, etw_schema *out)
{
    etw_schema_key k = {.guid = h->ProviderId, .kind = ETW_KEY_STRING_ONLY};
    int neg = 0;
    if (found(&k, out, &neg))
        return !neg;
    size_t size = 0;
    TRACE_EVENT_INFO *tei = etw_string_only_build(&h->ProviderId, &size);
    if (!tei)
        return 0;
    etw_schema_put(&k, tei, (uint32_t)size, ETW_SRC_BUILTIN, 0);
    return found(&k, out, &neg) && !neg;
}

/* A user MOF class without EventVersion serves every version of its event type. */
static int any_version(const EVENT_HEADER *h, etw_schema *out)
{
    int neg = 0;
    etw_schema_key any = {.guid = h->ProviderId, .kind = ETW_KEY_CLASSIC, .a = h->EventDescriptor.Opcode,
                          .b = ETW_ANY_VERSION};
    return etw_schema_have_any_version() && found(&any, out, &neg) && !neg;
}

static int lookup(const EVENT_RECORD *rec, etw_schema *out)
{
    const EVENT_HEADER *h = &rec->EventHeader;
    size_t meta_len = 0;
    int neg = 0;
    const uint8_t *meta = etw_event_ext(rec, EVENT_HEADER_EXT_TYPE_EVENT_SCHEMA_TL, &meta_len);
    if (meta)
        return tlg_schema(rec, meta, meta_len, out);
    if (h->Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE)
        return etw_wpp_schema(rec, out); /* from a TMF message, if one is known */
    if (h->Flags & EVENT_HEADER_FLAG_STRING_ONLY)
        return string_only(h, out);
    etw_schema_key k = {.guid = h->ProviderId};
    int classic = (h->Flags & EVENT_HEADER_FLAG_CLASSIC_HEADER) != 0;
    k.kind = classic ? ETW_KEY_CLASSIC : ETW_KEY_MANIFEST;
    k.a = classic ? h->EventDescriptor.Opcode : h->EventDescriptor.Id;
    k.b = h->EventDescriptor.Version;
    /* What the trace embeds for this provider and was kept raw is compiled now (in the order
     * delivered), so the answer is the one compiling it at delivery would have given. */
    etw_embedded_compile_for(etw_decode_scope, &h->ProviderId);
    if (found_scoped(&k, out, &neg)) /* a remembered miss covers the fallbacks below too... */
        return !neg || any_version(h, out); /* ...but a MOF loaded since */
    if (!classic) {
        /* A pipeline may deliver classic events without the flag: try the classic key too. */
        etw_schema_key c = k;
        c.kind = ETW_KEY_CLASSIC;
        c.a = h->EventDescriptor.Opcode;
        if (found_scoped(&c, out, &neg) && !neg)
            return 1;
    }
    if (any_version(h, out))
        return 1;
    size_t size = 0;
    TRACE_EVENT_INFO *tei = etw_kernel_build(&h->ProviderId, h->EventDescriptor.Opcode,
                                             h->EventDescriptor.Version, &size);
    if (tei) {
        etw_schema_key c = k;
        c.kind = ETW_KEY_CLASSIC;
        c.a = h->EventDescriptor.Opcode;
        etw_schema_put(&c, tei, (uint32_t)size, ETW_SRC_KERNEL, 0);
        return found(&c, out, &neg) && !neg;
    }
    return packed(&k, out);
}

/* The CLI asks about each event twice (name, then fields): remember the last answer of this
 * thread. The memo is keyed by the record's identity and content and by the store's
 * generation, which changes whenever anything is stored or forgotten. */
typedef struct memo {
    const EVENT_RECORD *rec;
    uint32_t scope;
    EVENT_HEADER hdr;
    const void *user, *ext;
    uint64_t gen;
    etw_schema s;
    int have;
} memo;
static _Thread_local memo last;

int etw_schema_for_record(const EVENT_RECORD *rec, etw_schema *out)
{
    if (rec->EventHeader.Flags & EVENT_HEADER_FLAG_TRACE_MESSAGE)
        return etw_wpp_schema(rec, out); /* not memoized: TMFs may be named by the next call */
    uint64_t gen = etw_schema_generation();
    if (last.rec == rec && last.gen == gen && last.scope == etw_decode_scope && last.user == rec->UserData &&
        last.ext == rec->ExtendedData &&
        memcmp(&last.hdr, &rec->EventHeader, sizeof last.hdr) == 0) {
        *out = last.s;
        return last.have;
    }
    int have = lookup(rec, out);
    last.rec = rec;
    last.scope = etw_decode_scope;
    last.hdr = rec->EventHeader;
    last.user = rec->UserData;
    last.ext = rec->ExtendedData;
    last.gen = gen;
    last.s = have ? *out : (etw_schema){0};
    last.have = have;
    return have;
}

int etw_map_for_provider(const GUID *provider, const uint8_t *name, size_t name_bytes, etw_schema *out)
{
    etw_schema_key k = {.guid = *provider, .kind = ETW_KEY_MAP, .blob = name,
                        .blob_len = (uint32_t)name_bytes};
    /* The trace's own map (EventMapInfo) first, then a process-wide one, then the packs'
     * (cached, a miss remembered like an event's). */
    if (name_bytes >= 4096)
        return 0;
    etw_embedded_compile_for(etw_decode_scope, provider);
    if (etw_schema_find_scoped(&k, etw_decode_scope, out))
        return out->info != NULL;
    size_t size = 0;
    uint8_t source = 0;
    EVENT_MAP_INFO *emi = etw_pack_sources_map(provider, name, name_bytes, &size, &source);
    if (!emi) {
        remember_miss(&k);
        return 0;
    }
    etw_schema_put(&k, emi, (uint32_t)size, source, 0);
    return etw_schema_find(&k, out) && out->info;
}

void etw_tdh_forget_scope(uint32_t scope)
{
    etw_embedded_forget_scope(scope); /* kept records first: nothing compiles them after this */
    etw_schema_drop_scope(scope);
    etw_eventsource_forget_scope(scope);
}
