/* The parts of an instrumentation manifest that decoding needs (format notes §3.1), as the
 * XML reader (manifest_xml.c) collects them before manifest_compile.c turns each event into a
 * TRACE_EVENT_INFO. Every list is bounded (ETW_MAN_MAX_ITEMS) so a hostile manifest cannot
 * grow memory beyond a small multiple of its own size. */
#ifndef ETWIRE_TDH_MANIFEST_MODEL_H
#define ETWIRE_TDH_MANIFEST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/wintypes.h>

#include "tdh/tdh_status.h"

#define ETW_MAN_MAX_ITEMS 200000u

typedef struct etw_man_named {
    char *name;     /* name attribute */
    char *message;  /* "$(string.X)" reference or NULL */
    uint64_t value; /* value / mask */
    int32_t owner;  /* task index for task-specific opcodes, else -1 */
} etw_man_named;

typedef struct etw_man_item { /* a template's data or struct element */
    int32_t tmpl;   /* template index */
    int32_t parent; /* item index of the enclosing struct, -1 at template top level */
    int is_struct;
    char *name, *in_type, *out_type, *map, *length, *count;
    uint32_t line; /* in the XML, for error messages */
} etw_man_item;

typedef struct etw_man_event {
    uint32_t provider;
    uint16_t id;
    uint8_t version, channel, level, opcode;
    uint16_t task;
    uint64_t keywords;
    char *task_name, *opcode_name, *level_name, *tmpl, *symbol, *name, *message;
    uint32_t line;
} etw_man_event;

typedef struct etw_man_map {
    uint32_t provider;
    char *name;
    int bitmap;
} etw_man_map;

typedef struct etw_man_map_entry {
    uint32_t map;
    uint32_t value;
    char *message;
} etw_man_map_entry;

typedef struct etw_man_provider {
    GUID guid;
    char *name;
} etw_man_provider;

typedef struct etw_man_string {
    char *id, *value;
} etw_man_string;

#define ETW_MAN_LIST(T, name) \
    struct {                  \
        T *v;                 \
        size_t n, cap;        \
    } name

typedef struct etw_manifest {
    ETW_MAN_LIST(etw_man_provider, providers);
    ETW_MAN_LIST(etw_man_named, tasks);
    ETW_MAN_LIST(etw_man_named, opcodes);
    ETW_MAN_LIST(etw_man_event, events);
    ETW_MAN_LIST(char *, templates); /* tid per template index */
    ETW_MAN_LIST(etw_man_item, items);
    ETW_MAN_LIST(etw_man_map, maps);
    ETW_MAN_LIST(etw_man_map_entry, entries);
    ETW_MAN_LIST(etw_man_string, strings);
    int failed;
} etw_manifest;

/* Grows list l by one zeroed element; returns it or NULL (m->failed set). */
void *etw_man_push(etw_manifest *m, void **v, size_t *n, size_t *cap, size_t elem);
#define ETW_MAN_PUSH(m, list) \
    etw_man_push((m), (void **)&(m)->list.v, &(m)->list.n, &(m)->list.cap, sizeof *(m)->list.v)

void etw_manifest_free(etw_manifest *m);
/* Compiles every event (and map) and stores them with origin. Returns ETW_TDH_OK when at
 * least one event (or, without events, the provider) was stored, else ETW_TDH_E_UNUSABLE or
 * ETW_TDH_E_NOMEM. The first event that
 * could not be compiled is described in why ("line N: event 12 version 0: ...", also on
 * success, as a warning; why may be NULL). */
etw_tdh_status etw_manifest_compile(etw_manifest *m, uint32_t origin, char *why, size_t why_len);

/* A copy of XML text whose attribute values hold raw quotes or '<' with those escaped (only
 * for text that failed a strict parse); malloc'd, *out_n its size, or NULL. */
char *etw_manifest_repair(const char *p, size_t n, size_t *out_n);

#endif
