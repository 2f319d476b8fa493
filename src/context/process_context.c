/* The process tracker's tables and lookups (include/etwire/context.h); what it reads from
 * each kind of event is in process_events.c. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "context/process_tracker.h"

ETWIRE_PROCESS_TRACKER *etwire_process_tracker_create(void)
{
    static _Atomic uint64_t serials;
    ETWIRE_PROCESS_TRACKER *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->serial = atomic_fetch_add(&serials, 1) + 1;
    if (etw_id_table_init(&t->processes, sizeof(etw_process_info), ETW_MAX_PROCESSES,
                          ETW_KEEP_ENDED_PROCESSES) != 0 ||
        etw_id_table_init(&t->threads, sizeof(uint32_t), ETW_MAX_THREADS, ETW_KEEP_ENDED_THREADS) != 0) {
        etwire_process_tracker_destroy(t);
        return NULL;
    }
    return t;
}

void etwire_process_tracker_destroy(ETWIRE_PROCESS_TRACKER *t)
{
    if (!t)
        return;
    etw_id_table_free(&t->processes);
    etw_id_table_free(&t->threads);
    free(t);
}

int etw_tracker_set_name(ETWIRE_PROCESS_TRACKER *t, uint32_t pid, const char *name, int from_process)
{
    if (pid == ETW_NO_ID || !name[0])
        return 0;
    etw_process_info *p = etw_id_table_find(&t->processes, pid);
    if (p && !from_process && p->from_process_event)
        return 0; /* an image load never overrides the process event's own name */
    if (p && !strcmp(p->name, name) && p->from_process_event >= from_process) {
        etw_id_table_put(&t->processes, pid); /* alive again if it had ended */
        return 0;
    }
    p = etw_id_table_put(&t->processes, pid);
    if (!p)
        return 0;
    memcpy(p->name, name, ETW_IMAGE_NAME_BYTES);
    p->from_process_event = from_process;
    t->names_changed++;
    return 1;
}

int etw_tracker_set_thread(ETWIRE_PROCESS_TRACKER *t, uint32_t tid, uint32_t pid)
{
    if (tid == ETW_NO_ID || pid == ETW_NO_ID)
        return 0;
    uint32_t *known = etw_id_table_find(&t->threads, tid);
    if (known && *known == pid) {
        etw_id_table_put(&t->threads, tid);
        return 0;
    }
    known = etw_id_table_put(&t->threads, tid);
    if (!known)
        return 0;
    *known = pid;
    return 1;
}

int etwire_process_tracker_add(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er)
{
    if (!t || !er)
        return 0;
    /* Only the kernel Process, Thread and Image classes and Kernel-Process teach names (their
     * GUIDs' first words differ from each other): every other event skips the call. */
    uint32_t first_word = er->EventHeader.ProviderId.Data1;
    if (first_word == etw_kernel_process_class.Data1 || first_word == etw_kernel_thread_class.Data1 ||
        first_word == etw_kernel_image_class.Data1 || first_word == etw_kernel_process_provider.Data1) {
        int handled;
        int changed = etw_tracker_learn(t, er, &handled);
        if (handled)
            return changed;
    }
    /* Any other event with both ids says which process its thread belongs to: streams that
     * started after the thread's start still learn it. */
    const EVENT_HEADER *h = &er->EventHeader;
    if (h->ProcessId != ETW_NO_ID && h->ThreadId != ETW_NO_ID && h->ProcessId != 0 && h->ThreadId != 0 &&
        !etw_id_table_find(&t->threads, h->ThreadId))
        return etw_tracker_set_thread(t, h->ThreadId, h->ProcessId);
    return 0;
}

/* Kernel process, thread and image events logged without a process id in their header are
 * about the process their payload names (as TraceEvent attributes them). */
static uint32_t payload_pid(PCEVENT_RECORD er)
{
    const EVENT_HEADER *h = &er->EventHeader;
    const GUID *g = &h->ProviderId;
    size_t ptr = (h->Flags & EVENT_HEADER_FLAG_32_BIT_HEADER) ? 4 : 8, off;
    unsigned version = h->EventDescriptor.Version;
    if (g->Data1 == etw_kernel_thread_class.Data1 && !memcmp(g, &etw_kernel_thread_class, sizeof *g) && version >= 1 &&
        h->EventDescriptor.Opcode <= 4)
        off = 0; /* Start/End/DCStart/DCEnd: ProcessId, TThreadId */
    else if (g->Data1 == etw_kernel_process_class.Data1 && !memcmp(g, &etw_kernel_process_class, sizeof *g) && version >= 1)
        off = ptr; /* UniqueProcessKey, ProcessId */
    else if (g->Data1 == etw_kernel_image_class.Data1 && !memcmp(g, &etw_kernel_image_class, sizeof *g) && version >= 2)
        off = 2 * ptr; /* ImageBase, ImageSize, ProcessId */
    else
        return ETW_NO_ID;
    if (!er->UserData || er->UserDataLength < off + 4)
        return ETW_NO_ID;
    return etw_rd32((const uint8_t *)er->UserData + off);
}

ULONG etwire_process_tracker_pid(const ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er)
{
    if (!t || !er)
        return ETW_NO_ID;
    if (er->EventHeader.ProcessId != ETW_NO_ID)
        return er->EventHeader.ProcessId;
    uint32_t from_payload = payload_pid(er);
    if (from_payload != ETW_NO_ID)
        return from_payload;
    const uint32_t *pid = etw_id_table_find(&t->threads, er->EventHeader.ThreadId);
    return pid ? *pid : ETW_NO_ID;
}

const char *etwire_process_tracker_name_of(const ETWIRE_PROCESS_TRACKER *t, ULONG pid)
{
    if (!t || pid == ETW_NO_ID)
        return "";
    const etw_process_info *p = etw_id_table_find(&t->processes, pid);
    return p ? p->name : "";
}

const char *etwire_process_tracker_name(const ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er)
{
    return etwire_process_tracker_name_of(t, etwire_process_tracker_pid(t, er));
}

void etwire_process_tracker_counts(const ETWIRE_PROCESS_TRACKER *t, ULONG *processes, ULONG *threads)
{
    if (processes)
        *processes = t ? (ULONG)t->processes.count : 0;
    if (threads)
        *threads = t ? (ULONG)t->threads.count : 0;
}
