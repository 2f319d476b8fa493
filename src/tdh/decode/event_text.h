/* The CLI's view of decoding (etwire dump, etwire stats --undecoded): names and fields of one
 * event as UTF-8, from whatever schema source applies. Formats: docs/decoding.md. */
#ifndef ETWIRE_TDH_EVENT_TEXT_H
#define ETWIRE_TDH_EVENT_TEXT_H

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/store/schema_cache.h"

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

/* etw_event_decode in steps, for a formatter that writes the names and fields straight into its
 * output (etwire dump): begin learns from the event and finds its schema and plan once; names
 * points *provider and *event at the names etw_event_describe would append - the plan's own
 * strings, or (for names made per event) provider_buf's and event_buf's text, which it resets
 * first; fields appends what etw_event_format_fields would and returns the same. The views stay
 * valid while the store keeps the schema (the rest of the event's formatting). */
typedef struct etw_event_decoding {
    const EVENT_RECORD *rec;
    int have;
    int escapes; /* see etw_event_decoding_escapes */
    etw_schema s;
    const struct etw_event_plan *pl;
} etw_event_decoding;

typedef struct etw_text_view {
    const char *s; /* never NULL */
    size_t n;
    int padded; /* 32 bytes from s may be read (a plan's string: ETW_PLAN_PAD) */
} etw_text_view;

void etw_event_decoding_begin(etw_event_decoding *dc, const EVENT_RECORD *rec);
/* Returns names_plain (see etw_event_decode), plus 2 when the names need no escaping in a CSV
 * field either (no control character, DEL or quote). */
int etw_event_decoding_names(const etw_event_decoding *dc, etw_strbuf *provider_buf, etw_strbuf *event_buf,
                             etw_text_view *provider, etw_text_view *event);
/* The fields, escaped as esc says (ETW_ESC_*, text_out.h): JSON, text as it is, or text for one
 * line of dump's text or CSV output, escaped as it is written (the same bytes as escaping the
 * text afterwards byte by byte, event_view.c's rules) when etw_event_decoding_escapes says it
 * can; when it cannot (WPP messages, keys that need escaping) the line modes write the text as
 * it is, for the caller to escape. */
int etw_event_decoding_fields(const etw_event_decoding *dc, int esc, etw_strbuf *out);
/* 1 when etw_event_decoding_fields escapes for ETW_ESC_LINE and ETW_ESC_CSV as it writes; the
 * text it writes then never holds a NUL byte. */
static inline int etw_event_decoding_escapes(const etw_event_decoding *dc)
{
    return dc->escapes;
}

/* etw_event_decode the long way, as before plans (issue 11): the schema asked from the store,
 * names converted from UTF-16 for this event, every payload through the general property
 * walk. The same text by definition; tests compare the two on real traces. */
int etw_event_decode_unplanned(const EVENT_RECORD *rec, int json, etw_strbuf *provider, etw_strbuf *event_name,
                               etw_strbuf *fields);

/* The value map a property names (looked up for the schema's provider), or NULL. */
const EVENT_MAP_INFO *etw_event_property_map(const TRACE_EVENT_INFO *tei, size_t tei_size,
                                             const EVENT_PROPERTY_INFO *epi, size_t *map_size);

#endif
