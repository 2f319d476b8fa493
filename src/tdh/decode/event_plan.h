/* The output plan of one schema: everything the CLI's formatter would otherwise work out again
 * for every event of that schema - the provider, task, opcode and event names and each
 * property's key as UTF-8 (JSON-escaped and plain), and where each property's map name is.
 * Built once, on the first event that uses the schema, and kept with the schema's store entry
 * (etw_schema_set_plan), so converting UTF-16 names costs nothing per event (issue 11). */
#ifndef ETWIRE_TDH_EVENT_PLAN_H
#define ETWIRE_TDH_EVENT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "tdh/store/schema_cache.h"

typedef struct etw_plan_str {
    const char *s; /* NUL-terminated; NULL when the schema has no such (non-empty) string */
    uint32_t n;
} etw_plan_str;

typedef struct etw_plan_prop {
    etw_plan_str key_json; /* "\"Name\":" (escaped), or "\"Field<i>\":" for an unnamed one */
    etw_plan_str key_text; /* "Name=", or "Field<i>=" */
    const uint8_t *map_name; /* UTF-16LE inside the schema blob, no NUL; NULL: no map */
    uint32_t map_name_bytes;
} etw_plan_prop;

typedef struct etw_event_plan {
    etw_plan_str provider, task, event_name;
    etw_plan_str opcode; /* a standard opcode's "win:" prefix already dropped */
    int wbem;            /* DecodingSourceWbem: unnamed opcodes show as Opcode(n) */
    uint32_t nprops;
    etw_plan_prop props[]; /* PropertyCount entries, then the strings */
} etw_event_plan;

/* The plan of an event schema (s->info a checked TRACE_EVENT_INFO), built and attached to its
 * entry on first use; NULL when memory runs out (callers then format the slow way). */
const etw_event_plan *etw_event_plan_get(const etw_schema *s);

#endif
