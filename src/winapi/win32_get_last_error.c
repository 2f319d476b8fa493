/* GetLastError, alone in its object file: a program that links libetwire.a and defines its own
 * GetLastError never pulls this member in (no duplicate symbol), and with libetwire.so the
 * program's definition interposes this one while the library keeps using its own slot through
 * the hidden etw_last_error_code (docs/api/last-error.md). */
#include "winapi/last_error.h"

#include <etwire/etwire.h>

ETWIRE_API ULONG GetLastError(void) { return etw_last_error_code(); }
