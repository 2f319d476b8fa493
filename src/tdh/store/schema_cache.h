/* The process-wide schema store: TRACE_EVENT_INFO and EVENT_MAP_INFO blobs keyed by provider
 * (or class) GUID plus a kind-specific key. Lookups take a read lock, hash a few bytes and
 * allocate nothing. Stored blobs are immutable and live until etwire_tdh_reset(), so a pointer
 * returned by a lookup stays valid while events are being decoded, even if another thread
 * replaces the entry with one from a higher-precedence source. */
#ifndef ETWIRE_TDH_SCHEMA_CACHE_H
#define ETWIRE_TDH_SCHEMA_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

/* What a key's (a, b) mean. */
enum etw_key_kind {
    ETW_KEY_MANIFEST = 1, /* a = event id, b = version */
    ETW_KEY_CLASSIC = 2,  /* a = opcode (event type), b = version */
    ETW_KEY_TLG = 3,      /* blob = the event's TraceLogging metadata bytes */
    ETW_KEY_MAP = 4,      /* blob = the map name as UTF-16LE bytes (no NUL) */
    ETW_KEY_STRING_ONLY = 5, /* a = b = 0: the schema of the provider's string-only events */
    ETW_KEY_WPP = 6,         /* guid = message GUID, a = message number (wpp_tei.c) */
};

/* Schema sources, lowest value = highest precedence (issue 4's order). */
enum etw_schema_source {
    ETW_SRC_TLG = 1,
    ETW_SRC_METADATA = 2,
    ETW_SRC_KERNEL = 3,
    ETW_SRC_MANIFEST = 4,
    ETW_SRC_MOF = 5,
    ETW_SRC_STORE = 6,   /* the schema store's packs (etwire schemas import) */
    ETW_SRC_BUILTIN = 7, /* the built-in pack of Windows provider manifests */
    ETW_SRC_NONE = 255,  /* a remembered miss: info is NULL */
};

/* Key b of a classic schema that serves every version (a MOF class without EventVersion). */
#define ETW_ANY_VERSION 0xFFFFu

typedef struct etw_schema_key {
    GUID guid;
    uint8_t kind;
    uint16_t a;
    uint16_t b;
    uint32_t scope; /* 0: process-wide; else the trace that taught it (base/decode_scope.h) */
    const uint8_t *blob;
    uint32_t blob_len;
} etw_schema_key;

struct etw_schema_entry;

typedef struct etw_schema {
    const void *info; /* TRACE_EVENT_INFO or EVENT_MAP_INFO */
    uint32_t size;
    uint8_t source;
    uint32_t origin; /* manifest load id (for TdhUnloadManifest), 0 otherwise */
    struct etw_schema_entry *entry; /* the store entry holding info (its plan), NULL if none */
} etw_schema;

/* Returns 1 and fills *out if found. */
int etw_schema_find(const etw_schema_key *key, etw_schema *out);
/* The schema a trace scope holds for key (key->scope ignored), else the process-wide entry
 * (which may be a remembered miss, info NULL); one lock round trip. 1 if either exists. */
int etw_schema_find_scoped(const etw_schema_key *key, uint32_t scope, etw_schema *out);
/* 1 if any any-version classic entry (a MOF class without EventVersion) is stored. */
int etw_schema_have_any_version(void);
/* Takes ownership of info (malloc'd). Keeps an existing entry of higher precedence (then info is
 * freed). Returns 0 on allocation failure (info freed). */
int etw_schema_put(const etw_schema_key *key, void *info, uint32_t size, uint8_t source,
                   uint32_t origin);
/* Removes (retires) every entry of a manifest origin; returns how many. */
size_t etw_schema_drop_origin(uint32_t origin);
/* Frees every entry of a trace's scope once that trace is gone: nothing else looks them up
 * (lookups see only their own scope), so they are freed, not retired. Returns how many. */
size_t etw_schema_drop_scope(uint32_t scope);
/* Removes every entry of a source (ETW_SRC_NONE: the remembered misses; ETW_SRC_STORE: what a
 * schema store that is being replaced gave); returns how many. */
size_t etw_schema_drop_source(uint8_t source);
/* Calls fn for every stored entry under the read lock (fn must not call back in). */
void etw_schema_each(void (*fn)(const etw_schema_key *key, const etw_schema *s, void *ctx), void *ctx);
void etw_schema_clear(void);
/* A decoder's precomputed form of a schema (the output plan, tdh/decode/event_plan.h), kept
 * with the entry and freed (with free()) when the entry is: built once per schema, not per
 * event. etw_schema_plan returns it or NULL; etw_schema_set_plan publishes plan (one malloc'd
 * block) unless another thread did first, then frees plan and returns the one published.
 * Returns plan itself for a schema without an entry (the caller keeps it). */
void *etw_schema_plan(const etw_schema *s);
void *etw_schema_set_plan(const etw_schema *s, void *plan);
/* Changes whenever an entry is stored, replaced or dropped (for memos of lookups). */
uint64_t etw_schema_generation(void);
/* Changes it without storing: a schema record was kept to be compiled on the next lookup of its
 * provider (tdh/sources/embedded_pending.h), so memos of that provider's lookups are stale. */
void etw_schema_touch(void);

#endif
