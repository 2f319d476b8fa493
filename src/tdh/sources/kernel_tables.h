/* Built-in schemas of the NT kernel logger's classic event classes and of the merge-time
 * KernelTraceControl classes (format notes §4.2, §4.3, §5.3), as compact rows compiled into
 * TRACE_EVENT_INFO on first use (kernel_schema.c). Offsets are never written down: fields are
 * packed in order and pointer-sized fields take the event's pointer size, which is exactly how
 * the kernel lays them out for 32- and 64-bit producers. */
#ifndef ETWIRE_TDH_KERNEL_TABLES_H
#define ETWIRE_TDH_KERNEL_TABLES_H

#include <etwire/wintypes.h>

typedef struct etw_kclass {
    GUID guid;
    const char *provider; /* TraceEvent's provider name for the class */
    const char *task;
} etw_kclass;

/* One layout: the versions it serves, the event types (opcodes) that use it with their names
 * ("10=Load 2=Unload"; "0=" means no opcode name), and the fields as "Name:type" words.
 * Types: p pointer, z size_t, u8 i8 u16 i16 u32 i32 u64 i64, x32 x64 hex, a ANSI string,
 * w UTF-16 string (wN: fixed N characters), sid TOKEN_USER+SID, g GUID, port, ip4, ip6, ft FILETIME, bN N raw bytes.
 * "Name*N:type" expands to Name1..NameN. */
typedef struct etw_klayout {
    uint8_t cls; /* index into etw_kclasses */
    uint8_t version;
    const char *opcodes;
    const char *fields;
} etw_klayout;

extern const etw_kclass etw_kclasses[];
extern const size_t etw_kclass_count;
extern const etw_klayout etw_klayouts[];
extern const size_t etw_klayout_count;

#endif
