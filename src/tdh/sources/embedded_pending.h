/* Schema records a trace embeds, kept raw while its events are delivered and compiled the first
 * time a lookup needs them (embedded_pending.c; docs/decoding.md, "Schemas a trace teaches").
 * ProcessTrace shows every event to the learner, but most consumers never decode: they pay a
 * copy of each schema record, not an XML parse and a compile. */
#ifndef ETWIRE_TDH_EMBEDDED_PENDING_H
#define ETWIRE_TDH_EMBEDDED_PENDING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <etwire/evntcons.h>

/* What a kept record is (the MetaData opcodes, and a finished EventSource manifest). */
enum etw_embedded_kind {
    ETW_EMBEDDED_EVENT_INFO = 32, /* a TRACE_EVENT_INFO (event_metadata.c) */
    ETW_EMBEDDED_MAP_INFO = 33,   /* provider GUID + EVENT_MAP_INFO */
    ETW_EMBEDDED_MANIFEST = 0xFE, /* the XML of an EventSource manifest (eventsource_manifest.c) */
};

/* Raw bytes kept over all open traces at most (etw_embedded_held_bytes); past it a trace's kept
 * records are compiled at once (as before lazy learning), so answers never depend on it. */
#define ETW_EMBEDDED_MAX_BYTES (16u << 20)

/* Keeps a copy of (p, n) for scope. provider: for a MetaData record, the provider (or class)
 * it describes, the only one whose lookups it can change; for a manifest, the provider that
 * logged it (which providers its XML describes is read at the first lookup in the scope). desc:
 * for a manifest, the descriptor of the ManifestData event that finished it, else NULL. Returns
 * 1 when kept (or when compiling it would change nothing: it repeats the last record that could
 * change the same providers); 0 when it was not kept (the bound, or no memory): the caller
 * compiles it now, after everything the scope kept (which this call compiled). */
int etw_embedded_keep(uint32_t scope, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                      const uint8_t *p, size_t n);

/* The same for a malloc'd buffer: *buf is set to NULL when the store took it over; otherwise
 * (not kept, or a repeat) it stays the caller's. */
int etw_embedded_keep_owned(uint32_t scope, uint8_t kind, const GUID *provider, const EVENT_DESCRIPTOR *desc,
                            uint8_t **buf, size_t n);

/* Compiles, in the order they were kept, the records of scope that lookups of provider need. */
void etw_embedded_compile_slow(uint32_t scope, const GUID *provider);
/* Compiles every record scope kept (in the order kept): before listing providers. */
void etw_embedded_compile_all(uint32_t scope);
/* Frees a scope's kept records uncompiled (its trace is gone). */
void etw_embedded_forget_scope(uint32_t scope);
/* Frees every kept record (etwire_tdh_reset). */
void etw_embedded_clear(void);
/* Bytes of records kept and not compiled yet, over all scopes (tests). */
size_t etw_embedded_pending_bytes(void);
/* The same plus the last record each provider compiled (kept to tell repeats; tests). */
size_t etw_embedded_held_bytes(void);
/* Sets the bound (tests); 0 restores ETW_EMBEDDED_MAX_BYTES. */
void etw_embedded_set_max_bytes(size_t max);

/* Compiling one record (the learners themselves): 1 if it stored a schema. */
int etw_metadata_learn_event_info(const uint8_t *p, size_t n);
int etw_metadata_learn_map_info(const uint8_t *p, size_t n);
int etw_eventsource_load(const uint8_t *xml, size_t n, const GUID *emitter, const EVENT_DESCRIPTOR *desc);

/* Which providers have kept records: a bit per provider hash, and a count of records that may
 * change any provider. Read without a lock on every lookup; a record is kept and looked up by
 * the thread delivering its trace's events (base/decode_scope.h), so that thread always sees its
 * own bits. */
extern _Atomic uint64_t etw_embedded_bits[4];
extern _Atomic size_t etw_embedded_any;

static inline unsigned etw_embedded_bit(const GUID *g)
{
    return (unsigned)(((uint32_t)g->Data1 ^ (uint32_t)g->Data2 << 16 ^ g->Data4[7]) * 0x9E3779B1u >> 24);
}

/* Before a lookup of provider's schemas in scope: compiles what it needs, if anything. */
static inline void etw_embedded_compile_for(uint32_t scope, const GUID *provider)
{
    unsigned b = etw_embedded_bit(provider);
    if (!scope || (!(atomic_load_explicit(&etw_embedded_bits[b >> 6], memory_order_relaxed) & (1ull << (b & 63))) &&
                   !atomic_load_explicit(&etw_embedded_any, memory_order_relaxed)))
        return;
    etw_embedded_compile_slow(scope, provider);
}

#endif
