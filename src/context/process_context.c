/* The process tracker (include/etwire/context.h): which events say what about processes, and
 * the lookups. Classic kernel Process and Image events are read through their schemas
 * (TdhGetProperty: the layout changes with every version); Thread events and the manifest
 * provider Microsoft-Windows-Kernel-Process have fixed leading fields that are read directly. */
#include <etwire/context.h>
#include <etwire/tdh.h>

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "context/id_table.h"

#define NAME_MAX_BYTES 64
/* Ended processes and threads remembered for events that still name them after their end. */
#define KEEP_ENDED_PROCESSES 1024
#define KEEP_ENDED_THREADS 8192
#define MAX_PROCESSES (1u << 18)
#define MAX_THREADS (1u << 20)
#define NO_ID 0xFFFFFFFFu

typedef struct process_info {
    char name[NAME_MAX_BYTES];
    int from_process_event; /* an image load's guess yields to the process event's name */
} process_info;

struct ETWIRE_PROCESS_TRACKER {
    etw_id_table processes; /* pid -> process_info */
    etw_id_table threads;   /* tid -> pid */
};

static const GUID process_guid = {0x3d6fa8d0, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};
static const GUID thread_guid = {0x3d6fa8d1, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};
static const GUID image_guid = {0x2cb15d1d, 0x5fc1, 0x11d2, {0xab, 0xe1, 0x00, 0xa0, 0xc9, 0x11, 0xf5, 0x18}};
static const GUID kernel_process_guid = {0x22fb2cd6, 0x0e7b, 0x422b, {0xa0, 0xc7, 0x2f, 0xad, 0x1f, 0xd0, 0xe7, 0x16}};

