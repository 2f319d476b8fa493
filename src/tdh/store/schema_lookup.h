/* Finding the schema of one EVENT_RECORD, from the sources in issue 4's order of precedence:
 * TraceLogging metadata in the event, schemas embedded in the trace (EventMetadata), built-in
 * kernel tables, then user-supplied manifests. The first lookup of a key may compile and store
 * a schema; later lookups of the same key only hash and compare. */
#ifndef ETWIRE_TDH_SCHEMA_LOOKUP_H
#define ETWIRE_TDH_SCHEMA_LOOKUP_H

#include <etwire/tdh.h>

#include "tdh/store/schema_cache.h"

/* Returns 1 and fills *out if rec has a schema. */
int etw_schema_for_record(const EVENT_RECORD *rec, etw_schema *out);
/* Resets the count of remembered misses (the store itself was cleared). */
void etw_schema_forget_misses(void);
/* The map named by (UTF-16LE bytes, no NUL) for provider; 1 if found. */
int etw_map_for_provider(const GUID *provider, const uint8_t *name, size_t name_bytes,
                         etw_schema *out);
/* 4 or 8: from the header flags, else TDH_CONTEXT_POINTERSIZE, else 8. */
unsigned etw_event_pointer_size(const EVENT_RECORD *rec, ULONG nctx, const TDH_CONTEXT *ctx);
/* The extended item of type ext_type: data pointer and size, or NULL. */
const uint8_t *etw_event_ext(const EVENT_RECORD *rec, USHORT ext_type, size_t *size);

/* Learns an EventMetadata schema event or an EventSource manifest chunk now (etwire_tdh_observe,
 * the TDH functions and the decoder, given a record): 1 if it stored a schema. */
int etw_metadata_observe(const EVENT_RECORD *rec);
/* The same for an event being delivered (the session hook): the record is kept raw and
 * compiled when a lookup needs it (tdh/sources/embedded_pending.h). 1 if kept. */
int etw_metadata_capture(const EVENT_RECORD *rec);
/* Collects an EventSource manifest chunk; when the manifest is complete, keeps it (lazy) or
 * loads it. */
int etw_eventsource_take(const EVENT_RECORD *rec, int lazy);
/* Drops the half-collected manifests of a trace scope. */
void etw_eventsource_forget_scope(uint32_t scope);
/* Forgets everything a trace taught (its scope's schemas and pending manifests): called when
 * its session is destroyed. */
void etw_tdh_forget_scope(uint32_t scope);
/* Compiles the built-in schema of a kernel classic event; NULL if none. */
TRACE_EVENT_INFO *etw_kernel_build(const GUID *cls, unsigned opcode, unsigned version, size_t *size);

/* The schema of a provider's EVENT_HEADER_FLAG_STRING_ONLY events (one string, "Message"). */
TRACE_EVENT_INFO *etw_string_only_build(const GUID *provider, size_t *size);

/* TraceEvent's provider and task names of a built-in class; 0 if not one. */
int etw_kernel_class_names(const GUID *cls, const char **provider, const char **task);

extern const GUID etw_metadata_guid;
/* Its first four bytes, for a first look that compares with a constant. */
#define ETW_METADATA_GUID_DATA1 0xbbccf6c1u

/* The first look etw_metadata_observe and _capture take at every event: an EventSource
 * manifest chunk (id 0xFFFE) or, maybe, a MetaData event. Inline: no call for the others. */
static inline int etw_metadata_candidate(const EVENT_RECORD *rec)
{
    return rec->EventHeader.EventDescriptor.Id == 0xFFFE ||
           rec->EventHeader.ProviderId.Data1 == ETW_METADATA_GUID_DATA1;
}

#endif
