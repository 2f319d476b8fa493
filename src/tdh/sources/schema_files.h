/* Schema files loaded and unloaded by path (schema_files.c): XML instrumentation manifests,
 * provider binaries with a WEVT_TEMPLATE resource, MOF text. */
#ifndef ETWIRE_TDH_SCHEMA_FILES_H
#define ETWIRE_TDH_SCHEMA_FILES_H

#include <stddef.h>

#include "tdh/tdh_status.h"

typedef enum etw_schema_file_kind {
    ETW_SCHEMA_FILE_XML,
    ETW_SCHEMA_FILE_PE,
    ETW_SCHEMA_FILE_MOF,
} etw_schema_file_kind;

/* Loads path as kind into the process-wide schema store, tagged with the file so that
 * etw_schema_file_unload drops exactly its schemas. On failure nothing of it stays loaded and
 * why (may be NULL) says "path: line N: reason" (or "path: reason"). */
etw_tdh_status etw_schema_file_load(const char *path, etw_schema_file_kind kind, char *why, size_t why_len);
/* ETW_TDH_E_NOT_LOADED if no file of that path is loaded. */
etw_tdh_status etw_schema_file_unload(const char *path);
/* Forgets every loaded file and every learned or loaded schema (the built-ins stay). */
void etw_schema_files_reset(void);

#endif
