/* Events by process for etwire stats (stats_processes.h). A pid that was reused counts under
 * the name it had last. */
#include "stats_processes.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Bounded like the tracker: pids beyond this count as unknown. */
#define MAX_COUNTED_PIDS (1u << 20)

typedef struct pid_count {
    uint32_t pid;
    uint64_t events;
} pid_count;

int stats_processes_init(stats_processes *p)
{
    p->unknown = 0;
    p->tracker = etwire_process_tracker_create();
    if (!p->tracker)
        return -1;
    if (etw_id_table_init(&p->counts, sizeof(uint64_t), MAX_COUNTED_PIDS, 0) != 0) {
        etwire_process_tracker_destroy(p->tracker);
        p->tracker = NULL;
        return -1;
    }
    return 0;
}

void stats_processes_free(stats_processes *p)
{
    etwire_process_tracker_destroy(p->tracker);
    p->tracker = NULL;
    etw_id_table_free(&p->counts);
}

void stats_processes_count(stats_processes *p, const EVENT_RECORD *er)
{
    ULONG pid = etwire_process_tracker_pid(p->tracker, er);
    uint64_t *n = pid == 0xFFFFFFFFu ? NULL : etw_id_table_put(&p->counts, pid);
    if (n)
        (*n)++;
    else
        p->unknown++;
}

static int by_events(const void *a, const void *b)
{
    const pid_count *x = a, *y = b;
    if (x->events != y->events)
        return x->events < y->events ? 1 : -1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

void stats_processes_print(const stats_processes *p, size_t top)
{
    pid_count *rows = calloc(p->counts.count ? p->counts.count : 1, sizeof *rows);
    if (!rows)
        return;
    size_t n = 0;
    for (size_t i = 0; i < p->counts.cap && n < p->counts.count; i++) {
        uint32_t pid;
        const uint64_t *events = etw_id_table_slot(&p->counts, i, &pid);
        if (events)
            rows[n++] = (pid_count){pid, *events};
    }
    qsort(rows, n, sizeof *rows, by_events);
    printf("events by process (image, pid):\n");
    for (size_t i = 0; i < n; i++) {
        if (top && i == top) {
            printf("  ... %zu more (--top 0 lists all)\n", n - top);
            break;
        }
        const char *name = etwire_process_tracker_name_of(p->tracker, rows[i].pid);
        printf("  %10llu  %s  pid=%u\n", (unsigned long long)rows[i].events, name[0] ? name : "?", rows[i].pid);
    }
    if (p->unknown)
        printf("  %10llu  (no process id)\n", p->unknown);
    free(rows);
}
