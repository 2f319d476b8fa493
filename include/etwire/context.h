/* etwire extension: process context. A tracker fed every event of a trace in time order learns,
 * from the trace's own process, thread and image events (kernel Process/Thread/Image classes:
 * start, stop, DCStart/DCEnd rundown, defunct; and the manifest provider
 * Microsoft-Windows-Kernel-Process), which image each process runs and which process each
 * thread belongs to, so any event can be given its process name. A stream learns as it goes.
 * Memory stays bounded: ended processes and threads are forgotten once enough others ended
 * after them. A tracker is used by one thread at a time. */
#ifndef ETWIRE_CONTEXT_H
#define ETWIRE_CONTEXT_H

#include <etwire/evntrace.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ETWIRE_PROCESS_TRACKER ETWIRE_PROCESS_TRACKER;

/* NULL when out of memory. */
ETWIRE_API ETWIRE_PROCESS_TRACKER *etwire_process_tracker_create(void);
ETWIRE_API void etwire_process_tracker_destroy(ETWIRE_PROCESS_TRACKER *Tracker);
/* Learns from one event (every event may be passed; those that say nothing about processes
 * cost a GUID compare). Returns 1 if the event changed what the tracker knows, else 0. */
ETWIRE_API int etwire_process_tracker_add(ETWIRE_PROCESS_TRACKER *Tracker, PCEVENT_RECORD Event);
/* The process id an event belongs to: its header's ProcessId, or, where that is unknown
 * (kernel events carry 0xFFFFFFFF), the process a kernel Process/Thread/Image event is about,
 * or else the process of its thread. 0xFFFFFFFF if none of these is known. */
ETWIRE_API ULONG etwire_process_tracker_pid(const ETWIRE_PROCESS_TRACKER *Tracker,
                                            PCEVENT_RECORD Event);
/* The image name ("svchost.exe") of the event's process, or "" when not known. The string
 * stays valid until the next etwire_process_tracker_add. */
ETWIRE_API const char *etwire_process_tracker_name(const ETWIRE_PROCESS_TRACKER *Tracker,
                                                   PCEVENT_RECORD Event);
/* The same for a process id (0xFFFFFFFF or unknown: ""). */
ETWIRE_API const char *etwire_process_tracker_name_of(const ETWIRE_PROCESS_TRACKER *Tracker,
                                                      ULONG ProcessId);
/* Processes and threads currently remembered (for tests and statistics). */
ETWIRE_API void etwire_process_tracker_counts(const ETWIRE_PROCESS_TRACKER *Tracker,
                                              ULONG *Processes, ULONG *Threads);

#ifdef __cplusplus
}
#endif
#endif
