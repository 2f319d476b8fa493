/* How the CLI shows one event (text and JSON lines), and the event filters dump and stats share. */
#ifndef ETWIRE_CLI_EVENT_VIEW_H
#define ETWIRE_CLI_EVENT_VIEW_H

#include <etwire/etwire.h>

#include "base/strbuf.h"

/* Set when timestamps are the session's raw clock: printed as integers, not dates. */
extern int event_view_raw_time;

/* Frees the calling thread's formatting scratch (threads that end free theirs themselves; the
 * main thread calls this before exit so leak checkers stay quiet). */
void event_view_release(void);

/* Names and decodes the event into the view's scratch strings; returns 1 if fully decoded. */
int event_view_decode(const EVENT_RECORD *er, int json);
void event_view_text(etw_strbuf *out, const EVENT_RECORD *er);
void event_view_json(etw_strbuf *out, const EVENT_RECORD *er);
/* CSV: one header line, then one row per event; the decoded fields as one quoted text column. */
const char *event_view_csv_header(void);
void event_view_csv(etw_strbuf *out, const EVENT_RECORD *er);

typedef struct event_filter {
    int has_provider, has_event, has_pid;
    GUID provider;
    unsigned event_id;
    unsigned pid;
    FILETIME start, end;
    int has_start, has_end;
} event_filter;

#define EVENT_FILTER_OPTIONS                                                                     \
    {"provider", required_argument, NULL, 1001}, {"event", required_argument, NULL, 1002},       \
        {"pid", required_argument, NULL, 1003}, {"start", required_argument, NULL, 1004},        \
        {"end", required_argument, NULL, 1005}, {"manifest", required_argument, NULL, 1006},     \
        {"provider-binary", required_argument, NULL, 1007}, {"mof", required_argument, NULL, 1008},       \
        {"tmf", required_argument, NULL, 1009}, {"schemas", required_argument, NULL, 1010}

/* Also opens the default schema store when there is one (a damaged one is reported). */
void event_filter_init(event_filter *f);
/* Takes one of the EVENT_FILTER_OPTIONS; returns -1 for an unknown option or a bad value. */
int event_filter_option(event_filter *f, int opt, const char *arg);
int event_filter_match(const event_filter *f, const EVENT_RECORD *er);
LPFILETIME event_filter_start(event_filter *f);
LPFILETIME event_filter_end(event_filter *f);
const char *event_filter_usage(void);
/* Opens the schema store dir (NULL: the default one, silently absent). 0, or -1 reported. */
int event_view_open_store(const char *dir);

#endif
