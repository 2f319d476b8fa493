/* The event filters dump, stats and export share: by provider (name or GUID), event (name or
 * id), level, keyword, process id, thread id, process name and time. Options may be repeated
 * where that makes sense (providers, events, pids, tids, processes: any of them matches). */
#ifndef ETWIRE_CLI_EVENT_FILTERS_H
#define ETWIRE_CLI_EVENT_FILTERS_H

#include <getopt.h>

#include <etwire/context.h>
#include <etwire/etwire.h>

#define EVENT_FILTER_MAX 32

typedef struct event_filter {
    const char *provider_names[EVENT_FILTER_MAX]; /* as given; resolved on first use */
    GUID providers[EVENT_FILTER_MAX * 4];          /* GUIDs given or resolved from names */
    unsigned n_provider_names, n_providers, resolved;
    const char *event_names[EVENT_FILTER_MAX];
    unsigned event_ids[EVENT_FILTER_MAX];
    unsigned n_event_names, n_event_ids;
    unsigned pids[EVENT_FILTER_MAX], tids[EVENT_FILTER_MAX];
    unsigned n_pids, n_tids;
    const char *processes[EVENT_FILTER_MAX];
    unsigned n_processes;
    int has_level, has_keyword;
    unsigned level;
    unsigned long long keyword;
    FILETIME start, end;
    int has_start, has_end;
    /* Process names: the tracker the command feeds, or one the filter owns and feeds itself. */
    ETWIRE_PROCESS_TRACKER *tracker;
    int owns_tracker;
    /* Providers whose name was compared once: (GUID, matches). */
    GUID name_cache[256];
    unsigned char name_cache_match[256];
    unsigned n_name_cache;
    struct etw_strbuf *scratch; /* provider and event names of the event being matched */
    int pass_all; /* nothing but the time window filtered (known once names are resolved) */
} event_filter;

/* Codes 1001-1010 are the schema and original filter options; 1021 on the filters by name. */
#define EVENT_FILTER_OPTIONS                                                                       \
    {"provider", required_argument, NULL, 1001}, {"event", required_argument, NULL, 1002},       \
        {"pid", required_argument, NULL, 1003}, {"start", required_argument, NULL, 1004},        \
        {"end", required_argument, NULL, 1005}, {"manifest", required_argument, NULL, 1006},     \
        {"provider-binary", required_argument, NULL, 1007}, {"mof", required_argument, NULL, 1008}, \
        {"tmf", required_argument, NULL, 1009}, {"schemas", required_argument, NULL, 1010},      \
        {"level", required_argument, NULL, 1021}, {"keyword", required_argument, NULL, 1022},    \
        {"tid", required_argument, NULL, 1023}, {"process", required_argument, NULL, 1024}

/* Also opens the default schema store when there is one (a damaged one is reported). */
void event_filter_init(event_filter *f);
void event_filter_free(event_filter *f);
/* Takes one of EVENT_FILTER_OPTIONS; prints why and returns -1 for a bad value, returns 1 for an
 * option that is not a filter option, 0 when taken. */
int event_filter_option(event_filter *f, int opt, const char *arg);
/* The tracker the command feeds every event (before calling match); without one, a --process
 * filter keeps its own. */
void event_filter_use_tracker(event_filter *f, ETWIRE_PROCESS_TRACKER *tracker);
/* Call for every event, in order (the filter may learn from it). */
int event_filter_match(event_filter *f, const EVENT_RECORD *er);
/* Whether anything but the time window is filtered. */
int event_filter_active(const event_filter *f);
LPFILETIME event_filter_start(event_filter *f);
LPFILETIME event_filter_end(event_filter *f);
const char *event_filter_usage(void);

#endif
