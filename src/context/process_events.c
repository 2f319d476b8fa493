/* What the process tracker reads from events: classic kernel Process and Image events through
 * their schemas (TdhGetProperty: the layout changes with every version), Thread events and the
 * manifest provider Microsoft-Windows-Kernel-Process by their fixed leading fields. */
#include <string.h>

#include <etwire/tdh.h>

#include "base/bytes.h"
#include "base/text.h"
#include "context/process_tracker.h"

const GUID etw_kernel_process_class = {0x3d6fa8d0, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};
const GUID etw_kernel_thread_class = {0x3d6fa8d1, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};
const GUID etw_kernel_image_class = {0x2cb15d1d, 0x5fc1, 0x11d2, {0xab, 0xe1, 0x00, 0xa0, 0xc9, 0x11, 0xf5, 0x18}};
const GUID etw_kernel_process_provider = {0x22fb2cd6, 0x0e7b, 0x422b, {0xa0, 0xc7, 0x2f, 0xad, 0x1f, 0xd0, 0xe7, 0x16}};

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

static int classic_process(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er, unsigned opcode)
{
    uint32_t pid;
    if (!get_u32_property(er, u"ProcessId", &pid))
        return 0;
    uint8_t raw[512];
    char name[ETW_IMAGE_NAME_BYTES] = "";
    ULONG n = get_property(er, u"ImageFileName", raw, sizeof raw);
    etw_image_name_ansi(raw, n, name);
    int changed = etw_tracker_set_name(t, pid, name, 1);
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
    int changed = etw_tracker_set_thread(t, tid, pid);
    if (opcode == 2)
        etw_id_table_end(&t->threads, tid);
    return changed;
}

static int image_load(ETWIRE_PROCESS_TRACKER *t, uint32_t pid, const uint8_t *name16, size_t n)
{
    char name[ETW_IMAGE_NAME_BYTES];
    etw_image_name_utf16(name16, n, name);
    if (!etw_image_name_is_exe(name))
        return 0;
    etw_process_info *p = etw_id_table_find(&t->processes, pid);
    if (p && p->name[0])
        return 0; /* the first .exe mapped is the process image; later ones are not */
    return etw_tracker_set_name(t, pid, name, 0);
}

static int classic_image(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er)
{
    uint32_t pid;
    int32_t at = etw_fixed_field_offset(&t->image_pid, er, u"ProcessId", ETW_FIELD_U32);
    if (at >= 0 && (uint32_t)at + 4 <= er->UserDataLength && er->UserData)
        pid = etw_rd32((const uint8_t *)er->UserData + at);
    else if (!get_u32_property(er, u"ProcessId", &pid))
        return 0;
    if (pid == 0)
        return 0;
    etw_process_info *p = etw_id_table_find(&t->processes, pid);
    if (p && p->name[0])
        return 0;
    uint8_t raw[1024];
    at = etw_fixed_field_offset(&t->image_file, er, u"FileName", ETW_FIELD_WSTR);
    if (at >= 0 && (uint32_t)at <= er->UserDataLength) {
        /* TdhGetProperty's size: up to and with the NUL, or the rest of the data; too long
         * for raw reads as nothing. */
        const uint8_t *s = (const uint8_t *)er->UserData + at;
        size_t rest = er->UserDataLength - (uint32_t)at;
        int term = 0;
        size_t n = rest ? etw_utf16_span(s, rest, &term) : 0;
        n = term ? n + 2 : rest;
        return image_load(t, pid, s, n > sizeof raw ? 0 : n);
    }
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
        char name[ETW_IMAGE_NAME_BYTES];
        etw_image_name_utf16(p + off, n - off, name);
        return etw_tracker_set_name(t, etw_rd32(p), name, 1);
    }
    case 2:
        etw_id_table_end(&t->processes, etw_rd32(p));
        return 1;
    case 3:
        return etw_tracker_set_thread(t, etw_rd32(p + 4), etw_rd32(p));
    case 4: {
        int changed = etw_tracker_set_thread(t, etw_rd32(p + 4), etw_rd32(p));
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

int etw_tracker_learn(ETWIRE_PROCESS_TRACKER *t, PCEVENT_RECORD er, int *handled)
{
    const EVENT_HEADER *h = &er->EventHeader;
    const GUID *g = &h->ProviderId;
    unsigned opcode = h->EventDescriptor.Opcode;
    /* The first four bytes tell the kernel GUIDs apart cheaply before the full compare. */
    *handled = 1;
    if (g->Data1 == etw_kernel_process_class.Data1 && !memcmp(g, &etw_kernel_process_class, sizeof *g))
        return opcode >= 1 && opcode <= 4 ? classic_process(t, er, opcode)
               : opcode == 39 || opcode == 11 ? classic_process(t, er, 39)
                                               : 0;
    if (g->Data1 == etw_kernel_thread_class.Data1 && !memcmp(g, &etw_kernel_thread_class, sizeof *g))
        return opcode >= 1 && opcode <= 4 ? classic_thread(t, er, opcode) : 0;
    if (g->Data1 == etw_kernel_image_class.Data1 && !memcmp(g, &etw_kernel_image_class, sizeof *g))
        return opcode == 10 || opcode == 3 ? classic_image(t, er) : 0;
    if (g->Data1 == etw_kernel_process_provider.Data1 && !memcmp(g, &etw_kernel_process_provider, sizeof *g))
        return manifest_process(t, er);
    *handled = 0;
    return 0;
}
