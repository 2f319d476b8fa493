/* The relay status table turned into lookups (see wire/status.h). */
#include "relay/wire/status.h"

#include <stddef.h>

struct status_row {
    const char *name;
    const char *message;
    uint32_t reason;
};

static const struct status_row rows[] = {
#define ETW_RELAY_X_ROW(name, value, reason, msg) [-(value)] = {#name, msg, ETW_RELAY_CLOSE_##reason},
    ETW_RELAY_STATUS_TABLE(ETW_RELAY_X_ROW)
#undef ETW_RELAY_X_ROW
};

static const struct status_row *row(int status)
{
    if (status > 0 || status < ETW_RELAY_STATUS_MIN || !rows[-status].name)
        return NULL;
    return &rows[-status];
}

const char *etw_relay_status_name(int status)
{
    const struct status_row *r = row(status);
    return r ? r->name : "UNKNOWN";
}

const char *etw_relay_status_message(int status)
{
    const struct status_row *r = row(status);
    return r ? r->message : "unknown relay status";
}

uint32_t etw_relay_status_close_reason(int status)
{
    const struct status_row *r = row(status);
    return r ? r->reason : ETW_RELAY_CLOSE_PROTOCOL;
}

const char *etw_relay_close_reason_name(uint32_t reason)
{
    static const char *const names[ETW_RELAY_CLOSE_COUNT_] = {
        "DONE", "PROTOCOL", "VERSION", "TOO_LARGE", "AUTH", "SEQUENCE",
        "WINDOW", "BAD_BUFFER", "BUSY", "SHUTDOWN", "IDLE", "RESOURCES", "COMPLETE",
    };
    return reason < ETW_RELAY_CLOSE_COUNT_ ? names[reason] : "UNKNOWN";
}
