/* Filling the schema store (`etwire schemas import`): files and directory trees of
 * instrumentation manifests (.man/.xml), provider binaries with a WEVT_TEMPLATE resource (any
 * PE file; others are skipped), MOF text (.mof) and TMF files (.tmf) are compiled with the
 * library's own loaders and merged into the store's pack: what the store held first, then each
 * import in order, a later definition of a key replacing an earlier one. Every file that could
 * not be used is reported (file, line or offset, why) and the import goes on. The pack is
 * written to a temporary file and renamed over the old one, so readers see the old or the new
 * store, never half of one; imports into one store take turns (flock on DIR/.lock from begin to
 * free).
 *
 * Loading goes through the process-wide schema cache and resets it after each file
 * (etwire_tdh_reset), so an import runs in a process that does not decode at the same time. */
#ifndef ETWIRE_TDH_STORE_IMPORT_H
#define ETWIRE_TDH_STORE_IMPORT_H

#include <stddef.h>

enum etw_import_result {
    ETW_IMPORT_OK,      /* schemas taken from the file */
    ETW_IMPORT_FAILED,  /* a file of an accepted kind that could not be used: reported */
    ETW_IMPORT_SKIPPED, /* not a schema file (a PE without WEVT_TEMPLATE, XML that is no
                           manifest, another kind of file) */
};

/* Called for every file looked at; what says why (or what was taken). */
typedef void (*etw_import_report)(void *ctx, const char *path, enum etw_import_result r, const char *what);

typedef struct etw_store_import etw_store_import;

typedef struct etw_import_counts {
    size_t files_ok, files_failed, files_skipped;
    size_t schemas;      /* events and maps taken from the files */
    size_t wpp_messages; /* TMF messages taken */
} etw_import_counts;

/* Starts an import into the store directory dir (created at commit), keeping what the store
 * holds. NULL with why on failure (a damaged store: remove it or import elsewhere). */
etw_store_import *etw_store_import_begin(const char *dir, char *why, size_t whylen);
/* Imports a file, or every file below a directory (recursively, symbolic links to directories
 * not followed). */
void etw_store_import_path(etw_store_import *imp, const char *path, etw_import_report report, void *ctx);
const etw_import_counts *etw_store_import_counts(const etw_store_import *imp);
/* Writes the store. 1 on success, else 0 with why. */
int etw_store_import_commit(etw_store_import *imp, char *why, size_t whylen);
void etw_store_import_free(etw_store_import *imp);

#endif
