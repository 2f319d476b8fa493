/* The SDK's generic names resolve as a Windows build would without UNICODE (the A forms),
 * whichever of the etwire headers a program includes first (evntcons.h brings evntrace.h, as on
 * Windows): OpenTrace, EVENT_TRACE_LOGFILE, PEVENT_TRACE_LOGFILE, PEVENT_TRACE_BUFFER_CALLBACK,
 * TCHAR and TEXT() are the A types, and OpenTrace on a missing file fails with the Windows
 * code in GetLastError. */
/* no UNICODE: the narrow (A) forms */
#include <etwire/evntcons.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

_Static_assert(__builtin_types_compatible_p(EVENT_TRACE_LOGFILE, EVENT_TRACE_LOGFILEA), "EVENT_TRACE_LOGFILE");
_Static_assert(__builtin_types_compatible_p(PEVENT_TRACE_LOGFILE, PEVENT_TRACE_LOGFILEA), "PEVENT_TRACE_LOGFILE");
_Static_assert(__builtin_types_compatible_p(PEVENT_TRACE_BUFFER_CALLBACK, PEVENT_TRACE_BUFFER_CALLBACKA),
               "PEVENT_TRACE_BUFFER_CALLBACK");
_Static_assert(__builtin_types_compatible_p(__typeof__(&OpenTrace), __typeof__(&OpenTraceA)), "OpenTrace");
_Static_assert(sizeof(TCHAR) == 1 && sizeof(TEXT("ab")[0]) == sizeof(TCHAR), "TCHAR");
_Static_assert(sizeof(KERNEL_LOGGER_NAME) == sizeof(TCHAR) * 17, "KERNEL_LOGGER_NAME");

static ULONG WINAPI on_buffer(PEVENT_TRACE_LOGFILE logfile)
{
    (void)logfile;
    return TRUE;
}

static void generic_names_open_a_missing_file(void **state)
{
    (void)state;
    EVENT_TRACE_LOGFILE lf;
    TCHAR name[] = TEXT("/nonexistent-dir/missing.etl");
    memset(&lf, 0, sizeof lf);
    lf.LogFileName = name;
    lf.ProcessTraceMode = PROCESS_TRACE_MODE_EVENT_RECORD;
    lf.BufferCallback = on_buffer;
    SetLastError(ERROR_SUCCESS);
    PROCESSTRACE_HANDLE h = OpenTrace(&lf);
    assert_true(h == INVALID_PROCESSTRACE_HANDLE);
    assert_int_equal(GetLastError(), ERROR_FILE_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(generic_names_open_a_missing_file)};
    return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
