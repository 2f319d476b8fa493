/* SetLastError, alone in its object file for the same reason as GetLastError
 * (win32_get_last_error.c): a program's own definition replaces it without a link conflict.
 * Windows programs call SetLastError(0) before a call whose failure they test. */
#include "winapi/last_error.h"

#include <etwire/etwire.h>

ETWIRE_API VOID SetLastError(ULONG Code) { etw_set_last_win32(Code, NULL); }
