/* The files a collector session writes: the raw .etl (appended buffer by buffer, and on resume
 * cut back to its last complete buffer) and the JSON lines of decoded events. */
#ifndef ETWIRE_RELAY_SINK_FILES_H
#define ETWIRE_RELAY_SINK_FILES_H

#include <stdint.h>
#include <stdio.h>

#include <etwire/context.h>
#include <etwire/etwire.h>

#include "base/strbuf.h"

typedef struct relay_sink_files {
    int etl_fd;
    uint64_t etl_bytes;
    FILE *json;
    int json_stdout;
    char label[300]; /* source/session-instance, for JSON lines and messages */
    char source[129], session[129];
    etw_strbuf line; /* used on the ProcessTrace thread only */
    ETWIRE_PROCESS_TRACKER *processes; /* the session's process names, for the JSON lines */
} relay_sink_files;

/* Opens DIR/<source>/<session>-<instance>.etl (and .jsonl), resuming an existing .etl:
 * *held receives its number of complete buffers. */
int relay_sink_files_open(relay_sink_files *f, const char *out_dir, const char *json_dir,
                          const char *source, const char *session, uint64_t instance,
                          uint64_t *held, char *err, size_t errlen);
/* Reads the saved buffer at *offset into a malloc'd copy and moves *offset past it. */
int relay_sink_files_read(relay_sink_files *f, uint64_t *offset, uint8_t **buf, uint32_t *size);
int relay_sink_files_write(relay_sink_files *f, const uint8_t *buf, uint32_t size, char *err, size_t errlen);
void relay_sink_files_event(relay_sink_files *f, const EVENT_RECORD *r);
void relay_sink_files_stats(relay_sink_files *f, FILE *out, const ETWIRE_SESSION_STATS *st,
                            uint64_t events, uint64_t buffers);
void relay_sink_files_close(relay_sink_files *f);

#endif
