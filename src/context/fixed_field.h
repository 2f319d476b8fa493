/* Offsets of a classic event's leading fixed-size properties, learned once per event layout
 * (provider class, opcode, version, pointer size) from its schema, so that the process tracker
 * reads ProcessId from an image event without two schema walks (TdhGetPropertySize +
 * TdhGetProperty) per event. */
#ifndef ETWIRE_CONTEXT_FIXED_FIELD_H
#define ETWIRE_CONTEXT_FIXED_FIELD_H

#include <stdint.h>

#include <etwire/tdh.h>

#define ETW_FIXED_FIELD_MEMO 8

typedef struct etw_fixed_field_memo {
    struct {
        uint32_t key;   /* opcode | version << 8 | pointer size << 16; 0: empty */
        int32_t offset; /* of the property; -1: not at a fixed offset (read it through TDH) */
    } slot[ETW_FIXED_FIELD_MEMO];
    unsigned next; /* round-robin replacement */
} etw_fixed_field_memo;

typedef enum etw_field_kind {
    ETW_FIELD_U32,  /* a 4-byte integer (or 32-bit pointer) */
    ETW_FIELD_WSTR, /* a NUL-terminated UTF-16 string without a length */
} etw_field_kind;

/* The offset of the top-level property `name` of that kind in er's user data when every
 * property before it has a fixed size; -1 otherwise (also for records without a pointer-size
 * flag). One memo serves one property name of one provider. A layout, once learned, is kept
 * for the tracker's life: the kernel classes' layouts are fixed by (opcode, version, pointer
 * size), whichever source (built-in pack, a trace's own EventInfo) describes them. */
int32_t etw_fixed_field_offset(etw_fixed_field_memo *m, PCEVENT_RECORD er, const uint16_t *name,
                               etw_field_kind kind);

#endif
