/* etwire export: the formats a trace is converted to (pcapng, a Perfetto timeline). The command
 * (cmd_export.c) opens the traces, filters, tracks processes and hands each event to the
 * format; a format writes as it goes and holds nothing per event. A format that needs facts
 * the trace states late (pktmon names its interfaces when the capture stops) asks for a scan
 * when it first misses one: its scan function then sees the whole of the traces, unfiltered. */
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
    /* Shows every event of the traces to the format's scan now (reading the files again,
     * nested in the current reading), the first time it is called; later calls do nothing.
     * NULL where the events do not come from files. */
    void (*scan_traces)(struct export_context *cx);
    void *run; /* the command's, for scan_traces */
} export_context;

typedef struct export_format {
    const char *name;
    const char *summary;
    /* Writes the file's header; returns the format's state or NULL (message printed). */
    void *(*begin)(export_context *cx);
    void (*event)(void *state, const EVENT_RECORD *er, export_context *cx);
    /* Writes the trailer, prints a summary on stderr, frees the state; 0 on success. */
    int (*end)(void *state, export_context *cx);
    /* NULL, or the reader of a scan (export_context.scan_traces): sees every event of the
     * traces (no filter, no time window, no process tracking), possibly while an event call
     * is in progress. Must be cheap: it should look at the provider and event id and return. */
    void (*scan)(void *state, const EVENT_RECORD *er);
} export_format;

extern const export_format export_pcapng_format;
extern const export_format export_timeline_format;

/* FILETIME to 100 ns since 1970 (negative times clamp to 0). */
uint64_t export_unix_100ns(int64_t filetime);

#endif
