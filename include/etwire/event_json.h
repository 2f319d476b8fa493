/* etwire extension: one event's names and decoded fields as a JSON object, the same text
 * `etwire dump -f json` prints for them. For consumers in other languages (the Python package)
 * that want decoded values without walking TRACE_EVENT_INFO property by property. */
#ifndef ETWIRE_EVENT_JSON_H
#define ETWIRE_EVENT_JSON_H

#include <etwire/evntrace.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes {"provider":"...","event":"...","decoded":true|false,"fields":{...}} (or, for an event
 * with no schema, "payload_hex":"..." instead of "fields") and a NUL into Buffer, UTF-8.
 * Field formats: docs/decoding.md. Also learns the schemas a trace embeds, so call it for every
 * event in order. Returns ERROR_SUCCESS (*Needed = bytes written without the NUL),
 * ERROR_INSUFFICIENT_BUFFER (*Needed = the size required, NUL included; nothing written) or
 * ERROR_INVALID_PARAMETER. The formatting scratch is per thread and freed when the thread ends. */
ETWIRE_API ULONG etwire_event_format_json(PCEVENT_RECORD Event, char *Buffer, ULONG BufferSize, ULONG *Needed);

#ifdef __cplusplus
}
#endif
#endif
