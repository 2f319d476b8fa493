/* The Windows-named schema-file functions (TdhLoadManifest, TdhLoadManifestFromBinary,
 * TdhUnloadManifest) and etwire's UTF-8 and MOF variants: argument conversion, the decoder's
 * status mapped to a Win32 code, and the last-error message naming the file, the line and the
 * reason (tdh/sources/schema_files.c does the work). */
#include <stdlib.h>

#include "base/strbuf.h"
#include "base/text.h"
#include "tdh/sources/schema_files.h"
#include "winapi/last_error.h"

static ULONG load(const char *path, etw_schema_file_kind kind)
{
    if (!path)
        return ERROR_INVALID_PARAMETER;
    char why[640];
    etw_tdh_status st = etw_schema_file_load(path, kind, why, sizeof why);
    ULONG code = etw_tdh_status_win32(st);
    if (st != ETW_TDH_OK)
        etw_set_last_win32(code, why);
    return code;
}

ULONG etwire_tdh_load_manifest(const char *path)
{
    return load(path, ETW_SCHEMA_FILE_XML);
}

ULONG etwire_tdh_load_binary(const char *path)
{
    return load(path, ETW_SCHEMA_FILE_PE);
}

ULONG etwire_tdh_load_mof(const char *path)
{
    return load(path, ETW_SCHEMA_FILE_MOF);
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
    ULONG r = p ? load(p, ETW_SCHEMA_FILE_XML) : ERROR_INVALID_PARAMETER;
    free(p);
    return r;
}

ULONG WINAPI TdhLoadManifestFromBinary(PWSTR BinaryPath)
{
    char *p = to_utf8(BinaryPath);
    ULONG r = p ? load(p, ETW_SCHEMA_FILE_PE) : ERROR_INVALID_PARAMETER;
    free(p);
    return r;
}

ULONG WINAPI TdhUnloadManifest(PWSTR Manifest)
{
    char *p = to_utf8(Manifest);
    if (!p)
        return ERROR_INVALID_PARAMETER;
    ULONG r = etw_tdh_status_win32(etw_schema_file_unload(p));
    free(p);
    return r;
}

void etwire_tdh_reset(void)
{
    etw_schema_files_reset();
}
