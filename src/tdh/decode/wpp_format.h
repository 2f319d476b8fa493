/* WPP messages as text (docs/decoding.md, "WPP"): the format string of the event's TMF message
 * with its arguments substituted, as tracefmt prints it after its prefix, plus the function,
 * source file and line the TMF names. Without a TMF, the message GUID and number name the event
 * and its arguments stay raw (the event counts as undecoded). */
#ifndef ETWIRE_TDH_WPP_FORMAT_H
#define ETWIRE_TDH_WPP_FORMAT_H

#include <etwire/tdh.h>

#include "base/strbuf.h"
#include "tdh/sources/tmf_model.h"

/* Provider (the TMF's friendly name, else the message GUID) and event name (the message name,
 * "file_ext<line>", else "Message(<number>)"). Returns 1 if a TMF message describes rec. */
int etw_wpp_describe(const EVENT_RECORD *rec, etw_strbuf *provider, etw_strbuf *event_name);

/* The fields, in event_text.h's text or JSON form: Message, Function, File, Line, Level,
 * Flags (those the TMF gives). Returns 1 when every argument decoded; 0 without a TMF (the
 * raw arguments as hex digits only) or when the arguments do not fit their types (the
 * message shows what did decode, `_undecoded` the rest). */
int etw_wpp_format_fields(const EVENT_RECORD *rec, int json, etw_strbuf *out);

/* The message text alone; returns 1 if every argument decoded. */
int etw_wpp_format_message(const etw_wpp_msg *m, const EVENT_RECORD *rec, etw_strbuf *out,
                           size_t *used);

#endif
