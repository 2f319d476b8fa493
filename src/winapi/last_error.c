/* Thread-local last error (see last_error.h), and the Win32 code names for messages. The slot
 * is static and the library reaches it only through the hidden functions below, never through
 * an exported name, so a program that defines its own GetLastError/SetLastError (which then
 * interposes etwire's, docs/api/last-error.md) cannot take it over. */
#include "winapi/last_error.h"

#include <stdio.h>
#include <string.h>

#include <etwire/etwire.h>

static _Thread_local ULONG last_code;
static _Thread_local char last_message[512];

void etw_set_last_win32(ULONG code, const char *message)
{
    last_code = code;
    snprintf(last_message, sizeof last_message, "%s", message ? message : "");
}

void etw_set_last_error(etw_status st, const char *detail)
{
    etw_set_last_win32(etw_status_win32(st), detail && *detail ? detail : etw_status_message(st));
}

ULONG etw_last_error_code(void) { return last_code; }

ETWIRE_API ULONG etwire_last_error(void) { return etw_last_error_code(); }
ETWIRE_API const char *etwire_last_error_message(void) { return last_message; }

ETWIRE_API const char *etwire_strerror(ULONG code)
{
    switch (code) {
    case ERROR_SUCCESS: return "ERROR_SUCCESS";
    case ERROR_FILE_NOT_FOUND: return "ERROR_FILE_NOT_FOUND";
    case ERROR_ACCESS_DENIED: return "ERROR_ACCESS_DENIED";
    case ERROR_INVALID_HANDLE: return "ERROR_INVALID_HANDLE";
    case ERROR_NOT_ENOUGH_MEMORY: return "ERROR_NOT_ENOUGH_MEMORY";
    case ERROR_BAD_FORMAT: return "ERROR_BAD_FORMAT";
    case ERROR_INVALID_DATA: return "ERROR_INVALID_DATA";
    case ERROR_OUTOFMEMORY: return "ERROR_OUTOFMEMORY";
    case ERROR_READ_FAULT: return "ERROR_READ_FAULT";
    case ERROR_BAD_LENGTH: return "ERROR_BAD_LENGTH";
    case ERROR_NOT_SUPPORTED: return "ERROR_NOT_SUPPORTED";
    case ERROR_INVALID_PARAMETER: return "ERROR_INVALID_PARAMETER";
    case ERROR_BAD_PATHNAME: return "ERROR_BAD_PATHNAME";
    case ERROR_CANCELLED: return "ERROR_CANCELLED";
    case ERROR_CONNECTION_REFUSED: return "ERROR_CONNECTION_REFUSED";
    case ERROR_CONNECTION_ABORTED: return "ERROR_CONNECTION_ABORTED";
    case ERROR_BAD_NETPATH: return "ERROR_BAD_NETPATH";
    case ERROR_NOT_FOUND: return "ERROR_NOT_FOUND";
    case ERROR_FILE_CORRUPT: return "ERROR_FILE_CORRUPT";
    case ERROR_INVALID_TIME: return "ERROR_INVALID_TIME";
    case ERROR_WMI_INSTANCE_NOT_FOUND: return "ERROR_WMI_INSTANCE_NOT_FOUND";
    case ERROR_CTX_CLOSE_PENDING: return "ERROR_CTX_CLOSE_PENDING";
    default: return "unknown error";
    }
}
