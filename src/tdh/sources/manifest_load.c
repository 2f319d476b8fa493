/* TdhLoadManifest / TdhLoadManifestFromBinary / TdhUnloadManifest (and etwire's MOF loader):
 * remembers which schemas came from which file (an origin id) so that unloading drops exactly
 * those. The parsers are manifest_xml.c (expat), wevt_template.c (PE resources) and
 * mof_syntax.c + mof_compile.c (classic MOF classes). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/text.h"
#include "tdh/sources/manifest.h"
#include "tdh/sources/mof_model.h"
#include "tdh/store/schema_cache.h"
#include "tdh/store/schema_lookup.h"
#include "tdh/store/wpp_table.h"
#include "winapi/last_error.h"

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

static uint8_t *read_file(const char *path, size_t *n, ULONG *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = ERROR_FILE_NOT_FOUND;
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= ETW_MANIFEST_MAX_FILE) {
                *err = ERROR_INVALID_DATA;
                break;
            }
            cap = cap ? cap * 2 : 65536;
            uint8_t *g = realloc(buf, cap);
            if (!g) {
                *err = ERROR_NOT_ENOUGH_MEMORY;
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

enum { LOAD_XML, LOAD_PE, LOAD_MOF };

static ULONG load(const char *path, int kind)
{
    ULONG err = ERROR_SUCCESS;
    size_t n = 0;
    if (!path)
        return ERROR_INVALID_PARAMETER;
    uint8_t *data = read_file(path, &n, &err);
    if (!data) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: %s", path,
                 err == ERROR_FILE_NOT_FOUND ? "cannot open the file"
                 : err == ERROR_INVALID_DATA ? "larger than 64 MiB"
                                             : "out of memory reading the file");
        etw_set_last_win32(err, msg);
        return err;
    }
    uint32_t origin = new_origin(path);
    if (!origin) {
        free(data);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    char why[256] = "";
    if (kind == LOAD_MOF)
        err = etw_mof_load_text(data, n, origin, why, sizeof why);
    else
        err = kind == LOAD_PE ? etw_wevt_load_pe(data, n, origin) : etw_manifest_load_xml(data, n, origin, why, sizeof why);
    free(data);
    if (err != ERROR_SUCCESS) {
        take_origin(path);
        etw_schema_drop_origin(origin);
        char msg[512] = "";
        if (why[0])
            snprintf(msg, sizeof msg, "%s: %s", path, why);
        etw_set_last_win32(err, msg);
    }
    return err;
}

ULONG etwire_tdh_load_manifest(const char *path)
{
    return load(path, LOAD_XML);
}

ULONG etwire_tdh_load_binary(const char *path)
{
    return load(path, LOAD_PE);
}

ULONG etwire_tdh_load_mof(const char *path)
{
    return load(path, LOAD_MOF);
}

static char *to_utf8(PCWSTR w)
{
    if (!w)
        return NULL;
    etw_strbuf sb = {0};
    etw_wstr_to_utf8(&sb, w);
    etw_strbuf_putc(&sb, 0);
    if (sb.failed) {
        etw_strbuf_free(&sb);
        return NULL;
    }
    return sb.data;
}

ULONG WINAPI TdhLoadManifest(PWSTR Manifest)
{
    char *p = to_utf8(Manifest);
    ULONG r = p ? load(p, LOAD_XML) : ERROR_INVALID_PARAMETER;
    free(p);
    return r;
}

ULONG WINAPI TdhLoadManifestFromBinary(PWSTR BinaryPath)
{
    char *p = to_utf8(BinaryPath);
    ULONG r = p ? load(p, LOAD_PE) : ERROR_INVALID_PARAMETER;
    free(p);
    return r;
}

ULONG WINAPI TdhUnloadManifest(PWSTR Manifest)
{
    char *p = to_utf8(Manifest);
    if (!p)
        return ERROR_INVALID_PARAMETER;
    uint32_t origin = take_origin(p);
    free(p);
    if (!origin)
        return ERROR_NOT_FOUND;
    etw_schema_drop_origin(origin);
    return ERROR_SUCCESS;
}

void etwire_tdh_reset(void)
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
    etw_schema_clear();
    etw_schema_forget_misses();
    etw_wpp_clear();
}
