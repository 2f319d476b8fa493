/* The schema pack writer's working state, shared by pack_write.c (decomposing schemas on add),
 * pack_strings.c (interning strings) and pack_layout.c (finish: choosing the winners and
 * laying the file out). Not used outside the writer. */
#ifndef ETWIRE_TDH_PACK_WRITE_INTERNAL_H
#define ETWIRE_TDH_PACK_WRITE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#include "tdh/store/pack_format.h"
#include "tdh/store/pack_write.h"

/* Interned strings: id 0 = absent; ids index v (v[0] unused). */
typedef struct etw_pw_string {
    char *s; /* NUL-terminated stored form (UTF-8, lone surrogates kept) */
    uint32_t len;
    uint32_t off; /* offset in the STRINGS section once laid out, 0 before */
    uint64_t hash;
} etw_pw_string;

typedef struct etw_pw_strings {
    etw_pw_string *v;
    uint32_t n, cap;
    uint32_t *slots; /* open addressing: string ids, 0 = empty */
    uint32_t nslots;
    char *scratch; /* UTF-16 -> stored form conversion */
    size_t scratch_cap;
} etw_pw_strings;

int etw_pw_strings_init(etw_pw_strings *t);
void etw_pw_strings_free(etw_pw_strings *t);
/* s NULL -> id 0. Return 0 on allocation failure. */
int etw_pw_intern_utf8(etw_pw_strings *t, const char *s, uint32_t *id);
int etw_pw_intern_utf16(etw_pw_strings *t, const uint8_t *le, size_t units, uint32_t *id);

typedef struct etw_pw_prop {
    uint32_t flags, name, map, tags;
    uint16_t x, y; /* InType/OutType, or StructStartIndex/NumOfStructMembers */
    uint16_t count, length;
} etw_pw_prop;

typedef struct etw_pw_event {
    GUID guid, event_guid, provider_guid;
    uint8_t kind;
    uint16_t a, b;
    uint64_t seq;
    uint32_t presence;
    EVENT_DESCRIPTOR desc;
    uint32_t decoding_source, flags;
    uint32_t str[ETW_PACK_TEI_STRINGS];
    uint32_t nprops, top;
    etw_pw_prop *props;
} etw_pw_event;

typedef struct etw_pw_map {
    GUID guid;
    uint32_t name;
    uint64_t seq;
    uint32_t flag, second, n;
    struct {
        uint32_t out, in;
    } *ent;
} etw_pw_map;

typedef struct etw_pw_provider {
    GUID guid;
    uint32_t name, origin;
    uint64_t seq;
} etw_pw_provider;

typedef struct etw_pw_section {
    uint32_t type;
    uint8_t *p;
    size_t n;
} etw_pw_section;

#define ETW_PW_LIST(T, name) \
    struct {                 \
        T *v;                \
        size_t n, cap;       \
    } name

struct etw_pack_writer {
    etw_pw_strings strings;
    ETW_PW_LIST(etw_pw_event, events);
    ETW_PW_LIST(etw_pw_map, maps);
    ETW_PW_LIST(etw_pw_provider, providers);
    ETW_PW_LIST(etw_pw_section, sections);
    uint64_t seq;
};

/* finish()'s working state (pack_layout.c) and the body encoders it uses (pack_bodies.c). */
typedef struct etw_pack_bytes {
    uint8_t *p;
    size_t n, cap;
    int failed;
} etw_pack_bytes;

typedef struct etw_pack_layout {
    etw_pack_writer *w;
    etw_pack_bytes strings, providers, events, maps, bodies;
    /* Shared bodies: open addressing over (hash, offset, length) of BODIES ranges. */
    struct shared {
        uint64_t h;
        uint32_t off, len;
    } *shared;
    size_t nshared, nslots;
    etw_pack_bytes scratch;
} etw_pack_layout;

/* Appends to a growing byte buffer (failed set on allocation failure). */
void etw_pack_put(etw_pack_bytes *b, const void *p, size_t n);
void etw_pack_put32(etw_pack_bytes *b, uint32_t v);
/* The string's offset in STRINGS, placing it there on first use. */
uint32_t etw_pack_str_ref(etw_pack_layout *l, uint32_t id);
/* Encode one event (its record into EVENTS, its body and property list into BODIES) or one
 * map (record into MAPS, body into BODIES, shared with an identical one). */
void etw_pack_event_body(etw_pack_layout *l, const etw_pw_event *e);
void etw_pack_map_body(etw_pack_layout *l, const etw_pw_map *m);

/* Grows a list by one zeroed element; NULL on allocation failure. */
void *etw_pw_push(void **v, size_t *n, size_t *cap, size_t elem);
#define ETW_PW_PUSH(w, list) etw_pw_push((void **)&(w)->list.v, &(w)->list.n, &(w)->list.cap, sizeof *(w)->list.v)

#endif
