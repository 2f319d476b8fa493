/* Lookups the formatters make for every event, remembered per thread: the schema of an event
 * record (a store lookup hashes the key and takes the store's lock, while a trace has few
 * distinct (provider, event) pairs) and the names of providers without a schema. */
#ifndef ETWIRE_TDH_SCHEMA_MEMO_H
#define ETWIRE_TDH_SCHEMA_MEMO_H

#include <etwire/tdh.h>

#include "tdh/decode/event_plan.h"
#include "tdh/store/schema_cache.h"

/* etw_schema_for_record's answer (1 and *out, or 0), the same at every call: manifest and
 * classic events are answered from the memo while the store's generation and the decoding
 * scope are those the answer was found under; TraceLogging, WPP and string-only events (whose
 * keys are not the descriptor's) always ask the store. With a schema, also its output plan in
 * *plan (etw_event_plan_get's answer, remembered with the schema; NULL without a schema or
 * when memory runs out). */
int etw_event_schema_planned(const EVENT_RECORD *rec, etw_schema *out, const etw_event_plan **plan);

/* How an event without a schema is named: TraceEvent's names of a built-in kernel class
 * (*kprov, *ktask), else the provider's name in a schema pack (*packed), else all NULL;
 * remembered per thread by provider while the store's generation holds. */
void etw_unknown_provider_names(const GUID *provider, const char **kprov, const char **ktask,
                                const char **packed);

#endif
