/* A program with its own Win32 layer - it defines GetLastError and SetLastError itself, as ports
 * of Windows programs often do - linked with etwire, shared and static (docs/api/last-error.md):
 * it builds (no duplicate symbols), its own last-error slot is never touched by etwire, etwire's
 * failures are still readable with etwire_last_error() (and, in the shared build, through the
 * library's GetLastError, which the program's definition interposes but does not remove), and
 * reading a trace works. Usage: own_win32_layer TRACE.etl shared|static. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <etwire/etwire.h>

static _Thread_local DWORD program_last_error;

DWORD GetLastError(void) { return program_last_error; }
VOID SetLastError(DWORD code) { program_last_error = code; }

static int failures;
#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #cond);                            \
            failures++;                                                                         \
        }                                                                                       \
    } while (0)

static ULONG events;
static VOID WINAPI on_event(PEVENT_RECORD ev)
{
    (void)ev;
    events++;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: own_win32_layer TRACE.etl shared|static\n");
        return 2;
    }
    int shared = strcmp(argv[2], "shared") == 0;

    /* The program's own slot: etwire's failures leave it alone. */
    SetLastError(4242);
    EVENT_TRACE_LOGFILEA lf;
    memset(&lf, 0, sizeof lf);
    lf.LogFileName = "/nonexistent-dir/missing.etl";
    lf.ProcessTraceMode = PROCESS_TRACE_MODE_EVENT_RECORD;
    lf.EventRecordCallback = on_event;
    PROCESSTRACE_HANDLE h = OpenTraceA(&lf);
    CHECK(h == INVALID_PROCESSTRACE_HANDLE);
    CHECK(GetLastError() == 4242);
    CHECK(etwire_last_error() == ERROR_FILE_NOT_FOUND);
    CHECK(strstr(etwire_last_error_message(), "missing.etl") != NULL);

    /* etwire's GetLastError is still the library's: found after the program's definition in a
     * shared build, and not linked in at all (no duplicate definition) in a static one. */
    ULONG (*library_get_last_error)(void) = (ULONG(*)(void))dlsym(RTLD_NEXT, "GetLastError");
    if (shared) {
        CHECK(library_get_last_error != NULL);
        if (library_get_last_error)
            CHECK(library_get_last_error() == ERROR_FILE_NOT_FOUND);
    } else {
        CHECK(library_get_last_error == NULL);
    }
    CHECK((void *)dlsym(RTLD_DEFAULT, "GetLastError") == NULL ||
          dlsym(RTLD_DEFAULT, "GetLastError") == (void *)GetLastError);

    CHECK(OpenTraceA(NULL) == INVALID_PROCESSTRACE_HANDLE);
    CHECK(etwire_last_error() == ERROR_INVALID_PARAMETER);
    CHECK(GetLastError() == 4242);

    /* And the library works. */
    lf.LogFileName = argv[1];
    h = OpenTraceA(&lf);
    CHECK(h != INVALID_PROCESSTRACE_HANDLE);
    if (h != INVALID_PROCESSTRACE_HANDLE) {
        CHECK(ProcessTrace(&h, 1, NULL, NULL) == ERROR_SUCCESS);
        CHECK(CloseTrace(h) == ERROR_SUCCESS);
    }
    CHECK(events > 0);
    CHECK(GetLastError() == 4242);
    printf("%s build with its own GetLastError/SetLastError: %lu events read, %d failures\n", argv[2],
           (unsigned long)events, failures);
    return failures ? 1 : 0;
}
