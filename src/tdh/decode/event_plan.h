/* The output plan of one schema: everything the CLI's formatter would otherwise work out again
 * for every event of that schema - the provider, task, opcode and event names and each
 * property's key as UTF-8 (JSON-escaped and plain), and where each property's map name is.
 * Built once, on the first event that uses the schema, and kept with the schema's store entry
 * (etw_schema_set_plan), so converting UTF-16 names costs nothing per event (issue 11). */
#ifndef ETWIRE_TDH_EVENT_PLAN_H
#define ETWIRE_TDH_EVENT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/strbuf.h"
#include "tdh/store/schema_cache.h"

typedef struct etw_plan_str {
    const char *s; /* NUL-terminated; NULL when the schema has no such (non-empty) string */
    uint32_t n;
} etw_plan_str;

typedef struct etw_plan_prop {
    /* The separator and key: ",\"Name\":" (escaped; "Field<i>" for an unnamed property) and
     * "; Name=". Without the separator: s + ETW_PLAN_SEP_JSON / ETW_PLAN_SEP_TEXT. */
    etw_plan_str key_json;
    etw_plan_str key_text;
    const uint8_t *map_name; /* UTF-16LE inside the schema blob, no NUL; NULL: no map */
    uint32_t map_name_bytes;
    /* For flat schemas (below): what the property walk would read from EVENT_PROPERTY_INFO. */
    uint16_t in_type, out_type;
    uint16_t length;       /* characters or bytes, or the index of the length property */
    uint8_t length_ref;    /* length is a property index (PropertyParamLength) */
    uint8_t has_length;    /* the schema gives a length (fixed, or length != 0) */
    uint8_t noprint;       /* TDH_OUTTYPE_NOPRINT: sized and counted, never shown */
    uint8_t countable;     /* may serve as a later property's length */
    uint8_t fast;          /* ETW_PLAN_FAST_*: an integer formatted without etw_value_format */
    uint8_t fixed_size;    /* bytes of a fast integer (0: the event's pointer size) */
    uint8_t array;         /* an array of fast integers (flat plans: none of anything else) */
    uint8_t count_ref;     /* count is a property index (PropertyParamCount) */
    uint16_t count;        /* the array's elements, or the index of the count property */
    uint8_t shown_int;     /* fast, shown, no array, no length: the flat formatter's common case */
} etw_plan_prop;

/* Readable bytes after the start of any plan string (the block is padded): keys up to 32
 * bytes are copied with two fixed 16-byte moves. */
#define ETW_PLAN_PAD 33u

#define ETW_PLAN_SEP_JSON 1u /* "," */
#define ETW_PLAN_SEP_TEXT 2u /* "; " */

/* Integers whose rendering needs no map and no out-type beyond the number's base: what
 * etw_value_format would write, written directly. */
enum { ETW_PLAN_FAST_NONE, ETW_PLAN_FAST_UNSIGNED, ETW_PLAN_FAST_SIGNED, ETW_PLAN_FAST_HEX };

typedef struct etw_event_plan {
    etw_plan_str provider, task, event_name;
    etw_plan_str opcode; /* a standard opcode's "win:" prefix already dropped */
    etw_plan_str task_opcode; /* "Task/Opcode" (both named), the event name of most events */
    int wbem;            /* DecodingSourceWbem: unnamed opcodes show as Opcode(n) */
    int names_plain;     /* provider, task, opcode and event names need no JSON escaping */
    int names_csv_plain; /* ... nor escaping in a CSV field (no control character, DEL or quote) */
    int keys_csv_plain;  /* no property's text key holds a byte a text line or CSV field escapes */
    /* Every property is a top-level scalar or an array of fast integers (no struct, no other
     * array): the fields can be formatted straight from this table (plan_format.c) instead of
     * through the general walk. */
    int flat;
    uint32_t nprops;
    etw_plan_prop props[]; /* PropertyCount entries, then the strings */
} etw_event_plan;

/* The plan of an event schema (s->info a checked TRACE_EVENT_INFO), built and attached to its
 * entry on first use; NULL when memory runs out (callers then format the slow way). */
const etw_event_plan *etw_event_plan_get(const etw_schema *s);

/* The value map of a property the plan found a map name for, or NULL: looked up for the
 * schema's provider in the decoding trace's scope, and remembered per thread until the store
 * changes (a map an event teaches later is then found). */
const EVENT_MAP_INFO *etw_plan_map(const TRACE_EVENT_INFO *tei, const etw_plan_prop *pp, size_t *map_size);

/* A fast integer (ETW_PLAN_FAST_*) of size bytes as etw_value_format writes it without a map:
 * decimal (quoted in JSON beyond 2^53) or "0x" and lower-case hex (quoted in JSON). For the
 * flat formatter, and for the scalar values the general walk meets (array elements, struct
 * members). */
static inline uint64_t etw_plan_read_le(const uint8_t *p, size_t size)
{
    switch (size) {
    case 1: return p[0];
    case 2: return etw_rd16(p);
    case 4: return etw_rd32(p);
    default: return etw_rd64(p);
    }
}

/* etw_plan_put_fast's text written at o, room for ETW_PLAN_FAST_MAX bytes assumed (no NUL);
 * returns the end. Inlined into the formatters' loops: a call per value cost a fifth of it. */
#define ETW_PLAN_FAST_MAX 24u
static inline __attribute__((always_inline)) char *etw_plan_put_fast_at(char *o, int json, uint8_t kind, uint64_t v,
                                                                        size_t size)
{
    if (kind == ETW_PLAN_FAST_HEX) {
        /* Digits written in place from the last: assembling them in a local array and copying
         * that stalled on reading back bytes just stored. */
        if (json)
            *o++ = '"';
        *o++ = '0';
        *o++ = 'x';
        o = etw_hex_put(o, v);
        if (json)
            *o++ = '"';
        return o;
    }
    int quote;
    if (kind == ETW_PLAN_FAST_SIGNED) {
        if (size < 8) {
            uint64_t m = 1ull << (size * 8 - 1);
            v = (v ^ m) - m;
        }
        int64_t sv = (int64_t)v;
        quote = json && (sv > (int64_t)(1ll << 53) || sv < -(int64_t)(1ll << 53));
        if (quote)
            *o++ = '"';
        if (sv < 0) {
            *o++ = '-';
            v = (uint64_t)0 - v;
        }
    } else {
        quote = json && v > (1ull << 53);
        if (quote)
            *o++ = '"';
    }
    o = etw_u64_put_inline(o, v);
    if (quote)
        *o++ = '"';
    return o;
}

static inline void etw_plan_put_fast(etw_strbuf *out, int json, uint8_t kind, uint64_t v, size_t size)
{
    if (etw_strbuf_reserve(out, ETW_PLAN_FAST_MAX) != 0)
        return;
    char *o = etw_plan_put_fast_at(out->data + out->len, json, kind, v, size);
    *o = '\0';
    out->len = (size_t)(o - out->data);
}

/* Formats the fields of a flat plan's event (see etw_event_format_fields: the same text, the
 * same rules as the property walk) from payload p[0..n) with pointer size ptr, escaped as esc
 * (ETW_ESC_*, text_out.h; in the line modes only if keys_csv_plain: the keys are written as
 * they are). Returns 1 when every property decoded; 0 when one did not fit, with *used = the
 * bytes the fields shown took and *wrote = whether any field was appended. */
int etw_plan_format_flat(const etw_event_plan *pl, const TRACE_EVENT_INFO *tei, const uint8_t *p, size_t n,
                         unsigned ptr, int esc, etw_strbuf *out, size_t *used, int *wrote);

#endif
