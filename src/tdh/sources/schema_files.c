/* Schema files loaded by path (XML manifests, PE binaries with WEVT_TEMPLATE, MOF text):
 * remembers which schemas came from which file (an origin id) so that unloading drops exactly
 * those. The parsers are manifest_xml.c (expat), wevt_template.c (PE resources) and
 * mof_syntax.c + mof_compile.c (classic MOF classes). The Windows-named functions over this
 * (TdhLoadManifest, ...) are in winapi/tdh_manifests.c. */
#include "tdh/sources/schema_files.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdh/sources/embedded_pending.h"
#include "tdh/sources/manifest.h"
#include "tdh/sources/mof_model.h"
#include "tdh/store/schema_cache.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/store/wpp_table.h"

/* Loaded files (path -> origin id); grows as needed, a freed slot is reused. */
static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;
static char **loaded_path;
static uint32_t *loaded_origin;
static size_t nloaded, caploaded;
static uint32_t next_origin = 1;

static uint32_t new_origin(const char *path)
{
    uint32_t origin = 0;
    pthread_mutex_lock(&loaded_lock);
    size_t i = 0;
    while (i < nloaded && loaded_path[i])
        i++;
    if (i == nloaded && nloaded == caploaded) {
        size_t cap = caploaded ? caploaded * 2 : 64;
        char **p = realloc(loaded_path, cap * sizeof *p);
        if (p)
            loaded_path = p;
        uint32_t *o = p ? realloc(loaded_origin, cap * sizeof *o) : NULL;
        if (o) {
            loaded_origin = o;
            caploaded = cap;
        }
    }
    if (i < caploaded && (loaded_path[i] = strdup(path)) != NULL) {
        origin = loaded_origin[i] = next_origin++;
        if (i == nloaded)
            nloaded++;
    }
    pthread_mutex_unlock(&loaded_lock);
    return origin;
}

static uint32_t take_origin(const char *path)
{
    uint32_t origin = 0;
    pthread_mutex_lock(&loaded_lock);
    for (size_t i = 0; i < nloaded && !origin; i++) {
        if (loaded_path[i] && strcmp(loaded_path[i], path) == 0) {
            origin = loaded_origin[i];
            free(loaded_path[i]);
            loaded_path[i] = NULL;
        }
    }
    pthread_mutex_unlock(&loaded_lock);
    return origin;
}

static uint8_t *read_file(const char *path, size_t *n, etw_tdh_status *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = ETW_TDH_E_NOFILE;
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= ETW_MANIFEST_MAX_FILE) {
                *err = ETW_TDH_E_TOO_LARGE;
                break;
            }
            cap = cap ? cap * 2 : 65536;
            uint8_t *g = realloc(buf, cap);
            if (!g) {
                *err = ETW_TDH_E_NOMEM;
                break;
            }
            buf = g;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0) {
            fclose(f);
            *n = len;
            return buf;
        }
        len += got;
    }
    fclose(f);
    free(buf);
    return NULL;
}

etw_tdh_status etw_schema_file_load(const char *path, etw_schema_file_kind kind, char *why, size_t why_len)
{
    etw_tdh_status err = ETW_TDH_OK;
    size_t n = 0;
    char detail[256] = "";
    if (why && why_len)
        why[0] = 0;
    if (!path)
        return ETW_TDH_E_PARAM;
    uint8_t *data = read_file(path, &n, &err);
    if (!data) {
        if (why && why_len)
            snprintf(why, why_len, "%s: %s", path, etw_tdh_status_message(err));
        return err;
    }
    uint32_t origin = new_origin(path);
    if (!origin) {
        free(data);
        return ETW_TDH_E_NOMEM;
    }
    if (kind == ETW_SCHEMA_FILE_MOF)
        err = etw_mof_load_text(data, n, origin, detail, sizeof detail);
    else if (kind == ETW_SCHEMA_FILE_PE)
        err = etw_wevt_load_pe(data, n, origin);
    else
        err = etw_manifest_load_xml(data, n, origin, detail, sizeof detail);
    free(data);
    if (err != ETW_TDH_OK) {
        take_origin(path);
        etw_schema_drop_origin(origin);
        if (why && why_len)
            snprintf(why, why_len, "%s: %s", path, detail[0] ? detail : etw_tdh_status_message(err));
    }
    return err;
}

etw_tdh_status etw_schema_file_unload(const char *path)
{
    uint32_t origin = path ? take_origin(path) : 0;
    if (!origin)
        return ETW_TDH_E_NOT_LOADED;
    etw_schema_drop_origin(origin);
    return ETW_TDH_OK;
}

void etw_schema_files_reset(void)
{
    pthread_mutex_lock(&loaded_lock);
    for (size_t i = 0; i < nloaded; i++)
        free(loaded_path[i]);
    free(loaded_path);
    free(loaded_origin);
    loaded_path = NULL;
    loaded_origin = NULL;
    nloaded = caploaded = 0;
    pthread_mutex_unlock(&loaded_lock);
    etw_embedded_clear(); /* records kept raw would otherwise be compiled into the new store */
    etw_schema_clear();
    etw_schema_forget_misses();
    etw_wpp_clear(); /* TMF messages and directories too */
}
