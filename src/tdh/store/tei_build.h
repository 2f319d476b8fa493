/* Builds TRACE_EVENT_INFO blobs in the exact Windows layout (design decision 7: every schema
 * source — TraceLogging metadata, kernel tables, manifests — is compiled into one). Callers add
 * properties in declaration order, naming each one's parent struct; finish() lays them out as
 * Windows does (top level first, then each struct's members contiguously, breadth first) and
 * renumbers count/length property references accordingly. */
#ifndef ETWIRE_TDH_TEI_BUILD_H
#define ETWIRE_TDH_TEI_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/tdh.h>

#define ETW_TEIB_MAX_PROPS 1024u

typedef struct etw_teib_prop {
    EVENT_PROPERTY_INFO epi; /* offsets relative to the string area until finish */
    int32_t parent;          /* builder index of the enclosing struct, -1 at top level */
} etw_teib_prop;

typedef struct etw_teib {
    TRACE_EVENT_INFO hdr; /* header fields; *NameOffset fields hold string-area offsets */
    etw_teib_prop *props;
    uint32_t nprops, cap;
    uint8_t *str; /* UTF-16 string area; starts with 4 zero bytes so offset 0 means absent */
    size_t slen, scap;
    int failed;
} etw_teib;

void etw_teib_init(etw_teib *b);
void etw_teib_free(etw_teib *b);
/* Appends n bytes of UTF-8 (n = SIZE_MAX: up to NUL) as a UTF-16 NUL string; returns its
 * string-area offset (never 0), or 0 on failure (b->failed set). */
uint32_t etw_teib_str(etw_teib *b, const char *utf8, size_t n);
/* Appends raw UTF-16LE bytes (nbytes, no NUL needed) as a NUL-terminated string. */
uint32_t etw_teib_wstr(etw_teib *b, const uint8_t *utf16, size_t nbytes);
/* Adds a data property; returns its builder index or -1. count/length references given with
 * PropertyParamCount/PropertyParamLength are builder indices. */
int32_t etw_teib_add(etw_teib *b, int32_t parent, const char *name, uint16_t in_type,
                     uint16_t out_type);
int32_t etw_teib_add_struct(etw_teib *b, int32_t parent, const char *name);
/* Lays the blob out; returns a malloc'd TRACE_EVENT_INFO (free()) and its size, or NULL. */
TRACE_EVENT_INFO *etw_teib_finish(etw_teib *b, size_t *size);

/* Same for EVENT_MAP_INFO. */
typedef struct etw_mapb {
    EVENT_MAP_INFO hdr;
    EVENT_MAP_ENTRY *ent;
    uint32_t n, cap;
    etw_teib strs; /* reuses the string area */
} etw_mapb;

void etw_mapb_init(etw_mapb *m, const char *name, uint32_t flags);
int etw_mapb_add(etw_mapb *m, uint32_t value, const char *utf8);
EVENT_MAP_INFO *etw_mapb_finish(etw_mapb *m, size_t *size);
void etw_mapb_free(etw_mapb *m);

#endif
