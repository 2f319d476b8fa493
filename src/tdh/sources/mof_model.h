/* Classic MOF event classes as read from a user's .mof text (schema source 5 of issue 4): the
 * subset of MOF that describes ETW classic events — class declarations with qualifiers, single
 * inheritance and typed properties. mof_syntax.c reads the text into this model; mof_compile.c
 * turns every event-type class into TRACE_EVENT_INFO. */
#ifndef ETWIRE_TDH_MOF_MODEL_H
#define ETWIRE_TDH_MOF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <etwire/wintypes.h>

#include "tdh/tdh_status.h"

/* Bounds that keep a hostile file from costing more than a few MiB. */
#define ETW_MOF_MAX_FILE (8u << 20)
#define ETW_MOF_MAX_CLASSES 4096u
#define ETW_MOF_MAX_PROPS 256u
#define ETW_MOF_MAX_TYPES 64u
#define ETW_MOF_NAME 96

typedef struct etw_mof_prop {
    char name[ETW_MOF_NAME];
    char type[32];     /* uint32, string, object, char16, ... */
    char format[8];    /* Format("w"), format("x") */
    char term[24];     /* StringTermination(...) */
    char ext[24];      /* extension(...) */
    char size_is[ETW_MOF_NAME]; /* WmiSizeIs("prop") */
    int data_id;       /* WmiDataId(n), 0 if absent */
    int pointer;       /* Pointer / PointerType qualifier */
    int array;         /* declared with [] */
    unsigned count;    /* [N] or MAX(N); 0 = not fixed */
    unsigned line;
} etw_mof_prop;

typedef struct etw_mof_class {
    char name[ETW_MOF_NAME];
    char parent[ETW_MOF_NAME];
    char display[ETW_MOF_NAME]; /* DisplayName("...") */
    int has_guid;
    GUID guid;
    int version; /* EventVersion(n); -1 if absent */
    unsigned ntypes;
    uint16_t types[ETW_MOF_MAX_TYPES];
    char type_names[ETW_MOF_MAX_TYPES][ETW_MOF_NAME];
    unsigned nprops;
    etw_mof_prop *props; /* malloc'd, nprops entries */
    unsigned line;
} etw_mof_class;

typedef struct etw_mof {
    etw_mof_class *classes;
    size_t n, cap;
} etw_mof;

/* Parses text; on error returns 0 and writes "line N: ..." into err. */
int etw_mof_parse(const uint8_t *text, size_t n, etw_mof *out, char *err, size_t errcap);
void etw_mof_free(etw_mof *m);

/* Compiles and stores every event-type class (schema source ETW_SRC_MOF, given origin).
 * Returns ETW_TDH_OK, or ETW_TDH_E_MOF with err naming the class and property (or
 * ETW_TDH_E_NOMEM). */
etw_tdh_status etw_mof_compile(const etw_mof *m, uint32_t origin, char *err, size_t errcap);
/* Both, for a whole file's bytes. */
etw_tdh_status etw_mof_load_text(const uint8_t *text, size_t n, uint32_t origin, char *err, size_t errcap);

#endif
