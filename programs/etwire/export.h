/* etwire export: the formats a trace is converted to (pcapng, a Perfetto timeline). The command
 * (cmd_export.c) opens the traces, filters, tracks processes and hands each event to the
 * format; a format writes as it goes and holds nothing per event. A format that needs facts
 * the trace states late (pktmon names its interfaces when the capture stops) gets a first
 * pass over the whole trace, unfiltered, before anything is written. */
#ifndef ETWIRE_CLI_EXPORT_H
#define ETWIRE_CLI_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include <etwire/context.h>
#include <etwire/etwire.h>

typedef struct export_context {
    FILE *out;
    const char *out_path;
    ETWIRE_PROCESS_TRACKER *processes; /* already fed the current event */
} export_context;

typedef struct export_format {
    const char *name;
    const char *summary;
    /* Writes the file's header; returns the format's state or NULL (message printed). */
    void *(*begin)(export_context *cx);
    void (*event)(void *state, const EVENT_RECORD *er, export_context *cx);
    /* Writes the trailer, prints a summary on stderr, frees the state; 0 on success. */
    int (*end)(void *state, export_context *cx);
    /* NULL, or the first pass: sees every event of the traces (no filter, no time window, no
     * process tracking) after begin and before the first call of event. Must be cheap: it
     * should look at the provider and event id and return. */
    void (*scan)(void *state, const EVENT_RECORD *er);
} export_format;

extern const export_format export_pcapng_format;
extern const export_format export_timeline_format;

/* FILETIME to 100 ns since 1970 (negative times clamp to 0). */
uint64_t export_unix_100ns(int64_t filetime);

#endif
