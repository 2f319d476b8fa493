/* etwire export: the formats a trace is converted to (pcapng, a Perfetto timeline). The command
 * (cmd_export.c) opens the traces, filters, tracks processes and hands each event to the
 * format; a format writes as it goes and holds nothing per event. */
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
} export_format;

extern const export_format export_pcapng_format;
extern const export_format export_timeline_format;

/* FILETIME to 100 ns since 1970 (negative times clamp to 0). */
uint64_t export_unix_100ns(int64_t filetime);

#endif
