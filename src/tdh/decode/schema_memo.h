/* The schema of an event record for the formatters, remembered per thread: a store lookup
 * hashes the key and takes the store's lock for every event, while a trace has few distinct
 * (provider, event) pairs. */
#ifndef ETWIRE_TDH_SCHEMA_MEMO_H
#define ETWIRE_TDH_SCHEMA_MEMO_H

#include <etwire/tdh.h>

#include "tdh/store/schema_cache.h"

/* etw_schema_for_record's answer (1 and *out, or 0), the same at every call: manifest and
 * classic events are answered from the memo while the store's generation and the decoding
 * scope are those the answer was found under; TraceLogging, WPP and string-only events (whose
 * keys are not the descriptor's) always ask the store. */
int etw_event_schema(const EVENT_RECORD *rec, etw_schema *out);

#endif
