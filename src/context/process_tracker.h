/* The process tracker's state and the calls its event readers (process_events.c) make into
 * its tables (process_context.c). Public API: include/etwire/context.h. */
#ifndef ETWIRE_CONTEXT_PROCESS_TRACKER_H
#define ETWIRE_CONTEXT_PROCESS_TRACKER_H

#include <etwire/context.h>

#include "context/fixed_field.h"
#include "context/id_table.h"
#include "context/image_name.h"

/* Ended processes and threads remembered for events that still name them after their end. */
#define ETW_KEEP_ENDED_PROCESSES 1024
#define ETW_KEEP_ENDED_THREADS 8192
#define ETW_MAX_PROCESSES (1u << 18)
#define ETW_MAX_THREADS (1u << 20)
#define ETW_NO_ID 0xFFFFFFFFu

typedef struct etw_process_info {
    char name[ETW_IMAGE_NAME_BYTES];
    int from_process_event; /* an image load's guess yields to the process event's name */
} etw_process_info;

struct ETWIRE_PROCESS_TRACKER {
    etw_id_table processes; /* pid -> etw_process_info */
    etw_id_table threads;   /* tid -> pid */
    etw_fixed_field_memo image_pid;  /* where Image events carry ProcessId */
    etw_fixed_field_memo image_file; /* ... and FileName */
    uint64_t serial;        /* this tracker among all made by the process (never 0) */
    uint64_t names_changed; /* counts names written */
};

/* Changes whenever a pid's name may have: a name written, a process added or forgotten. With
 * the serial, the key of a memo of names (the formatters escape each name once, not per event). */
static inline uint64_t etw_tracker_names_version(const ETWIRE_PROCESS_TRACKER *t)
{
    return t->processes.changes + t->names_changed;
}

extern const GUID etw_kernel_process_class, etw_kernel_thread_class, etw_kernel_image_class,
    etw_kernel_process_provider;

/* Names pid (from_process: the name comes from a process event, not an image load); returns 1
 * if that changed anything. Also marks the pid alive again. */
int etw_tracker_set_name(ETWIRE_PROCESS_TRACKER *t, uint32_t pid, const char *name, int from_process);
/* Records tid's process; returns 1 if that changed anything. */
int etw_tracker_set_thread(ETWIRE_PROCESS_TRACKER *t, uint32_t tid, uint32_t pid);
/* Learns from one event of the kernel Process/Thread/Image classes or the Kernel-Process
 * provider (*handled = 1; returns 1 if that changed anything); other events: *handled = 0. */
int etw_tracker_learn(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er, int *handled);

#endif
