/* etwire's extensions for the schema store and WPP message formats: etwire_schemas_open /
 * etwire_schemas_close (tdh/store/schema_store.c does the work) and etwire_tdh_load_tmf
 * (tdh/sources/tmf_load.c): the decoder's status mapped to a Win32 code, the last-error message
 * naming the file, the line or offset, and the reason. */
#include <etwire/tdh.h>

#include "tdh/sources/tmf_load.h"
#include "tdh/store/schema_store.h"
#include "winapi/last_error.h"

static ULONG result(etw_tdh_status st, const char *why)
{
    ULONG code = etw_tdh_status_win32(st);
    if (st != ETW_TDH_OK)
        etw_set_last_win32(code, why);
    return code;
}

ULONG etwire_schemas_open(const char *dir)
{
    char why[4400] = "";
    etw_tdh_status st = etw_store_open(dir, why, sizeof why);
    return result(st, why);
}

void etwire_schemas_close(void)
{
    etw_store_close();
}

ULONG etwire_tdh_load_tmf(const char *path)
{
    char why[640] = "";
    etw_tdh_status st = etw_tmf_load_path(path, why, sizeof why);
    return result(st, why);
}
