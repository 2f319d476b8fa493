/* The CLI's view of decoding (etwire dump, etwire stats --undecoded): names and fields of one
 * event as UTF-8, from whatever schema source applies. Formats: docs/decoding.md. */
#ifndef ETWIRE_TDH_EVENT_TEXT_H
#define ETWIRE_TDH_EVENT_TEXT_H

#include <etwire/tdh.h>

#include "base/strbuf.h"

/* Appends the provider name (the GUID as text when unknown) and the event name, TraceEvent
 * style: "Task/Opcode" (the opcode left out when it is 0 or unnamed), the TraceLogging or
 * manifest event name when there is no task, else "EventID(n)" / "Opcode(n)". Also learns
 * embedded schema events. Returns 1 if the event has a schema, 0 if not. */
int etw_event_describe(const EVENT_RECORD *rec, etw_strbuf *provider, etw_strbuf *event_name);

/* Appends the event's fields. Text: `Name=value; Name=value`, arrays as `[a, b]`, structs as
 * `{A=1; B=2}`. JSON: the body of an object (`"Name":value,...`, no braces) with JSON types;
 * 64-bit integers beyond 2^53 and hex-formatted values are strings. Returns 1 when every
 * property decoded (extra trailing payload bytes are allowed: newer event versions add fields),
 * 0 otherwise: with no schema the raw payload is appended as hex digits (nothing else); with a
 * schema that the payload does not fit, the fields that did decode are followed by a field
 * `_undecoded` holding the rest of the payload in hex. */
int etw_event_format_fields(const EVENT_RECORD *rec, int json, etw_strbuf *out);

/* Both of the above for one event (what dump shows), learning from it and looking its schema
 * up once; returns what etw_event_format_fields returns. *names_plain = 1 when the names
 * appended hold nothing JSON escapes (no control character, quote or backslash), 0 when they
 * may. */
int etw_event_decode(const EVENT_RECORD *rec, int json, etw_strbuf *provider, etw_strbuf *event_name,
                     etw_strbuf *fields, int *names_plain);

/* etw_event_decode the long way, as before plans (issue 11): the schema asked from the store,
 * names converted from UTF-16 for this event, every payload through the general property
 * walk. The same text by definition; tests compare the two on real traces. */
int etw_event_decode_unplanned(const EVENT_RECORD *rec, int json, etw_strbuf *provider, etw_strbuf *event_name,
                               etw_strbuf *fields);

/* The value map a property names (looked up for the schema's provider), or NULL. */
const EVENT_MAP_INFO *etw_event_property_map(const TRACE_EVENT_INFO *tei, size_t tei_size,
                                             const EVENT_PROPERTY_INFO *epi, size_t *map_size);

#endif
