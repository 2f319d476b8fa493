/* The calling thread's last error and its message, set by the OpenTrace family on failure. */
#ifndef ETWIRE_WINAPI_LAST_ERROR_H
#define ETWIRE_WINAPI_LAST_ERROR_H

#include "base/status.h"

/* Sets the Win32 code of st and a message: `detail` when given, else the status message. */
void etw_set_last_error(etw_status st, const char *detail);
void etw_set_last_win32(ULONG code, const char *message);
/* The slot itself, for the exported readers (etwire_last_error, GetLastError). */
ULONG etw_last_error_code(void);

#endif
