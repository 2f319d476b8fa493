/* etwire stats: events counted by process (the image name the process tracker learned). */
#ifndef ETWIRE_CLI_STATS_PROCESSES_H
#define ETWIRE_CLI_STATS_PROCESSES_H

#include <stddef.h>

#include <etwire/context.h>

#include "context/id_table.h"

typedef struct stats_processes {
    ETWIRE_PROCESS_TRACKER *tracker; /* fed every event, counted or not */
    etw_id_table counts;             /* pid -> uint64_t events */
    unsigned long long unknown;      /* events whose process is not known */
} stats_processes;

int stats_processes_init(stats_processes *p);
void stats_processes_free(stats_processes *p);
/* Counts an event (after the tracker was fed it). */
void stats_processes_count(stats_processes *p, const EVENT_RECORD *er);
/* "events by process:" with the top rows (0 = all). */
void stats_processes_print(const stats_processes *p, size_t top);

#endif
