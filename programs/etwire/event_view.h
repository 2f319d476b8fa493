/* How the CLI shows one event (text and JSON lines). The filters dump and stats share are in
 * event_filters.h. */
#ifndef ETWIRE_CLI_EVENT_VIEW_H
#define ETWIRE_CLI_EVENT_VIEW_H

#include <etwire/context.h>
#include <etwire/etwire.h>

#include "base/strbuf.h"

/* Set when timestamps are the session's raw clock: printed as integers, not dates. */
extern int event_view_raw_time;

/* Frees the calling thread's formatting scratch (threads that end free theirs themselves; the
 * main thread calls this before exit so leak checkers stay quiet). */
void event_view_release(void);

/* The process tracker whose names the calling thread's views show (a "process" member in JSON,
 * a column in CSV, a field in text); NULL shows none. The caller feeds it every event, filtered
 * or not, before formatting. */
void event_view_set_processes(ETWIRE_PROCESS_TRACKER *processes);

/* Names the event and formats its fields into the view's scratch string, as the views do
 * (learning from it); returns 1 if fully decoded. The views below format straight into out. */
int event_view_decode(const EVENT_RECORD *er, int json);
void event_view_text(etw_strbuf *out, const EVENT_RECORD *er);
void event_view_json(etw_strbuf *out, const EVENT_RECORD *er);
/* CSV: one header line, then one row per event; the decoded fields as one quoted text column. */
const char *event_view_csv_header(void);
void event_view_csv(etw_strbuf *out, const EVENT_RECORD *er);

/* Opens the schema store dir (NULL: the default one, silently absent). 0, or -1 reported. */
int event_view_open_store(const char *dir);

#endif
