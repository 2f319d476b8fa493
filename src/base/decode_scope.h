/* Which trace the calling thread is decoding for. Schemas a trace teaches by itself (embedded
 * EventMetadata, EventSource manifests) belong to that trace alone: a collector processing many
 * sources at once must not decode one source's events with another's schemas. The delivery
 * code sets the scope around each event callback; lookups try the scope's own schemas, then
 * the process-wide ones (built-in tables, TraceLogging, user manifests). 0 = no trace: what is
 * learned goes to the process-wide store. */
#ifndef ETWIRE_BASE_DECODE_SCOPE_H
#define ETWIRE_BASE_DECODE_SCOPE_H

#include <stdint.h>

extern _Thread_local uint32_t etw_decode_scope;

/* A fresh scope id for a new trace session (never 0). */
uint32_t etw_decode_scope_new(void);

#endif
