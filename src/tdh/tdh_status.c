/* The decoder's status table lookups (see tdh_status.h). */
#include "tdh/tdh_status.h"

static const struct {
    const char *name;
    ULONG win32;
    const char *message;
} table[] = {
#define ETW_TDH_STATUS_ROW(name, win32, msg) {#name, win32, msg},
    ETW_TDH_STATUS_TABLE(ETW_TDH_STATUS_ROW)
#undef ETW_TDH_STATUS_ROW
};

ULONG etw_tdh_status_win32(etw_tdh_status s)
{
    return (unsigned)s < ETW_TDH_STATUS_COUNT ? table[s].win32 : ERROR_INVALID_DATA;
}

const char *etw_tdh_status_message(etw_tdh_status s)
{
    return (unsigned)s < ETW_TDH_STATUS_COUNT ? table[s].message : "unknown decoding error";
}

const char *etw_tdh_status_name(etw_tdh_status s)
{
    return (unsigned)s < ETW_TDH_STATUS_COUNT ? table[s].name : "ETW_TDH_E_UNKNOWN";
}
