/* The status table's lookups (see status.h). */
#include "base/status.h"

static const struct {
    const char *name;
    ULONG win32;
    const char *message;
} status_table[] = {
#define ETW_STATUS_ROW(name, win32, msg) {#name, win32, msg},
    ETW_STATUS_TABLE(ETW_STATUS_ROW)
#undef ETW_STATUS_ROW
};

ULONG etw_status_win32(etw_status s)
{
    return (unsigned)s < ETW_STATUS_COUNT ? status_table[s].win32 : ERROR_INVALID_DATA;
}

const char *etw_status_message(etw_status s)
{
    return (unsigned)s < ETW_STATUS_COUNT ? status_table[s].message : "unknown error";
}

const char *etw_status_name(etw_status s)
{
    return (unsigned)s < ETW_STATUS_COUNT ? status_table[s].name : "ETW_E_UNKNOWN";
}
