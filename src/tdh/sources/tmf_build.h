/* What the TMF parser collects before compiling (tmf_parse.c -> tmf_blob.c): pointers into
 * the TMF text, valid while it is. */
#ifndef ETWIRE_TDH_TMF_BUILD_H
#define ETWIRE_TDH_TMF_BUILD_H

#include "tdh/sources/tmf_model.h"

typedef struct tmf_section { /* one message GUID line */
    GUID guid;
    const char *provider, *file;
    size_t provider_len, file_len;
} tmf_section;

typedef struct tmf_arg {
    const char *expr, *item;
    size_t expr_len, item_len;
    uint16_t number;
} tmf_arg;

typedef struct tmf_message {
    size_t section;
    uint16_t number;
    const char *name, *format, *tail;
    size_t name_len, format_len, tail_len;
    tmf_arg *args;
    size_t nargs, cap_args;
} tmf_message;

typedef struct tmf_enum_value {
    const char *name;
    size_t name_len;
    uint32_t value;
} tmf_enum_value;

typedef struct tmf_enum {
    const char *name;
    size_t name_len;
    tmf_enum_value *values;
    size_t nvalues, cap_values;
} tmf_enum;

typedef struct tmf_doc {
    tmf_section *sections;
    tmf_message *messages;
    tmf_enum *enums;
    size_t nsections, nmessages, nenums;
    size_t cap_sections, cap_messages, cap_enums;
    int oom;
} tmf_doc;

/* Compiles every message of doc and hands it to sink; returns how many, -1 on no memory. */
long tmf_doc_compile(const tmf_doc *doc, etw_tmf_sink sink, void *ctx);
void tmf_doc_free(tmf_doc *doc);
/* The value of KEY= in a `// KEY=value ...` comment tail; 1 if present. */
int tmf_tail_value(const char *tail, size_t n, const char *key, const char **v, size_t *vn);

#endif