ETWIRE_PROCESS_TRACKER *etwire_process_tracker_create(void)
{
    ETWIRE_PROCESS_TRACKER *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (etw_id_table_init(&t->processes, sizeof(process_info), MAX_PROCESSES, KEEP_ENDED_PROCESSES) != 0 ||
        etw_id_table_init(&t->threads, sizeof(uint32_t), MAX_THREADS, KEEP_ENDED_THREADS) != 0) {
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

/* The last path component of a UTF-16 string (n bytes, may lack its NUL) as UTF-8. */
static void utf16_basename(const uint8_t *p, size_t n, char out[NAME_MAX_BYTES])
{
    size_t units = n / 2, start = 0, end = units;
    for (size_t i = 0; i < units; i++) {
        uint16_t c = etw_rd16(p + 2 * i);
        if (c == 0) {
            end = i;
            break;
        }
        if (c == '\\' || c == '/')
            start = i + 1;
    }
    size_t o = 0;
    for (size_t i = start; i < end; i++) {
        uint32_t c = etw_rd16(p + 2 * i);
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < end) {
            uint32_t lo = etw_rd16(p + 2 * (i + 1));
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            }
        }
        if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD;
        uint8_t enc[4];
        size_t len;
        if (c < 0x80) {
            enc[0] = (uint8_t)c;
            len = 1;
        } else if (c < 0x800) {
            enc[0] = (uint8_t)(0xC0 | (c >> 6));
            enc[1] = (uint8_t)(0x80 | (c & 0x3F));
            len = 2;
        } else if (c < 0x10000) {
            enc[0] = (uint8_t)(0xE0 | (c >> 12));
            enc[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            enc[2] = (uint8_t)(0x80 | (c & 0x3F));
            len = 3;
        } else {
            enc[0] = (uint8_t)(0xF0 | (c >> 18));
            enc[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
            enc[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            enc[3] = (uint8_t)(0x80 | (c & 0x3F));
            len = 4;
        }
        if (o + len >= NAME_MAX_BYTES)
            break;
        memcpy(out + o, enc, len);
        o += len;
    }
    out[o] = '\0';
}

/* An 8-bit string (classic ImageFileName), NUL-terminated or not, kept as it is where it is
 * ASCII (the kernel writes the image's base name in the system code page). */
static void ansi_name(const uint8_t *p, size_t n, char out[NAME_MAX_BYTES])
{
    size_t o = 0;
    for (size_t i = 0; i < n && p[i] && o + 1 < NAME_MAX_BYTES; i++)
        out[o++] = p[i] < 0x80 ? (char)p[i] : '?';
    out[o] = '\0';
}

/* Reads a property by name through the event's schema; returns its size or 0. */
static ULONG get_property(PCEVENT_RECORD er, const uint16_t *name, uint8_t *buf, ULONG cap)
{
    PROPERTY_DATA_DESCRIPTOR d;
    memset(&d, 0, sizeof d);
    d.PropertyName = (ULONGLONG)(uintptr_t)name;
    d.ArrayIndex = 0xFFFFFFFFu; /* not an array element */
    ULONG size = 0;
    if (TdhGetPropertySize((PEVENT_RECORD)er, 0, NULL, 1, &d, &size) != ERROR_SUCCESS || size == 0 ||
        size > cap)
        return 0;
    if (TdhGetProperty((PEVENT_RECORD)er, 0, NULL, 1, &d, cap, buf) != ERROR_SUCCESS)
        return 0;
    return size;
}

static int get_u32_property(PCEVENT_RECORD er, const uint16_t *name, uint32_t *v)
{
    uint8_t b[8];
    ULONG n = get_property(er, name, b, sizeof b);
    if (n != 4)
        return 0;
    *v = etw_rd32(b);
    return 1;
}

static int set_name(ETWIRE_PROCESS_TRACKER *t, uint32_t pid, const char *name, int from_process)
{
    if (pid == NO_ID || !name[0])
        return 0;
    process_info *p = etw_id_table_find(&t->processes, pid);
    if (p && !from_process && p->from_process_event)
        return 0; /* an image load never overrides the process event's own name */
    if (p && !strcmp(p->name, name) && p->from_process_event >= from_process) {
        etw_id_table_put(&t->processes, pid); /* alive again if it had ended */
        return 0;
    }
    p = etw_id_table_put(&t->processes, pid);
    if (!p)
        return 0;
    memcpy(p->name, name, NAME_MAX_BYTES);
    p->from_process_event = from_process;
    return 1;
}

static int set_thread(ETWIRE_PROCESS_TRACKER *t, uint32_t tid, uint32_t pid)
{
    if (tid == NO_ID || pid == NO_ID)
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

static int has_suffix_exe(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && (s[n - 4] == '.') && (s[n - 3] | 0x20) == 'e' && (s[n - 2] | 0x20) == 'x' &&
           (s[n - 1] | 0x20) == 'e';
}

static int classic_process(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er, unsigned opcode)
{
    uint32_t pid;
    if (!get_u32_property(er, u"ProcessId", &pid))
        return 0;
    uint8_t raw[512];
    char name[NAME_MAX_BYTES] = "";
    ULONG n = get_property(er, u"ImageFileName", raw, sizeof raw);
    ansi_name(raw, n, name);
    int changed = set_name(t, pid, name, 1);
    if (opcode == 2 || opcode == 39) /* End, Defunct (DCEnd is the end-of-trace rundown) */
        etw_id_table_end(&t->processes, pid);
    return changed;
}

static int classic_thread(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er, unsigned opcode)
{
    /* Version 1 and later: ProcessId, TThreadId first. */
    if (er->EventHeader.EventDescriptor.Version < 1 || er->UserDataLength < 8)
        return 0;
    const uint8_t *p = er->UserData;
    uint32_t pid = etw_rd32(p), tid = etw_rd32(p + 4);
    int changed = set_thread(t, tid, pid);
    if (opcode == 2)
        etw_id_table_end(&t->threads, tid);
    return changed;
}

static int image_load(ETWIRE_PROCESS_TRACKER *t, uint32_t pid, const uint8_t *name16, size_t n)
{
    char name[NAME_MAX_BYTES];
    utf16_basename(name16, n, name);
    if (!has_suffix_exe(name))
        return 0;
    process_info *p = etw_id_table_find(&t->processes, pid);
    if (p && p->name[0])
        return 0; /* the first .exe mapped is the process image; later ones are not */
    return set_name(t, pid, name, 0);
}

static int classic_image(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er)
{
    uint32_t pid;
    if (!get_u32_property(er, u"ProcessId", &pid) || pid == 0)
        return 0;
    process_info *p = etw_id_table_find(&t->processes, pid);
    if (p && p->name[0])
        return 0;
    uint8_t raw[1024];
    ULONG n = get_property(er, u"FileName", raw, sizeof raw);
    return image_load(t, pid, raw, n);
}

/* Microsoft-Windows-Kernel-Process: 1 ProcessStart, 2 ProcessStop, 3 ThreadStart, 4 ThreadStop,
 * 5 ImageLoad. ProcessStart: ProcessID, CreateTime (8), ParentProcessID, SessionID, then Flags
 * from version 1, then ImageName (UTF-16). ImageLoad: ImageBase, ImageSize (pointers),
 * ProcessID, ImageCheckSum, TimeDateStamp, DefaultBase (pointer), ImageName. */
static int manifest_process(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er)
{
    const uint8_t *p = er->UserData;
    size_t n = er->UserDataLength;
    unsigned id = er->EventHeader.EventDescriptor.Id, version = er->EventHeader.EventDescriptor.Version;
    size_t ptr = (er->EventHeader.Flags & EVENT_HEADER_FLAG_32_BIT_HEADER) ? 4 : 8;
    if (!p || n < 8)
        return 0;
    switch (id) {
    case 1: {
        size_t off = version >= 1 ? 24 : 20;
        if (n <= off)
            return 0;
        char name[NAME_MAX_BYTES];
        utf16_basename(p + off, n - off, name);
        return set_name(t, etw_rd32(p), name, 1);
    }
    case 2:
        etw_id_table_end(&t->processes, etw_rd32(p));
        return 1;
    case 3:
        return set_thread(t, etw_rd32(p + 4), etw_rd32(p));
    case 4: {
        int changed = set_thread(t, etw_rd32(p + 4), etw_rd32(p));
        etw_id_table_end(&t->threads, etw_rd32(p + 4));
        return changed;
    }
    case 5: {
        size_t pid_off = 2 * ptr, name_off = 2 * ptr + 12 + ptr;
        if (n <= name_off)
            return 0;
        return image_load(t, etw_rd32(p + pid_off), p + name_off, n - name_off);
    }
    default:
        return 0;
    }
}

int etwire_process_tracker_add(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er)
{
    if (!t || !er)
        return 0;
    const EVENT_HEADER *h = &er->EventHeader;
    const GUID *g = &h->ProviderId;
    unsigned opcode = h->EventDescriptor.Opcode;
    /* The first four bytes tell the kernel GUIDs apart cheaply before the full compare. */
    if (g->Data1 == process_guid.Data1 && !memcmp(g, &process_guid, sizeof *g))
        return opcode >= 1 && opcode <= 4 ? classic_process(t, er, opcode)
               : opcode == 39 || opcode == 11 ? classic_process(t, er, 39)
                                               : 0;
    if (g->Data1 == thread_guid.Data1 && !memcmp(g, &thread_guid, sizeof *g))
        return opcode >= 1 && opcode <= 4 ? classic_thread(t, er, opcode) : 0;
    if (g->Data1 == image_guid.Data1 && !memcmp(g, &image_guid, sizeof *g))
        return opcode == 10 || opcode == 3 ? classic_image(t, er) : 0;
    if (g->Data1 == kernel_process_guid.Data1 && !memcmp(g, &kernel_process_guid, sizeof *g))
        return manifest_process(t, er);
    /* Any other event with both ids says which process its thread belongs to: streams that
     * started after the thread's start still learn it. */
    if (h->ProcessId != NO_ID && h->ThreadId != NO_ID && h->ProcessId != 0 && h->ThreadId != 0 &&
        !etw_id_table_find(&t->threads, h->ThreadId))
        return set_thread(t, h->ThreadId, h->ProcessId);
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
    if (g->Data1 == thread_guid.Data1 && !memcmp(g, &thread_guid, sizeof *g) && version >= 1 &&
        h->EventDescriptor.Opcode <= 4)
        off = 0; /* Start/End/DCStart/DCEnd: ProcessId, TThreadId */
    else if (g->Data1 == process_guid.Data1 && !memcmp(g, &process_guid, sizeof *g) && version >= 1)
        off = ptr; /* UniqueProcessKey, ProcessId */
    else if (g->Data1 == image_guid.Data1 && !memcmp(g, &image_guid, sizeof *g) && version >= 2)
        off = 2 * ptr; /* ImageBase, ImageSize, ProcessId */
    else
        return NO_ID;
    if (!er->UserData || er->UserDataLength < off + 4)
        return NO_ID;
    return etw_rd32((const uint8_t *)er->UserData + off);
}

ULONG etwire_process_tracker_pid(const ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er)
{
    if (!t || !er)
        return NO_ID;
    if (er->EventHeader.ProcessId != NO_ID)
        return er->EventHeader.ProcessId;
    uint32_t from_payload = payload_pid(er);
    if (from_payload != NO_ID)
        return from_payload;
    const uint32_t *pid = etw_id_table_find(&t->threads, er->EventHeader.ThreadId);
    return pid ? *pid : NO_ID;
}

const char *etwire_process_tracker_name_of(const ETWIRE_PROCESS_TRACKER *t, ULONG pid)
{
    if (!t || pid == NO_ID)
        return "";
    const process_info *p = etw_id_table_find(&t->processes, pid);
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
