/* The property walk (format notes §1.7): visits every value of an event's payload in schema
 * order, resolving counts and lengths that refer to earlier properties, repeating arrays and
 * structs. Works on any TRACE_EVENT_INFO that passed etw_tei_check, so a hostile schema cannot
 * make it recurse without bound or index outside the property array. */
#ifndef ETWIRE_TDH_PROP_WALK_H
#define ETWIRE_TDH_PROP_WALK_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#include "tdh/tdh_status.h"

#define ETW_WALK_MAX_DEPTH 32

typedef enum etw_walk_ev {
    ETW_WALK_VALUE,        /* one scalar value, or one element of an array */
    ETW_WALK_ARRAY_BEGIN,  /* count elements follow */
    ETW_WALK_ARRAY_END,    /* size = bytes the whole array took */
    ETW_WALK_STRUCT_BEGIN, /* one struct (or one struct element of an array) */
    ETW_WALK_STRUCT_END,
} etw_walk_ev;

typedef struct etw_walk_item {
    etw_walk_ev ev;
    uint32_t index;  /* property index in the TRACE_EVENT_INFO */
    const EVENT_PROPERTY_INFO *epi;
    uint32_t elem;   /* element number inside an array, 0 otherwise */
    uint32_t count;  /* ARRAY_BEGIN: element count */
    int in_array;
    unsigned depth;  /* struct nesting */
    size_t off;      /* payload offset of the value / array / struct */
    size_t size;     /* VALUE and *_END: bytes taken */
    uint16_t in_type, out_type;
} etw_walk_item;

/* Return nonzero to stop the walk (etw_walk then returns ETW_TDH_E_STOPPED). */
typedef int (*etw_walk_fn)(void *ctx, const etw_walk_item *it);

/* Walks payload p[0..n) with pointer size ptr (4 or 8). Returns ETW_TDH_OK when every
 * property was decoded, ETW_TDH_E_PAYLOAD when the payload ran out or a value could not be
 * sized (items already visited stay valid: a partial decode), ETW_TDH_E_STOPPED if fn stopped
 * it, ETW_TDH_E_PARAM for an unchecked schema. *consumed (may be NULL) = payload bytes covered
 * by the visited values. */
etw_tdh_status etw_walk(const TRACE_EVENT_INFO *tei, const uint8_t *p, size_t n, unsigned ptr,
                  etw_walk_fn fn, void *ctx, size_t *consumed);

/* Validates a TRACE_EVENT_INFO blob from an untrusted source (or a builder): fixed part and
 * property array inside n, every string offset even, inside n and NUL-terminated, struct
 * member ranges inside the array and after their struct, count/length references inside the
 * array. Returns 1 if the blob is safe to walk and format. */
int etw_tei_check(const uint8_t *p, size_t n);

#endif
